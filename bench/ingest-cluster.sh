#!/usr/bin/env bash
# npm run bench:ingest:cluster [-- bench:ingest args, e.g. --only hj212] — bench:ingest twice in one
# run on the same servers (.offsite/env: InfluxDB, Mosquitto, Postgres) but for Kafka: first the single
# broker, then the 3-broker cluster of `offsite-infra cluster up` (.offsite/cluster/env; its topics with
# replication factor 3 and min.insync.replicas 2; every producer acks=all). Prints both reports (CPU and
# RSS per process, the cluster's 3 brokers and 3 controllers included) and the ratio cluster / single
# of each path's steady rate. Start both sets first; run it under `flock /tmp/offsite-bench.lock`.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
single_env=${OFFSITE_ENV_FILE:-$root/.offsite/env}
cluster_env=${OFFSITE_CLUSTER_ENV_FILE:-$(dirname "$single_env")/cluster/env}
for f in "$single_env" "$cluster_env"; do
  [ -f "$f" ] || { echo "bench:ingest:cluster: $f does not exist: start the servers and the cluster first" >&2; exit 1; }
done
cluster_var() { sed -n "s/^$1=//p" "$cluster_env"; }
bench() { node --conditions=offsite-source --import tsx bench/ingest.bench.ts "$@"; }
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

set -a; . "$single_env"; set +a
echo "== single broker ($OFFSITE_KAFKA_BROKERS), load average $(cut -d' ' -f1-3 /proc/loadavg)"
bench "$@" | tee "$out/single"
OFFSITE_KAFKA_BROKERS=$(cluster_var OFFSITE_KAFKA_BROKERS) OFFSITE_KAFKA_REPLICATION_FACTOR=3 \
  BENCH_CLUSTER_DIR=$(cluster_var OFFSITE_CLUSTER_DIR) bash -c '
  echo "== 3-broker cluster ($OFFSITE_KAFKA_BROKERS), load average $(cut -d" " -f1-3 /proc/loadavg)"
  node --conditions=offsite-source --import tsx bench/ingest.bench.ts "$@"' bench "$@" | tee "$out/cluster"

# "  <path name>" then "    offered … → achieved N values/s steady": the steady rate per path.
steady() { awk '/^  [^ ]/ { name = substr($0, 3) } /achieved [0-9]+ values\/s steady/ { match($0, /achieved [0-9]+/); print name "\t" substr($0, RSTART + 9, RLENGTH - 9) }' "$1"; }
echo "== cluster / single broker, steady values/s (load average now $(cut -d' ' -f1-3 /proc/loadavg))"
join -t $'\t' <(steady "$out/single" | sort) <(steady "$out/cluster" | sort) |
  awk -F'\t' '{ printf "  %s: single %d, cluster %d, ratio %.2f\n", $1, $2, $3, ($2 > 0 ? $3 / $2 : 0) }'
