#!/bin/bash
# Boot script of the Oracle host (Amazon Linux 2023): Oracle XE in Docker, prepared for XStream CDC.
# Rendered by components/oracle_db.py: only its dollar-brace placeholders in lower case are filled in, with
# non-secret values. Passwords are read from SSM Parameter Store here, at run time, through the
# instance role; they never appear in this script, on a command line or in the log.
# Every step checks before it changes something, so running the script again is safe.
# The outcome goes to the status parameter ("<instance-id> ready" or "<instance-id> failed: <log tail>"),
# which the stack's readiness gate polls; a failure also goes to the serial console, which the gate reads
# too, so it is seen even when the parameter cannot be written.
set -Eeuo pipefail

REGION='${region}'
IMAGE='${image}'
STATUS_PARAMETER='${status_parameter}'
CONTAINER=oracle-xe
SETUP_DIR=/opt/oracle-setup
LOG=/var/log/oracle-setup.log
HEALTHY_WITHIN_SECONDS=1800
INSTANCE_ID=unknown
CONSOLE=/dev/console
# AWS calls are retried: an instance role's credentials and grants can take a while to work after boot (IAM
# changes reach all of AWS only eventually: IAM API reference, AddRoleToInstanceProfile, read 2026-12-01).
# 8 attempts, 2 s apart at first, doubling up to 60 s: about 3 minutes.
RETRY_ATTEMPTS=8
RETRY_FIRST_DELAY=2
RETRY_MAX_DELAY=60

umask 077
exec >>"$LOG" 2>&1

# Runs a command until it succeeds, waiting longer after each failure; returns its last failure.
retry() {
  local ATTEMPT=1 DELAY=$RETRY_FIRST_DELAY
  until "$@"; do
    if [ "$ATTEMPT" -ge "$RETRY_ATTEMPTS" ]; then
      echo "gave up after $ATTEMPT attempts: $1 $2 $3" >&2
      return 1
    fi
    echo "attempt $ATTEMPT failed: $1 $2 $3; next in $DELAY s" >&2
    sleep "$DELAY"
    ATTEMPT=$((ATTEMPT + 1))
    DELAY=$((DELAY * 2 < RETRY_MAX_DELAY ? DELAY * 2 : RETRY_MAX_DELAY))
  done
}

report() {
  retry aws ssm put-parameter --region "$REGION" --name "$STATUS_PARAMETER" --type String --overwrite \
    --value "$INSTANCE_ID $1" >/dev/null
}

# The failure report on the serial console: it needs no AWS call, so the gate sees it whatever the role does.
console_report() {
  {
    echo '${console_header}'
    sed 's/^/${console_line}/' <<<"$1"
    echo '${console_end}'
  } >"$CONSOLE" 2>/dev/null || echo "could not write the failure report to $CONSOLE"
}

fail() {
  trap - ERR
  # Inside $(...) only leave: the main shell fails on it and reports once.
  if [ "$BASH_SUBSHELL" -gt 0 ]; then exit 1; fi
  echo "$(date -Is) FAILED at line $1: $2"
  local TAIL
  TAIL=$(tail -c 3000 "$LOG")
  console_report "$TAIL"
  report "failed: $TAIL" || echo "could not report the failure to $STATUS_PARAMETER"
  exit 1
}
trap 'fail "$LINENO" "$BASH_COMMAND"' ERR

step() { echo "$(date -Is) == $*"; }

imds() {
  local TOKEN
  TOKEN=$(curl -sSf -X PUT http://169.254.169.254/latest/api/token -H 'X-aws-ec2-metadata-token-ttl-seconds: 300')
  curl -sSf -H "X-aws-ec2-metadata-token: $TOKEN" "http://169.254.169.254/latest/meta-data/$1"
}

secret() {
  retry aws ssm get-parameter --region "$REGION" --name "$1" --with-decryption --query Parameter.Value --output text
}

# Feeds one SQL file to sqlplus on stdin, after DEFINEs of the given NAME VALUE pairs (so no password is
# on a command line), and prints its output. Fails on a non-zero exit or any ORA-/SP2- message: SQL*Plus's
# own SP2 errors are not caught by WHENEVER SQLERROR. Diagnostics go to stderr, so they reach the log even
# when the caller captures the output.
run_sql() {
  local FILE=$1 OUTPUT
  shift
  OUTPUT=$({
    while [ "$#" -ge 2 ]; do printf 'DEFINE %s = "%s"\n' "$1" "$2"; shift 2; done
    cat "$SETUP_DIR/$FILE"
  } | docker exec -i "$CONTAINER" sqlplus -S -L /nolog) || { echo "$OUTPUT" >&2; echo "$FILE: sqlplus failed" >&2; return 1; }
  if grep -Eq '^(ORA|SP2)-[0-9]+' <<<"$OUTPUT"; then
    echo "$OUTPUT" >&2
    echo "$FILE: error in output" >&2
    return 1
  fi
  echo "$OUTPUT"
}

step "start"
INSTANCE_ID=$(retry imds instance-id)

step "Docker"
if ! command -v docker >/dev/null; then
  dnf install -y docker
fi
systemctl enable --now docker

step "passwords from Parameter Store"
SYS_PASSWORD=$(secret '${sys_password_parameter}')
APP_PASSWORD=$(secret '${app_password_parameter}')
CDC_ADMIN_PASSWORD=$(secret '${cdc_admin_password_parameter}')
CDC_CONNECT_PASSWORD=$(secret '${cdc_connect_password_parameter}')

step "container $IMAGE"
if ! docker container inspect "$CONTAINER" >/dev/null 2>&1; then
  for ATTEMPT in 1 2 3; do
    docker pull --quiet "$IMAGE" && break
    echo "pull attempt $ATTEMPT failed"
    sleep 30
  done
  docker image inspect "$IMAGE" >/dev/null
  # ORACLE_PWD is handed over from this shell's environment, not the command line. The named volume
  # keeps the data files (and the recovery area) when the container is re-created.
  ORACLE_PWD="$SYS_PASSWORD" docker run --detach --name "$CONTAINER" --restart unless-stopped \
    --publish 1521:1521 --env ORACLE_PWD --volume oracle-data:/opt/oracle/oradata "$IMAGE"
fi
docker start "$CONTAINER" >/dev/null

step "waiting for the database (first start: 5-10 minutes)"
DEADLINE=$((SECONDS + HEALTHY_WITHIN_SECONDS))
until [ "$(docker inspect --format '{{.State.Health.Status}}' "$CONTAINER")" = healthy ]; do
  if [ "$SECONDS" -ge "$DEADLINE" ]; then
    echo "container not healthy after $HEALTHY_WITHIN_SECONDS seconds; see: docker logs $CONTAINER"
    false
  fi
  sleep 20
done

step "SQL scripts"
install -d -m 0755 "$SETUP_DIR"
cat >"$SETUP_DIR/cdb_settings.sql" <<'EOF_SQL'
${sql_cdb_settings}
EOF_SQL
cat >"$SETUP_DIR/log_mode.sql" <<'EOF_SQL'
${sql_log_mode}
EOF_SQL
cat >"$SETUP_DIR/enable_archivelog.sql" <<'EOF_SQL'
${sql_enable_archivelog}
EOF_SQL
cat >"$SETUP_DIR/pdb_and_logging.sql" <<'EOF_SQL'
${sql_pdb_and_logging}
EOF_SQL
cat >"$SETUP_DIR/users.sql" <<'EOF_SQL'
${sql_users}
EOF_SQL
cat >"$SETUP_DIR/outbound.sql" <<'EOF_SQL'
${sql_outbound}
EOF_SQL

step "GoldenGate replication and recovery area"
docker exec "$CONTAINER" mkdir -p '${recovery_area_dir}'
run_sql cdb_settings.sql

step "ARCHIVELOG mode"
LOG_MODE=$(run_sql log_mode.sql | tr -d '[:space:]')
if [ "$LOG_MODE" != ARCHIVELOG ]; then
  run_sql enable_archivelog.sql
fi

step "PDB open and saved, supplemental logging"
run_sql pdb_and_logging.sql

step "users"
run_sql users.sql cdc_admin_password "$CDC_ADMIN_PASSWORD" cdc_connect_password "$CDC_CONNECT_PASSWORD" \
  app_password "$APP_PASSWORD"

step "app tables (Django's migrate as SQL, from Parameter Store)"
secret '${app_schema_parameter}' | base64 -d | gunzip >"$SETUP_DIR/app_schema.sql"
run_sql app_schema.sql app_password "$APP_PASSWORD"

step "XStream outbound server"
run_sql outbound.sql cdc_admin_password "$CDC_ADMIN_PASSWORD"

step "archived log cleanup timer"
# RMAN leaves archived logs that a local XStream capture still needs; older ones go after the retention.
cat >/usr/local/sbin/oracle-archivelog-cleanup <<'EOF_CLEANUP'
#!/bin/bash
set -euo pipefail
docker exec -i oracle-xe rman target / <<'EOF_RMAN'
CROSSCHECK ARCHIVELOG ALL;
DELETE NOPROMPT ARCHIVELOG ALL COMPLETED BEFORE 'SYSDATE - ${archive_retention_hours}/24';
EXIT;
EOF_RMAN
EOF_CLEANUP
chmod 0755 /usr/local/sbin/oracle-archivelog-cleanup
cat >/etc/systemd/system/oracle-archivelog-cleanup.service <<'EOF_UNIT'
[Unit]
Description=Delete old Oracle archived logs
Requires=docker.service
After=docker.service

[Service]
Type=oneshot
ExecStart=/usr/local/sbin/oracle-archivelog-cleanup
EOF_UNIT
cat >/etc/systemd/system/oracle-archivelog-cleanup.timer <<'EOF_UNIT'
[Unit]
Description=Hourly cleanup of old Oracle archived logs

[Timer]
OnCalendar=hourly
Persistent=true

[Install]
WantedBy=timers.target
EOF_UNIT
systemctl daemon-reload
systemctl enable --now oracle-archivelog-cleanup.timer

step "ready"
report ready
