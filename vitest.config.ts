import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Tests spawn the real CLI and build SQLite files; two cores, two workers.
    maxWorkers: 2,
  },
});
