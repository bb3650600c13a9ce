#!/usr/bin/python3
"""Real Slurm: `forestbatch submit --engine slurm` on a single-node cluster
this test starts itself (slurm_cluster.sh: Debian's slurm-wlm and munge).

1. 40 files, 4 array tasks, the real predictor: every output exactly once
   and identical to a local run; `submit --status` follows the job to the end.
2. A slow per-file program: one array task is cancelled mid-file (scancel
   JOB_IDX), stops cleanly (SIGTERM within its grace period), is requeued and
   finishes: still every output exactly once, identical to a local run.
3. `tune plan` + `submit -- --exec 'forestbatch tune task ...'` + `tune
   collect`: the in-process tune's table and refitted model, byte for byte.

Not root, or Slurm not installed: skipped (exit 77) with the reason, or a
failure under CI=true (tests/harness/fbtest.py). Daemons that do not start
are a failure, never a skip. Stops every daemon it started, whatever happens.

Usage: slurm_e2e.py FORESTBATCH SOURCE_DIR
"""
import json
import os
import re
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from slurm_harness import check, outputs, run, sh  # noqa: E402

FB, SRC = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
PY = "/usr/bin/python3"
MODEL = os.path.join(SRC, "examples", "seed", "model.joblib")
SLOW = os.path.join(SRC, "tests", "runner", "slow_transform.py")


def manifests(root):
    return sorted(f for _, _, fs in os.walk(root) for f in fs if f.endswith(".fbmanifest.json"))


def wait_finished(name, cwd, timeout):
    deadline = time.time() + timeout
    st = None
    while time.time() < deadline:
        r = sh([FB, "submit", "--status", name, "--state", "st", "--json"], cwd=cwd)
        if r.stdout.strip():
            st = json.loads(r.stdout)["state"]
            if st["finished"]:
                return st
        time.sleep(0.3)
    return st


def task_state(job_task):
    r = sh(["scontrol", "show", "job", "-o", job_task])
    m = re.search(r"JobState=(\S+)", r.stdout)
    return m.group(1) if m else None


def run_tests(tmp, cluster):
    rows = open(os.path.join(SRC, "examples", "seed", "test-data1-small.csv")).read().splitlines()
    os.makedirs(os.path.join(tmp, "in"))
    for i in range(40):
        with open(os.path.join(tmp, "in", f"part-{i:03d}.csv"), "w") as f:
            f.write("\n".join(rows[i * 50:(i + 1) * 50]) + "\n")

    # 1. The real predictor, 4 tasks.
    r = sh([FB, "worker", "--model", MODEL, "--input", "in", "--output", "ref"], cwd=tmp)
    check(r.returncode == 0, "local run: " + r.stderr)
    expected = outputs(os.path.join(tmp, "ref"))
    r = sh([FB, "submit", "--engine", "slurm", "--workers", "4", "--cpus", "1", "--name", "fb-predict", "--state",
            "st", "--", "--model", MODEL, "--input", "in", "--output", "out"], cwd=tmp)
    if not check(r.returncode == 0, "submit: %s %s" % (r.stdout, r.stderr)):
        return 1
    rec = json.load(open(os.path.join(tmp, "st", "submits", "fb-predict.json")))
    check(rec["engine"] == "slurm" and rec["job_id"].isdigit(), "record: %r" % rec)
    st = wait_finished("fb-predict", tmp, 60)
    check(st is not None and st["finished"] and st["succeeded"] == 4,
          "status: %r (logs: %s)" % (st, os.listdir(os.path.join(tmp, "st", "slurm-logs"))))
    got = outputs(os.path.join(tmp, "out"))
    check(len(expected) == 40 and got == expected, "slurm outputs identical to the local run (%d vs %d files)" %
          (len(got), len(expected)))
    check(len(manifests(os.path.join(tmp, "out"))) == 40, "one manifest per output")
    logs = sorted(os.listdir(os.path.join(tmp, "st", "slurm-logs")))
    check(logs == ["fb-predict_%s_%d.log" % (rec["job_id"], i) for i in range(4)], "logs %r" % logs)
    done = 0
    for name in logs:
        text = open(os.path.join(tmp, "st", "slurm-logs", name)).read()
        m = re.search(r"10 files: (\d+) done", text)
        check(m is not None and "Slurm" in text, "task log %s: %r" % (name, text[-300:]))
        done += int(m.group(1)) if m else 0
    check(done == 40, "the tasks made %d outputs in all, want each of 40 once" % done)
    print("slurm: 4 tasks, 40 outputs once each, identical to the local run", flush=True)

    # 2. Cancel one task mid-file, requeue it.
    slow = f"{PY} {SLOW} {{input}} {{output}} 0.3"
    r = sh([FB, "worker", "--exec", f"{PY} {SLOW} {{input}} {{output}} 0", "--input", "in", "--output", "ref2"],
           cwd=tmp)
    check(r.returncode == 0, "local exec run: " + r.stderr)
    expected2 = outputs(os.path.join(tmp, "ref2"))
    r = sh([FB, "submit", "--engine", "slurm", "--workers", "4", "--cpus", "1", "--name", "fb-cancel", "--state",
            "st", "--", "--exec", slow, "--input", "in", "--output", "out2", "--grace", "2"], cwd=tmp)
    if not check(r.returncode == 0, "submit 2: %s %s" % (r.stdout, r.stderr)):
        return 1
    job = json.load(open(os.path.join(tmp, "st", "submits", "fb-cancel.json")))["job_id"]
    task1 = [f"part-{i:03d}.csv" for i in range(10, 20)]  # task 1's shard: ceil(40/4) = 10 files
    out2 = os.path.join(tmp, "out2")
    deadline = time.time() + 30
    mid = False
    while time.time() < deadline and not mid:
        names = os.listdir(out2) if os.path.isdir(out2) else []
        done1 = [n for n in names if n in task1]
        temps1 = [n for n in names if ".fbtmp." in n and any(n.startswith("." + t) for t in task1)]
        mid = len(done1) >= 1 and len(temps1) >= 1
        if not mid:
            time.sleep(0.02)
    check(mid, "task 1 was seen in the middle of a file")
    t0 = time.time()
    sh(["scancel", f"{job}_1"])
    state = None
    while time.time() - t0 < 20:
        state = task_state(f"{job}_1")
        if state and state not in ("RUNNING", "COMPLETING"):
            break
        time.sleep(0.1)
    check(state == "CANCELLED", "task 1 after scancel: %s" % state)
    log1 = open(os.path.join(tmp, "st", "slurm-logs", f"fb-cancel_{job}_1.log")).read()
    # The worker stopped itself (SIGTERM, grace 2 s) before Slurm's KillWait (5 s) SIGKILL.
    check("interrupted" in log1, "task 1 stopped cleanly on SIGTERM: %r" % log1[-400:])
    partial = outputs(out2)
    for k, v in partial.items():
        check(k == "__temporaries__" or v == expected2[k], "%s complete or absent after the cancel" % k)
    before = len([k for k in partial if k in task1])
    check(before < 10, "task 1 was cancelled before its end (%d of 10 done)" % before)
    r = sh(["scontrol", "requeue", f"{job}_1"])
    check(r.returncode == 0, "requeue: " + r.stderr)
    # A requeued job waits before it is eligible again; start it now.
    sh(["scontrol", "update", f"JobId={job}_1", "StartTime=now"])
    st = wait_finished("fb-cancel", tmp, 60)
    check(st is not None and st["finished"] and st["succeeded"] == 4 and st["failed"] == 0,
          "status after requeue: %r" % st)
    got = outputs(out2)
    check(got == expected2, "outputs after cancel + requeue identical to the local run (%d files%s)" %
          (len(got), ", temporaries left" if "__temporaries__" in got else ""))
    check(len(manifests(out2)) == 40, "one manifest per output after requeue")
    log1 = open(os.path.join(tmp, "st", "slurm-logs", f"fb-cancel_{job}_1.log")).read()
    m = re.search(r"10 files: (\d+) done, (\d+) skipped", log1)
    check(m is not None and int(m.group(1)) + int(m.group(2)) == 10 and int(m.group(2)) == before,
          "requeued task skipped the %d finished files and did the rest: %r" % (before, log1[-300:]))
    print("slurm: task 1 cancelled mid-file (%d of 10 done), requeued: 40 outputs once each" % before, flush=True)

    # 3. tune's (grid point, fold) tasks as a Slurm array job: plan, submit,
    # collect give the in-process tune's table and model byte for byte.
    with open(os.path.join(tmp, "tune.csv"), "w") as f:
        f.write("a,b,colour,y\n")
        for i in range(3000):
            a, b = (i * 7919 % 1000) / 1000, (i * 104729 % 997) / 997
            colour = ("red", "green", "blue")[i * 31 % 3]
            f.write("%.3f,%.3f,%s,%s\n" % (a, b, colour, "yes" if a + b > 1 or colour == "red" else "no"))
    tune = ["--data", "tune.csv", "--target", "y", "--grid", "max_depth=2,none;trees=5,10", "--cv", "3"]
    ref = sh([FB, "tune"] + tune + ["--out", "tune_ref.fbm"], cwd=tmp)
    check(ref.returncode == 0, "in-process tune: " + ref.stderr)
    r = sh([FB, "tune", "plan"] + tune + ["--dir", "tunedir"], cwd=tmp)
    check(r.returncode == 0 and "planned 12 tasks" in r.stdout, "tune plan: %s %s" % (r.stdout, r.stderr))
    r = sh([FB, "submit", "--engine", "slurm", "--workers", "3", "--cpus", "1", "--name", "fb-tune", "--state", "st",
            "--", "--exec", f"{FB} tune task {{input}} {{output}} --threads 1", "--input", "tunedir/tasks",
            "--output", "tunedir/results"], cwd=tmp)
    if not check(r.returncode == 0, "submit tune: %s %s" % (r.stdout, r.stderr)):
        return 1
    st = wait_finished("fb-tune", tmp, 90)
    check(st is not None and st["finished"] and st["succeeded"] == 3, "tune job status: %r" % st)
    check(len(manifests(os.path.join(tmp, "tunedir", "results"))) == 12, "one result per tune task")
    c = sh([FB, "tune", "collect", "--dir", "tunedir", "--out", "tune_slurm.fbm"], cwd=tmp)
    check(c.returncode == 0, "tune collect: " + c.stderr)
    check(c.stdout == ref.stdout and c.stdout.count("rank") == 4,
          "the Slurm tune's table is the in-process one:\n%s\n%s" % (c.stdout, ref.stdout))
    same = open(os.path.join(tmp, "tune_ref.fbm"), "rb").read() == open(os.path.join(tmp, "tune_slurm.fbm"),
                                                                         "rb").read()
    check(same, "the Slurm tune refitted the in-process tune's model")
    print("slurm: tune, 12 tasks on 3 array tasks: the in-process table and model", flush=True)
    return 0  # failed checks: slurm_harness.run exits 1


if __name__ == "__main__":
    run(run_tests)
