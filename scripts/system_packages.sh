#!/usr/bin/env bash
# The Debian packages the test suite needs beyond Python's: Chromium and its WebDriver for the live page's
# browser tests, and npm, which fetches the page's runtime (onnxruntime-web) at setup. Installs the missing
# ones when run as root with apt-get; otherwise names them and stops.
set -euo pipefail
missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
command -v chromedriver >/dev/null 2>&1 || missing+=(chromium-driver)
command -v npm >/dev/null 2>&1 || missing+=(npm)
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "system_packages.sh: installing ${missing[*]} (Debian packages)" >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  echo "system_packages.sh: the tests need ${missing[*]}: run 'sudo apt-get install ${missing[*]}' and try again." >&2
  exit 1
fi
