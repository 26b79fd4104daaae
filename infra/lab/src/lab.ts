/**
 * Brings the lab up and down. Everything lives under one directory (MAILAUDIT_LAB_DIR, by default
 * /tmp/mailaudit-lab): generated keys, certificates, zones, configs, logs and state.json with the
 * PID of every process started. `down` signals only those process groups, after checking that
 * each PID still runs a command naming the lab directory.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { createHash, generateKeyPairSync } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  AUTH_ADDRESS,
  BLACKHOLE_ADDRESS,
  CLIENT6_ADDRESS,
  LAB_NET,
  LAB6_NET,
  POLICY_ADDRESS,
  RESOLVER,
  RESOLVER_ADDRESS,
} from './addresses.js';
import { createCa, type Issued, issue } from './certs.js';
import { dovecotConf, knotConf, unboundConf } from './configs.js';
import type { DaemonSpec } from './daemon.js';
import { labQuery } from './dnsq.js';
import type { LabModel, Materials } from './model.js';
import {
  buildModel,
  DOMAIN_BLOCKLIST,
  IP_BLOCKLIST,
  type LabVariant,
  VARIANT_ZONES,
  variantAnswers,
} from './scenarios.js';
import { buildZones } from './zones.js';

/** Debian packages the lab runs (see install-deps.sh). */
export const REQUIRED_BINARIES: Record<string, string> = {
  knotd: 'knot',
  unbound: 'unbound',
  dovecot: 'dovecot-core',
  'ldns-keygen': 'ldnsutils',
  'ldns-signzone': 'ldnsutils',
  ip: 'iproute2',
};

/** A lab older than this is rebuilt by ensureLab (certificate expiry is relative to its start). */
const MAX_AGE_MS = 6 * 3600_000;
const READY_TIMEOUT_MS = 30_000;

export interface LabOptions {
  /** @default process.env.MAILAUDIT_LAB_DIR ?? `${os.tmpdir()}/mailaudit-lab` (`mailaudit-lab-127.N` for another MAILAUDIT_LAB_NET) */
  dir?: string;
  /** Synthetic domains served for benchmarks. @default 0 */
  bulk?: number;
  /** Progress lines. @default no output */
  log?: (line: string) => void;
}

export interface LabProcess {
  name: string;
  pid: number;
}

export interface LabState {
  fingerprint: string;
  startedAt: string;
  bulk: number;
  processes: LabProcess[];
  /** IPv6 addresses the lab added to `lo` (and routed), removed again by `down`. */
  ipv6?: string[];
}

/** What a test or a benchmark needs to talk to a running lab. */
export interface LabInfo {
  dir: string;
  /** `ip:port` of the validating resolver. */
  resolver: string;
  /** PEM file of the lab CA, for `--ca-file`. */
  caFile: string;
  ipBlocklists: string[];
  domainBlocklists: string[];
  model: LabModel;
  state: LabState;
}

export function labDir(opts: LabOptions = {}): string {
  const own = LAB_NET === '127.20' ? 'mailaudit-lab' : `mailaudit-lab-${LAB_NET}`;
  return opts.dir ?? process.env.MAILAUDIT_LAB_DIR ?? join(tmpdir(), own);
}

const here = dirname(fileURLToPath(import.meta.url));

/** Hash of the lab's own source and options: a running lab built from other sources is rebuilt. */
function fingerprint(bulk: number): string {
  const h = createHash('sha256').update(`bulk=${bulk}\nnet=${LAB_NET}\n`);
  for (const f of ['scenarios', 'model', 'zones', 'configs', 'daemon', 'certs', 'addresses', 'lab']) {
    for (const ext of ['.ts', '.js']) {
      const p = join(here, f + ext);
      if (existsSync(p)) h.update(readFileSync(p));
    }
  }
  return h.digest('hex').slice(0, 16);
}

function readState(dir: string): LabState | undefined {
  try {
    return JSON.parse(readFileSync(join(dir, 'state.json'), 'utf8')) as LabState;
  } catch {
    return undefined;
  }
}

function writeState(dir: string, state: LabState): void {
  writeFileSync(join(dir, 'state.json'), `${JSON.stringify(state, null, 2)}\n`);
}

/** Whether `pid` runs and its command line names the lab directory (so it is ours). */
function ownedAlive(pid: number, dir: string): boolean {
  try {
    const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    return cmd.includes(dir);
  } catch {
    return false;
  }
}

function which(bin: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${bin}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

function checkPrerequisites(): void {
  const missing = Object.entries(REQUIRED_BINARIES).filter(([bin]) => !which(bin));
  if (missing.length > 0) {
    const pkgs = [...new Set(missing.map(([, p]) => p))].join(' ');
    throw new Error(
      `lab: missing ${missing.map(([b]) => b).join(', ')}; install the Debian packages with \`npm run lab:deps\` (${pkgs})`,
    );
  }
  if (process.getuid?.() !== 0) {
    throw new Error(
      'lab: must run as root (it binds ports 25, 53, 110, 143, 443, 465, 587, 993, 995 and runs Dovecot)',
    );
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitFor(what: string, check: () => Promise<boolean>, logFile?: string): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (await check().catch(() => false)) return;
    await sleep(100);
  }
  let tail = '';
  if (logFile && existsSync(logFile)) tail = `\n${readFileSync(logFile, 'utf8').split('\n').slice(-15).join('\n')}`;
  throw new Error(`lab: ${what} not ready after ${READY_TIMEOUT_MS / 1000}s${tail}`);
}

function tcpOpen(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host, port, timeout: 1000 });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
    s.once('timeout', () => {
      s.destroy();
      resolve(false);
    });
  });
}

function ip(args: string[]): string {
  return execFileSync('ip', args, { stdio: ['ignore', 'pipe', 'pipe'] }).toString();
}

/** Deletes every `local` route of `address` in the local table (the kernel's and the lab's). */
function deleteLocalRoutes(address: string): void {
  for (let i = 0; i < 4; i++) {
    try {
      ip(['-6', 'route', 'del', 'local', address, 'dev', 'lo', 'table', 'local']);
    } catch {
      return;
    }
  }
}

/** Whether `ip -6 route get` says `address` is delivered locally, on `lo`. */
export function routesLocally(address: string): boolean {
  try {
    return new RegExp(`^local ${address.replace(/[.:]/g, '\\$&')} .*dev lo\\b`).test(
      ip(['-6', 'route', 'get', address]),
    );
  } catch {
    return false;
  }
}

/**
 * Puts the lab's IPv6 addresses on `lo`: the client address, then each mail host's, routed with
 * the client address as preferred source (so that no connection's source equals its destination),
 * and checks with `ip -6 route get` that every one is local before anything connects to it.
 */
function addIpv6(addresses: string[]): void {
  if (addresses.length === 0) return;
  for (const a of [CLIENT6_ADDRESS, ...addresses]) {
    if (!a.startsWith(`${LAB6_NET}:`)) throw new Error(`lab: ${a} is not in the lab's ${LAB6_NET}::/64`);
    ip(['-6', 'addr', 'replace', `${a}/128`, 'dev', 'lo', 'nodad', 'noprefixroute']);
  }
  for (const a of addresses) {
    deleteLocalRoutes(a);
    ip(['-6', 'route', 'add', 'local', a, 'dev', 'lo', 'table', 'local', 'src', CLIENT6_ADDRESS]);
  }
  for (const a of [CLIENT6_ADDRESS, ...addresses]) {
    if (!routesLocally(a)) {
      throw new Error(`lab: ip -6 route get ${a} does not say local on lo; refusing to use it`);
    }
  }
  for (const a of addresses) {
    if (!ip(['-6', 'route', 'get', a]).includes(`src ${CLIENT6_ADDRESS}`)) {
      throw new Error(`lab: connections to ${a} would not come from ${CLIENT6_ADDRESS}`);
    }
  }
}

function removeIpv6(addresses: string[]): void {
  for (const a of addresses) {
    deleteLocalRoutes(a);
    try {
      ip(['-6', 'addr', 'del', `${a}/128`, 'dev', 'lo']);
    } catch {}
  }
}

/** Stops every process recorded in state.json. Safe to call when nothing runs. */
export async function down(opts: LabOptions = {}): Promise<number> {
  const dir = labDir(opts);
  const state = readState(dir);
  if (!state) return 0;
  const ours = state.processes.filter((p) => ownedAlive(p.pid, dir));
  for (const p of ours) {
    try {
      process.kill(-p.pid, 'SIGTERM');
    } catch {
      try {
        process.kill(p.pid, 'SIGTERM');
      } catch {}
    }
  }
  const deadline = Date.now() + 5000;
  while (Date.now() < deadline && ours.some((p) => ownedAlive(p.pid, dir))) await sleep(50);
  for (const p of ours.filter((q) => ownedAlive(q.pid, dir))) {
    try {
      process.kill(-p.pid, 'SIGKILL');
    } catch {}
  }
  removeIpv6(state.ipv6 ?? []);
  rmSync(join(dir, 'state.json'), { force: true });
  return ours.length;
}

/** Whether the recorded lab runs entirely, from these sources, with this bulk size. */
export function isUp(opts: LabOptions = {}): boolean {
  const dir = labDir(opts);
  const state = readState(dir);
  if (!state || state.processes.length === 0) return false;
  if (state.fingerprint !== fingerprint(state.bulk) || state.bulk < (opts.bulk ?? 0)) return false;
  if (Date.now() - Date.parse(state.startedAt) > MAX_AGE_MS) return false;
  if (!(state.ipv6 ?? []).every(routesLocally)) return false;
  return state.processes.every((p) => ownedAlive(p.pid, dir));
}

/** Where the lab writes the private key of its signing key `name` (Materials.signingKey). */
export function signingKeyFile(name: string, opts: LabOptions = {}): string {
  return join(labDir(opts), 'dkim', `${name}.pem`);
}

/** The certificate and key files the lab issued for a host name (a host with `cert` or a service). */
export function certificateFiles(hostName: string, opts: LabOptions = {}): { certFile: string; keyFile: string } {
  const dir = labDir(opts);
  return { certFile: join(dir, 'certs', `${hostName}.crt`), keyFile: join(dir, 'certs', `${hostName}.key`) };
}

/** Signing keys: generated once per lab, the private half written where tests find it. */
function signingMaterial(dir: string): (name: string) => string {
  const cache = new Map<string, string>();
  return (name) => {
    let v = cache.get(name);
    if (!v) {
      if (!/^[a-z0-9.-]+$/.test(name)) throw new Error(`lab: bad signing key name ${JSON.stringify(name)}`);
      const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
      mkdirSync(join(dir, 'dkim'), { recursive: true });
      writeFileSync(join(dir, 'dkim', `${name}.pem`), privateKey.export({ type: 'pkcs8', format: 'pem' }), {
        mode: 0o600,
      });
      v = `v=DKIM1; k=rsa; p=${publicKey.export({ type: 'spki', format: 'der' }).toString('base64')}`;
      cache.set(name, v);
    }
    return v;
  };
}

function dkimMaterial(): (bits: 512 | 1024 | 2048) => string {
  const cache = new Map<number, string>();
  return (bits) => {
    let v = cache.get(bits);
    if (!v) {
      const { publicKey } = generateKeyPairSync('rsa', { modulusLength: bits });
      const der = publicKey.export({ type: 'spki', format: 'der' });
      v = `v=DKIM1; k=rsa; p=${der.toString('base64')}`;
      cache.set(bits, v);
    }
    return v;
  };
}

/** Brings the lab up from scratch (stopping a previous one first). */
export async function up(opts: LabOptions = {}): Promise<LabInfo> {
  checkPrerequisites();
  const dir = labDir(opts);
  const bulk = opts.bulk ?? 0;
  const log = opts.log ?? (() => {});
  const t0 = Date.now();
  await down({ dir });
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });

  const now = new Date();
  const model = buildModel(bulk);
  log(`lab: ${model.scenarios.length} scenarios, ${model.hosts.length} mail hosts, ${bulk} bulk domains in ${dir}`);

  // Certificates: the lab CA, each host with a service, and the MTA-STS policy server.
  const ca = await createCa(now);
  const caFile = join(dir, 'ca.pem');
  writeFileSync(caFile, ca.pem);
  mkdirSync(join(dir, 'certs'));
  const issued = new Map<string, Issued & { certFile: string; keyFile: string }>();
  const save = (id: string, c: Issued) => {
    const certFile = join(dir, 'certs', `${id}.crt`);
    const keyFile = join(dir, 'certs', `${id}.key`);
    writeFileSync(certFile, c.certPem);
    writeFileSync(keyFile, c.keyPem, { mode: 0o600 });
    const entry = { ...c, certFile, keyFile };
    issued.set(id, entry);
    return entry;
  };
  const withServices = model.hosts.filter((h) => h.smtp || h.access || h.tlsa || h.cert);
  await Promise.all(
    withServices.map(async (h) => save(h.name, await issue(ca, [h.name, ...(h.aliases ?? [])], h.cert ?? 'good', now))),
  );
  const policyNames = model.policies.filter((p) => p.server === 'lab').map((p) => `mta-sts.${p.domain}`);
  const policyCert = save('mta-sts', await issue(ca, policyNames, 'good', now));

  const dkimKey = dkimMaterial();
  const materials: Materials = {
    dkimKey,
    signingKey: signingMaterial(dir),
    spkiSha256(hostName) {
      const c = issued.get(hostName);
      if (!c) throw new Error(`lab: no certificate for ${hostName}`);
      return c.spkiSha256;
    },
  };
  const zones = buildZones(model, materials, dir, now);
  log(`lab: ${zones.zones.length} zones written and signed (${Date.now() - t0} ms)`);

  // Configurations.
  for (const sub of ['knot', 'knot/db', 'unbound', 'dovecot', 'logs']) mkdirSync(join(dir, sub), { recursive: true });
  const knotFile = join(dir, 'knot', 'knot.conf');
  writeFileSync(knotFile, knotConf(dir, zones.zones));
  const unboundFile = join(dir, 'unbound', 'unbound.conf');
  writeFileSync(unboundFile, unboundConf(dir, zones.trustAnchor));
  const dovecots = model.hosts
    .filter((h) => h.access)
    .map((h) => {
      const c = issued.get(h.name);
      if (!c || !h.access) throw new Error(`lab: no certificate for ${h.name}`);
      const id = h.address.replaceAll('.', '-');
      mkdirSync(join(dir, 'dovecot', id), { recursive: true });
      const file = join(dir, 'dovecot', id, 'dovecot.conf');
      writeFileSync(
        file,
        dovecotConf(dir, {
          id,
          address: h.address,
          ...(h.ipv6 === 'serve' && h.address6 ? { address6: h.address6 } : {}),
          profile: h.access,
          certFile: c.certFile,
          keyFile: c.keyFile,
        }),
      );
      const addresses = [h.address, ...(h.ipv6 === 'serve' && h.address6 ? [h.address6] : [])];
      return { id, file, address: h.address, addresses, tls: h.access !== 'nostarttls' };
    });
  const daemonSpec: DaemonSpec = {
    smtp: model.hosts.flatMap((h) => {
      const c = issued.get(h.name);
      if (!h.smtp || !c) return [];
      const address6 = h.ipv6 === 'serve' ? h.address6 : undefined;
      return [
        {
          name: h.name,
          address: h.address,
          ...(address6 ? { address6 } : {}),
          profile: h.smtp,
          certFile: c.certFile,
          keyFile: c.keyFile,
        },
      ];
    }),
    https: {
      address: POLICY_ADDRESS,
      certFile: policyCert.certFile,
      keyFile: policyCert.keyFile,
      policies: Object.fromEntries(
        model.policies.filter((p) => p.server === 'lab').map((p) => [`mta-sts.${p.domain}`, p.body]),
      ),
    },
    blackhole: BLACKHOLE_ADDRESS,
  };
  const specFile = join(dir, 'daemon.json');
  writeFileSync(specFile, JSON.stringify(daemonSpec, null, 2));
  writeFileSync(
    join(dir, 'model.json'),
    JSON.stringify(model, (_k, v) => (typeof v === 'function' ? undefined : v), 2),
  );

  // Processes: each in its own process group, recorded as soon as it is spawned.
  const ipv6 = model.hosts.flatMap((h) => (h.address6 ? [h.address6] : []));
  const state: LabState = {
    fingerprint: fingerprint(bulk),
    startedAt: now.toISOString(),
    bulk,
    processes: [],
    ipv6: ipv6.length > 0 ? [CLIENT6_ADDRESS, ...ipv6] : [],
  };
  // Recorded before they are added, so that `down` removes them whatever happens next.
  writeState(dir, state);
  addIpv6(ipv6);
  const start = (name: string, cmd: string, args: string[]): ChildProcess => {
    const out = openSync(join(dir, 'logs', `${name}.log`), 'a');
    const child = spawn(cmd, args, { detached: true, stdio: ['ignore', out, out] });
    closeSync(out);
    child.unref();
    if (!child.pid) throw new Error(`lab: could not start ${cmd}`);
    state.processes.push({ name, pid: child.pid });
    writeState(dir, state);
    return child;
  };
  try {
    start('knot', 'knotd', ['-c', knotFile]);
    start('unbound', 'unbound', ['-d', '-c', unboundFile]);
    for (const d of dovecots) start(`dovecot-${d.id}`, 'dovecot', ['-F', '-c', d.file]);
    const daemonFile = join(here, `daemon${import.meta.url.endsWith('.ts') ? '.ts' : '.js'}`);
    const loader = import.meta.url.endsWith('.ts') ? ['--import', import.meta.resolve('tsx')] : [];
    start('daemon', process.execPath, [...loader, daemonFile, specFile]);

    await waitFor(
      'Knot',
      async () => (await labQuery(`${AUTH_ADDRESS}:53`, 'test', 'SOA', { rd: false, timeoutMs: 500 })).rcode === 0,
      join(dir, 'logs', 'knot.log'),
    );
    await waitFor(
      'Unbound',
      async () => {
        const a = await labQuery(RESOLVER, 'good.test', 'MX', { timeoutMs: 1000 });
        return a.rcode === 0 && a.ad;
      },
      join(dir, 'unbound', 'unbound.log'),
    );
    for (const d of dovecots) {
      const log = join(dir, 'dovecot', d.id, 'dovecot.log');
      for (const address of d.addresses) {
        await waitFor(
          `Dovecot on ${address}`,
          async () => (await tcpOpen(address, 143)) && (await tcpOpen(address, 110)),
          log,
        );
      }
    }
    await waitFor('lab daemon', async () => existsSync(`${specFile}.ready`), join(dir, 'logs', 'daemon.log'));
  } catch (err) {
    await down({ dir });
    throw err;
  }
  log(
    `lab: up in ${Date.now() - t0} ms: resolver ${RESOLVER_ADDRESS}, ${dovecots.length} Dovecot, ${daemonSpec.smtp.length} SMTP hosts`,
  );
  return info(dir, model, state, caFile);
}

function info(dir: string, model: LabModel, state: LabState, caFile = join(dir, 'ca.pem')): LabInfo {
  return {
    dir,
    resolver: RESOLVER,
    caFile,
    ipBlocklists: [IP_BLOCKLIST],
    domainBlocklists: [DOMAIN_BLOCKLIST],
    model,
    state,
  };
}

/**
 * Returns the running lab, bringing it up first when it is not running, was built from other
 * sources or another bulk size, or is older than six hours. Concurrent callers (test files run in
 * parallel) wait on one lock so that only one of them builds it.
 */
export async function ensureLab(opts: LabOptions = {}): Promise<LabInfo> {
  const dir = labDir(opts);
  const lock = `${dir}.lock`;
  const deadline = Date.now() + 180_000;
  for (;;) {
    try {
      mkdirSync(lock);
      writeFileSync(join(lock, 'pid'), String(process.pid));
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      let holder = Number.NaN;
      try {
        holder = Number(readFileSync(join(lock, 'pid'), 'utf8'));
      } catch {}
      const holderAlive = Number.isInteger(holder) && existsSync(`/proc/${holder}`);
      if (!holderAlive && Number.isInteger(holder)) rmSync(lock, { recursive: true, force: true });
      if (Date.now() > deadline) throw new Error(`lab: lock ${lock} held by ${holder} for too long`);
      await sleep(200);
    }
  }
  try {
    const state = readState(dir);
    if (state && isUp({ dir, bulk: opts.bulk ?? 0 })) return info(dir, buildModel(state.bulk), state);
    // A lab serving more bulk domains than asked for serves what was asked for too.
    return await up({ ...opts, dir });
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

/**
 * Switches the running lab to a variant (scenarios.ts, LabVariant): rewrites the zones it changes,
 * has Knot reload them, and returns once the resolver answers the new records (its cache keeps the
 * old ones up to 10 s).
 */
export async function setVariant(variant: LabVariant, opts: LabOptions = {}): Promise<void> {
  const dir = labDir(opts);
  const state = readState(dir);
  if (!state) throw new Error('lab: not running');
  const model = buildModel(state.bulk, variant);
  const dkim = dkimMaterial();
  const materials: Materials = {
    dkimKey: dkim,
    spkiSha256: () => {
      throw new Error('lab: variant zones carry no TLSA');
    },
    signingKey: () => {
      throw new Error('lab: variant zones carry no signing keys');
    },
  };
  buildZones(model, materials, dir, new Date(), new Set(VARIANT_ZONES));
  for (const zone of VARIANT_ZONES) {
    execFileSync('knotc', ['-c', join(dir, 'knot', 'knot.conf'), 'zone-reload', `${zone}.`], { stdio: 'pipe' });
  }
  // Done when the resolver answers the new records (its cache holds the old ones up to 10 s).
  await waitFor(`the resolver to serve variant ${variant}`, async () => {
    for (const a of variantAnswers(variant)) {
      const r = await labQuery(RESOLVER, a.name, a.type, { timeoutMs: 1000 });
      const seen =
        a.type === 'TXT'
          ? r.answers.map((x) => ([] as string[]).concat((x as unknown as { data: string[] }).data ?? []).join(''))
          : [];
      const ok = typeof a.expect === 'string' ? seen.includes(a.expect) : r.answers.length > 0 === a.expect;
      if (!ok) return false;
    }
    return true;
  });
}

/** The lab's lines for `lab status`. */
export function status(opts: LabOptions = {}): string[] {
  const dir = labDir(opts);
  const state = readState(dir);
  if (!state) return [`lab: not running (${dir})`];
  return [
    `lab: started ${state.startedAt}, ${state.bulk} bulk domains, resolver ${RESOLVER}, CA ${join(dir, 'ca.pem')}`,
    ...state.processes.map(
      (p) =>
        `  ${p.name.padEnd(24)} pid ${String(p.pid).padEnd(8)} ${ownedAlive(p.pid, dir) ? 'running' : 'NOT RUNNING'}`,
    ),
  ];
}
