"""What the end-to-end scripts of jobs share (tests/runner/run_e2e.py and
report_e2e.py, tests/serve/serve_e2e.py): their command line, failing, the
inputs cut from the seed's sample, running the binary and reading a job's
JSON status, and running one test in a fresh temporary folder.

Each script is run as `SCRIPT FORESTBATCH SOURCE_DIR TEST`; importing this
module reads those three from the command line. Standard library only.
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

FB, SRC, TEST = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2]), sys.argv[3]
PY = "/usr/bin/python3"
# An --exec command that copies its input slowly (tests/runner/slow_transform.py).
TRANSFORM = os.path.join(SRC, "tests", "runner", "slow_transform.py")
SEED_CSV = os.path.join(SRC, "examples", "seed", "test-data1-small.csv")
MODEL = os.path.join(SRC, "examples", "seed", "model.joblib")


def fail(msg):
    print("FAIL:", msg)
    sys.exit(1)


def check(cond, msg):
    if not cond:
        fail(msg)


def write_seed_rows(path, i, lines, corrupt=False):
    """Writes `lines` rows of the seed's sample to `path` (its folder made), the
    i-th file's from row 7*i on, wrapping; with `corrupt`, the middle row is
    CORRUPT (slow_transform and the readers fail on it)."""
    seed = open(SEED_CSV).read().splitlines()
    rows = [seed[(i * 7 + k) % len(seed)] for k in range(lines)]
    if corrupt:
        rows[lines // 2] = "CORRUPT"
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write("\n".join(rows) + "\n")


def exec_cmd(delay="0.002"):
    """The --exec command that copies each input to its output, `delay` seconds a row."""
    return f"{PY} {TRANSFORM} {{input}} {{output}} {delay}"


def run(args, cwd, **kw):
    return subprocess.run([FB] + args, cwd=cwd, capture_output=True, text=True, timeout=120, **kw)


def status(cwd, state, job, *extra):
    """`status JOB --json` as a dict; fails the test when it fails."""
    r = run(["status", job, "--state", state, "--json", *extra], cwd)
    check(r.returncode == 0, f"status failed: {r.stderr}")
    return json.loads(r.stdout)


def wait_for(cond, what, timeout=60):
    t0 = time.monotonic()
    while not cond():
        check(time.monotonic() - t0 < timeout, f"timed out waiting for {what}")
        time.sleep(0.05)


def main(prefix, tests):
    """Runs tests["test_" + TEST] in a fresh temporary folder, removed after
    (kept, and named, with FB_KEEP_TMP set)."""
    tmp = tempfile.mkdtemp(prefix=f"{prefix}_{TEST}_")
    try:
        tests["test_" + TEST](tmp)
    finally:
        if os.environ.get("FB_KEEP_TMP"):
            print("kept", tmp)
        else:
            shutil.rmtree(tmp, ignore_errors=True)
