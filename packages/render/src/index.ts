export { diffReports, type ReportDiff, type ReportLike } from './diff.js';
export { renderText, type TextOptions } from './text.js';
