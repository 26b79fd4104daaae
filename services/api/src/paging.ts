/**
 * Pages of lists: one cursor codec for every list. A cursor is the sort key of a page's last row as
 * base64url JSON, checked against its schema when it comes back, so that a forged or truncated one
 * is a 400, never a query.
 */
import { type Static, type TSchema, Type } from 'typebox';
import { Value } from 'typebox/value';
import { errors } from './errors.js';
import { isDateTime } from './formats.js';

export interface Cursor<Key> {
  encode(key: Key): string;
  /** The key of a cursor this API gave; undefined without one; a 400 for anything else. */
  decode(cursor: string | undefined): Key | undefined;
}

/**
 * A codec for keys of `schema`; `valid` checks what a pattern cannot (that a timestamp is a real
 * one Postgres casts), so that a cursor that decodes but does not cast is a 400 too.
 */
export function cursorCodec<S extends TSchema>(
  schema: S,
  valid: (key: Static<S>) => boolean = () => true,
): Cursor<Static<S>> {
  return {
    encode: (key) => Buffer.from(JSON.stringify(key)).toString('base64url'),
    decode(cursor) {
      if (cursor === undefined || cursor === '') return undefined;
      let key: unknown;
      try {
        key = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
      } catch {
        throw errors.badCursor();
      }
      if (!Value.Check(schema, key) || !valid(key)) throw errors.badCursor();
      return key;
    },
  };
}

/** Newest first: creation time at full precision (Postgres's text form, UTC) and id. */
export const byTime = cursorCodec(
  Type.Tuple([
    Type.String({ pattern: '^\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d(\\.\\d{1,6})?$' }),
    Type.String({ pattern: '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' }),
  ]),
  ([at]) => isDateTime(`${at.replace(' ', 'T')}Z`),
);

/** By name: the last name of the page. */
export const byName = cursorCodec(Type.Tuple([Type.String({ pattern: '^[a-z0-9.-]{1,253}$' })]));

/** A row's position for `byTime`, and back. */
export const timeKey = (row: { cursorAt: string; id: string }): [string, string] => [row.cursorAt, row.id];
export const afterTime = (key: [string, string] | undefined) => (key ? { cursorAt: key[0], id: key[1] } : undefined);

/** Page size from `limit` (the schema has checked it is digits). @default 50 */
export function pageSize(limit: string | undefined): number {
  const n = limit === undefined ? 50 : Number(limit);
  if (!Number.isInteger(n) || n < 1 || n > 500)
    throw errors.invalidField('/query/limit', 'expected a whole number from 1 to 500');
  return n;
}

/**
 * One page of `limit` rows out of `rows` (fetched with `limit + 1`, so that one more tells whether
 * there is a next page), with the cursor of the next page or null.
 */
export function page<Row, Key>(rows: Row[], limit: number, cursor: Cursor<Key>, key: (row: Row) => Key) {
  const items = rows.slice(0, limit);
  const last = items.at(-1);
  return { items, nextCursor: rows.length > limit && last !== undefined ? cursor.encode(key(last)) : null };
}
