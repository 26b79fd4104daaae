/** A store that did not answer within its time (a probe, a scrape, a request's query). */
export class StoreTimeout extends Error {
  readonly code = 'ESTORETIMEOUT';
}

/** `p`, or a rejection after `ms`: checks of Postgres and Redis never hang a probe or a scrape. */
export async function within<T>(ms: number, p: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new StoreTimeout(`no answer within ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
