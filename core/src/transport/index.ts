export type { Transport, LeasedJob, WorkerStatus, HeartbeatReply } from './transport.js';
