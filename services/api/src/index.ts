export { type App, buildApp } from './app.js';
export { type ApiContext, createContext } from './context.js';
export { AppError, errors } from './errors.js';
export { type ApiServer, startApi } from './server.js';
