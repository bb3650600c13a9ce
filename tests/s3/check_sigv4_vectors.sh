#!/usr/bin/env bash
# Regenerates the SigV4 vectors with botocore and compares them with the
# committed table; exit 77 (skipped) without /usr/bin/python3 + botocore.
set -euo pipefail
dir=$1
/usr/bin/python3 -c 'import botocore' 2>/dev/null || exit 77
exec /usr/bin/python3 "$dir/make_sigv4_vectors.py" --check "$dir/sigv4_vectors.json"
