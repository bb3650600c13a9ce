#!/usr/bin/python3
"""Simulated array jobs: N `forestbatch worker` processes, each given exactly
the variables its engine sets, over one folder of files. Every output must
be made exactly once (the workers' "done" counts add up to the file count
with disjoint shards) and equal a single local worker's output.

Also: the Spot interruption notice (a local IMDSv2 stand-in) makes a worker
finish its current file and take no new one; SIGTERM stops a worker within
its grace period with exit 75 and no partial output.

Usage: sim_array_test.py FORESTBATCH SOURCE_DIR
"""
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

FB, SRC = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
PY = "/usr/bin/python3"
MODEL = os.path.join(SRC, "examples", "seed", "model.joblib")
SLOW = os.path.join(SRC, "tests", "runner", "slow_transform.py")
IMDS = os.path.join(SRC, "src", "runner", "testdata", "imds_server.py")
ENGINE_VARS = re.compile(r"^(AWS_BATCH_|JOB_COMPLETION_INDEX|FORESTBATCH_|SLURM_|NUMBER_OF_WORKERS|INPUT_DIR|"
                         r"OUTPUT_DIR)")
failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL:", what, file=sys.stderr)


def clean_env(**extra):
    env = {k: v for k, v in os.environ.items() if not ENGINE_VARS.match(k)}
    env.update({k: str(v) for k, v in extra.items()})
    return env


def outputs(root):
    got = {}
    for d, _, files in os.walk(root):
        for f in files:
            p = os.path.join(d, f)
            rel = os.path.relpath(p, root)
            if ".fbtmp." in f:
                got.setdefault("__temporaries__", []).append(rel)
            elif not f.startswith("."):
                got[rel] = open(p, "rb").read()
    return got


def summary(stdout):
    m = re.search(r"(\d+) files: (\d+) done, (\d+) skipped, (\d+) failed, (\d+) abandoned", stdout)
    return tuple(int(x) for x in m.groups()) if m else None


tmp = tempfile.mkdtemp(prefix="fb_simarray_")
rows = open(os.path.join(SRC, "examples", "seed", "test-data1-small.csv")).read().splitlines()
N_FILES, N = 23, 4  # 23 files over 4 tasks: ceil = 6 -> 6, 6, 6, 5
os.makedirs(os.path.join(tmp, "in", "sub"))
for i in range(N_FILES):
    sub = "sub/" if i % 5 == 0 else ""
    with open(os.path.join(tmp, "in", f"{sub}part-{i:03d}.csv"), "w") as f:
        f.write("\n".join(rows[i * 50:(i + 1) * 50]) + "\n")

ref = subprocess.run([FB, "worker", "--model", MODEL, "--input", "in", "--output", "ref"], cwd=tmp,
                     capture_output=True, text=True, env=clean_env())
check(ref.returncode == 0, "local worker: " + ref.stderr)
expected = outputs(os.path.join(tmp, "ref"))
check(len(expected) == N_FILES, "reference has %d outputs" % len(expected))

# Exactly the variables each engine sets for task i of N (plus what the
# submitted job passes: NUMBER_OF_WORKERS on AWS Batch, FORESTBATCH_TASK_COUNT
# on Kubernetes).
engines = {
    "aws-batch": lambda i: dict(AWS_BATCH_JOB_ID="8f2b1c7e-1111-4a5b-9c3d-000000000000:%d" % i,
                                AWS_BATCH_JOB_ARRAY_INDEX=i, AWS_BATCH_JOB_ARRAY_SIZE=N, AWS_BATCH_JOB_ATTEMPT=1,
                                AWS_BATCH_CE_NAME="ce", AWS_BATCH_JQ_NAME="q", NUMBER_OF_WORKERS=N),
    # The seed's job definition: input and output from the environment only.
    "aws-batch-seed": lambda i: dict(AWS_BATCH_JOB_ID="seed:%d" % i, AWS_BATCH_JOB_ARRAY_INDEX=i,
                                     NUMBER_OF_WORKERS=N, INPUT_DIR="in", OUTPUT_DIR="out-aws-batch-seed"),
    "kubernetes": lambda i: dict(JOB_COMPLETION_INDEX=i, FORESTBATCH_TASK_COUNT=N),
    # --array=10-19:3 -> ids 10, 13, 16, 19.
    "slurm": lambda i: dict(SLURM_JOB_ID=500 + i, SLURM_ARRAY_JOB_ID=500, SLURM_ARRAY_TASK_ID=10 + 3 * i,
                            SLURM_ARRAY_TASK_MIN=10, SLURM_ARRAY_TASK_MAX=19, SLURM_ARRAY_TASK_STEP=3,
                            SLURM_ARRAY_TASK_COUNT=N),
}
sources = {"aws-batch": "AWS_BATCH_JOB_ARRAY_SIZE", "aws-batch-seed": "NUMBER_OF_WORKERS",
           "kubernetes": "FORESTBATCH_TASK_COUNT", "slurm": "Slurm"}
for name, env_for in engines.items():
    out = "out-" + name
    args = [FB, "worker", "--model", MODEL] + ([] if name.endswith("seed") else ["--input", "in", "--output", out])
    procs = [subprocess.Popen(args, cwd=tmp, env=clean_env(**env_for(i)), stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for i in range(N)]
    results = [p.communicate(timeout=60) + (p.returncode,) for p in procs]
    done = 0
    for i, (so, se, rc) in enumerate(results):
        check(rc == 0, "%s task %d exit %d: %s" % (name, i, rc, se))
        check(("worker %d of %d" % (i + 1, N)) in so and sources[name] in so,
              "%s task %d found its place: %r" % (name, i, so.splitlines()[:1]))
        s = summary(so)
        check(s is not None and s[0] == (6 if i < 3 else 5), "%s task %d shard size %r" % (name, i, s))
        done += s[1] if s else 0
    check(done == N_FILES, "%s: %d files done in all, want each of %d once" % (name, done, N_FILES))
    check(outputs(os.path.join(tmp, out)) == expected, "%s: outputs differ from the local run" % name)

# A sparse Slurm array is refused before any work.
r = subprocess.run([FB, "worker", "--model", MODEL, "--input", "in", "--output", "out-sparse"], cwd=tmp,
                   capture_output=True, text=True,
                   env=clean_env(SLURM_ARRAY_TASK_ID=3, SLURM_ARRAY_TASK_MIN=1, SLURM_ARRAY_TASK_MAX=7,
                                 SLURM_ARRAY_TASK_STEP=1, SLURM_ARRAY_TASK_COUNT=3))
check(r.returncode == 2 and "sparse" in r.stderr, "sparse Slurm array refused: %d %r" % (r.returncode, r.stderr))
check(not os.path.exists(os.path.join(tmp, "out-sparse")), "nothing written for a refused task")

# --- Spot notice: finish the current file, take no new one ------------------------------
slow = "%s %s {input} {output} 0.05" % (PY, SLOW)  # 50 lines: 2 chunks; ~0.1 s a file
notice = os.path.join(tmp, "notice")
srv = subprocess.Popen([PY, IMDS, notice], stdout=subprocess.PIPE, text=True)
try:
    port = int(srv.stdout.readline())
    spot_exec = slow.replace("0.05", "0.2")  # the same command both times: outputs match their manifests
    w = subprocess.Popen([FB, "worker", "--exec", spot_exec, "--input", "in", "--output", "out-spot",
                          "--spot-endpoint", "http://127.0.0.1:%d" % port], cwd=tmp,
                         env=clean_env(AWS_BATCH_JOB_ID="spot:0", FORESTBATCH_SPOT_POLL_MS=100),
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 20
    while time.time() < deadline and len(outputs(os.path.join(tmp, "out-spot"))) < 2:
        time.sleep(0.05)
    with open(notice, "w") as f:
        f.write('{"action": "terminate", "time": "2026-11-28T21:00:00Z"}')
    so, se = w.communicate(timeout=60)
    check(w.returncode == 75, "spot: exit %d (want 75): %s" % (w.returncode, se))
    check("Spot interruption notice" in se, "spot: notice logged: %r" % se)
    s = summary(so)
    check(s is not None and 2 <= s[1] < N_FILES - 5 and s[4] == 0,
          "spot: some files done, none abandoned (current file finished): %r" % (s,))
    got = outputs(os.path.join(tmp, "out-spot"))
    check("__temporaries__" not in got, "spot: no temporaries left")
    # Rerun without a notice: the rest is done, nothing twice.
    os.remove(notice)
    r = subprocess.run([FB, "worker", "--exec", spot_exec, "--input", "in", "--output", "out-spot",
                        "--spot-endpoint", "http://127.0.0.1:%d" % port], cwd=tmp,
                       env=clean_env(FORESTBATCH_SPOT_POLL_MS=100), capture_output=True, text=True)
    s2 = summary(r.stdout)
    check(r.returncode == 0 and s2 is not None and s2[1] + s[1] == N_FILES and s2[2] == s[1],
          "spot rerun: %r then %r" % (s, s2))
finally:
    srv.terminate()
    srv.wait()

# --- SIGTERM within the grace period -------------------------------------------------
w = subprocess.Popen([FB, "worker", "--exec", slow.replace("0.05", "1.0"), "--input", "in", "--output", "out-term",
                      "--grace", "3"], cwd=tmp, env=clean_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                     text=True)
time.sleep(1.5)  # inside the second file's 1 s pause
t0 = time.time()
w.send_signal(signal.SIGTERM)
so, se = w.communicate(timeout=30)
took = time.time() - t0
check(w.returncode == 75, "SIGTERM: exit %d, want 75: %s" % (w.returncode, se))
check(took < 3 + 2, "SIGTERM: stopped after %.1f s, grace 3 s" % took)
got = outputs(os.path.join(tmp, "out-term"))
check("__temporaries__" not in got, "SIGTERM: no temporaries")
check(len(got) < N_FILES, "SIGTERM: stopped early")

shutil.rmtree(tmp)
if failures:
    print("%d failure(s)" % len(failures), file=sys.stderr)
    sys.exit(1)
print("sim_array_test: all checks passed")
