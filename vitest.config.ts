import { defineConfig } from 'vitest/config';

export default defineConfig({
  // Test files may declare decorated (tsyringe) classes.
  oxc: { decorator: { legacy: true, emitDecoratorMetadata: true } },
  test: {
    include: [
      'core/test/**/*.test.ts',
      'modules/*/test/**/*.test.ts',
      'plugins/*/test/**/*.test.ts',
      'examples/*/test/**/*.test.ts',
      'tools/*/test/**/*.test.ts',
      'test/**/*.test.ts',
    ],
    // Every test checks that no job modified one of its source files (see the file).
    setupFiles: ['test/support/source-guard-setup.ts'],
    pool: 'forks',
    testTimeout: 30_000,
    hookTimeout: 30_000,
    reporters: ['default'],
  },
});
