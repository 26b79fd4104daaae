export { renderText, type TextOptions } from './text.js';
