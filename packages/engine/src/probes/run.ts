/**
 * Running the probes: a pool of concurrent probes, each address under the connection limit (of the
 * process, or shared by every worker), results shared through the probe cache, port-25 outcomes
 * told to the process's egress witness.
 */
import { probePort } from './dialogs.js';
import type { EgressWitness } from './egress.js';
import type { ConnectionLimiter, ProbeCache } from './limits.js';
import { coveredNames } from './tls.js';
import type { PortProbe, PortResult, PortTarget, ProbeEnv } from './types.js';

/** A cached result seen through another audit's eyes: its names, and what the certificate covers of them. */
function forTarget(p: PortProbe, t: PortTarget): PortProbe {
  const result: PortResult = { ...p.result, names: t.names };
  if (p.result.tls) result.tls = { ...p.result.tls, covers: coveredNames(p.served, t.names) };
  return { result, served: p.served };
}

/** A wait for a connection slot at least this long, before a probe cut short, is what cut it. */
const WAIT_CUT_MS = 1000;

/**
 * One probe of `t` under the connection limit: what cut it short (the audit's deadline, or the
 * time spent waiting for a slot), and what it tells of this machine's outbound port 25.
 */
async function probeOne(env: ProbeEnv, t: PortTarget, limiter: ConnectionLimiter, egress?: EgressWitness) {
  const asked = env.remaining();
  let waited = 0;
  const p = await limiter.run(t.address, () => {
    waited = asked - env.remaining();
    return probePort(env, t);
  });
  if (p.result.cut && waited >= WAIT_CUT_MS) p.result.cut = 'wait';
  egress?.note(p.result, env.now().getTime());
  return p;
}

export async function runProbes(
  env: ProbeEnv,
  targets: PortTarget[],
  limiter: ConnectionLimiter,
  cache?: ProbeCache,
  concurrency = 16,
  egress?: EgressWitness,
): Promise<PortProbe[]> {
  const results: PortProbe[] = new Array(targets.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, targets.length) }, async () => {
      for (;;) {
        const i = next++;
        if (i >= targets.length) return;
        const t = targets[i] as PortTarget;
        const probe = (e: ProbeEnv) => probeOne(e, t, limiter, egress);
        results[i] = cache ? forTarget(await cache.get(t, env, probe), t) : await probe(env);
      }
    }),
  );
  return results;
}
