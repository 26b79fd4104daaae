/**
 * Running the probes: a pool of concurrent probes, each address under the process-wide limit,
 * results shared through the probe cache.
 */
import { probePort } from './dialogs.js';
import type { AddressLimiter, ProbeCache } from './limits.js';
import { coveredNames } from './tls.js';
import type { PortProbe, PortResult, PortTarget, ProbeEnv } from './types.js';

/** A cached result seen through another audit's eyes: its names, and what the certificate covers of them. */
function forTarget(p: PortProbe, t: PortTarget): PortProbe {
  const result: PortResult = { ...p.result, names: t.names };
  if (p.result.tls) result.tls = { ...p.result.tls, covers: coveredNames(p.served, t.names) };
  return { result, served: p.served };
}

export async function runProbes(
  env: ProbeEnv,
  targets: PortTarget[],
  limiter: AddressLimiter,
  cache?: ProbeCache,
  concurrency = 16,
): Promise<PortProbe[]> {
  const results: PortProbe[] = new Array(targets.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, targets.length) }, async () => {
      for (;;) {
        const i = next++;
        if (i >= targets.length) return;
        const t = targets[i] as PortTarget;
        const probe = () => limiter.run(t.address, () => probePort(env, t));
        results[i] = cache ? forTarget(await cache.get(t, env.now().getTime(), probe), t) : await probe();
      }
    }),
  );
  return results;
}
