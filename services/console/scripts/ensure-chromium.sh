#!/usr/bin/env bash
# The browser tests drive Debian's Chromium through playwright-core (which downloads no browser).
# Installs it when missing; needs root and the Debian mirror.
set -euo pipefail
# A CJK font too, or the zh-CN UI renders as boxes in screenshots.
if [ -x /usr/bin/chromium ] && fc-list :lang=zh 2>/dev/null | grep -q .; then exit 0; fi
if [ "$(id -u)" != 0 ]; then
  echo "ensure-chromium: Chromium or a CJK font is missing; run as root: apt-get install -y chromium fonts-wqy-microhei" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq chromium fonts-wqy-microhei >/dev/null
test -x /usr/bin/chromium
