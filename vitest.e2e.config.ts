import { defineConfig } from 'vitest/config';

/** Browser end-to-end tests: run them inside the network namespace (bash e2e/run-netns.sh ...). */
export default defineConfig({
  test: {
    include: ['e2e/**/*.e2e.ts'],
    environment: 'node',
    testTimeout: 180_000,
    hookTimeout: 180_000,
    pool: 'forks',
    fileParallelism: false,
    maxWorkers: 1,
  },
});
