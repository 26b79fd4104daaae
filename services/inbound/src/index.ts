export {
  createReceiver,
  type ReceivedMessage,
  type Receiver,
  type ReceiverHandlers,
  type ReceiverLimits,
  type ReceiverOptions,
  splitAddress,
} from './receiver.js';
