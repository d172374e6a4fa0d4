#!/bin/bash
# orcha-prepare: run by orcha.service before `docker compose up` (and by orcha-refresh).
#
# Writes /etc/orcha/orcha.env (mode 0600) for the app and worker containers from
#   - every SSM parameter directly under the parameter root (/v1-orcha/KEY -> KEY=value),
#     decrypted;
#   - the database contract (lib/config/app-contract.ts: DB_*, DATABASE_URL, JDBC_DATABASE_URL,
#     PG*), from the credentials secret and the database endpoint — the same variables the
#     migration test gives the migration container;
#   - the environment, queues, documents bucket and region (these win over parameters of the
#     same name).
# and logs Docker in to the ECR registry. Values are never printed; secrets reach jq on
# stdin, not on a command line. If AWS cannot be reached but an earlier file exists, the
# earlier file is kept so that a reboot during an outage still starts the application.
#
# ORCHA_ROOT (default: empty, i.e. /) prefixes every path; only tests set it.
set -euo pipefail
umask 077

readonly ROOT="${ORCHA_ROOT:-}"
# shellcheck source=/dev/null
. "$ROOT/etc/orcha/orcha.conf"

readonly ENV_FILE="$ROOT/etc/orcha/orcha.env"
# The CLI retries throttling and transient errors with backoff, a bounded number of times.
export AWS_RETRY_MODE=standard AWS_MAX_ATTEMPTS=5

log() { printf '%s orcha-prepare: %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$*" >&2; }

write_env_file() {
  local params secret tmp
  params="$(aws ssm get-parameters-by-path --region "$ORCHA_REGION" \
    --path "$ORCHA_PARAMETER_ROOT" --with-decryption \
    --query 'Parameters[].{name: Name, value: Value}' --output json)" || return 1
  secret="$(aws secretsmanager get-secret-value --region "$ORCHA_REGION" \
    --secret-id "$ORCHA_DB_SECRET_ID" --query SecretString --output text)" || return 1

  # Parameter names that cannot become environment variables, or values on several lines.
  printf '%s\n' "$params" | jq -r '.[]
    | select((.name | split("/") | last | test("^[A-Za-z_][A-Za-z0-9_]*$") | not)
             or (.value | test("[\r\n]")))
    | "skipping parameter \(.name): not KEY=single-line value"' >&2 || return 1

  tmp="$(mktemp "$ROOT/etc/orcha/.orcha.env.XXXXXX")"
  if ! { printf '%s\n' "$params"; printf '%s\n' "$secret"; } | jq -r -s \
    --arg region "$ORCHA_REGION" \
    --arg environment "$ORCHA_ENVIRONMENT" \
    --arg host "$ORCHA_DB_HOST" \
    --arg port "$ORCHA_DB_PORT" \
    --arg dbname "$ORCHA_DB_NAME" \
    --arg ingest "$ORCHA_INGEST_QUEUE_URL" \
    --arg email "$ORCHA_EMAIL_ACQUIRE_QUEUE_URL" \
    --arg bucket "$ORCHA_DOCUMENTS_BUCKET" \
    --arg appport "$ORCHA_APP_PORT" '
      (.[1].username | tostring) as $user | (.[1].password | tostring) as $password
      | (.[0] | map(select((.value | test("[\r\n]") | not)))
            | map({key: (.name | split("/") | last), value: .value})
            | map(select(.key | test("^[A-Za-z_][A-Za-z0-9_]*$")))
            | from_entries)
      + {{DATABASE_ENV_JQ}}
      + {
          ORCHA_ENVIRONMENT: $environment,
          AWS_REGION: $region,
          AWS_DEFAULT_REGION: $region,
          INGEST_QUEUE_URL: $ingest,
          EMAIL_ACQUIRE_QUEUE_URL: $email,
          DOCUMENTS_BUCKET: $bucket,
          PORT: $appport
        }
      | to_entries[]
      | "\(.key)=\(.value)"' > "$tmp"; then
    rm -f "$tmp"
    return 1
  fi
  chmod 0600 "$tmp"
  mv -f "$tmp" "$ENV_FILE"
}

if write_env_file; then
  log "wrote $ENV_FILE ($(wc -l < "$ENV_FILE") settings)"
elif [[ -s "$ENV_FILE" ]]; then
  log "could not read the settings from AWS; keeping the previous $ENV_FILE"
else
  log "could not read the settings from AWS and there is no previous $ENV_FILE"
  exit 1
fi

aws ecr get-login-password --region "$ORCHA_REGION" \
  | docker login --username AWS --password-stdin "$ORCHA_REGISTRY" > /dev/null
log "logged in to $ORCHA_REGISTRY"
