#!/usr/bin/env bash
# Installs the Debian packages forestbatch needs to build, test and benchmark.
# Idempotent: installs only what is missing; does nothing when all are present.
# Usage: scripts/setup-deps.sh [--check]   (--check: list what is missing, exit 1 if any)
set -euo pipefail

packages=(
  # toolchain
  build-essential cmake pkg-config ccache clang clang-format
  # libraries (see README "Dependencies" for why each)
  libcli11-dev libfmt-dev libfast-float-dev nlohmann-json3-dev libsimdjson-dev
  zlib1g-dev libzstd-dev zstd liblzma-dev libbz2-dev liblz4-dev libsnappy-dev
  libsqlite3-dev libssl-dev libcurl4-openssl-dev
  # the web dashboard (forestbatch serve); chromium for its browser test
  libcpp-httplib-dev chromium
  libgtest-dev libgmock-dev libbenchmark-dev libfuzzer-14-dev
  # reference implementations for parity tests
  python3 python3-sklearn python3-xgboost python3-pandas python3-joblib python3-botocore
  # joblib's lz4 compression, for the fixture generators (make check-fixtures)
  python3-lz4
  # S3 end-to-end tests: the AWS CLI for cross-checks
  awscli
  # scale-out tests: a single-node Slurm cluster, YAML checks of the deploy kit
  slurm-wlm munge python3-yaml
  # the multi-node Slurm test: network namespaces (ip netns; nsenter is util-linux, always there)
  iproute2
)
# S3 end-to-end tests run s3rver, and the Parquet interoperability tests DuckDB
# and parquet-wasm, from npm (installed by the tests into the build folder): Debian's node only when no node/npm
# is installed already (e.g. from NodeSource, whose nodejs conflicts with Debian's npm).
if ! command -v npm >/dev/null 2>&1; then packages+=(nodejs npm); fi

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [[ ${1:-} == --check ]]; then
  if ((${#missing[@]})); then printf 'missing: %s\n' "${missing[*]}"; exit 1; fi
  exit 0
fi

if ((${#missing[@]} == 0)); then
  exit 0
fi

echo "setup-deps: installing ${missing[*]}" >&2
sudo_cmd=()
if [[ $(id -u) -ne 0 ]]; then sudo_cmd=(sudo); fi
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -qq
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
