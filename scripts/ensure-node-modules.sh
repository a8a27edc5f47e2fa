#!/usr/bin/env bash
# Installs the workspace's npm packages from the lock file when node_modules is missing or older
# than the lock. A fresh checkout gets `npm ci`; an existing node_modules is updated in place with
# `npm install` (npm ci would delete it under any process that is using it). Serialised by a lock
# so concurrent runs don't interleave.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
stamp=node_modules/.offsite-lock-stamp
if [ -f "$stamp" ] && [ "$stamp" -nt package-lock.json ]; then echo "node_modules up to date"; exit 0; fi
exec 9>/tmp/offsite-npm.lock
flock 9
if [ -d node_modules ]; then
  npm install --no-audit --no-fund --loglevel=error
else
  npm ci --no-audit --no-fund --loglevel=error
fi
touch "$stamp"
