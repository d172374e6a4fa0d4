#!/bin/bash
# Boot script (EC2 user data) of the NAT instance of the `build` subnets (Amazon Linux 2023),
# replacing CDK's default NAT user data (one unretried `yum install`, `route`, which AL2023
# does not ship, and nothing that checks the result).
#
# Installs iptables-services with bounded retries, enables IPv4 forwarding and masquerading on
# the default-route interface, persists both (sysctl.d, /etc/sysconfig/iptables, iptables
# enabled), checks itself (forwarding on, the rule loaded and saved, the internet reachable)
# and ends with cfn-signal: a NAT instance that does not work fails its stack deployment
# (creation policy) instead of failing a migration test later.
#
# Template: lib/constructs/nat-instance-boot.ts substitutes the placeholders.
# ORCHA_ROOT (default: empty, i.e. /) prefixes every path; only tests set it.
set -euo pipefail

readonly ROOT="${ORCHA_ROOT:-}"
readonly REGION='{{REGION}}'
install -d -m 0750 "$ROOT/var/log/orcha"
exec > >(tee -a "$ROOT/var/log/orcha/nat-boot.log") 2>&1

log() { printf '%s nat-boot: %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$*"; }

finish() {
  local rc=$?
  if [[ $rc -eq 0 ]]; then log 'NAT ready'; else log "NAT boot FAILED (exit status $rc)"; fi
  "$ROOT/opt/aws/bin/cfn-signal" --exit-code "$rc" --stack '{{STACK_NAME}}' \
    --resource '{{SIGNAL_RESOURCE}}' --region "$REGION" || log 'cfn-signal failed'
}
trap finish EXIT

# shellcheck source=SCRIPTDIR/../shared/retry.sh
source "$(dirname "${BASH_SOURCE[0]}")/../shared/retry.sh"

log 'installing packages'
retry 5 dnf install -y --setopt=install_weak_deps=False iptables-services aws-cfn-bootstrap

log 'enabling IPv4 forwarding (persisted in sysctl.d)'
install -d "$ROOT/etc/sysctl.d"
printf 'net.ipv4.ip_forward = 1\n' > "$ROOT/etc/sysctl.d/90-orcha-nat.conf"
sysctl -p "$ROOT/etc/sysctl.d/90-orcha-nat.conf"

iface="$(ip -o -4 route show default | awk '{ for (i = 1; i < NF; i++) if ($i == "dev") { print $(i + 1); exit } }')"
if [[ -z "$iface" ]]; then
  log 'no default route: cannot tell the outside interface'
  exit 1
fi
log "masquerading through $iface (persisted in /etc/sysconfig/iptables)"
systemctl enable --now iptables
# iptables-services' default rules reject forwarded packets: forward everything (the security
# group admits only the build subnets' traffic), masquerade it, save.
iptables -F FORWARD
iptables -P FORWARD ACCEPT
iptables -t nat -C POSTROUTING -o "$iface" -j MASQUERADE 2> /dev/null \
  || iptables -t nat -A POSTROUTING -o "$iface" -j MASQUERADE
install -d "$ROOT/etc/sysconfig"
iptables-save > "$ROOT/etc/sysconfig/iptables"

log 'checking'
[[ "$(sysctl -n net.ipv4.ip_forward)" == 1 ]] || { log 'IPv4 forwarding is off'; exit 1; }
iptables -t nat -C POSTROUTING -o "$iface" -j MASQUERADE || { log 'the MASQUERADE rule is not loaded'; exit 1; }
grep -q -- "-A POSTROUTING -o $iface -j MASQUERADE" "$ROOT/etc/sysconfig/iptables" \
  || { log 'the MASQUERADE rule was not saved'; exit 1; }
systemctl is-enabled --quiet iptables || { log 'iptables.service is not enabled'; exit 1; }
# The instance's own way out (what it forwards to): any HTTP answer from a regional endpoint.
reachable() { [[ "$(curl -s -o /dev/null --max-time 10 -w '%{http_code}' "https://ecr.$REGION.amazonaws.com/")" != 000 ]]; }
retry 3 reachable || { log "https://ecr.$REGION.amazonaws.com/ is not reachable"; exit 1; }
