#!/usr/bin/env bash
# browser_test.sh FORESTBATCH SOURCE_DIR NPM_PREFIX ARTIFACT_DIR: the dashboard in
# a real browser. Debian's chromium, driven by playwright-core from npm
# (installed into NPM_PREFIX, a build folder, on first use), loads
# `forestbatch serve` during a real `forestbatch run`, sees the progress
# advance and the job finish, opens a failure's log, saves a screenshot
# (ARTIFACT_DIR/dashboard.png), and tries the security cases. When chromium,
# npm or the package cannot be had: skipped (exit 77) with the reason, or a
# failure under CI=true (tests/harness/fbtest.sh).
set -uo pipefail
fb=$1
src=$2
prefix=$3
artifacts=$4
source "$src/tests/harness/fbtest.sh"
pkgs=(playwright-core@1.65.1)
chromium=${FB_CHROMIUM:-/usr/bin/chromium}
[[ -x $chromium ]] || fb_missing chromium "no $chromium (scripts/setup-deps.sh installs Debian's chromium)"
command -v npm >/dev/null || fb_missing npm "npm is not installed (scripts/setup-deps.sh installs nodejs, npm)"
fb_npm_install "$prefix" "${pkgs[@]}" ||
  fb_missing playwright-core "npm cannot install ${pkgs[*]} (registry unreachable?)"
fb_use chromium "$("$chromium" --version 2>/dev/null | head -1) ($chromium)"
fb_use playwright-core "$(fb_npm_version "$prefix" playwright-core) (npm)"
mkdir -p "$artifacts"
# Node resolves imports from the script's folder: run a copy beside the package.
cp "$src/tests/serve/browser_test.mjs" "$prefix/browser_test.mjs"
exec node "$prefix/browser_test.mjs" "$fb" "$src" "$chromium" "$artifacts"
