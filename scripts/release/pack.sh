#!/usr/bin/env bash
# `npm run release -- [--out DIR] [NAME...]`: one deployable archive per service (and the operator
# CLI), each on its own: `turbo prune` keeps the service, the workspaces it depends on and a lock file
# cut down to them, strip-dev.mjs drops everything only development needs; the dist/ of each (from `npm run build`, which must have run) is copied in and the
# TypeScript sources left out. On the host: unpack, `npm ci --omit=dev` in the archive's top folder,
# then run `node [the service's node flags] dist/main.js` in services/NAME (infra/production/systemd).
# NAME is a folder of services/ or `cli`; default: every production service and the CLI.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$root"
out="$root/.offsite/release"
names=()
while [ $# -gt 0 ]; do
  case "$1" in
    --out) out=$2; shift 2 ;;
    -h | --help) sed -n '2,7p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) echo "release: unknown option $1" >&2; exit 2 ;;
    *) names+=("$1"); shift ;;
  esac
done
# The simulator is a test and demo tool, not deployed.
[ ${#names[@]} -gt 0 ] || names=(hj212-gateway mqtt-ingestor kafka-ingestor influx-writer analyzer alerter console video-gateway cli)
mkdir -p "$out"
out=$(cd "$out" && pwd)
version=$(git describe --always --dirty 2>/dev/null || echo unknown)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

for name in "${names[@]}"; do
  if [ "$name" = cli ]; then dir=packages/cli; else dir=services/$name; fi
  [ -f "$dir/package.json" ] || { echo "release: no such service: $name" >&2; exit 2; }
  pkg=$(node -p "require('./$dir/package.json').name")
  tree="$work/offsite-$name"
  log=$(node_modules/.bin/turbo prune "$pkg" --out-dir "$tree" 2>&1) || { echo "$log" >&2; exit 1; }
  node scripts/release/strip-dev.mjs "$tree" "$dir"
  for ws in "$tree"/packages/* "$tree"/services/*; do
    rel=${ws#"$tree"/}
    if [ -f "$rel/tsconfig.build.json" ]; then
      [ -f "$rel/dist/tsconfig.build.tsbuildinfo" ] || { echo "release: $rel has no dist/: run npm run build first" >&2; exit 1; }
      cp -a "$rel/dist" "$ws/dist"
      rm -f "$ws/dist/tsconfig.build.tsbuildinfo"
      # The web UI's sources too; only the console's own archive serves the built UI.
      rm -rf "$ws/src" "$ws/test" "$ws/bench" "$ws/examples" "$ws/scripts" "$ws/web" "$ws"/tsconfig*.json
    fi
  done
  if [ "$name" = console ]; then
    [ -f "$dir/web/dist/index.html" ] || { echo "release: console web UI not built: run npm run build first" >&2; exit 1; }
    mkdir -p "$tree/$dir/web" && cp -a "$dir/web/dist" "$tree/$dir/web/dist"
  fi
  rm -f "$tree/turbo.json"
  printf 'name=%s\nversion=%s\nnode=24\n' "$name" "$version" >"$tree/RELEASE"
  tar -C "$work" -czf "$out/offsite-$name.tar.gz" "offsite-$name"
  echo "$out/offsite-$name.tar.gz"
done
