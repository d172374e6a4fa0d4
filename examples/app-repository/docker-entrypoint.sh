#!/bin/sh
# Entry point of the reference image: `serve` (default), `worker` or `migrate` (exit status 0
# when every migration applied). The settings come from the environment (README.md).
set -eu
command="${1:-serve}"
[ "$#" -gt 0 ] && shift
case "$command" in
  serve | worker | migrate) ;;
  *)
    echo "usage: serve | worker | migrate" >&2
    exit 2
    ;;
esac
# JAVA_OPTS holds several options: split on purpose.
# shellcheck disable=SC2086
exec java ${JAVA_OPTS:-} -jar /app/orcha.jar "$command" "$@"
