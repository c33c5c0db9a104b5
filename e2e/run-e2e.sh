#!/usr/bin/env bash
# Runs the browser end-to-end tests inside a private network namespace (see e2e/run-netns.sh).
# They need Debian's Chromium (/usr/bin/chromium) and root (for the namespace). In CI (CI=true) both are
# required; on a developer machine without them the e2e tests are skipped with a notice.
set -euo pipefail
cd "$(dirname "$0")/.."
missing=()
[ -x "${FEDTAB_CHROMIUM:-/usr/bin/chromium}" ] || missing+=("Chromium at /usr/bin/chromium (apt-get install -y chromium)")
[ "$(id -u)" = "0" ] || missing+=("root, for the network namespace that WebRTC tests run in")
if [ "${#missing[@]}" -gt 0 ]; then
  if [ "${CI:-}" = "true" ]; then
    printf 'e2e: missing %s\n' "${missing[@]}" >&2
    exit 1
  fi
  printf 'e2e: SKIPPED, missing %s\n' "${missing[@]}" >&2
  exit 0
fi
npm run data --silent
exec bash e2e/run-netns.sh npx vitest run -c vitest.e2e.config.ts "$@"
