/**
 * The language of the `message` fields of findings in API answers: `Accept-Language` (RFC 9110
 * 12.5.4, q-values honoured) picks one of the catalogue's languages; without the header, or with
 * none of ours in it, the message stays the one the engine stored (English). Codes and params
 * never change: they are the stable part (CONTRACT.md section 3).
 */
import { findingText, type Locale, localesOf } from '@mailaudit/catalog';
import type { Finding, Report } from '@mailaudit/engine';
import type { FastifyReply, FastifyRequest } from 'fastify';

/** The language the request asks for, or undefined for the stored (English) messages. */
export function requestedLocale(req: FastifyRequest): Locale | undefined {
  const header = req.headers['accept-language'];
  return localesOf(Array.isArray(header) ? header.join(',') : header)[0];
}

/** Each finding's message in `locale` (the stored one where the catalogue has none). */
export function localizeFindings<F extends Pick<Finding, 'code' | 'params' | 'message'>>(
  findings: F[],
  locale: Locale,
): F[] {
  return findings.map((f) => ({ ...f, message: findingText(locale, f.code, f.params ?? {}).message || f.message }));
}

export function localizeReport<R extends Pick<Report, 'findings'>>(report: R, locale: Locale): R {
  return { ...report, findings: localizeFindings(report.findings, locale) };
}

/**
 * The report as the request asks: localized when it names a language, with `Content-Language`
 * said; `Vary: Accept-Language` either way, since the answer depends on it.
 */
export function reportFor<R extends Pick<Report, 'findings'>>(req: FastifyRequest, reply: FastifyReply, report: R): R {
  reply.header('vary', 'Accept-Language');
  const locale = requestedLocale(req);
  if (!locale) return report;
  reply.header('content-language', locale);
  return localizeReport(report, locale);
}
