#!/usr/bin/env bash
# Runs a command inside a private network namespace with a veth pair and a default route, where Chromium
# can make WebRTC connections between its own tabs (it never uses loopback for ICE) and nothing can leave.
#   bash e2e/run-netns.sh npx vitest run -c vitest.e2e.config.ts
# Needs root (unshare -n). Inside, FEDTAB_NETNS_ADDRESS holds the address of v0.
set -euo pipefail

if [ "$#" -eq 0 ]; then
  echo "usage: bash e2e/run-netns.sh COMMAND [ARGS...]" >&2
  exit 2
fi
if [ "${FEDTAB_NETNS_ADDRESS:-}" != "" ]; then
  exec "$@" # already inside
fi
if [ "$(id -u)" != "0" ]; then
  echo "run-netns.sh: needs root to create a network namespace (unshare -n); run it as root or in CI" >&2
  exit 1
fi

exec unshare -n env FEDTAB_NETNS_ADDRESS=10.213.0.1 bash -c '
  set -euo pipefail
  ip link set lo up
  ip link add v0 type veth peer name v1
  ip addr add 10.213.0.1/24 dev v0
  ip link set v0 up
  ip link set v1 up
  ip route add default dev v0
  exec "$@"
' run-netns "$@"
