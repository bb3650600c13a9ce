# shellcheck shell=bash
# The bash side of tests/harness/fbtest.py, for component tests written in
# bash: source it, then
#   fb_use COMPONENT VERSION     record a component the test used
#   fb_missing COMPONENT REASON  a component is not there: exit 77 (skipped),
#                                or 1 under CI=true / FORESTBATCH_REQUIRE_ALL=1
#   fb_npm_version PREFIX PKG    the version of npm package PKG under PREFIX
# A harness that breaks (a server that does not start) must `exit 1`, never
# fb_missing.

fb_strict() {
  case ${CI:-} in true | TRUE | True | 1 | yes) return 0 ;; esac
  [[ -n ${FORESTBATCH_REQUIRE_ALL:-} && ${FORESTBATCH_REQUIRE_ALL} != 0 ]]
}

fb_record() {
  [[ -n ${FB_TEST_RECORD:-} ]] || return 0
  local a=${1//$'\n'/ } b=${2//$'\n'/ } c=${3-}
  c=${c//$'\n'/ }
  printf '%s\t%s\t%s\n' "$a" "$b" "${c//$'\t'/ }" >>"$FB_TEST_RECORD"
}

fb_use() { fb_record use "$1" "$2"; }

fb_missing() {
  if fb_strict; then
    fb_record missing-failed "$1" "$2"
    echo "FAIL: required component $1 is missing: $2 (CI=true / FORESTBATCH_REQUIRE_ALL=1: a missing component is a failure)" >&2
    exit 1
  fi
  fb_record missing "$1" "$2"
  echo "SKIPPED: component $1 is missing: $2" >&2
  exit 77
}

fb_npm_version() {
  local pj=$1/node_modules/$2/package.json
  [[ -f $pj ]] || { echo "?"; return; }
  sed -n 's/^ *"version": *"\([^"]*\)".*/\1/p' "$pj" | head -1
}
