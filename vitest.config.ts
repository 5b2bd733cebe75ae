import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 20_000,
    hookTimeout: 30_000,
    // Two test files at a time at least. vitest's default (one worker per core, less one) is a single worker on a
    // 2-core machine, where the NATS tests spend most of their time waiting (timers, pings, servers starting): the
    // whole run took 11 min there, 6 with two. Each worker has its own slice of ports (test/support/nats-server.ts).
    maxWorkers: Math.max(2, availableParallelism() - 1),
    // The JSON report is what .ci/run reads for its closing "N passed, N failed" line.
    reporters: ['default', ['json', { outputFile: '.vitest-results.json' }]],
  },
});
