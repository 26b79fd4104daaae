export { type InboundConfig, type InboundOverrides, type RunningInbound, startInbound } from './inbound.js';
export { dkimSummary, isLiveAddress, messageWebhookData, type ProcessDeps, processMessage } from './process.js';
export {
  createReceiver,
  type ReceivedMessage,
  type Receiver,
  type ReceiverHandlers,
  type ReceiverLimits,
  type ReceiverOptions,
  splitAddress,
} from './receiver.js';
