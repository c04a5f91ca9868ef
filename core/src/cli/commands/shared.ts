import { loadConfig } from '../../plugin/load-config.js';
import { createEngineFromConfig } from '../../plugin/engine-from-config.js';
import type { Engine } from '../../engine/engine.js';

/** Options every command takes. */
export interface GlobalOptions {
  config?: string;
  verbose?: boolean;
}

/** Load the config (or none: embedded default) and build the engine. */
export async function engineFromOptions(options: GlobalOptions): Promise<Engine> {
  const loaded = await loadConfig(options.config ? { path: options.config } : {});
  return createEngineFromConfig(loaded);
}
