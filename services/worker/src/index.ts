export { createWorkerContext, type WorkerContext } from './context.js';
export { processAudit } from './processors/audit.js';
export { finishNightly, localNight, runNightly } from './processors/nightly.js';
export { signWebhook } from './processors/notify.js';
export { MAX_TAKES, type SweepResult, sweep } from './sweeper.js';
export { type RunningWorker, startWorker } from './worker.js';
