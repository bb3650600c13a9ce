#!/usr/bin/env bash
# browser_test.sh FORESTBATCH SOURCE_DIR NPM_PREFIX ARTIFACT_DIR: the dashboard in
# a real browser. Debian's chromium, driven by playwright-core from npm
# (installed into NPM_PREFIX, a build folder, on first use), loads
# `forestbatch serve` during a real `forestbatch run`, sees the progress
# advance and the job finish, opens a failure's log, saves a screenshot
# (ARTIFACT_DIR/dashboard.png), and tries the security cases. Exits 77
# (skipped) with the reason when chromium or the npm package cannot be had.
set -uo pipefail
fb=$1
src=$2
prefix=$3
artifacts=$4
pkgs=(playwright-core@1.65.1)
chromium=${FB_CHROMIUM:-/usr/bin/chromium}
if [[ ! -x $chromium ]]; then echo "browser test: SKIPPED: no $chromium (apt-get install chromium)" >&2; exit 77; fi
if [[ ! -d $prefix/node_modules/playwright-core ]]; then
  if ! command -v npm >/dev/null; then echo "browser test: SKIPPED: npm is not installed" >&2; exit 77; fi
  mkdir -p "$prefix"
  npm install --silent --no-audit --no-fund --prefix "$prefix" "${pkgs[@]}" >&2 || {
    echo "browser test: SKIPPED: cannot install ${pkgs[*]} from npm (registry unreachable?)" >&2
    exit 77
  }
fi
mkdir -p "$artifacts"
# Node resolves imports from the script's folder: run a copy beside the package.
cp "$src/tests/serve/browser_test.mjs" "$prefix/browser_test.mjs"
exec node "$prefix/browser_test.mjs" "$fb" "$src" "$chromium" "$artifacts"
