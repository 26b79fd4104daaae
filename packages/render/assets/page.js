// The report page works without this file. With it: copy buttons for suggested records, and
// times shown in the reader's own time zone.
(() => {
  const lang = document.documentElement.lang || undefined;

  function copied(button) {
    const label = button.textContent;
    button.textContent = button.getAttribute('data-done') || label;
    button.classList.add('done');
    setTimeout(() => {
      button.textContent = label;
      button.classList.remove('done');
    }, 3000);
  }

  function fallbackCopy(text) {
    const area = document.createElement('textarea');
    area.value = text;
    area.setAttribute('readonly', '');
    area.className = 'offscreen';
    document.body.appendChild(area);
    area.select();
    let ok = false;
    try {
      ok = document.execCommand('copy');
    } catch {
      ok = false;
    }
    document.body.removeChild(area);
    return ok;
  }

  for (const button of document.querySelectorAll('button.copy[data-copy]')) {
    button.hidden = false;
    button.addEventListener('click', () => {
      const source = document.getElementById(button.getAttribute('data-copy'));
      if (!source) return;
      const text = source.textContent;
      if (navigator.clipboard?.writeText) {
        navigator.clipboard.writeText(text).then(
          () => copied(button),
          () => {
            if (fallbackCopy(text)) copied(button);
          },
        );
      } else if (fallbackCopy(text)) {
        copied(button);
      }
    });
  }

  for (const time of document.querySelectorAll('time[data-local][datetime]')) {
    const d = new Date(time.getAttribute('datetime'));
    if (Number.isNaN(d.getTime())) continue;
    try {
      time.textContent = new Intl.DateTimeFormat(lang, {
        year: 'numeric',
        month: 'long',
        day: 'numeric',
        hour: '2-digit',
        minute: '2-digit',
        timeZoneName: 'short',
      }).format(d);
    } catch {
      // keep the server's text
    }
  }

  // Dates inside sentences (a certificate's expiry), worded as the catalogue words them.
  for (const time of document.querySelectorAll('time[data-local-date][datetime]')) {
    const d = new Date(time.getAttribute('datetime'));
    if (Number.isNaN(d.getTime())) continue;
    try {
      time.textContent = new Intl.DateTimeFormat(lang, { year: 'numeric', month: 'long', day: 'numeric' }).format(d);
    } catch {
      // keep the server's text
    }
  }

  // The score history: the days under the chart and each point's date, in the reader's zone too.
  const when = (el, name) => {
    const d = new Date(el.getAttribute(name));
    return Number.isNaN(d.getTime()) ? null : d;
  };
  try {
    const day = new Intl.DateTimeFormat(lang, { month: 'short', day: 'numeric' });
    const full = new Intl.DateTimeFormat(lang, {
      year: 'numeric',
      month: 'long',
      day: 'numeric',
      hour: '2-digit',
      minute: '2-digit',
      timeZoneName: 'short',
    });
    for (const text of document.querySelectorAll('text[data-local-day]')) {
      const d = when(text, 'data-local-day');
      if (d) text.textContent = day.format(d);
    }
    for (const title of document.querySelectorAll('title[data-local-at]')) {
      const d = when(title, 'data-local-at');
      if (d) title.textContent = full.format(d) + (title.getAttribute('data-end') || '');
    }
  } catch {
    // keep the server's text
  }

  // Printing shows the evidence: open every section first.
  window.addEventListener('beforeprint', () => {
    for (const section of document.querySelectorAll('details')) section.open = true;
  });
})();
