#!/bin/sh
# Quality and speed of `forestbatch train` against scikit-learn (Debian's
# python3-sklearn) on the same split and hyperparameters. Not a test.
#   bench/train_bench.sh [BUILD_DIR] [THREADS] [--large] [--only NAME] [--trees N] [--sk-trees M]
# --large runs only the 1,000,000 x 50, 100-tree comparison (scikit-learn
# takes many minutes there). Results also go to $WORK/results.json.
set -eu
BUILD=${1:-build}
THREADS=${2:-2}
shift 2 2>/dev/null || shift $#
WORK=${WORK:-${TMPDIR:-/tmp}/fb_train_bench}
exec /usr/bin/python3 "$(dirname "$0")/train_compare.py" "$BUILD/forestbatch" "$WORK" "$THREADS" "$@"
