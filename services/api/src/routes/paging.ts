import { errors } from '../errors.js';

export interface Position {
  cursorAt: string;
  id: string;
}

export function encodeCursor(p: Position): string {
  return Buffer.from(JSON.stringify([p.cursorAt, p.id])).toString('base64url');
}

export function decodeCursor(cursor: string | undefined): Position | undefined {
  if (!cursor) return undefined;
  try {
    const [cursorAt, id] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as [string, string];
    if (!/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d{1,6})?$/.test(cursorAt) || !/^[0-9a-f-]{36}$/.test(id))
      throw new Error('bad');
    return { cursorAt, id };
  } catch {
    throw errors.badRequest('cursor: not a cursor this API gave');
  }
}

export function pageSize(limit: string | undefined): number {
  const n = limit === undefined ? 50 : Number(limit);
  if (!Number.isInteger(n) || n < 1 || n > 500) throw errors.badRequest('limit: a whole number from 1 to 500');
  return n;
}
