/**
 * Test messages of a domain (issue 15): POST /v1/domains/:domain/test-address gives a unique
 * address at the inbound domain; GET /v1/domains/:domain/message-tests lists what the messages sent
 * there showed, newest first; GET /v1/domains/:domain/message-tests/:id is one with its analysis.
 */
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import {
  createTestAddress,
  getDomain,
  getMessageTest,
  listMessageTests,
  MAX_MESSAGES_PER_TEST_ADDRESS,
  type MessageTestSummary,
} from '@mailaudit/store';
import type { FastifyPluginAsync } from 'fastify';
import { Type } from 'typebox';
import type { ApiContext } from '../context.js';
import { errors } from '../errors.js';
import { BODY, errorsOf, KEYED, ok, PATH } from '../openapi.js';
import { afterTime, byTime, page, pageSize, timeKey } from '../paging.js';
import {
  DomainParams,
  MessageTestSummaryView,
  MessageTestView,
  NextCursor,
  PageQuery,
  TestAddressBody,
  TestAddressView,
} from '../schemas.js';
import { domainFrom } from './domain-param.js';

export function messageTestSummary(t: MessageTestSummary) {
  return {
    id: t.id,
    domain: t.domain,
    receivedAt: t.receivedAt.toISOString(),
    from: t.headerFrom,
    clientIp: t.clientIp,
    helo: t.helo,
    mailFrom: t.mailFrom,
    tls: t.tlsVersion,
    spf: t.spf,
    dkim: t.dkim,
    dmarc: t.dmarc,
    arc: t.arc,
    selectorsAdded: t.selectorsAdded,
  };
}

export function messageTestRoutes(ctx: ApiContext): FastifyPluginAsync {
  return async (fastify) => {
    const app = fastify.withTypeProvider<TypeBoxTypeProvider>();

    app.post(
      '/domains/:domain/test-address',
      {
        config: { scope: 'audit' },
        schema: {
          summary: 'A unique address to send a test message to',
          description:
            'Send any message from a mailbox of the domain to the address: the receiver checks SPF, DKIM, DMARC, ARC and the sending host, stores the results as a message test of the domain (`GET /v1/domains/:domain/message-tests`, webhook `message.received`) and adds the selectors of passing signatures to those its audits check. The domain must be registered.',
          tags: ['message tests'],
          params: DomainParams,
          body: TestAddressBody,
          'x-body-optional': true,
          response: {
            201: ok(TestAddressView, 'The address, valid until `expiresAt`'),
            ...errorsOf(...BODY, 404, ...PATH, 501, ...KEYED),
          },
        },
        // The body is optional: none at all means the defaults.
        preValidation: async (req) => {
          if (req.body === undefined || req.body === null) req.body = {};
        },
      },
      async (req, reply) => {
        const inbound = ctx.config.inboundDomain;
        if (!inbound) throw errors.notConfigured('this service receives no test messages (INBOUND_DOMAIN is not set)');
        const domain = domainFrom(req.params.domain);
        if (!(await getDomain(ctx.sql, req.tenantId, domain))) throw errors.notFound('domain');
        const now = new Date();
        const hours = req.body.validHours ?? 24;
        const a = await createTestAddress(
          ctx.sql,
          req.tenantId,
          domain,
          now,
          new Date(now.getTime() + hours * 3_600_000),
        );
        return reply.code(201).send({
          id: a.id,
          domain: a.domain,
          address: `${a.token}@${inbound}`,
          createdAt: a.createdAt.toISOString(),
          expiresAt: a.expiresAt.toISOString(),
          maxMessages: MAX_MESSAGES_PER_TEST_ADDRESS,
        });
      },
    );

    app.get(
      '/domains/:domain/message-tests',
      {
        config: { scope: 'read' },
        schema: {
          summary: "A domain's message tests, newest first",
          tags: ['message tests'],
          params: DomainParams,
          querystring: PageQuery,
          response: {
            200: ok(
              Type.Object(
                { messageTests: Type.Array(MessageTestSummaryView), nextCursor: NextCursor },
                { title: 'MessageTestList' },
              ),
              'A page of message tests',
            ),
            ...errorsOf(400, ...PATH, ...KEYED),
          },
        },
      },
      async (req) => {
        const limit = pageSize(req.query.limit);
        const rows = await listMessageTests(
          ctx.sql,
          req.tenantId,
          domainFrom(req.params.domain),
          limit + 1,
          afterTime(byTime.decode(req.query.cursor)),
        );
        const { items, nextCursor } = page(rows, limit, byTime, timeKey);
        return { messageTests: items.map(messageTestSummary), nextCursor };
      },
    );

    app.get(
      '/domains/:domain/message-tests/:id',
      {
        config: { scope: 'read' },
        schema: {
          summary: 'One message test with its analysis',
          tags: ['message tests'],
          params: Type.Object({ domain: Type.String({ maxLength: 1024 }), id: Type.String({ format: 'uuid' }) }),
          response: { 200: ok(MessageTestView, 'The message test'), ...errorsOf(400, 404, ...PATH, ...KEYED) },
        },
      },
      async (req) => {
        const t = await getMessageTest(ctx.sql, req.tenantId, domainFrom(req.params.domain), req.params.id);
        if (!t) throw errors.notFound('message test');
        return { ...messageTestSummary(t), result: t.result as never };
      },
    );
  };
}
