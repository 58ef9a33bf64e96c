import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    projects: [
      {
        // `npm test`: seconds-fast, no network, no containers
        test: {
          name: 'fast',
          globalSetup: ['test/global-setup.ts'],
          include: ['test/unit/**/*.test.ts', 'test/cli/**/*.test.ts', 'test/snapshot/**/*.test.ts'],
          testTimeout: 30_000,
          // the machine has 2 shared cores: keep the fan-out small
          maxWorkers: 2,
        },
      },
      {
        // drift check/update (test/drift): two real builds of the generator, ~10 s, no network
        test: {
          name: 'drift',
          include: ['test/drift/**/*.test.ts'],
          testTimeout: 60_000,
          hookTimeout: 120_000,
          maxWorkers: 2,
        },
      },
      {
        // the generated project's own ruff over odd accepted inputs (test/lint): needs uv and the
        // locked ruff (uv cache or PyPI); run by .ci/run
        test: {
          name: 'lint',
          include: ['test/lint/**/*.test.ts'],
          testTimeout: 60_000,
          maxWorkers: 2,
        },
      },
      {
        // the generated service, running, against CONTRACT.md (test/conformance, scripts/pipeline.sh)
        test: {
          name: 'conformance',
          include: ['test/conformance/**/*.test.ts'],
          testTimeout: 300_000,
          hookTimeout: 600_000,
          fileParallelism: false,
        },
      },
      {
        // the hardened container under attack: a misbehaving upstream, a store killed and
        // restarted, hostile connections (test/faults, scripts/pipeline.sh's faults stage)
        test: {
          name: 'faults',
          include: ['test/faults/**/*.test.ts'],
          testTimeout: 120_000,
          hookTimeout: 60_000,
          fileParallelism: false,
        },
      },
      {
        // the observability stacks against real tools: promtool, Prometheus, an OTLP receiver
        // (test/observability, scripts/verify-observability.sh)
        test: {
          name: 'observability',
          include: ['test/observability/**/*.test.ts'],
          testTimeout: 300_000,
          hookTimeout: 300_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
