/**
 * Fetching the MTA-STS policy (RFC 8461 3.3) from https://mta-sts.<domain>/.well-known/mta-sts.txt
 * through the engine's guarded HTTP client: the policy host resolved by the audit and checked,
 * connected to by address, a valid certificate for it required, no redirects followed, a size
 * limit and a deadline.
 *
 * Not mailauth's fetch: it resolves names itself and connects wherever DNS says (no guard, no
 * address check).
 */
import { GuardError } from '../../net/guard.js';
import { type HttpClient, HttpError, type HttpReach } from '../../net/http.js';
import { why } from '../../params.js';
import { MAX_POLICY_BYTES, type PolicyFetch } from './policy.js';

export async function fetchStsPolicy(
  http: HttpClient,
  reach: HttpReach,
  domain: string,
  timeoutMs: number,
): Promise<PolicyFetch> {
  const url = `https://mta-sts.${domain}/.well-known/mta-sts.txt`;
  try {
    const res = await http.request(
      {
        url,
        headers: { 'user-agent': 'mailaudit', accept: 'text/plain' },
        timeoutMs,
        maxBodyBytes: MAX_POLICY_BYTES,
        // RFC 8461 3.3: anything but 200 is a failed fetch (redirects are not followed); the next address may do better.
        accept: (status) => status === 200,
      },
      reach,
    );
    if (res.status !== 200) {
      return {
        url,
        address: res.address,
        state: 'unreachable',
        status: res.status,
        error: `HTTP ${res.status}`,
        why: why('fetch.status', { status: res.status }),
      };
    }
    return { url, address: res.address, state: 'ok', status: 200, body: res.body.toString('utf8') };
  } catch (err) {
    const address = err instanceof HttpError && err.address ? { address: err.address } : {};
    if (err instanceof HttpError && err.code === 'too_large') {
      return {
        url,
        ...address,
        state: 'ok',
        status: 200,
        body: '',
        error: `the policy is larger than ${MAX_POLICY_BYTES} bytes`,
        why: why('fetch.too_large', { limit: MAX_POLICY_BYTES }),
      };
    }
    const reason =
      err instanceof GuardError
        ? why('fetch.guarded')
        : why(`fetch.${err instanceof HttpError ? err.code : 'connect'}` as 'fetch.connect');
    return { url, ...address, state: 'unreachable', error: (err as Error).message, why: reason };
  }
}
