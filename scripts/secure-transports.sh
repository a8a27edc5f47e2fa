#!/usr/bin/env bash
# The secure transports job: starts a second set of servers with TLS and passwords on
# (`OFFSITE_INFRA_SECURE=1 offsite-infra up` in .offsite/secure/: Kafka SASL_SSL with SCRAM-SHA-512,
# Postgres hostssl only, Redis TLS with an ACL user and a Sentinel, InfluxDB HTTPS, Mosquitto's TLS
# listener; certificates from a local CA made with openssl), runs the `*.secure.test.ts` tests
# against it, and stops it (OFFSITE_SECURE_KEEP=1 keeps it running).
#
# Ports: the running set's ports + 10 (Sentinel: Redis + 11), from the env file of the running set
# (OFFSITE_ENV_FILE, default .offsite/env); OFFSITE_SECURE_PORT_OFFSET changes the 10.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
die() { printf '[secure-transports] ERROR: %s\n' "$*" >&2; exit 1; }

main_env=${OFFSITE_ENV_FILE:-$root/.offsite/env}
main_state=$(dirname "$main_env")
[ -f "$main_state/ports" ] || die "$main_state/ports does not exist: start the servers first (npm run infra -- up)"
off=${OFFSITE_SECURE_PORT_OFFSET:-10}
# shellcheck disable=SC2046
eval "$(tr ' ' '\n' <"$main_state/ports" | grep -E '^[A-Z_]+_PORT=[0-9]+$')"
state=$main_state/secure
infra() {
  OFFSITE_STATE_DIR=$state OFFSITE_INFRA_SECURE=1 OFFSITE_MAVEN_REPO=$main_state/cache/m2 \
    OFFSITE_PG_PORT=$(( PG_PORT + off )) OFFSITE_REDIS_PORT=$(( REDIS_PORT + off )) \
    OFFSITE_REDIS_SENTINEL_PORT=$(( REDIS_PORT + off + 1 )) OFFSITE_MQTT_PORT=$(( MQTT_PORT + off )) \
    OFFSITE_MQTT_DEVICE_PORT=$(( ${MQTT_DEVICE_PORT:-$(( MQTT_PORT + 1 ))} + off )) \
    OFFSITE_KAFKA_PORT=$(( KAFKA_PORT + off )) OFFSITE_KAFKA_CONTROLLER_PORT=$(( KAFKA_CONTROLLER_PORT + off )) \
    OFFSITE_INFLUX_PORT=$(( INFLUX_PORT + off )) OFFSITE_INFLUX_RPC_PORT=$(( INFLUX_RPC_PORT + off )) \
    OFFSITE_SMTP_PORT=$(( SMTP_PORT + off )) bash infra/bin/offsite-infra "$@"
}
if [ "${OFFSITE_SECURE_KEEP:-0}" != 1 ]; then trap 'infra down >/dev/null 2>&1 || infra down' EXIT; fi

start=$(date +%s)
infra up
printf '\n== secure transports tests (%ss)\n' $(( $(date +%s) - start ))
OFFSITE_ENV_FILE=$state/env npm run -s test:secure -w @offsite/flows
printf '\n== secure transports: %ss\n' $(( $(date +%s) - start ))
