import { defineConfig } from 'vitest/config';

// The package's own config, so that `npm test` here never picks up a config from a folder above.
export default defineConfig({
  test: { include: ['test/**/*.test.ts'] },
});
