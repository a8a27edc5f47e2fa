#!/usr/bin/env bash
# `npm run build`: the release build. Compiles every package and service to JavaScript in its dist/
# (tsc with project references: tsconfig.build.json at the root lists them, each workspace's
# tsconfig.build.json references the workspaces it depends on; incremental, so a second run only
# rebuilds what changed), copies the contracts' generated validators (plain JavaScript) beside them,
# and builds the console's web UI (Vite) into services/console/web/dist. Development needs none of
# this: tests, the demo and `npm run dev` run the TypeScript sources through the `offsite-source`
# export condition.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
node_modules/.bin/tsc -b tsconfig.build.json
mkdir -p packages/contracts/dist/generated
cp packages/contracts/src/generated/validators.js packages/contracts/src/generated/validators.d.ts \
  packages/contracts/dist/generated/
npm run -s build:web --workspace @offsite/console
