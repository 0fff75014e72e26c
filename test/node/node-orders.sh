#!/usr/bin/env bash
# examples/node-orders: its dependencies from the lockfile, then its tests
# (node --test). They start a cluster of their own (port OC_NODE_TEST_PORT,
# default 55641, order_credit preloaded) on the installed build.
set -euo pipefail
cd "$(dirname "$0")/../../examples/node-orders"
npm ci --no-audit --no-fund --loglevel=error
npm test
