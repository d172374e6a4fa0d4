# shellcheck shell=bash
# The bounded retry of the instances' boot scripts (assets/boot/boot.sh, assets/nat/nat-boot.sh):
# one copy, shipped with both. A boot script is EC2 user data, one file, so it cannot source a
# file at boot: where a script has the line `source "…/shared/retry.sh"`, the renderer
# (inlineShellLibraries in lib/constructs/app-instance-boot.ts) puts the lines below the marker in
# its place. Tests source this file as it is. The caller defines log().
# --- inlined from here ---
# retry <attempts> <command…>: at most <attempts> runs, 5 s, 10 s, 20 s … (at most 60 s) apart.
retry() {
  local attempts=$1 n=1 delay=5
  shift
  until "$@"; do
    if ((n >= attempts)); then
      log "giving up after $attempts attempts: $*"
      return 1
    fi
    log "attempt $n/$attempts failed, again in ${delay}s: $*"
    sleep "$delay"
    n=$((n + 1))
    delay=$((delay * 2 > 60 ? 60 : delay * 2))
  done
}
