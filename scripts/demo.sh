#!/usr/bin/env bash
# npm run demo — the whole pipeline on this machine, on realistic data, in minutes:
#   node_modules → servers (infra/bin/offsite-infra up) → Kafka topics of this run, Postgres migrations,
#   registry/demo.yaml, console demo users → every service that has a src/main.ts, in the background
#   (logs in .offsite/demo/logs/) → simulator over one accelerated day with a progress line → the demo
#   supervisor confirms the flat-line case as falsification through the console's review API → summary
#   from the real stores → keeps running until Ctrl-C, then stops the services (SIGTERM) and reports
#   their exit codes. The servers keep running (stop them with: npm run infra -- down).
#
# Settings (environment): DEMO_SPEED (event seconds per wall second, default 480: a day in ~3 min),
# DEMO_HOURS (default 24), DEMO_SEED (default 212), DEMO_EXIT_AFTER_SUMMARY=1 (stop after the summary),
# DEMO_SCREENSHOT=docs/img/console-queue.png (screenshot of the console's queue after the summary),
# DEMO_REMINDER_WAIT_S (default 90: how long the summary waits for the reminders to reach the outbox).
# Ports (to run beside other copies, each against its own servers): DEMO_CONSOLE_PORT (default 8080),
# DEMO_OPS_PORT (default 9101: the services' /readyz and /metrics on 9101–9107, the simulator's on 9108),
# DEMO_HJ212_PORT (default 20212: the gateway's TCP port for the loggers), DEMO_ACK_PORT (default 8090:
# the alerter's acknowledgement page).
# DEMO_HISTORY_DAYS (default 89): the days before the simulated one that the analyzer backfills at the aggregate
# level, so the positive list's stability figures (the analyzer's 90-day window) judge a history, as of the end
# of the simulated day (scripts/demo/history-picks.ts picks who fails for which reason).
# The alerter uses scripts/demo/policy.yaml (timers in event time, no quiet hours) at OFFSITE_ALERTER_TIME_SCALE=DEMO_SPEED.
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
DEMO_DIR=$ROOT/.offsite/demo
# The servers' state (env file, Mosquitto's files): offsite-infra's, OFFSITE_STATE_DIR when set (a copy beside others).
STATE=${OFFSITE_STATE_DIR:-$ROOT/.offsite}
LOG_DIR=$DEMO_DIR/logs
REGISTRY=registry/demo.yaml
# The day registry/demo.yaml was fitted to (its first comment line); the simulator must start there.
DEMO_DAY=$(sed -n 's/.*--day \([0-9-]*\).*/\1/p' "$REGISTRY" | head -1)
SIM_START="${DEMO_DAY}T00:00:00+08:00"
# One acceleration for the whole demo: the simulator plays event time SPEED× faster than the wall
# clock, and the alerter's timers (group wait, repeats, escalation of scripts/demo/policy.yaml, stated
# in event time) run SPEED× faster too (OFFSITE_ALERTER_TIME_SCALE). Without it the 60 s wall-clock
# group wait was 8 event hours: every demo case resolved before its first round and nothing was sent.
SPEED=${DEMO_SPEED:-480}
HOURS=${DEMO_HOURS:-24}
SEED=${DEMO_SEED:-212}
# Event-time lateness the analyzer allows: 8 wall seconds of skew at the chosen speed (64 min at
# 480x), at least 10 min. Not more: the offline scenario (2 h, then the logger replays its cache)
# is only seen while the watermark passes the gap before the replay fills it (lateness + 10 min < 2 h).
LATENESS_MS=$((SPEED * 8000 > 600000 ? SPEED * 8000 : 600000))
POLICY=scripts/demo/policy.yaml
# Bound on the summary's wait for the reminders to land in the outbox (wall seconds).
REMINDER_WAIT_S=${DEMO_REMINDER_WAIT_S:-90}
CONSOLE_PORT=${DEMO_CONSOLE_PORT:-8080}
OPS_BASE=${DEMO_OPS_PORT:-9101}
HJ212_PORT=${DEMO_HJ212_PORT:-20212}
ACK_PORT=${DEMO_ACK_PORT:-8090}
HISTORY_DAYS=${DEMO_HISTORY_DAYS:-89}
# The end of the simulated day(s): the positive list is judged as of then (console and summary), not the wall clock.
SIM_END=$(date -u -d "@$(($(date -d "$SIM_START" +%s) + HOURS * 3600))" +%FT%TZ)
SCENARIOS=treatment-off,exceedance,flatline,offline,maintenance,emission-drop
# Days of the emission-drop enterprise's history the simulator sends after the day (its loggers' hourly data through
# the gateway, its production meters over MQTT; ending 2 days before the day, beyond the analyzer's lateness horizon):
# the baseline of the emissions-against-production cross-check the summary runs on the day.
SIM_HISTORY_DAYS=28
RUN_ID=$(date -u +%Y%m%d%H%M%S)
PREFIX="demo-${RUN_ID}."
OUTBOX_DIR=$ROOT/.offsite/outbox
T0=$(date +%s)

say() { printf '\033[1m[demo %3ss]\033[0m %s\n' "$(($(date +%s) - T0))" "$*"; }
die() {
  say "FAILED: $*"
  stop_services
  exit 1
}

mkdir -p "$LOG_DIR" "$OUTBOX_DIR"
# Logs and credentials of the demo are for this user only.
chmod 700 "$DEMO_DIR" "$LOG_DIR"

# ---------------------------------------------------------------- services table
# name  ops-port  extra environment (space-separated NAME=value; values without spaces)
SERVICES=(hj212-gateway mqtt-ingestor kafka-ingestor influx-writer analyzer alerter console)
declare -A OPS_PORT=()
for i in "${!SERVICES[@]}"; do OPS_PORT[${SERVICES[$i]}]=$((OPS_BASE + i)); done
SIM_OPS_PORT=$((OPS_BASE + ${#SERVICES[@]}))
declare -A PIDS=() STATUS=()
# Services need no Mosquitto file paths; only the ACL script does.
NO_FILE_VARS="-u OFFSITE_MOSQUITTO_PASSWD_FILE -u OFFSITE_MOSQUITTO_ACL_FILE"

service_env() {
  case $1 in
    # The simulated loggers' clocks run at DEMO_SPEED: no calibration on drift.
    hj212-gateway) echo "OFFSITE_HJ212_PORT=$HJ212_PORT OFFSITE_KAFKA_TOPIC_PREFIX=$PREFIX OFFSITE_HJ212_CLOCK_DRIFT_MAX_S=0 OFFSITE_HJ212_COMMANDS_GROUP_ID=offsite-hj212-gateway-commands-$RUN_ID" ;;
    mqtt-ingestor)
      echo "OFFSITE_TELEMETRY_TOPIC=${PREFIX}telemetry.v1 OFFSITE_DLQ_TOPIC=${PREFIX}telemetry.dlq.v1" \
        "OFFSITE_MQTT_CLIENT_ID=demo-mqtt-$RUN_ID" \
        "OFFSITE_MQTT_SESSION_EXPIRY_S=120"
      ;;
    kafka-ingestor)
      echo "OFFSITE_UPSTREAM_TOPICS=upstream.demo.v1 OFFSITE_TELEMETRY_TOPIC=${PREFIX}telemetry.v1" \
        "OFFSITE_DLQ_TOPIC=${PREFIX}telemetry.dlq.v1 OFFSITE_KAFKA_INGESTOR_GROUP=offsite-kafka-ingestor-$RUN_ID"
      ;;
    influx-writer)
      echo "OFFSITE_TELEMETRY_TOPIC=${PREFIX}telemetry.v1 OFFSITE_DLQ_TOPIC=${PREFIX}telemetry.dlq.v1" \
        "OFFSITE_WRITER_LATE_TOPIC=${PREFIX}telemetry.late.v1" \
        "OFFSITE_INFLUX_WRITER_GROUP=offsite-influx-writer-$RUN_ID"
      ;;
    analyzer)
      # The demo replays a past day: no wall-clock tick (it would push the watermark to now).
      # Allowed lateness in event time must cover the wall-clock skew between the ingest paths
      # scaled by the acceleration: at 480x the meters (MQTT, fast) run ahead of loggers waiting
      # for their 9014 by several wall seconds = tens of event minutes, and the default 10 min
      # then opens (and later retracts) offline deviations on healthy loggers.
      # No scheduled stability round: it would judge the wall clock's 90 days; the summary runs one as of the
      # end of the simulated day.
      echo "OFFSITE_ANALYZER_TELEMETRY_TOPIC=${PREFIX}telemetry.v1 OFFSITE_ANALYZER_DEVIATION_TOPIC=${PREFIX}deviation.v1" \
        "OFFSITE_ANALYZER_DLQ_TOPIC=${PREFIX}telemetry.dlq.v1 OFFSITE_ANALYZER_GROUP_ID=offsite-analyzer-$RUN_ID" \
        "OFFSITE_ANALYZER_TICK_INTERVAL_MS=0 OFFSITE_ANALYZER_ALLOWED_LATENESS_MS=$LATENESS_MS" \
        "OFFSITE_ANALYZER_REVIEW_DECISION_TOPIC=${PREFIX}review.decision.v1" \
        "OFFSITE_ANALYZER_STABILITY_INTERVAL_MS=0"
      ;;
    alerter)
      echo "OFFSITE_ALERTER_TOPIC_PREFIX=$PREFIX OFFSITE_ALERTER_GROUP_ID=offsite-alerter-$RUN_ID" \
        "OFFSITE_ALERTER_QUEUE_PREFIX=offsite-demo-$RUN_ID OFFSITE_ALERTER_OUTBOX_DIR=$OUTBOX_DIR" \
        "OFFSITE_ALERTER_ACK_SECRET=$ACK_SECRET OFFSITE_ALERTER_POLICY_FILE=$ROOT/$POLICY" \
        "OFFSITE_ALERTER_TIME_SCALE=$SPEED OFFSITE_ALERTER_ACK_PORT=$ACK_PORT" \
        "OFFSITE_ALERTER_ACK_BASE_URL=http://127.0.0.1:$ACK_PORT/ack"
      ;;
    console)
      echo "OFFSITE_CONSOLE_PORT=$CONSOLE_PORT OFFSITE_CONSOLE_REVIEW_DECISION_TOPIC=${PREFIX}review.decision.v1" \
        "OFFSITE_CONSOLE_MESSAGE_REQUEST_TOPIC=${PREFIX}message.request.v1" \
        "OFFSITE_CONSOLE_HJ212_COMMAND_TOPIC=${PREFIX}hj212.command.v1" \
        "OFFSITE_CONSOLE_COMPLAINT_INTAKE_TOPIC=${PREFIX}complaint.intake.v1 OFFSITE_CONSOLE_GROUP_ID=offsite-console-$RUN_ID" \
        "OFFSITE_CONSOLE_LATE_DATA_TOPIC=${PREFIX}telemetry.late.v1 OFFSITE_CONSOLE_DLQ_TOPIC=${PREFIX}telemetry.dlq.v1" \
        "OFFSITE_CONSOLE_ELIGIBILITY_AS_OF=$SIM_END"
      ;;
  esac
}

port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

start_service() {
  local s=$1 port=${OPS_PORT[$1]}
  if [ ! -f "services/$s/src/main.ts" ]; then
    STATUS[$s]="services/$s/src/main.ts does not exist"
    return
  fi
  if port_busy "$port"; then
    STATUS[$s]="ops port $port already in use (another copy running?)"
    return
  fi
  # Run as `npm run dev` would (from source, with the node flags of its `npm start`), without npm in between.
  local start
  start=$(node -p "require('./services/$s/package.json').scripts.dev")
  # shellcheck disable=SC2046,SC2086 # word splitting of the NAME=value list and of the command is intended
  (cd "services/$s" && exec setsid env $NO_FILE_VARS OFFSITE_OPS_PORT="$port" $(service_env "$s") $start) \
    >"$LOG_DIR/$s.log" 2>&1 &
  PIDS[$s]=$!
  STATUS[$s]=starting
}

wait_ready() {
  local s=$1 port=${OPS_PORT[$1]} deadline=$(($(date +%s) + 120))
  [ "${STATUS[$s]}" = starting ] || return
  while [ "$(date +%s)" -lt "$deadline" ]; do
    if ! kill -0 "${PIDS[$s]}" 2>/dev/null; then
      wait "${PIDS[$s]}"
      STATUS[$s]="exited with code $? while starting (see $LOG_DIR/$s.log)"
      unset 'PIDS[$s]'
      return
    fi
    if curl -fs -o /dev/null --max-time 2 "http://127.0.0.1:$port/readyz"; then
      STATUS[$s]=ready
      return
    fi
    sleep 0.5
  done
  STATUS[$s]="not ready after 120 s (see $LOG_DIR/$s.log)"
}

STOPPED=0
stop_services() {
  [ "$STOPPED" = 1 ] && return
  STOPPED=1
  local s t
  [ "${#PIDS[@]}" -eq 0 ] && return
  say "stopping services (SIGTERM) …"
  for s in "${!PIDS[@]}"; do kill -TERM "${PIDS[$s]}" 2>/dev/null; done
  for s in "${!PIDS[@]}"; do
    t=0
    while kill -0 "${PIDS[$s]}" 2>/dev/null && [ "$t" -lt 300 ]; do
      sleep 0.1
      t=$((t + 1))
    done
    if kill -0 "${PIDS[$s]}" 2>/dev/null; then
      kill -KILL "${PIDS[$s]}" 2>/dev/null
      wait "${PIDS[$s]}" 2>/dev/null
      say "  $s did not stop within 30 s: killed (SIGKILL)"
    else
      wait "${PIDS[$s]}"
      say "  $s exited with code $?"
    fi
  done
  PIDS=()
  say "servers keep running; stop them with: npm run infra -- down"
}
trap 'echo; stop_services; exit 130' INT TERM

# ---------------------------------------------------------------- 1. node_modules and servers
say "node_modules …"
bash scripts/ensure-node-modules.sh >"$LOG_DIR/ensure-node-modules.log" 2>&1 ||
  die "scripts/ensure-node-modules.sh failed (see $LOG_DIR/ensure-node-modules.log)"
# `up` is idempotent, but it waits on a lock that running servers keep open (see the report), so
# it is only called when a server is not running.
INFRA_STATUS=$(bash infra/bin/offsite-infra status 2>/dev/null)
if [ -f "$STATE/env" ] && [ -n "$INFRA_STATUS" ] && ! grep -qv ' running ' <<<"$INFRA_STATUS"; then
  say "servers already running (infra/bin/offsite-infra status)"
else
  say "servers (infra/bin/offsite-infra up) …"
  bash infra/bin/offsite-infra up >"$LOG_DIR/infra-up.log" 2>&1 || die "offsite-infra up failed (see $LOG_DIR/infra-up.log)"
fi
set -a
# shellcheck source=/dev/null
. "$STATE/env"
set +a

# ---------------------------------------------------------------- 2. topics, Postgres, registry, users
say "Kafka topics ${PREFIX}*, Postgres migrations, $REGISTRY, console users …"
node --conditions=offsite-source --import tsx scripts/demo/setup.ts "$REGISTRY" "$PREFIX" >"$LOG_DIR/setup.json" 2>"$LOG_DIR/setup.log" ||
  die "setup failed (see $LOG_DIR/setup.log)"
say "  $(cat "$LOG_DIR/setup.json")"
if [ -f "$DEMO_DIR/ack-secret" ]; then ACK_SECRET=$(cat "$DEMO_DIR/ack-secret"); else
  ACK_SECRET=$(head -c 24 /dev/urandom | base64 | tr -d '/+=')
  (umask 077 && echo "$ACK_SECRET" >"$DEMO_DIR/ack-secret")
fi
# Console demo users (admin, supervisor, officer-<district>, viewer), each with its own generated
# password in $DEMO_DIR/credentials (mode 600); no password goes to a log.
if [ -f services/console/src/seed-cli.ts ]; then
  OFFSITE_CONSOLE_DEMO_CREDENTIALS="$DEMO_DIR/credentials" \
    npm run seed -w @offsite/console >"$LOG_DIR/console-seed.log" 2>&1 ||
    say "  console users not seeded (see $LOG_DIR/console-seed.log)"
fi
# Mosquitto accounts and ACL from the registry, if the mqtt-ingestor provides a script for it.
if [ -f services/mqtt-ingestor/package.json ]; then
  ACL_SCRIPT=$(node -e 'const s=require("./services/mqtt-ingestor/package.json").scripts||{};process.stdout.write(Object.keys(s).find(k=>/acl|account/i.test(k))||"")')
  if [ -n "$ACL_SCRIPT" ]; then
    say "Mosquitto accounts/ACL (npm run $ACL_SCRIPT -w @offsite/mqtt-ingestor) …"
    # Its own reload goes through `offsite-infra mqtt-reload`, which waits on the lock the running
    # servers hold (see the report); SIGHUP makes Mosquitto re-read the files just the same.
    if OFFSITE_MQTT_RELOAD=0 timeout 60 npm run "$ACL_SCRIPT" -w @offsite/mqtt-ingestor >"$LOG_DIR/mqtt-accounts.log" 2>&1; then
      # The script replaces the files (owned by whoever ran it, mode 600); Mosquitto re-reads them
      # as its own user after the SIGHUP, and a file it cannot open locks out EVERY client of the
      # shared broker. Give them back to that user first, as offsite-infra's configure step does.
      MOSQ_USER=$(sed -n 's/^user //p' "$STATE/mosquitto/mosquitto.conf" | head -1)
      if [ -n "$MOSQ_USER" ] && [ "$(id -u)" = 0 ]; then
        chown "$MOSQ_USER": "$OFFSITE_MOSQUITTO_PASSWD_FILE" "$OFFSITE_MOSQUITTO_ACL_FILE"
      fi
      kill -HUP "$(awk '{print $1}' "$STATE/run/mosquitto.pid")" 2>/dev/null || say "  could not signal Mosquitto to reload"
      sleep 0.5
      if ! timeout 10 mosquitto_pub -h 127.0.0.1 -p "${OFFSITE_MQTT_URL##*:}" -u "$OFFSITE_MQTT_USERNAME" \
        -P "$OFFSITE_MQTT_PASSWORD" -q 1 -t offsite/demo/reload-check -m ok 2>>"$LOG_DIR/mqtt-accounts.log"; then
        die "Mosquitto refuses the service account after the reload (see $STATE/logs/mosquitto.log)"
      fi
    else
      say "  failed (see $LOG_DIR/mqtt-accounts.log)"
    fi
  fi
fi

# The preceding months at the aggregate level (the analyzer's own points), for the positive list.
read -r LOW_ENT SILENT_ENT SILENT_FROM NEAR_ENT < <(node --conditions=offsite-source --import tsx scripts/demo/history-picks.ts \
  "$REGISTRY" "$SIM_START" "$SCENARIOS" 2>"$LOG_DIR/history.log")
[ -n "${NEAR_ENT:-}" ] || die "no enterprises to fail the positive list or stand out among peers (see $LOG_DIR/history.log)"
say "history: $HISTORY_DAYS days before $DEMO_DAY at the aggregate level ($LOW_ENT every 7th hour missing, $SILENT_ENT silent since $SILENT_FROM, $NEAR_ENT just below its limits), while the services start …"
# In the background while the services start (nothing reads the history before the summary).
(cd services/analyzer && exec env $NO_FILE_VARS node --conditions=offsite-source --import tsx src/history-cli.ts backfill \
  --to "$SIM_START" --days "$HISTORY_DAYS" --missing-every "$LOW_ENT=7" --silent-from "$SILENT_ENT=$SILENT_FROM" \
  --near-limit "$NEAR_ENT") \
  >"$LOG_DIR/history.json" 2>>"$LOG_DIR/history.log" &
HISTORY_PID=$!

# ---------------------------------------------------------------- 3. services
if [ -f services/console/src/main.ts ] && [ ! -f services/console/web/dist/index.html ]; then
  say "building the console's web UI (first run) …"
  npm run build:web -w @offsite/console >"$LOG_DIR/console-build.log" 2>&1 || say "  failed (see $LOG_DIR/console-build.log)"
fi
say "starting services …"
for s in "${SERVICES[@]}"; do start_service "$s"; done
for s in "${SERVICES[@]}"; do
  wait_ready "$s"
  say "  $(printf '%-15s' "$s") ${STATUS[$s]}"
done
[ "${STATUS[hj212-gateway]}" = ready ] || die "the hj212-gateway is needed for the demo: ${STATUS[hj212-gateway]}"
wait "$HISTORY_PID" || die "history backfill failed (see $LOG_DIR/history.log)"
say "history written: $(cat "$LOG_DIR/history.json")"

# ---------------------------------------------------------------- 4. simulator
MQTT_CREDS=""
[ -f .offsite/mqtt/enterprise-credentials.json ] && MQTT_CREDS="OFFSITE_SIM_MQTT_CREDENTIALS=$ROOT/.offsite/mqtt/enterprise-credentials.json"
ENTERPRISES=$(grep -c '^  - id: ent-' "$REGISTRY")
say "simulator: $ENTERPRISES enterprises, $HOURS h of $DEMO_DAY (Asia/Shanghai) at ${SPEED}× …"
: >"$LOG_DIR/simulator.log"
SIM_T0=$(date +%s)
(cd services/simulator && exec env $NO_FILE_VARS OFFSITE_SIM_REGISTRY="$ROOT/$REGISTRY" OFFSITE_SIM_START="$SIM_START" \
  OFFSITE_SIM_HOURS="$HOURS" OFFSITE_SIM_SPEED="$SPEED" OFFSITE_SIM_SEED="$SEED" OFFSITE_SIM_SCENARIOS="$SCENARIOS" \
  OFFSITE_SIM_SILENT="$SILENT_ENT" OFFSITE_SIM_HISTORY_DAYS="$SIM_HISTORY_DAYS" OFFSITE_SIM_PROGRESS=true OFFSITE_SIM_REPLAY_LIMIT="${DEMO_REPLAY_LIMIT:-60}" $MQTT_CREDS OFFSITE_HJ212_PORT="$HJ212_PORT" OFFSITE_OPS_PORT="$SIM_OPS_PORT" node --conditions=offsite-source --import tsx src/main.ts 2>>"$LOG_DIR/simulator.log") |
  node --conditions=offsite-source --import tsx scripts/demo/progress.ts "$LOG_DIR/simulator.log" "$DEMO_DIR/simulator-result.json" \
    "http://127.0.0.1:${OPS_PORT[analyzer]}/metrics"
SIM_RC=${PIPESTATUS[0]}
say "simulator exited with code $SIM_RC after $(($(date +%s) - SIM_T0)) s"

# ---------------------------------------------------------------- 5. a supervisor confirms the flat line
# As a city supervisor would on the case page: logged in over HTTP, the flat-line case confirmed as falsification
# (弄虚作假) through the console's review API, so that its enterprise fails the positive list for it.
CONFIRMED=null
if [ "${STATUS[console]}" = ready ]; then
  say "supervisor: confirming the flat-line case as falsification through the console's review API …"
  if OUT=$(node --conditions=offsite-source --import tsx scripts/demo/confirm-falsification.ts "http://127.0.0.1:$CONSOLE_PORT/" \
    "$DEMO_DIR/credentials" "$REGISTRY" "$SIM_START" "$SCENARIOS" 2>>"$LOG_DIR/confirm.log"); then
    CONFIRMED=$OUT
    say "  $CONFIRMED"
  else
    say "  failed (see $LOG_DIR/confirm.log)"
  fi
fi

# ---------------------------------------------------------------- 6. summary
say "waiting for the pipeline to drain, then the summary …"
STATUS[simulator]=$([ "$SIM_RC" = 0 ] && echo ready || echo "exited with code $SIM_RC (see $LOG_DIR/simulator.log)")
{
  printf '{"runId":"%s","prefix":"%s","startedAt":"%s","simStart":"%s","simHours":%s,"scenarios":"%s",' \
    "$RUN_ID" "$PREFIX" "$(date -u -d "@$T0" +%FT%TZ)" "$SIM_START" "$HOURS" "$SCENARIOS"
  printf '"registry":"%s","outboxDir":"%s","mailDir":"%s","credentials":"%s","consoleUrl":"http://127.0.0.1:%s/",' \
    "$ROOT/$REGISTRY" "$OUTBOX_DIR" "${OFFSITE_MAIL_DIR:-$ROOT/.offsite/mail}" "$DEMO_DIR/credentials" "$CONSOLE_PORT"
  printf '"policy":"%s","timeScale":%s,"reminderWaitS":%s,' "$ROOT/$POLICY" "$SPEED" "$REMINDER_WAIT_S"
  printf '"history":{"days":%s,"lowTransmission":"%s","missingEvery":7,"silent":"%s","silentFrom":"%s","nearLimit":"%s"},' \
    "$HISTORY_DAYS" "$LOW_ENT" "$SILENT_ENT" "$SILENT_FROM" "$NEAR_ENT"
  printf '"confirmed":%s,' "$CONFIRMED"
  printf '"simulatorResult":"%s","groups":{"influx-writer":"offsite-influx-writer-%s@%stelemetry.v1",' \
    "$DEMO_DIR/simulator-result.json" "$RUN_ID" "$PREFIX"
  printf '"analyzer":"offsite-analyzer-%s@%stelemetry.v1","alerter":"offsite-alerter-%s@%sdeviation.v1"},"services":{' \
    "$RUN_ID" "$PREFIX" "$RUN_ID" "$PREFIX"
  sep=''
  for s in "${SERVICES[@]}" simulator; do
    printf '%s"%s":"%s"' "$sep" "$s" "${STATUS[$s]//\"/\'}"
    sep=,
  done
  printf '}}\n'
} >"$DEMO_DIR/run.json"
# The summary's progress lines (waiting for consumers and reminders) go to stderr: shown and logged.
node --conditions=offsite-source --import tsx scripts/demo/summary.ts "$DEMO_DIR/run.json" 2> >(tee "$LOG_DIR/summary.log" >&2) |
  tee "$DEMO_DIR/summary.txt" ||
  say "summary failed (see $LOG_DIR/summary.log)"
say "demo wall time so far: $(($(date +%s) - T0)) s; logs in $LOG_DIR"
# README screenshot of the console's queue (DEMO_SCREENSHOT=path.png), while the console still runs.
if [ -n "${DEMO_SCREENSHOT:-}" ] && [ "${STATUS[console]}" = ready ]; then
  node --conditions=offsite-source --import tsx scripts/demo/screenshot.ts "http://127.0.0.1:$CONSOLE_PORT/" "$DEMO_DIR/credentials" "$DEMO_SCREENSHOT" \
    2>>"$LOG_DIR/screenshot.log" || say "  screenshot failed (see $LOG_DIR/screenshot.log)"
fi

if [ "${DEMO_EXIT_AFTER_SUMMARY:-0}" = 1 ]; then
  stop_services
  exit 0
fi
say "services keep running — open the console; press Ctrl-C to stop them."
while true; do
  for s in "${!PIDS[@]}"; do
    if ! kill -0 "${PIDS[$s]}" 2>/dev/null; then
      wait "${PIDS[$s]}"
      say "$s exited unexpectedly with code $? (see $LOG_DIR/$s.log)"
      unset 'PIDS[$s]'
    fi
  done
  sleep 2 &
  wait $!
done
