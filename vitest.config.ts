import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Integration tests share one Redis and one PostgreSQL server; each file isolates
    // itself by key prefix and schema, but too many at once starve the two-core machines.
    maxWorkers: 3,
    reporters: ['default', 'json'],
    outputFile: { json: '.test-results/results.json' },
  },
});
