import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 20_000,
    hookTimeout: 30_000,
    // One test file per core and one more. The NATS tests spend most of their time waiting (timers, pings, servers
    // starting, reconnects), so a worker per core leaves the cores half idle. Measured on a 2-core machine (417 files):
    // 2 workers 625 s, 3 workers 481 s (1.2 cores busy on average), 4 workers 405 s (1.4). Not 4: with
    // fewer workers contending for the cores, the tests that race timers stay far from their limits. Each worker has
    // its own slice of ports (test/support/nats-server.ts).
    maxWorkers: availableParallelism() + 1,
    // The JSON report is what .ci/run reads for its closing "N passed, N failed" line.
    reporters: ['default', ['json', { outputFile: '.vitest-results.json' }]],
  },
});
