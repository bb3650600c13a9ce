# shellcheck shell=bash
# The bash side of tests/harness/fbtest.py, for component tests written in
# bash: source it, then
#   fb_use COMPONENT VERSION     record a component the test used
#   fb_missing COMPONENT REASON  a component is not there: exit 77 (skipped),
#                                or 1 under CI=true / FORESTBATCH_REQUIRE_ALL=1
#   fb_npm_version PREFIX PKG    the version of npm package PKG under PREFIX
#   fb_npm_install PREFIX SPEC...  installs npm packages (name@version) into
#                                PREFIX unless all are there, under a lock:
#                                ctest runs tests that share a PREFIX at once,
#                                and two npm installs into one folder leave a
#                                half-written package (seen: s3rver without
#                                lib/middleware). Returns 1 when npm fails.
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

fb_npm_install() {
  local prefix=$1
  shift
  mkdir -p "$prefix"
  (
    # The check is inside the lock too: a package.json appears before the
    # rest of its package while another test's npm is still writing it.
    flock 9
    missing=
    for spec in "$@"; do
      [[ -f $prefix/node_modules/${spec%@*}/package.json ]] || missing=1
    done
    [[ -z $missing ]] && exit 0
    command -v npm >/dev/null || exit 1
    npm install --silent --no-audit --no-fund --prefix "$prefix" "$@" >&2
  ) 9>"$prefix/.fb-npm-install.lock"
}
