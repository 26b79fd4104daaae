/** Query parameters beyond the schema's reach: comma-separated lists checked against their allowed values. */
import { errors } from './errors.js';

/**
 * The values of a comma-separated query parameter, each one of `allowed` (when given); undefined
 * when absent. A `+` left unencoded arrives as a space: "A " is read as "A+".
 */
export function listParam<T extends string>(
  name: string,
  value: string | undefined,
  allowed?: readonly T[],
  describe = 'one of',
): T[] | undefined {
  if (value === undefined) return undefined;
  const items = value.split(',').map((v) => v.replace(/ $/, '+').trim());
  for (const v of items) {
    if (v === '') throw errors.invalidField(`/query/${name}`, 'an empty item in the comma-separated list');
    if (allowed && !allowed.includes(v as T))
      throw errors.invalidField(
        `/query/${name}`,
        `"${v}" is not ${describe} ${allowed.length > 12 ? 'the values GET /v1/codes lists' : allowed.join(', ')}`,
        allowed,
      );
  }
  return [...new Set(items)] as T[];
}
