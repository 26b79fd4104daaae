/**
 * Running the probes: a pool of concurrent probes, each address under the connection limit (of the
 * process, or shared by every worker), results shared through the probe cache.
 */
import { probePort } from './dialogs.js';
import type { ConnectionLimiter, ProbeCache } from './limits.js';
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
  limiter: ConnectionLimiter,
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
        const probe = (e: ProbeEnv) => limiter.run(t.address, () => probePort(e, t));
        results[i] = cache ? forTarget(await cache.get(t, env, probe), t) : await probe(env);
      }
    }),
  );
  return results;
}
