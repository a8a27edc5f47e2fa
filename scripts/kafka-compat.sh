#!/usr/bin/env bash
# The Kafka compatibility job: runs Kafka integration tests against an older Kafka line (3.9 by default)
# beside the running set of servers. A private broker is started with `offsite-infra up kafka` in its
# own state directory (.offsite/kafka-compat/); the tests get the running set's env file with only
# OFFSITE_KAFKA_BROKERS pointing at it. The broker is stopped at the end (OFFSITE_KAFKA_COMPAT_KEEP=1
# keeps it running for a second run).
#
# Usage: bash scripts/kafka-compat.sh [--all]
#   default  the @offsite/kafka integration tests (adapter, consumer groups, commits, and every Produce
#            version the KafkaJS fast paths write): what `npm test` runs
#   --all    also every service whose integration tests use Kafka (gateway, ingestors, writer,
#            analyzer, alerter)
# Knobs: OFFSITE_KAFKA_COMPAT_VERSION (3.9.2), OFFSITE_KAFKA_COMPAT_PORT (the running set's Kafka port + 2;
# the controller takes the next one), OFFSITE_ENV_FILE (the running set, default .offsite/env).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
die() { printf '[kafka-compat] ERROR: %s\n' "$*" >&2; exit 1; }

workspaces=(@offsite/kafka)
case ${1:-} in
  "") ;;
  --all) workspaces+=(@offsite/hj212-gateway @offsite/mqtt-ingestor @offsite/kafka-ingestor @offsite/influx-writer
    @offsite/analyzer @offsite/alerter) ;;
  *) die "usage: bash scripts/kafka-compat.sh [--all]" ;;
esac

main_env=${OFFSITE_ENV_FILE:-$root/.offsite/env}
[ -f "$main_env" ] || die "$main_env does not exist: start the servers first (npm run infra -- up)"
main_brokers=$(sed -n 's/^OFFSITE_KAFKA_BROKERS=//p' "$main_env")
main_port=${main_brokers##*:}
[[ $main_port =~ ^[0-9]+$ ]] || die "no OFFSITE_KAFKA_BROKERS=host:port in $main_env"

version=${OFFSITE_KAFKA_COMPAT_VERSION:-3.9.2}
port=${OFFSITE_KAFKA_COMPAT_PORT:-$(( main_port + 2 ))}
state=$(dirname "$main_env")/kafka-compat
infra() {
  OFFSITE_STATE_DIR=$state OFFSITE_KAFKA_VERSION=$version OFFSITE_KAFKA_PORT=$port \
    OFFSITE_KAFKA_CONTROLLER_PORT=$(( port + 1 )) OFFSITE_MAVEN_REPO=$(dirname "$main_env")/cache/m2 \
    bash infra/bin/offsite-infra "$@"
}
if [ "${OFFSITE_KAFKA_COMPAT_KEEP:-0}" != 1 ]; then trap 'infra down >/dev/null 2>&1 || infra down' EXIT; fi

start=$(date +%s)
infra up kafka
env_file=$state/tests.env
(umask 077; sed "s/^OFFSITE_KAFKA_BROKERS=.*/OFFSITE_KAFKA_BROKERS=127.0.0.1:$port/" "$main_env" >"$env_file")

failed=()
for w in "${workspaces[@]}"; do
  printf '\n== %s on Kafka %s (%ss)\n' "$w" "$version" $(( $(date +%s) - start ))
  OFFSITE_ENV_FILE=$env_file OFFSITE_TEST_RUN=kafka-$version npm run -s test:int -w "$w" || failed+=("$w")
done
printf '\n== Kafka %s compatibility: %s workspace(s) in %ss\n' "$version" "${#workspaces[@]}" $(( $(date +%s) - start ))
[ ${#failed[@]} = 0 ] || die "failed on Kafka $version: ${failed[*]}"
