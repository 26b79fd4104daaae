import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  categoryText,
  displayDomain,
  findingText,
  formatDate,
  LOCALES,
  localesOf,
  messageArguments,
  pickLocale,
  t,
} from '@mailaudit/catalog';
import { CATEGORY_IDS } from '@mailaudit/engine';

describe('pickLocale', () => {
  it('takes the first candidate that names a supported language', () => {
    assert.equal(pickLocale('tr', 'en'), 'tr');
    assert.equal(pickLocale(undefined, null, '', 'tr'), 'tr');
    assert.equal(pickLocale('de', 'TR'), 'tr');
    assert.equal(pickLocale('tr_TR'), 'tr');
    assert.equal(pickLocale('tr-TR'), 'tr');
  });
  it('reads an Accept-Language value with its q-values', () => {
    assert.equal(pickLocale('de-DE,de;q=0.9,tr;q=0.5,en;q=0.4'), 'tr');
    assert.equal(pickLocale('en;q=0.1,tr;q=0.8'), 'tr');
    assert.equal(pickLocale('tr;q=0,en'), 'en');
    assert.deepEqual(localesOf('tr;q=0, de'), []);
  });
  it('defaults to English', () => {
    assert.equal(pickLocale(), 'en');
    assert.equal(pickLocale('de', 'fr-FR', ';;;', null), 'en');
  });
  it('lists the supported locales', () => {
    assert.deepEqual([...LOCALES], ['en', 'tr']);
  });
});

describe('displayDomain', () => {
  it('shows A-labels in Unicode and leaves the rest alone', () => {
    assert.equal(displayDomain('xn--mnchen-3ya.de'), 'münchen.de');
    assert.equal(displayDomain('_dmarc.xn--k-ekaa7p.com.tr'), '_dmarc.ışık.com.tr');
    assert.equal(displayDomain('xn--rnek-4qa.com.tr.'), 'örnek.com.tr.');
    assert.equal(displayDomain('mail.xn--mnchen-3ya.de:465'), 'mail.münchen.de:465');
    assert.equal(displayDomain('example.com'), 'example.com');
    assert.equal(displayDomain('xn--zz.example'), 'xn--zz.example');
  });
});

describe('formatDate', () => {
  const when = '2026-11-29T03:00:00.000Z';
  it('writes the date in the reader language and time zone', () => {
    const tr = formatDate('tr', when, 'Europe/Istanbul');
    assert.match(tr, /29 Kasım 2026/);
    assert.match(tr, /06:00/);
    const en = formatDate('en', new Date(when), 'America/New_York');
    assert.match(en, /November 28, 2026/);
    assert.match(en, /10:00/);
  });
  it('names the zone, UTC when the one given is not a time zone', () => {
    assert.match(formatDate('en', when, 'Not/AZone'), /UTC/);
    assert.match(formatDate('en', when), /03:00.*UTC/);
  });
  it('refuses what is not a date', () => {
    assert.throws(() => formatDate('en', 'yesterday'), RangeError);
  });
});

describe('texts', () => {
  it('has a name and a description for every category in both languages', () => {
    for (const locale of LOCALES) {
      for (const id of CATEGORY_IDS) {
        const c = categoryText(locale, id);
        assert.notEqual(c.name, id, `${locale} ${id}`);
        assert.ok(c.description.length > 20, `${locale} ${id}`);
      }
    }
    assert.equal(categoryText('tr', 'dkim').name, 'İmzalar (DKIM)');
  });
  it('formats plurals, selects and lists by the locale rules', () => {
    const p = { name: 'example.com', types: ['MX', 'TXT', 'A'], status: 'timeout' };
    assert.match(
      findingText('en', 'dns.lookup_failed', p).message,
      /example\.com \(MX, TXT, and A\).*no answer came in time/,
    );
    assert.match(
      findingText('tr', 'dns.lookup_failed', p).message,
      /example\.com için MX, TXT ve A sorgusu.*zamanında gelmedi/,
    );
  });
  it('titles an unknown code by itself and falls back to English for a missing key', () => {
    assert.deepEqual(findingText('tr', 'nope.nothing', {}), { title: 'nope.nothing', message: '', why: '', fix: '' });
    assert.equal(t('tr', 'ui.no.such.key'), 'ui.no.such.key');
  });
  it('reads ui keys with params', () => {
    assert.equal(t('en', 'ui.report.title', { domain: 'xn--mnchen-3ya.de' }), 'Mail audit of münchen.de');
  });
  it('lists the arguments of a message from its syntax tree', () => {
    const args = messageArguments('{n, plural, one {# key at {host}} other {# keys}} since {when, date, long}');
    assert.deepEqual(
      [...args],
      [
        ['n', 'number'],
        ['host', 'text'],
        ['when', 'date'],
      ],
    );
  });
});
