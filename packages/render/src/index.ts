export { diffReports, type ReportDiff, type ReportLike } from './diff.js';
export { renderListingAlert, renderSummary, type Summary, type SummaryDomain } from './summary.js';
export { renderText, type TextOptions } from './text.js';
