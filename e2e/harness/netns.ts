/** The private network namespace made by e2e/run-netns.sh, required by every WebRTC browser test. */
import os from 'node:os';

/** Address of v0 inside the namespace. */
export const NETNS_ADDRESS = '10.213.0.1';

/** Throws a clear error unless this process runs inside run-netns.sh's namespace. */
export function assertInsideNetns(): void {
  const marker = process.env.FEDTAB_NETNS_ADDRESS;
  const v0 = os.networkInterfaces().v0 ?? [];
  if (marker !== NETNS_ADDRESS || !v0.some((entry) => entry.address === NETNS_ADDRESS)) {
    throw new Error(
      'WebRTC browser tests must run inside the private network namespace: ' +
        'bash e2e/run-netns.sh npx vitest run -c vitest.e2e.config.ts (Chromium never uses loopback for ICE)',
    );
  }
}
