import { definePlugin } from '@sisyphus/core';
import { checksumModule } from './checksum-module.js';

export { checksumModule } from './checksum-module.js';
export { ChecksumDataSchema, ChecksumSettingsSchema, type ChecksumData, type ChecksumSettings } from './checksum-schema.js';

/** The plugin a worker config lists as `sisyphus-module-checksum`. */
export default definePlugin({ name: 'sisyphus-module-checksum', version: '1.0.0', modules: [checksumModule] });
