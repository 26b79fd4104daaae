/**
 * Domains registered for nightly audits: PUT/GET/DELETE /v1/domains/:domain; GET /v1/domains (the
 * overview: each with its latest report's summary) and PUT /v1/domains (many at once).
 */
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { CATEGORY_IDS, CODES } from '@mailaudit/engine';
import {
  type DomainRow,
  deleteDomain,
  getDomain,
  listOverview,
  type OverviewKey,
  type OverviewRow,
  type OverviewSort,
  upsertDomain,
  upsertDomains,
} from '@mailaudit/store';
import type { FastifyPluginAsync } from 'fastify';
import { Type } from 'typebox';
import type { ApiContext } from '../context.js';
import { AppError, errors } from '../errors.js';
import { BODY, errorsOf, KEYED, ok, PATH } from '../openapi.js';
import { cursorCodec, pageSize } from '../paging.js';
import { listParam } from '../query.js';
import {
  BulkDomainResult,
  BulkDomainsBody,
  DomainBody,
  DomainOverview,
  DomainParams,
  DomainView,
  GRADE_VALUES,
  NextCursor,
  OUTCOME_VALUES,
  OverviewQuery,
  SEVERITY_VALUES,
} from '../schemas.js';
import { domainFrom } from './domain-param.js';

function domainView(d: DomainRow) {
  return {
    domain: d.domain,
    nightly: d.nightly,
    recipients: d.recipients,
    recipientLocales: d.recipientLocales ?? {},
    dkimSelectors: d.dkimSelectors,
    dkimSelectorsFound: d.dkimSelectorsFound,
    extraHosts: d.extraHosts,
    createdAt: d.createdAt.toISOString(),
    updatedAt: d.updatedAt.toISOString(),
  };
}

function overviewView(r: OverviewRow) {
  const s = r.summary;
  return {
    ...domainView(r),
    score: s?.score ?? null,
    grade: s?.grade ?? null,
    outcome: s?.outcome ?? null,
    worstSeverity: s?.worstSeverity ?? null,
    counts: s?.counts ?? null,
    lastAuditId: s?.auditId ?? null,
    lastReportId: s?.reportId ?? null,
    lastAuditAt: s ? s.auditedAt.toISOString() : null,
    trend: s?.trend ?? null,
    previousScore: s?.previousScore ?? null,
    changedAt: s ? s.changedAt.toISOString() : null,
  };
}

/** The overview's cursor: the sort asked, and the last row's sort value and name. */
const overviewCursor = cursorCodec(
  Type.Tuple([
    Type.String({ maxLength: 20 }),
    Type.Union([Type.Integer(), Type.String({ maxLength: 40 })]),
    Type.String({ pattern: '^[a-z0-9.-]{1,253}$' }),
  ]),
);

const CODE_VALUES = Object.keys(CODES);

/**
 * The recipients' languages to store: those given (each address must be a recipient), else the
 * current ones of recipients that stay. `at` names the body for the error (single PUT only: the
 * bulk PUT checks each item before, in checkRecipientLocales).
 */
function recipientLocales(
  recipients: string[],
  given: Record<string, string> | undefined,
  current: Record<string, string> | undefined,
  at?: string,
): Record<string, string> {
  if (given && at !== undefined) checkRecipientLocales(recipients, given, at);
  const source = given ?? current ?? {};
  return Object.fromEntries(Object.entries(source).filter(([address]) => recipients.includes(address)));
}

function checkRecipientLocales(recipients: string[], given: Record<string, string>, at: string): void {
  for (const address of Object.keys(given)) {
    if (!recipients.includes(address)) {
      // RFC 6901: "~" and "/" in a key are escaped in a pointer.
      const key = address.replaceAll('~', '~0').replaceAll('/', '~1');
      throw errors.invalidField(`${at}/recipientLocales/${key}`, `${address} is not one of the recipients`);
    }
  }
}

export function domainRoutes(ctx: ApiContext): FastifyPluginAsync {
  return async (fastify) => {
    const app = fastify.withTypeProvider<TypeBoxTypeProvider>();

    app.put(
      '/domains/:domain',
      {
        config: { scope: 'admin' },
        schema: {
          summary: 'Register a domain for nightly audits (or update it)',
          tags: ['domains'],
          params: DomainParams,
          body: DomainBody,
          response: {
            200: ok(DomainView, 'Updated'),
            201: ok(DomainView, 'Registered'),
            ...errorsOf(...BODY, ...PATH, ...KEYED),
          },
        },
      },
      async (req, reply) => {
        const domain = domainFrom(req.params.domain);
        const b = req.body;
        const existing = await getDomain(ctx.sql, req.tenantId, domain);
        const recipients = b.recipients ?? existing?.recipients ?? [];
        const { row, created } = await upsertDomain(ctx.sql, req.tenantId, {
          domain,
          nightly: b.nightly ?? existing?.nightly ?? true,
          recipients,
          recipientLocales: recipientLocales(recipients, b.recipientLocales, existing?.recipientLocales, '/body'),
          dkimSelectors: b.dkimSelectors ?? existing?.dkimSelectors ?? [],
          extraHosts: (b.extraHosts ?? existing?.extraHosts ?? []).map((h, i) =>
            domainFrom(h, `/body/extraHosts/${i}`),
          ),
        });
        return reply.code(created ? 201 : 200).send(domainView(row));
      },
    );

    app.get(
      '/domains/:domain',
      {
        config: { scope: 'read' },
        schema: {
          summary: 'A registered domain, with the summary of its latest report',
          tags: ['domains'],
          params: DomainParams,
          response: { 200: ok(DomainOverview, 'The domain'), ...errorsOf(400, 404, ...PATH, ...KEYED) },
        },
      },
      async (req) => {
        const domain = domainFrom(req.params.domain);
        const [found] = await listOverview(ctx.sql, req.tenantId, { domain, limit: 1 });
        if (!found) throw errors.notFound('domain');
        return overviewView(found.row);
      },
    );

    app.delete(
      '/domains/:domain',
      {
        config: { scope: 'admin' },
        schema: {
          summary: 'Stop watching a domain (its reports stay)',
          tags: ['domains'],
          params: DomainParams,
          response: { 204: ok(Type.Null(), 'Removed'), ...errorsOf(...BODY, 404, ...PATH, ...KEYED) },
        },
      },
      async (req, reply) => {
        if (!(await deleteDomain(ctx.sql, req.tenantId, domainFrom(req.params.domain))))
          throw errors.notFound('domain');
        return reply.code(204).send(null);
      },
    );

    app.get(
      '/domains',
      {
        config: { scope: 'read' },
        schema: {
          summary: 'Registered domains with their latest report: the overview',
          tags: ['domains'],
          description:
            'Each registered domain with the summary of its latest report (grade, score, outcome, worst severity, counts by severity, last audit, trend), filtered and sorted; no report body is read. Filters combine with AND; a comma-separated list within one filter means any of its values.',
          querystring: OverviewQuery,
          response: {
            200: ok(
              Type.Object({ domains: Type.Array(DomainOverview), nextCursor: NextCursor }, { title: 'DomainList' }),
              'A page of the overview',
            ),
            ...errorsOf(400, ...KEYED),
          },
        },
      },
      async (req) => {
        const q = req.query;
        const limit = pageSize(q.limit);
        const sortArg = q.sort ?? 'domain';
        const descending = sortArg.startsWith('-');
        const sort = (descending ? sortArg.slice(1) : sortArg) as OverviewSort;
        const key = overviewCursor.decode(q.cursor);
        if (
          key &&
          (key[0] !== sortArg || typeof key[1] !== (sort === 'score' || sort === 'severity' ? 'number' : 'string'))
        )
          throw errors.invalidField('/query/cursor', 'this cursor belongs to another sort order');
        let changedSince: Date | undefined;
        if (q.changedSince !== undefined) {
          changedSince = new Date(q.changedSince);
          if (Number.isNaN(changedSince.getTime()))
            throw errors.invalidField('/query/changedSince', 'expected a date-time such as 2026-12-01T00:00:00Z');
        }
        const rows = await listOverview(ctx.sql, req.tenantId, {
          grades: listParam('grade', q.grade, GRADE_VALUES),
          severities: listParam('severity', q.severity, SEVERITY_VALUES),
          worst: listParam('worstSeverity', q.worstSeverity, SEVERITY_VALUES),
          codes: listParam('code', q.code, CODE_VALUES),
          categories: listParam('category', q.category, CATEGORY_IDS),
          outcomes: listParam('outcome', q.outcome, OUTCOME_VALUES),
          ...(changedSince ? { changedSince } : {}),
          ...(q.audited ? { audited: q.audited === 'true' } : {}),
          ...(q.prefix ? { prefix: q.prefix.toLowerCase() } : {}),
          sort,
          descending,
          limit: limit + 1,
          ...(key ? { after: [key[1], key[2]] as OverviewKey } : {}),
        });
        const items = rows.slice(0, limit);
        const last = items.at(-1);
        return {
          domains: items.map((r) => overviewView(r.row)),
          nextCursor: rows.length > limit && last ? overviewCursor.encode([sortArg, last.key[0], last.key[1]]) : null,
        };
      },
    );

    app.put(
      '/domains',
      {
        config: { scope: 'admin' },
        schema: {
          summary: 'Register or update many domains at once (up to 1,000)',
          tags: ['domains'],
          description:
            "Each item is a domain with the fields of PUT /v1/domains/{domain}; a field left out keeps its current value (or its default for a new domain). Answers one result per item, in the request's order: created, updated, unchanged (the same settings again change nothing: the request is idempotent) or error (the item's domain is not a domain name, or it is given twice; the other items are applied).",
          body: BulkDomainsBody,
          response: {
            200: ok(
              Type.Object({ results: Type.Array(BulkDomainResult) }, { title: 'BulkDomainsResult' }),
              "One result per item, in the request's order",
            ),
            ...errorsOf(...BODY, ...KEYED),
          },
        },
      },
      async (req) => {
        type Item = (typeof req.body.domains)[number];
        const valid = new Map<string, Item>();
        const results: { domain: string; error?: { code: string; message: string }; key?: string }[] = [];
        req.body.domains.forEach((item, i) => {
          try {
            const domain = domainFrom(item.domain, `/body/domains/${i}/domain`);
            const extraHosts = item.extraHosts?.map((h, j) => domainFrom(h, `/body/domains/${i}/extraHosts/${j}`));
            if (item.recipientLocales && item.recipients) {
              checkRecipientLocales(item.recipients, item.recipientLocales, `/body/domains/${i}`);
            }
            if (valid.has(domain)) {
              results.push({
                domain: item.domain,
                error: { code: 'duplicate', message: `${domain} is given more than once; the first is applied` },
              });
              return;
            }
            valid.set(domain, { ...item, ...(extraHosts ? { extraHosts } : {}) });
            results.push({ domain: item.domain, key: domain });
          } catch (err) {
            if (!(err instanceof AppError)) throw err;
            results.push({ domain: item.domain, error: { code: err.code, message: err.message } });
          }
        });
        const done = await ctx.sql.begin((tx) =>
          upsertDomains(tx, req.tenantId, [...valid.keys()], (domain, existing) => {
            const b = valid.get(domain) as Item;
            const recipients = b.recipients ?? existing?.recipients ?? [];
            return {
              domain,
              nightly: b.nightly ?? existing?.nightly ?? true,
              recipients,
              recipientLocales: recipientLocales(recipients, b.recipientLocales, existing?.recipientLocales),
              dkimSelectors: b.dkimSelectors ?? existing?.dkimSelectors ?? [],
              extraHosts: b.extraHosts ?? existing?.extraHosts ?? [],
            };
          }),
        );
        return {
          results: results.map(({ domain, key, error }) => {
            const d = key ? done.get(key) : undefined;
            if (d) return { domain, status: d.status, item: domainView(d.row) };
            return { domain, status: 'error' as const, error: error ?? { code: 'internal', message: 'not stored' } };
          }),
        };
      },
    );
  };
}
