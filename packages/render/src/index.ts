export { diffReports, type ReportDiff, type ReportLike } from './diff.js';
export { renderHtml } from './html.js';
export { reportLinkToken, verifyReportLink } from './links.js';
export { renderMessageText } from './message.js';
export { renderListingAlert, renderSummary, type Summary, type SummaryDomain } from './summary.js';
export { renderText, type TextOptions } from './text.js';
