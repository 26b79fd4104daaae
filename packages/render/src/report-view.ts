/**
 * What the report page shows, computed from a report: the grade explained, categories by name,
 * findings grouped by severity (one entry for a problem several ports of one host share), the
 * current record beside the suggested one, the evidence in sections, the score history. Pure: the
 * templates only lay this out.
 */
import { type Finding, type FixRecord, type Report, SEVERITY_RANK, type Severity } from '@mailaudit/engine';
import { categoryText, displayDomain, findingText, formatDate, type Locale, t } from './texts.js';

export interface HistoryPoint {
  /** When the report was made (ISO 8601). */
  at: string;
  score: number;
  grade: string;
}

export interface FindingView {
  code: string;
  severity: Severity;
  title: string;
  message: string;
  /** `message` in parts, its dates marked as times, for the page's script to show in the reader's zone. */
  messageParts: MessagePart[];
  why: string;
  fix: string;
  /** The record name, host or host:port; for a problem shared by several ports, the host. */
  subject: string;
  /** Ports of `subject` with the same problem, when there are several. */
  ports: number[];
  suggested?: {
    type: string;
    name: string;
    value: string;
    /** Files to serve before the record is published, with the host name their certificate must cover. */
    files?: { url: string; contentType: string; content: string; host: string }[];
  };
  /** What is published now where the suggested record would go. */
  current: string[];
}

export interface Row {
  label: string;
  values: string[];
}

/** A table cell: text, or a time (shown in the reader's time zone by the page's script) and text after it. */
export interface Cell {
  text: string;
  /** ISO 8601, when `text` is this time formatted on the server. */
  time?: string;
  after?: string;
}

export interface Table {
  head: string[];
  rows: Cell[][];
}

const SEVERITIES: Severity[] = ['critical', 'warning', 'notice', 'info'];

/** Part of a message: text, or a date (its ISO 8601 time in `time`) as the message words it. */
export interface MessagePart {
  text: string;
  time?: string;
}

/** The catalogue's `date, long` style (the one its messages use), as IntlMessageFormat has it. */
const LONG_DATE: Intl.DateTimeFormatOptions = { year: 'numeric', month: 'long', day: 'numeric' };

/**
 * `message` split at the dates it shows of `params` (ISO 8601 values, worded as the catalogue's
 * `{x, date, long}` in `timeZone`), so that the page can mark them as times; without dates, one part.
 */
export function messageParts(
  message: string,
  params: Record<string, unknown>,
  locale: Locale,
  timeZone: string,
): MessagePart[] {
  let parts: MessagePart[] = [{ text: message }];
  for (const v of Object.values(params)) {
    if (typeof v !== 'string' || !/^\d{4}-\d\d-\d\dT/.test(v) || Number.isNaN(Date.parse(v))) continue;
    let worded: string;
    try {
      worded = new Intl.DateTimeFormat(locale, { ...LONG_DATE, timeZone }).format(new Date(v));
    } catch {
      continue;
    }
    parts = parts.flatMap((p) => {
      const at = p.time === undefined ? p.text.indexOf(worded) : -1;
      if (at < 0) return [p];
      return [
        { text: p.text.slice(0, at) },
        { text: worded, time: v },
        { text: p.text.slice(at + worded.length) },
      ].filter((x) => x.text !== '');
    });
  }
  return parts;
}

const obj = (v: unknown): Record<string, unknown> =>
  v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const str = (v: unknown): string | undefined =>
  typeof v === 'string' ? v : typeof v === 'number' ? String(v) : undefined;
const strs = (v: unknown): string[] =>
  arr(v)
    .map(str)
    .filter((s): s is string => s !== undefined);

/**
 * Findings of one code on several ports of one host (`host:port` subjects with the same params
 * apart from the port) become one, with the ports listed.
 */
export function mergePorts(findings: Finding[]): { finding: Finding; subject: string; ports: number[] }[] {
  const out: { finding: Finding; subject: string; ports: number[]; key: string }[] = [];
  for (const f of findings) {
    const host = str(f.params.host);
    const port = typeof f.params.port === 'number' ? f.params.port : undefined;
    if (host && port !== undefined && f.subject === `${host}:${port}`) {
      const { port: _p, ...rest } = f.params;
      const key = `${f.code}\u0000${host}\u0000${JSON.stringify(rest)}`;
      const same = out.find((o) => o.key === key);
      if (same) {
        same.ports.push(port);
        continue;
      }
      out.push({ finding: f, subject: host, ports: [port], key });
    } else {
      out.push({ finding: f, subject: f.subject, ports: [], key: '' });
    }
  }
  return out.map(({ finding, subject, ports }) => ({
    finding,
    subject: ports.length > 1 ? subject : finding.subject,
    ports: ports.length > 1 ? ports.sort((a, b) => a - b) : [],
  }));
}

/** The records published now at the place a suggested record would go, from the evidence. */
export function currentRecords(report: Report, fix: { type: string; name: string }): string[] {
  const e = report.evidence;
  const name = fix.name.toLowerCase().replace(/\.$/, '');
  if (fix.type === 'MX')
    return arr(obj(e.mx).records).map((r) => `${str(obj(r).preference) ?? ''} ${str(obj(r).exchange) ?? ''}`.trim());
  if (fix.type === 'PTR') {
    const p = arr(e.ptr).find((x) => name.startsWith(reverseLabels(str(obj(x).address) ?? '')));
    return p ? strs(obj(p).names) : [];
  }
  if (fix.type !== 'TXT') return [];
  const dmarc = obj(e.dmarc);
  if (name === report.domain) {
    const spf = obj(e.spf);
    return strs(spf.records).length ? strs(spf.records) : str(spf.record) ? [str(spf.record) as string] : [];
  }
  if (name === `_dmarc.${report.domain}`)
    return str(dmarc.record) && !dmarc.inherited ? [str(dmarc.record) as string] : [];
  if (name === `_mta-sts.${report.domain}`) return strs(obj(e.mtaSts).records);
  if (name === `_smtp._tls.${report.domain}`) return strs(obj(e.tlsRpt).records);
  if (name === `default._bimi.${report.domain}`) return strs(obj(e.bimi).records);
  return [];
}

function suggestedView(fix: FixRecord): NonNullable<FindingView['suggested']> {
  const { files, ...record } = fix;
  if (!files?.length) return record;
  return { ...record, files: files.map((file) => ({ ...file, host: new URL(file.url).hostname })) };
}

/** `192.0.2.1` → `1.2.0.192.in-addr.arpa` prefix; IPv6 is left to the name match. */
function reverseLabels(address: string): string {
  return /^[\d.]+$/.test(address) ? `${address.split('.').reverse().join('.')}.in-addr.arpa` : '\u0000';
}

export function findingGroups(report: Report, locale: Locale, timeZone = 'UTC') {
  const sorted = [...report.findings].sort((a, b) => SEVERITY_RANK[a.severity] - SEVERITY_RANK[b.severity]);
  const merged = mergePorts(sorted);
  return SEVERITIES.map((severity) => {
    const findings: FindingView[] = merged
      .filter((m) => m.finding.severity === severity)
      .map(({ finding: f, subject, ports }) => {
        // A problem shared by several ports is told once, with the ports as a list.
        const text = findingText(locale, ports.length ? { ...f, params: { ...f.params, port: ports } } : f, timeZone);
        return {
          code: f.code,
          severity,
          ...text,
          messageParts: messageParts(text.message, f.params, locale, timeZone),
          subject:
            displayDomain(subject.split(':')[0] ?? subject) +
            (subject.includes(':') && !ports.length ? `:${subject.split(':').slice(1).join(':')}` : ''),
          ports,
          ...(f.fix ? { suggested: suggestedView(f.fix) } : {}),
          current: f.fix ? currentRecords(report, f.fix) : [],
        };
      });
    return { severity, label: t(locale, `ui.severity.${severity}`, { count: findings.length }), findings };
  }).filter((g) => g.findings.length > 0);
}

export function categoryViews(report: Report, locale: Locale) {
  const counts = new Map<string, Record<Severity, number>>();
  for (const f of report.findings) {
    const c = counts.get(f.category) ?? { critical: 0, warning: 0, notice: 0, info: 0 };
    c[f.severity]++;
    counts.set(f.category, c);
  }
  return report.categories.map((c) => {
    const n = counts.get(c.id) ?? { critical: 0, warning: 0, notice: 0, info: 0 };
    const text = categoryText(locale, c.id);
    return {
      id: c.id,
      name: text.name,
      description: text.description,
      status: c.status,
      score: c.score,
      verdict: t(locale, `ui.status.${c.status}`, { problems: n.critical + n.warning + n.notice }),
    };
  });
}

/** One line: the grade and score, and what holds them down. */
export function gradeLine(report: Report, locale: Locale): string {
  // Counted as the page lists them: a problem shared by several ports of one host is one.
  const merged = mergePorts(report.findings);
  const n = (s: Severity) => merged.filter((m) => m.finding.severity === s).length;
  return t(locale, n('critical') ? 'ui.report.gradeLine.capped' : 'ui.report.gradeLine', {
    grade: report.grade,
    score: report.score,
    critical: n('critical'),
    warning: n('warning'),
    notice: n('notice'),
  });
}

/** The evidence as sections of rows and tables, each only when the report has it. */
export function evidenceSections(report: Report, locale: Locale, timeZone: string) {
  const e = report.evidence;
  const L = (k: string, p?: Record<string, unknown>) => t(locale, `ui.evidence.${k}`, p);
  // A value of the evidence (a state, a mode) in the reader's words; one we have no words for as it is.
  const word = (group: string, value: string | undefined) => {
    if (value === undefined) return '';
    const key = `ui.evidence.${group}.${value}`;
    const text = t(locale, key);
    return text === key ? value : text;
  };
  const cells = (...texts: string[]): Cell[] => texts.map((text) => ({ text }));
  const name = (v: unknown) => displayDomain(str(v) ?? '');
  const sections: { id: string; title: string; rows: Row[]; tables: Table[] }[] = [];

  const records: Row[] = [];
  const mx = arr(obj(e.mx).records).map((r) => `${str(obj(r).preference) ?? ''} ${name(obj(r).exchange)}`.trim());
  if (mx.length) records.push({ label: 'MX', values: mx });
  const spf = obj(e.spf);
  const spfRecords = strs(spf.records).length ? strs(spf.records) : strs([spf.record]);
  if (spfRecords.length) records.push({ label: 'SPF', values: spfRecords });
  if (typeof spf.lookups === 'number') records.push({ label: L('spfLookups'), values: [String(spf.lookups)] });
  const dmarc = obj(e.dmarc);
  if (str(dmarc.record))
    records.push({
      label: L('dmarcAt', { name: displayDomain(str(dmarc.name) ?? `_dmarc.${report.domain}`) }),
      values: [str(dmarc.record) as string],
    });
  const dkim = arr(obj(e.dkim).keys).map((k) => {
    const x = obj(k);
    const type = (str(x.keyType) ?? '?').toUpperCase();
    // Key sizes are written without digit grouping (1024, not 1.024): a text param, not a number.
    const key = typeof x.bits === 'number' ? L('dkimKey', { type, bits: String(x.bits) }) : type;
    return `${str(x.selector)}: ${x.revoked ? L('revoked') : `${key}${x.testing ? `, ${L('dkimTesting')}` : ''}`}`;
  });
  if (dkim.length) records.push({ label: 'DKIM', values: dkim });
  for (const [label, key] of [
    ['MTA-STS', 'mtaSts'],
    ['TLS-RPT', 'tlsRpt'],
    ['BIMI', 'bimi'],
  ] as const) {
    const v = strs(obj(e[key]).records);
    if (v.length) records.push({ label, values: v });
  }
  const policy = obj(e.mtaStsPolicy);
  if (str(policy.body)) records.push({ label: L('mtaStsPolicy'), values: [str(policy.body)?.trim() ?? ''] });
  else if (policy.state === 'unreachable')
    records.push({
      label: L('mtaStsPolicy'),
      values: [`${L('mtaStsUnreachable')}: ${displayUrl(str(policy.url) ?? '')}`],
    });
  const dnssec = obj(e.dnssec);
  if (str(dnssec.state)) records.push({ label: 'DNSSEC', values: [word('dnssec', str(dnssec.state))] });
  if (records.length) sections.push({ id: 'records', title: L('records'), rows: records, tables: [] });

  const ptr = new Map(arr(e.ptr).map((p) => [str(obj(p).address), obj(p)]));
  const hosts = arr(obj(e.mx).hosts).map((h) => {
    const x = obj(h);
    const addrs = strs(x.addresses);
    const reverse = (a: string) => {
      const p = ptr.get(a);
      const names = strs(p?.names).map(displayDomain).join(', ');
      const state = p?.state === 'confirmed' ? '' : word('ptrState', str(p?.state));
      return `${a}: ${[names, state].filter(Boolean).join(' — ') || '—'}`;
    };
    return cells(name(x.name), addrs.join(', ') || '—', addrs.map(reverse).join('; ') || '—');
  });
  if (hosts.length)
    sections.push({
      id: 'hosts',
      title: L('hosts'),
      rows: [],
      tables: [{ head: [L('host'), L('addresses'), L('ptr')], rows: hosts }],
    });

  const ports = arr(obj(e.transport).ports).map(obj);
  if (ports.length)
    sections.push({
      id: 'ports',
      title: L('ports'),
      rows: [],
      tables: [
        {
          head: [L('host'), L('port'), L('protocol'), L('state'), L('tls')],
          rows: ports.map((p) => {
            const tls = obj(p.tls);
            const legacy = obj(p.legacy).accepted ? ` (${L('legacyAccepted')})` : '';
            return cells(
              `${name(p.host)} (${str(p.address) ?? ''})`,
              str(p.port) ?? '',
              `${(str(p.protocol) ?? '').toUpperCase()}${str(p.tlsMode) ? ` / ${word('tlsMode', str(p.tlsMode))}` : ''}`,
              word('portState', str(p.state)),
              `${str(tls.protocol)?.replace(/^TLSv/, 'TLS ') ?? '—'}${legacy}`,
            );
          }),
        },
      ],
    });

  const certs = new Map<string, { leaf: Record<string, unknown>; tls: Record<string, unknown>; where: string[] }>();
  for (const p of ports) {
    const tls = obj(p.tls);
    const leaf = obj(arr(tls.chain)[0]);
    const fp = str(leaf.fingerprint256);
    if (!fp) continue;
    const c = certs.get(fp) ?? { leaf, tls, where: [] };
    c.where.push(`${displayDomain(str(p.host) ?? '')}:${str(p.port)}`);
    certs.set(fp, c);
  }
  if (certs.size)
    sections.push({
      id: 'certificates',
      title: L('certificates'),
      rows: [],
      tables: [
        {
          head: [L('certSubject'), L('certIssuer'), L('certExpires'), L('certTrusted'), L('certWhere')],
          rows: [...certs.values()].map(({ leaf, tls, where }) => {
            const validTo = str(leaf.validTo);
            const expiry: Cell = validTo
              ? {
                  text: formatDate(locale, validTo, timeZone),
                  time: validTo,
                  after: tls.expired
                    ? ` (${L('expired')})`
                    : typeof tls.expiresInDays === 'number'
                      ? ` (${L('daysLeft', { days: tls.expiresInDays })})`
                      : '',
                }
              : { text: '' };
            return [
              ...cells(str(leaf.subject) ?? '', str(leaf.issuer) ?? ''),
              expiry,
              ...cells(tls.trusted ? L('yes') : L('no'), where.join(', ')),
            ];
          }),
        },
      ],
    });

  const asked = obj(e.blocklistsAsked);
  const answers = arr(e.blocklists).map(obj);
  const zones = [...strs(asked.ip), ...strs(asked.domain)];
  if (zones.length || answers.length)
    sections.push({
      id: 'blocklists',
      title: L('blocklists'),
      rows: zones.length ? [{ label: L('zonesAsked'), values: zones }] : [],
      tables: answers.length
        ? [
            {
              head: [L('zone'), L('listedSubject'), L('state'), L('answer')],
              rows: answers.map((a) =>
                cells(
                  str(a.zone) ?? '',
                  name(a.subject),
                  word('blocklistState', str(a.state)),
                  [...strs(a.answers), str(a.reason)].filter(Boolean).join(' — '),
                ),
              ),
            },
          ]
        : [],
    });
  return sections;
}

/** A URL with its host name in Unicode, for people to read. */
function displayUrl(raw: string): string {
  const m = /^(https?:\/\/)([^/:?#]+)(.*)$/i.exec(raw);
  return m ? `${m[1]}${displayDomain(m[2] ?? '')}${m[3]}` : raw;
}

/** The score history as an SVG line: points oldest first, in a 0..100 box. */
export function historyChart(history: HistoryPoint[], locale: Locale, timeZone: string) {
  const points = [...history].sort((a, b) => a.at.localeCompare(b.at));
  if (points.length < 2) return null;
  const width = 640;
  const height = 180;
  const pad = { left: 36, right: 12, top: 12, bottom: 28 };
  const w = width - pad.left - pad.right;
  const h = height - pad.top - pad.bottom;
  const x = (i: number) => pad.left + (points.length === 1 ? w / 2 : (i * w) / (points.length - 1));
  const y = (score: number) => pad.top + h - (score / 100) * h;
  const day = new Intl.DateTimeFormat(locale, { month: 'short', day: 'numeric', timeZone });
  const dots = points.map((p, i) => ({
    x: Math.round(x(i) * 10) / 10,
    y: Math.round(y(p.score) * 10) / 10,
    score: p.score,
    grade: p.grade,
    at: p.at,
    label: `${formatDate(locale, p.at, timeZone)}: ${p.score} (${p.grade})`,
    /** What follows the date in `label`, for the page's script to put after the reader's own. */
    labelEnd: `: ${p.score} (${p.grade})`,
    day: day.format(new Date(p.at)),
  }));
  const step = Math.max(1, Math.ceil(points.length / 6));
  return {
    width,
    height,
    path: dots.map((d, i) => `${i ? 'L' : 'M'}${d.x} ${d.y}`).join(' '),
    dots,
    ticks: dots.filter((_, i) => i % step === 0 || i === dots.length - 1),
    grid: [0, 50, 100].map((v) => ({ v, y: y(v) })),
    left: pad.left,
    right: width - pad.right,
    baseline: height - 8,
    summary: t(locale, 'ui.history.summary', {
      count: points.length,
      first: points[0]?.score,
      last: points.at(-1)?.score,
    }),
  };
}

/** The domain's test messages (issue 15) a report's page shows: how many, and the newest. */
export interface MessageTests {
  count: number;
  latest: {
    /** ISO 8601. */
    receivedAt: string;
    from: string | null;
    clientIp: string;
    tlsVersion: string | null;
    /** RFC 8601 result keywords. */
    spf: string;
    dkim: string;
    dmarc: string;
    arc: string;
    selectorsAdded: string[];
    findings: Finding[];
  } | null;
}

/** An address with its domain in Unicode. */
function displayAddress(address: string): string {
  const at = address.lastIndexOf('@');
  return at < 0 ? address : `${address.slice(0, at)}@${displayDomain(address.slice(at + 1))}`;
}

/** The newest test message: its results in the reader's words, its findings with the catalogue's texts. */
export function messageTestView(tests: MessageTests | undefined, locale: Locale, timeZone: string) {
  const m = tests?.latest;
  if (!tests || !m) return null;
  const result = (value: string) => {
    const key = `ui.authResult.${value}`;
    const text = t(locale, key);
    return text === key ? value : text;
  };
  const findings = [...m.findings]
    .sort((a, b) => SEVERITY_RANK[a.severity] - SEVERITY_RANK[b.severity])
    .map((f) => {
      const text = findingText(locale, f, timeZone);
      return {
        code: f.code,
        severity: f.severity,
        ...text,
        messageParts: messageParts(text.message, f.params, locale, timeZone),
      };
    });
  return {
    intro: t(locale, 'ui.messageTests.intro', { count: tests.count }),
    received: { iso: m.receivedAt, text: formatDate(locale, m.receivedAt, timeZone) },
    from: m.from ? displayAddress(m.from) : null,
    sender: m.clientIp,
    tls: m.tlsVersion ? m.tlsVersion.replace(/^TLSv/, 'TLS ') : t(locale, 'ui.messageTests.noTls'),
    results: (
      [
        ['SPF', m.spf],
        ['DKIM', m.dkim],
        ['DMARC', m.dmarc],
        ['ARC', m.arc],
      ] as const
    ).map(([label, value]) => ({ label, value, text: result(value) })),
    selectorsAdded: m.selectorsAdded,
    findings,
  };
}

export interface ReportViewOptions {
  locale: Locale;
  timeZone: string;
  history?: HistoryPoint[];
  messageTests?: MessageTests;
}

export function reportView(report: Report, opts: ReportViewOptions) {
  const { locale, timeZone } = opts;
  const grade = report.grade ?? '—';
  return {
    domain: displayDomain(report.domain),
    asciiDomain: report.domain,
    grade,
    gradeClass: gradeClass(grade),
    score: report.score,
    gradeLine: gradeLine(report, locale),
    audited: { iso: report.startedAt, text: formatDate(locale, report.startedAt, timeZone) },
    categories: categoryViews(report, locale),
    groups: findingGroups(report, locale, timeZone),
    evidence: evidenceSections(report, locale, timeZone),
    chart: historyChart(opts.history ?? [], locale, timeZone),
    messageTest: messageTestView(opts.messageTests, locale, timeZone),
  };
}

export type ReportView = ReturnType<typeof reportView>;

/** A CSS class per grade band. */
export function gradeClass(grade: string): string {
  return grade.startsWith('A')
    ? 'good'
    : grade === 'B' || grade === 'C'
      ? 'fair'
      : grade === 'D' || grade === 'F'
        ? 'bad'
        : 'none';
}
