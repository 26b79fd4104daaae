#!/usr/bin/env bash
# Installs the Debian packages the lab runs (none is started as a system service: the lab starts
# its own instances with its own configuration). Needs root; idempotent.
set -euo pipefail
packages=(knot knot-dnsutils unbound dovecot-imapd dovecot-pop3d ldnsutils iproute2 dnsperf)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "lab packages: all installed"
  exit 0
fi
echo "lab packages: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# Keep the packages' own system services from starting: they would hold ports 53, 110, 143, 993
# and 995 on every address, which the lab needs on its own.
guard=""
if [ ! -e /usr/sbin/policy-rc.d ]; then
  printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
  chmod +x /usr/sbin/policy-rc.d
  guard=1
fi
trap 'if [ -n "$guard" ]; then rm -f /usr/sbin/policy-rc.d; fi' EXIT
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "lab packages: done"
