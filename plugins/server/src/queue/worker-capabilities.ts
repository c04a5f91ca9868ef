import { capabilityList } from '@sisyphus/core';

/**
 * A worker's capabilities as the stores compare them (`kind:value`, see
 * `JobRequirements`), from the `capabilities` of its last heartbeat
 * (`WorkerRecord.status`; untrusted, read by `capabilityList`). Undefined
 * when it advertises none (the original worker, or a heartbeat that
 * expired): it then gets only jobs without explicit requirements.
 */
export function workerCapabilities(status: Record<string, unknown> | undefined): string[] | undefined {
  const advertised = status?.capabilities;
  if (typeof advertised !== 'object' || advertised === null || Array.isArray(advertised)) return undefined;
  return capabilityList(advertised);
}
