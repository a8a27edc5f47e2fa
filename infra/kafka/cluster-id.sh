# Sourced by infra/bin/offsite-infra and infra/bin/offsite-cluster.
#
# ensure_kafka_cluster_id FILE: FILE holds a KRaft cluster id, 16 random bytes in URL-safe base64
# (22 characters). The id must not start with '-': StorageTool's argument parser reads `-t -…` as an
# option and refuses the format (Kafka's own generator avoids such ids too). A leading '-' becomes 'A',
# which still decodes to 16 bytes. An id file with a leading '-' (left by a format that failed on it) is
# replaced; a formatted data directory never holds such an id.
ensure_kafka_cluster_id() {
  local f=$1 id=""
  [ -s "$f" ] && id=$(cat "$f")
  if [ -z "$id" ] || [ "${id:0:1}" = - ]; then
    id=$(head -c 16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n')
    [ "${id:0:1}" != - ] || id=A${id:1}
    printf '%s' "$id" >"$f"
  fi
}
