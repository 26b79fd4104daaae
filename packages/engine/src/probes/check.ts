/**
 * The transport check as the audit runs it: the mail-access hosts and the TLSA records of the MX
 * hosts, then the probes of every planned (address, port), then the findings.
 */
import type { Check } from '../check.js';
import { isPublicAddress } from '../net/address.js';
import { type DaneInput, fetchDane } from './dane.js';
import { evaluateIpv6Reachability, evaluateTransport, port25Verdict, transportEvidence } from './evaluate.js';
import { type AccessHost, discoverAccessHosts, type ProbeHost, planTargets } from './plan.js';
import { runProbes } from './run.js';
import type { PortProbe, PortTarget, ProbeEnv } from './types.js';

export interface TransportInput {
  domain: string;
  hosts: ProbeHost[];
  access: AccessHost[];
  dane: DaneInput[];
  targets: PortTarget[];
  probes: PortProbe[];
}

/** Per step of a probe, within the audit's deadline. */
const TIMEOUTS = { connect: 5000, read: 10_000, handshake: 10_000 };

export const transportCheck: Check<{ hosts: ProbeHost[] }, TransportInput> = {
  category: 'transport',
  async fetch(ctx, { hosts }) {
    const { allowPrivateTargets, extraHosts } = ctx.settings;
    const usableAddress = (a: string) => allowPrivateTargets || isPublicAddress(a);
    const [access, dane] = await Promise.all([
      discoverAccessHosts(ctx.dns, ctx.domain, usableAddress, extraHosts),
      fetchDane(ctx.dns, hosts),
    ]);
    const targets = planTargets(hosts, access);
    const env: ProbeEnv = {
      connector: ctx.net.connector,
      allowPrivateTargets,
      trust: ctx.net.trust,
      now: ctx.now,
      remaining: ctx.net.remaining,
      timeouts: TIMEOUTS,
      ehloName: ctx.net.ehloName,
    };
    const probes = await runProbes(env, targets, ctx.net.limiter, ctx.net.probeCache, 16, ctx.net.egress);
    return { domain: ctx.domain, hosts, access, dane, targets, probes };
  },
  evaluate: (input) => [
    ...evaluateTransport(input.domain, input.probes, input.dane),
    ...evaluateIpv6Reachability(
      input.hosts,
      input.probes.map((p) => p.result),
    ),
  ],
  evidence: (input) => ({
    transport: { ports: transportEvidence(input.probes), access: input.access.map((a) => a.name), dane: input.dane },
  }),
  // Port 25 of the MX addresses could not be checked (smtp.not_checked): the category is left out.
  condition: (input) =>
    input.targets.length === 0
      ? 'skipped'
      : port25Verdict(input.probes.map((p) => p.result)).notChecked
        ? 'error'
        : undefined,
};
