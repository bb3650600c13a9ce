#!/usr/bin/env bash
# Runs a command against a fresh s3rver (npm s3rver@3.7.1) on 127.0.0.1.
#   tests/s3/with_s3rver.sh NPM_PREFIX COMMAND [ARGS...]
# Installs s3rver into NPM_PREFIX (a gitignored build folder) if missing,
# starts it on a free port with an empty data folder and the bucket
# "fb-test", exports AWS_ENDPOINT_URL, AWS_ACCESS_KEY_ID/SECRET (S3RVER/S3RVER),
# AWS_REGION and FB_TEST_S3_BUCKET for COMMAND, and stops it at the end.
# When node/npm or the package are unavailable: skipped (exit 77), or a
# failure under CI=true (tests/harness/fbtest.sh). A server that does not
# answer is a failure.
set -euo pipefail
source "$(dirname "$0")/../harness/fbtest.sh"
prefix=$1
shift
bin="$prefix/node_modules/.bin/s3rver"
command -v npm >/dev/null || fb_missing npm "npm is not installed (scripts/setup-deps.sh installs nodejs, npm)"
fb_npm_install "$prefix" s3rver@3.7.1 ||
  fb_missing s3rver "npm cannot install s3rver@3.7.1 into $prefix (registry unreachable?)"
[[ -x $bin ]] || { echo "FAIL: with_s3rver: npm installed s3rver but $bin is missing" >&2; exit 1; }
fb_use s3rver "$(fb_npm_version "$prefix" s3rver) (npm, $prefix)"
data=$(mktemp -d "${TMPDIR:-/tmp}/fb-s3rver.XXXXXX")
port=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
# s3rver makes continuation tokens with DES, which Node 17+ (OpenSSL 3) only
# offers through the legacy provider: without it, page 2 of a listing is a 500.
NODE_OPTIONS=--openssl-legacy-provider "$bin" -d "$data" -a 127.0.0.1 -p "$port" --silent --configure-bucket fb-test &
pid=$!
cleanup() {
  kill "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  rm -rf "$data"
}
trap cleanup EXIT
up=
for _ in $(seq 150); do
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then up=1; break; fi
  kill -0 "$pid" 2>/dev/null || break
  sleep 0.1
done
[[ -n $up ]] || { echo "FAIL: with_s3rver: s3rver did not answer on 127.0.0.1:$port" >&2; exit 1; }
export AWS_ENDPOINT_URL="http://127.0.0.1:$port"
export AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER AWS_REGION=us-east-1
export AWS_EC2_METADATA_DISABLED=true FB_TEST_S3_BUCKET=fb-test
unset AWS_PROFILE AWS_SESSION_TOKEN AWS_ENDPOINT_URL_S3 || true
"$@"
