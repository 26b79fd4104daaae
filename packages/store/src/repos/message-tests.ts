/**
 * Test addresses and message tests (issue 15). A test address is a random local part at the
 * service's inbound domain, tied to a tenant's domain for a stated time; a message test is what one
 * message received there showed — the analysis, never the message body.
 */
import { randomBytes } from 'node:crypto';
import { jsonb, type Tx } from '../db.js';

/** Messages one test address accepts; later ones are refused at RCPT like an unknown address. */
export const MAX_MESSAGES_PER_TEST_ADDRESS = 20;

const BASE32 = 'abcdefghijklmnopqrstuvwxyz234567';

/** A new local part: "t-" and 20 base32 characters, 100 random bits. */
export function newTestToken(): string {
  const bytes = randomBytes(20);
  let out = 't-';
  for (const b of bytes) out += BASE32[b & 31];
  return out;
}

/** Whether a local part has the form of a test address (cheap check before any query). */
export function isTestToken(local: string): boolean {
  return /^t-[a-z2-7]{20}$/.test(local);
}

export interface TestAddressRow {
  id: string;
  tenantId: string;
  domain: string;
  token: string;
  createdAt: Date;
  expiresAt: Date;
  messages: number;
}

const addressColumns = (sql: Tx) =>
  sql`id, tenant_id as "tenantId", domain, token, created_at as "createdAt", expires_at as "expiresAt", messages`;

export async function createTestAddress(
  sql: Tx,
  tenantId: string,
  domain: string,
  createdAt: Date,
  expiresAt: Date,
): Promise<TestAddressRow> {
  const [row] = await sql<TestAddressRow[]>`
    insert into test_addresses (tenant_id, domain, token, created_at, expires_at)
    values (${tenantId}, ${domain}, ${newTestToken()}, ${createdAt}, ${expiresAt})
    returning ${addressColumns(sql)}`;
  return row as TestAddressRow;
}

/** The test address of a local part if it can take a message at `now`: not expired, not used up. */
export async function liveTestAddress(sql: Tx, token: string, now: Date): Promise<TestAddressRow | undefined> {
  if (!isTestToken(token)) return undefined;
  const [row] = await sql<TestAddressRow[]>`
    select ${addressColumns(sql)} from test_addresses
    where token = ${token} and expires_at > ${now} and messages < ${MAX_MESSAGES_PER_TEST_ADDRESS}`;
  return row;
}

/** The summary of a message test that lists show; `result` is the whole analysis. */
export interface MessageTestSummary {
  id: string;
  domain: string;
  testAddressId: string | null;
  receivedAt: Date;
  clientIp: string;
  helo: string;
  mailFrom: string;
  headerFrom: string | null;
  tlsVersion: string | null;
  spf: string;
  dkim: string;
  dmarc: string;
  arc: string;
  selectorsAdded: string[];
  /** Receipt time at full precision, for cursors. */
  cursorAt: string;
}

export interface MessageTestRow extends MessageTestSummary {
  result: Record<string, unknown>;
}

const testColumns = (sql: Tx) => sql`
  id, domain, test_address_id as "testAddressId", received_at as "receivedAt", client_ip as "clientIp", helo,
  mail_from as "mailFrom", header_from as "headerFrom", tls_version as "tlsVersion", spf, dkim, dmarc, arc,
  selectors_added as "selectorsAdded", (received_at at time zone 'UTC')::text as "cursorAt"`;

export interface NewMessageTest {
  tenantId: string;
  domain: string;
  testAddressId: string | null;
  receivedAt: Date;
  clientIp: string;
  helo: string;
  mailFrom: string;
  headerFrom: string | null;
  tlsVersion: string | null;
  spf: string;
  dkim: string;
  dmarc: string;
  arc: string;
  selectorsAdded: string[];
  result: unknown;
}

/** Stores a message test and counts it against its test address. */
export async function saveMessageTest(sql: Tx, t: NewMessageTest): Promise<MessageTestRow> {
  const [row] = await sql<MessageTestRow[]>`
    insert into message_tests (tenant_id, domain, test_address_id, received_at, client_ip, helo, mail_from,
      header_from, tls_version, spf, dkim, dmarc, arc, selectors_added, result)
    values (${t.tenantId}, ${t.domain}, ${t.testAddressId}, ${t.receivedAt}, ${t.clientIp}, ${t.helo}, ${t.mailFrom},
      ${t.headerFrom}, ${t.tlsVersion}, ${t.spf}, ${t.dkim}, ${t.dmarc}, ${t.arc}, ${t.selectorsAdded},
      ${jsonb(sql, t.result)})
    returning ${testColumns(sql)}, result`;
  if (t.testAddressId) await sql`update test_addresses set messages = messages + 1 where id = ${t.testAddressId}`;
  return row as MessageTestRow;
}

/** A domain's message tests, newest first, without their results. */
export async function listMessageTests(
  sql: Tx,
  tenantId: string,
  domain: string,
  limit: number,
  after?: { cursorAt: string; id: string },
): Promise<MessageTestSummary[]> {
  return sql<MessageTestSummary[]>`
    select ${testColumns(sql)} from message_tests
    where tenant_id = ${tenantId} and domain = ${domain}
      ${after ? sql`and (received_at, id) < ((${after.cursorAt}::text::timestamp at time zone 'UTC'), ${after.id}::uuid)` : sql``}
    order by received_at desc, id desc limit ${limit}`;
}

export async function getMessageTest(
  sql: Tx,
  tenantId: string,
  domain: string,
  id: string,
): Promise<MessageTestRow | undefined> {
  const [row] = await sql<MessageTestRow[]>`
    select ${testColumns(sql)}, result from message_tests where tenant_id = ${tenantId} and domain = ${domain} and id = ${id}`;
  return row;
}

/** How many message tests a domain had by `at`, and the newest of them: what a report links to. */
export async function messageTestsAsOf(
  sql: Tx,
  tenantId: string,
  domain: string,
  at: Date,
): Promise<{ count: number; latest: MessageTestSummary | null }> {
  const [count] = await sql<{ n: number }[]>`
    select count(*)::int as n from message_tests where tenant_id = ${tenantId} and domain = ${domain} and received_at <= ${at}`;
  const [latest] = await sql<MessageTestSummary[]>`
    select ${testColumns(sql)} from message_tests
    where tenant_id = ${tenantId} and domain = ${domain} and received_at <= ${at}
    order by received_at desc, id desc limit 1`;
  return { count: count?.n ?? 0, latest: latest ?? null };
}

/**
 * The message tests a report's page shows: those received before the domain's next report (all
 * of them up to now for its latest), how many, and the newest with its analysis.
 */
export async function messageTestsForReport(
  sql: Tx,
  tenantId: string,
  reportId: string,
): Promise<{ count: number; latest: MessageTestRow | null }> {
  // Times compared in Postgres (microseconds), not through a JavaScript Date (milliseconds).
  const [report] = await sql<{ domain: string }[]>`
    select domain from reports where id = ${reportId} and tenant_id = ${tenantId}`;
  if (!report) return { count: 0, latest: null };
  const { domain } = report;
  const until = sql`coalesce((select min(n.created_at) from reports n, reports r
    where r.id = ${reportId} and n.tenant_id = ${tenantId} and n.domain = ${domain} and n.created_at > r.created_at),
    'infinity'::timestamptz)`;
  const [count] = await sql<{ n: number }[]>`
    select count(*)::int as n from message_tests
    where tenant_id = ${tenantId} and domain = ${domain} and received_at < ${until}`;
  const [latest] = await sql<MessageTestRow[]>`
    select ${testColumns(sql)}, result from message_tests
    where tenant_id = ${tenantId} and domain = ${domain} and received_at < ${until}
    order by received_at desc, id desc limit 1`;
  return { count: count?.n ?? 0, latest: latest ?? null };
}
