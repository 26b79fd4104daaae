/**
 * One DNS question over UDP with EDNS0 (DO bit) and optional CD, for the lab's readiness checks
 * and its own tests. Not the auditor's resolver: no retries, no TCP fallback, no cache.
 */

import { randomInt } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { Packet, type Question, type Resource } from 'dns2';

/** Header bits dns2 decodes but does not declare. */
interface DnssecBits {
  ad: number;
  cd: number;
}

export interface LabAnswer {
  rcode: number;
  /** Authenticated Data: the resolver validated the answer (RFC 4035 3.2.3). */
  ad: boolean;
  tc: boolean;
  aa: boolean;
  answers: Resource[];
  authorities: Resource[];
}

export interface LabQueryOptions {
  /** Set the DO bit. @default true */
  dnssec?: boolean;
  /** Set the CD bit (checking disabled). @default false */
  cd?: boolean;
  /** @default 3000 */
  timeoutMs?: number;
  /** Ask for recursion. @default true */
  rd?: boolean;
}

/** Type codes dns2 lacks a name for. */
const EXTRA_TYPES: Record<string, number> = { DS: 43, TLSA: 52, NSEC: 47 };

export function typeCode(type: string): number {
  const known = (Packet.TYPE as Record<string, number>)[type] ?? EXTRA_TYPES[type];
  if (known === undefined) throw new Error(`unknown record type ${type}`);
  return known;
}

export function labQuery(server: string, name: string, type: string, opts: LabQueryOptions = {}): Promise<LabAnswer> {
  const [host, portText] = server.split(':');
  const port = portText ? Number(portText) : 53;
  const packet = new Packet();
  packet.header.id = randomInt(0, 0x10000);
  packet.header.rd = opts.rd === false ? 0 : 1;
  (packet.header as unknown as DnssecBits).cd = opts.cd ? 1 : 0;
  packet.questions.push({ name, type: typeCode(type), class: Packet.CLASS.IN } as Question);
  packet.additionals.push(Packet.Resource.EDNS([], { doFlag: opts.dnssec !== false, udpPayloadSize: 1232 }));
  const buf = packet.toBuffer();
  const socket = createSocket('udp4');
  return new Promise<LabAnswer>((resolve, reject) => {
    const timer = setTimeout(() => {
      socket.close();
      reject(Object.assign(new Error(`no answer from ${server} for ${name} ${type}`), { code: 'ETIMEOUT' }));
    }, opts.timeoutMs ?? 3000);
    socket.on('error', (err) => {
      clearTimeout(timer);
      socket.close();
      reject(err);
    });
    socket.on('message', (msg) => {
      const res = Packet.parse(msg);
      if (res.header.id !== packet.header.id) return;
      clearTimeout(timer);
      socket.close();
      resolve({
        rcode: res.header.rcode,
        ad: (res.header as unknown as DnssecBits).ad === 1,
        tc: res.header.tc === 1,
        aa: res.header.aa === 1,
        answers: res.answers,
        authorities: res.authorities,
      });
    });
    socket.send(buf, port, host);
  });
}
