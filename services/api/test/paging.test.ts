import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AppError } from '../src/errors.js';
import { isDateTime, isUuid } from '../src/formats.js';
import { afterTime, byName, byTime, page, pageSize, timeKey } from '../src/paging.js';

const row = { cursorAt: '2026-12-01 03:00:00.123456', id: '0b6f1b1e-3c1a-4a57-9f7e-2f0d1c4b5a69' };
const refused = (e: unknown) => e instanceof AppError && e.statusCode === 400 && /cursor/.test(e.message);

describe('cursors', () => {
  it('gives back the position it encoded, for lists by time and by name', () => {
    assert.deepEqual(afterTime(byTime.decode(byTime.encode(timeKey(row)))), row);
    assert.deepEqual(byName.decode(byName.encode(['good.test'])), ['good.test']);
    assert.equal(byTime.decode(undefined), undefined);
  });

  it('refuses what it did not give: garbage, another list, a forged position', () => {
    const forged = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
    for (const c of [
      'garbage',
      byName.encode(['good.test']),
      forged([row.cursorAt, "x' or 1=1 --"]),
      forged(['yesterday', row.id]),
      forged({ cursorAt: row.cursorAt, id: row.id }),
      // Decodes and matches the pattern, but Postgres would not cast it.
      forged(['0000-01-01 00:00:00', row.id]),
      forged(['2026-13-45 25:61:61', row.id]),
      forged(['2024-06-30 23:59:60', row.id]),
      forged(['2026-02-30 00:00:00', row.id]),
    ])
      assert.throws(() => byTime.decode(c), refused, c);
    assert.throws(() => byName.decode(forged(['Not A Name!'])), refused);
  });

  it('cuts a page and points at the next one only when there is more', () => {
    const rows = [1, 2, 3].map((n) => ({ ...row, id: `${row.id.slice(0, -1)}${n}` }));
    const full = page(rows, 2, byTime, timeKey);
    assert.equal(full.items.length, 2);
    assert.deepEqual(afterTime(byTime.decode(full.nextCursor ?? undefined)), rows[1]);
    assert.equal(page(rows, 3, byTime, timeKey).nextCursor, null);
  });

  it('takes page sizes from 1 to 500, 50 by default', () => {
    assert.equal(pageSize(undefined), 50);
    assert.equal(pageSize('500'), 500);
    assert.throws(() => pageSize('0'), AppError);
    assert.throws(() => pageSize('501'), AppError);
  });
});

describe('formats as strict as Date and Postgres', () => {
  it('takes real RFC 3339 timestamps and uuids', () => {
    for (const t of [
      '2026-12-01T03:00:00Z',
      '2024-02-29T23:59:59.999+14:00',
      '0001-01-01T00:00:00Z',
      '2026-12-01t03:00:00z',
    ])
      assert.ok(isDateTime(t), t);
    assert.ok(isUuid('0B6F1B1E-3C1A-4A57-9F7E-2F0D1C4B5A69'));
  });

  it('refuses what ajv-formats takes but Date or Postgres do not', () => {
    for (const t of [
      '2024-06-30T23:59:60Z',
      '0000-01-01T00:00:00Z',
      '0001-01-01T00:00:00+01:00',
      '2026-12-01T03:00:00-23:59',
      '2026-12-01T03:00:00+16:00',
      '2025-02-29T00:00:00Z',
      '2026-04-31T00:00:00Z',
      '2026-12-01T24:00:00Z',
      '+002026-12-01T03:00:00Z',
    ])
      assert.ok(!isDateTime(t), t);
    for (const u of [
      'urn:uuid:0b6f1b1e-3c1a-4a57-9f7e-2f0d1c4b5a69',
      '{0b6f1b1e-3c1a-4a57-9f7e-2f0d1c4b5a69}',
      '0b6f1b1e3c1a4a579f7e2f0d1c4b5a69',
    ])
      assert.ok(!isUuid(u), u);
  });
});
