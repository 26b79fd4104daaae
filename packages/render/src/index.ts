export {
  checkedCategories,
  diffReports,
  InconclusiveError,
  isConclusive,
  type ReportDiff,
  type ReportLike,
} from './diff.js';
export { type EmailOptions, renderListingAlert, renderSummary } from './emails.js';
export {
  overviewLinkToken,
  readUnsubscribeToken,
  reportLinkToken,
  unsubscribeToken,
  verifyOverviewLink,
  verifyReportLink,
} from './links.js';
export {
  LOGO_MAX_BYTES,
  LOGO_TYPES,
  type LogoType,
  logoDataUrl,
  logoPath,
  parseLogo,
  sniffImage,
} from './logo.js';
export { renderMessageText } from './message.js';
export { type OverviewItem, type OverviewSortKey, type OverviewState, overviewView } from './overview-view.js';
export {
  asset,
  type Brand,
  brandOf,
  DEFAULT_ACCENT,
  type OverviewPageOptions,
  type PageOptions,
  type ReportPageOptions,
  renderErrorPage,
  renderOverviewPage,
  renderReportPage,
  renderUnsubscribePage,
  textOn,
} from './pages.js';
export {
  currentRecords,
  type HistoryPoint,
  type MessageTests,
  mergePorts,
  messageTestView,
  type ReportView,
  reportView,
} from './report-view.js';
export {
  kindOf,
  type Summary,
  type SummaryData,
  type SummaryDomain,
  type SummaryKind,
  summaryData,
} from './summary.js';
export { renderText, type TextOptions } from './text.js';
export { displayDomain, formatDate, LOCALES, type Locale, pickLocale } from './texts.js';
