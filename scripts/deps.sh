#!/bin/sh
# The one list of whistle's dependencies (Debian 12 packages) and the npm
# test tooling (package.json / package-lock.json, installed with `npm ci`).
# As root: installs what is missing. Otherwise: prints the one command to run.
set -eu

# C toolchain and libraries, fuzzing runtime, test and benchmark tools,
# front-end libraries served by whistle (Leaflet, Chart.js) and Chromium
# for the browser tests, with a Chinese font so that the pages it prints to
# PDF (monthly report, ledger) carry their Chinese text, which the tests read
# back (a bare Debian 12 has none).
PACKAGES="
build-essential cmake pkg-config clang libfuzzer-14-dev libclang-rt-14-dev
libmicrohttpd-dev libjansson-dev libsqlite3-dev libsodium-dev
libxlsxwriter-dev libqrencode-dev libcmocka-dev
nodejs npm curl jq zbar-tools wrk sqlite3 unzip poppler-utils
chromium fonts-wqy-microhei libjs-leaflet libjs-chart.js
"

missing=""
for p in $PACKAGES; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
		# nodejs/npm may come from another source (e.g. a nodesource build).
		case "$p" in
		nodejs) command -v node >/dev/null 2>&1 && continue ;;
		npm) command -v npm >/dev/null 2>&1 && continue ;;
		esac
		missing="$missing $p"
	fi
done

if [ -n "$missing" ]; then
	if [ "$(id -u)" = "0" ]; then
		echo "deps: installing:$missing"
		export DEBIAN_FRONTEND=noninteractive
		apt-get update -q >/dev/null
		# shellcheck disable=SC2086
		apt-get install -y -q --no-install-recommends $missing >/dev/null
	else
		echo "deps: missing Debian packages. Run:"
		echo "  sudo apt-get install -y$missing"
		exit 1
	fi
fi

# npm test tooling (playwright-core drives Debian's chromium; nothing else).
here=$(cd "$(dirname "$0")/.." && pwd)
if [ -f "$here/package-lock.json" ]; then
	if [ ! -d "$here/node_modules/playwright-core" ] || [ "$here/package-lock.json" -nt "$here/node_modules/.package-lock.json" ]; then
		echo "deps: npm ci"
		(cd "$here" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error >/dev/null)
	fi
fi
