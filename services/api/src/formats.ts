/**
 * Stricter `date-time` and `uuid` formats than ajv-formats', for the API's validation: what passes
 * them is what `Date` and Postgres accept too, so a value that validates never fails later as a 500.
 * ajv-formats takes `2024-06-30T23:59:60Z` (a leap second), year 0000 and offsets to ±23:59 (RFC
 * 3339 5.6), which `Date` or Postgres refuse; its uuid takes a `urn:uuid:` prefix, which Postgres's
 * uuid type does not.
 */

const DATE_TIME = /^(\d{4})-(\d\d)-(\d\d)[Tt ](\d\d):(\d\d):(\d\d)(\.\d{1,9})?([Zz]|([+-])(\d\d):(\d\d))$/;

/**
 * An RFC 3339 date-time whose fields are in range, whose seconds are 00-59 (Postgres and `Date`
 * know no leap second), whose offset Postgres takes (under 16 hours), and whose instant is in
 * years 0001-9999 (Postgres has no year 0; four digits keep `Date`'s ISO form the input's).
 */
export function isDateTime(value: string): boolean {
  const m = DATE_TIME.exec(value);
  if (!m) return false;
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  if (month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || second > 59) return false;
  const daysInMonth = new Date(Date.UTC(2000, month, 0)).getUTCDate();
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  if (day > (month === 2 ? (leap ? 29 : 28) : daysInMonth)) return false;
  if (m[9] && (Number(m[10]) > 15 || Number(m[11]) > 59)) return false;
  const t = Date.parse(value.replace(' ', 'T'));
  if (Number.isNaN(t)) return false;
  const utcYear = new Date(t).getUTCFullYear();
  return utcYear >= 1 && utcYear <= 9999;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A uuid as Postgres reads it in this API: 8-4-4-4-12 hex digits, nothing around them. */
export function isUuid(value: string): boolean {
  return UUID.test(value);
}

/** Replaces ajv-formats' two formats on the API's validator (fastify's `ajv.onCreate`). */
export function strictFormats(ajv: { addFormat(name: string, format: (value: string) => boolean): unknown }): void {
  ajv.addFormat('date-time', isDateTime);
  ajv.addFormat('uuid', isUuid);
}
