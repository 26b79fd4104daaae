/**
 * Configuration files of the lab's servers: Knot (authoritative), Unbound (validating resolver)
 * and one Dovecot instance per IMAP/POP3 host. Each runs in the foreground with files of its own
 * under the lab directory; nothing in /etc is read or changed.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { AUTH_ADDRESS, RESOLVER_ADDRESS } from './addresses.js';
import type { AccessProfile } from './model.js';
import type { BuiltZone } from './zones.js';

export function knotConf(dir: string, zones: BuiltZone[]): string {
  const q = (s: string) => JSON.stringify(s);
  return `server:
    rundir: ${q(join(dir, 'knot'))}
    listen: ${AUTH_ADDRESS}@53
    udp-workers: 2
    tcp-workers: 2

database:
    storage: ${q(join(dir, 'knot', 'db'))}

control:
    listen: ${q(join(dir, 'knot', 'knot.sock'))}

log:
  - target: ${q(join(dir, 'knot', 'knot.log'))}
    any: notice

template:
  - id: default
    zonefile-sync: -1
    zonefile-load: whole
    journal-content: none
    semantic-checks: off

zone:
${zones.map((z) => `  - domain: ${q(z.apex === '.' ? '.' : `${z.apex}.`)}\n    file: ${q(z.file)}`).join('\n')}
`;
}

/** Longest the lab's Unbound keeps an answer, in seconds: the bench waits this out for a cold cache. */
export const RESOLVER_CACHE_MAX_TTL = 10;

export function unboundConf(dir: string, trustAnchor: string): string {
  const q = (s: string) => JSON.stringify(s);
  return `server:
    interface: ${RESOLVER_ADDRESS}
    port: 53
    interface-automatic: no
    do-ip6: no
    do-daemonize: no
    username: ""
    chroot: ""
    directory: ${q(join(dir, 'unbound'))}
    pidfile: ""
    use-syslog: no
    logfile: ${q(join(dir, 'unbound', 'unbound.log'))}
    verbosity: 1
    val-log-level: 2
    num-threads: 2
    so-reuseport: yes
    # Room for bursts of queries while the machine is busy: with the kernel's default buffer (208
    # KB, a few hundred datagrams) the listening sockets dropped queries under the bench's load,
    # which the client saw as 2 s timeouts. A resolver for a hoster's nightly audits wants the same.
    so-rcvbuf: 4m
    # With that buffer Unbound takes in whole bursts of cold questions and sent them on to Knot at
    # once: Knot's sockets (kernel default buffer) dropped them, Unbound marked the only server down
    # and answered SERVFAIL to everything for minutes. At most 128 questions a thread on the way to
    # Knot (the others wait their turn in Unbound), and a server marked down is retried within 10 s.
    outgoing-range: 128
    infra-host-ttl: 10
    # A night's names (the bench's 10,000 domains, answers with their RRSIGs and NSEC3s) fit.
    msg-cache-size: 64m
    rrset-cache-size: 128m
    access-control: 127.0.0.0/8 allow
    # The lab's servers are on loopback addresses.
    do-not-query-localhost: no
    module-config: "validator iterator"
    trust-anchor: ${q(trustAnchor)}
    # Unbound serves test. and 127.in-addr.arpa. itself by default (RFC 6761); the lab serves them.
    local-zone: "test." nodefault
    local-zone: "127.in-addr.arpa." nodefault
    # Likewise the unique-local IPv6 reverse zones (RFC 6303), where the lab's IPv6 PTRs live.
    local-zone: "d.f.ip6.arpa." nodefault
    # Give up on a nameserver that never answers within about a second, not minutes.
    infra-cache-max-rtt: 500
    infra-keep-probing: yes
    # Short caching so that a lab zone changed on disk shows through within seconds.
    cache-max-ttl: ${RESOLVER_CACHE_MAX_TTL}
    cache-max-negative-ttl: 5
    # A validation failure on a loaded machine (a DS query that timed out) holds for seconds, not
    # the default minute, so that one slow moment does not turn every answer of a zone to SERVFAIL.
    val-bogus-ttl: 5
    qname-minimisation: no
    minimal-responses: no
    aggressive-nsec: no
    ratelimit: 0
    ip-ratelimit: 0

remote-control:
    control-enable: no

stub-zone:
    name: "."
    stub-addr: ${AUTH_ADDRESS}
    stub-prime: no
`;
}

export interface DovecotInstance {
  id: string;
  address: string;
  /** An IPv6 address to listen on too. */
  address6?: string;
  profile: AccessProfile;
  certFile: string;
  keyFile: string;
}

export function dovecotConf(dir: string, inst: DovecotInstance): string {
  const base = join(dir, 'dovecot', inst.id);
  const tls = inst.profile !== 'nostarttls';
  const dh = '/usr/share/dovecot/dh.pem';
  const lines = [
    `instance_name = mailaudit-lab-${inst.id}`,
    `base_dir = ${join(base, 'run')}`,
    `state_dir = ${join(base, 'state')}`,
    `log_path = ${join(base, 'dovecot.log')}`,
    `listen = ${[inst.address, ...(inst.address6 ? [inst.address6] : [])].join(', ')}`,
    'protocols = imap pop3',
    `login_greeting = mailaudit lab ${inst.id} ready`,
    // Login in clear refused before TLS (LOGINDISABLED, no USER) except in the plaintext profile.
    `disable_plaintext_auth = ${inst.profile === 'plaintext' ? 'no' : 'yes'}`,
    'auth_mechanisms = plain login',
    'default_internal_user = dovecot',
    'default_login_user = dovenull',
    'mail_location = maildir:/nonexistent/%u',
    'passdb {\n  driver = static\n  args = password=never-used-by-any-probe\n}',
    'userdb {\n  driver = static\n  args = uid=dovecot gid=dovecot home=/nonexistent/%u\n}',
    'service imap-login {\n  inet_listener imap {\n    port = 143\n  }\n  inet_listener imaps {\n    port = 993\n  }\n}',
    'service pop3-login {\n  inet_listener pop3 {\n    port = 110\n  }\n  inet_listener pop3s {\n    port = 995\n  }\n}',
    'service stats {\n  unix_listener stats-reader {\n    mode = 0600\n  }\n  unix_listener stats-writer {\n    mode = 0666\n  }\n}',
  ];
  if (tls) {
    lines.push('ssl = yes', `ssl_cert = <${inst.certFile}`, `ssl_key = <${inst.keyFile}`);
    if (existsSync(dh)) lines.push(`ssl_dh = <${dh}`);
    if (inst.profile === 'legacytls') {
      lines.push('ssl_min_protocol = TLSv1', 'ssl_cipher_list = DEFAULT:@SECLEVEL=0');
    } else {
      lines.push('ssl_min_protocol = TLSv1.2');
    }
  } else {
    lines.push('ssl = no');
    // Without TLS nothing may listen on the implicit-TLS ports.
    lines.push(
      'service imap-login {\n  inet_listener imaps {\n    port = 0\n  }\n}',
      'service pop3-login {\n  inet_listener pop3s {\n    port = 0\n  }\n}',
    );
  }
  return `${lines.join('\n')}\n`;
}
