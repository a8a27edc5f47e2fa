#!/usr/bin/env bash
# Installs the workspace's npm packages from the lock file when node_modules is missing or older than it.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
stamp=node_modules/.offsite-lock-stamp
if [ -f "$stamp" ] && [ "$stamp" -nt package-lock.json ]; then echo "node_modules up to date"; exit 0; fi
npm ci --no-audit --no-fund --loglevel=error
touch "$stamp"
