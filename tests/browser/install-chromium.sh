#!/usr/bin/env bash
# Installs Debian's Chromium for the browser tests (tests/browser/), which drive it with
# playwright-core at /usr/bin/chromium. Needs root; idempotent.
set -euo pipefail
if dpkg-query -W -f='${Status}' chromium 2>/dev/null | grep -q 'install ok installed'; then
  echo "chromium: installed ($(/usr/bin/chromium --version 2>/dev/null || echo '?'))"
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends chromium >/dev/null
echo "chromium: done"
