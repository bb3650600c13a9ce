#!/usr/bin/python3
"""Real Slurm on several nodes: a dynamic job survives a lost node (issue 16).

slurm_cluster.sh starts a cluster of 3 one-CPU nodes, each slurmd in its own
network namespace on a bridge (separate hosts as Slurm sees them, sharing
one file system as a cluster shares its own). `forestbatch submit --engine
slurm --schedule dynamic` runs 3 array tasks, one per node, over 60 files
(a slow per-file program). Mid-job, node fbn2 is lost: every process in its
namespace (slurmd, slurmstepd, the worker and its program) gets SIGKILL, as
a reclaimed Spot node loses them, with its claim on a file in flight. The
other two tasks take the lost task's files over once its lease (3 s) has
gone unrenewed, without a resubmission: every output exactly once, each
with its manifest, no temporary left, byte-identical to a local run; the
manifests say which task made each file, and the dead task made some.

Not root, Slurm not installed, or namespaces not permitted: skipped (exit 77)
with the reason, or a failure under CI=true (tests/harness/fbtest.py).
Daemons that do not start are a failure. Stops every daemon and removes every
namespace it made, whatever happens.

Usage: slurm_multinode_e2e.py FORESTBATCH SOURCE_DIR
"""
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from slurm_harness import CLUSTER, check, fbtest, outputs, run, sh  # noqa: E402

FB, SRC = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
PY = "/usr/bin/python3"
SLOW = os.path.join(SRC, "tests", "runner", "slow_transform.py")
NODES = 3
FILES = 60


def manifest_tasks(root):
    tasks = {}
    for d, dirs, files in os.walk(root):
        dirs[:] = [x for x in dirs if not x.startswith(".")]
        for f in files:
            if f.endswith(".fbmanifest.json"):
                m = json.load(open(os.path.join(d, f)))
                tasks[f] = m.get("task")
    return tasks


def task_nodes(job):
    """{array index: node} of the job's running tasks."""
    r = sh(["squeue", "-h", "-j", job, "-o", "%K %N %T"])
    got = {}
    for line in r.stdout.split("\n"):
        parts = line.split()
        if len(parts) == 3 and parts[2] == "RUNNING":
            got[int(parts[0])] = parts[1]
    return got


def run_test(tmp, cluster):
    fbtest.use("slurm-multinode", "%d nodes in network namespaces (%s)" %
               (NODES, sh(["slurmd", "-V"]).stdout.strip()))
    try:
        return scenario(tmp, cluster)
    finally:
        sh(["scancel", "--name", "fb-multi"])


def scenario(tmp, cluster):
    r = sh(["sinfo", "-h", "-N", "-o", "%N %t"])
    check(r.stdout.split() == ["fbn1", "idle", "fbn2", "idle", "fbn3", "idle"], "nodes: %r" % r.stdout)
    rows = open(os.path.join(SRC, "examples", "seed", "test-data1-small.csv")).read().splitlines()
    os.makedirs(os.path.join(tmp, "in"))
    for i in range(FILES):
        with open(os.path.join(tmp, "in", f"part-{i:03d}.csv"), "w") as f:
            f.write("\n".join(rows[(i % 40) * 50:(i % 40 + 1) * 50]) + "\n" + f"file {i}\n")
    r = sh([FB, "worker", "--exec", f"{PY} {SLOW} {{input}} {{output}} 0", "--input", "in", "--output", "ref"],
           cwd=tmp)
    check(r.returncode == 0, "local run: " + r.stderr)
    expected = outputs(os.path.join(tmp, "ref"))
    check(len(expected) == FILES, "local run made %d outputs" % len(expected))

    slow = f"{PY} {SLOW} {{input}} {{output}} 0.3"
    r = sh([FB, "submit", "--engine", "slurm", "--workers", str(NODES), "--cpus", "1", "--name", "fb-multi",
            "--schedule", "dynamic", "--lease", "3", "--state", "st", "--", "--exec", slow, "--input", "in",
            "--output", "out", "--grace", "2"], cwd=tmp)
    if not check(r.returncode == 0, "submit: %s %s" % (r.stdout, r.stderr)):
        return 1
    job = json.load(open(os.path.join(tmp, "st", "submits", "fb-multi.json")))["job_id"]
    out = os.path.join(tmp, "out")

    # Every task running on its own node, then fbn2's task a few files in, in the middle of one.
    deadline = time.time() + 60
    nodes = {}
    while time.time() < deadline:
        nodes = task_nodes(job)
        if len(nodes) == NODES:
            break
        time.sleep(0.1)
    check(sorted(nodes.values()) == ["fbn1", "fbn2", "fbn3"], "one task per node: %r" % nodes)
    victim = [k for k, v in nodes.items() if v == "fbn2"]
    if not check(len(victim) == 1, "a task on fbn2"):
        return 1
    victim = victim[0]
    while time.time() < deadline:
        mine = [t for t in manifest_tasks(out).values() if t == victim]
        temps = [n for n in os.listdir(out) if ".fbtmp." in n] if os.path.isdir(out) else []
        if len(mine) >= 2 and temps:
            break
        time.sleep(0.05)
    done_before = len(manifest_tasks(out))
    k = sh([CLUSTER, "kill-node", cluster, "2"])
    check(k.returncode == 0, "kill-node: %s %s" % (k.stdout, k.stderr))
    print("killed fbn2 (task %d) with %d of %d outputs made" % (victim, done_before, FILES), flush=True)
    check(done_before < FILES - 6, "the node was lost mid-job (%d of %d outputs made)" % (done_before, FILES))

    # The two surviving tasks finish every file (the lost one's after its lease) and end.
    survivors = [k for k in nodes if k != victim]
    deadline = time.time() + 90
    while time.time() < deadline:
        left = task_nodes(job)
        if len(manifest_tasks(out)) == FILES and not any(k in left for k in survivors):
            break
        time.sleep(0.2)
    tasks = manifest_tasks(out)
    check(len(tasks) == FILES, "%d manifests, want %d" % (len(tasks), FILES))
    got = outputs(out)
    check("__temporaries__" not in got, "temporaries left: %r" % got.get("__temporaries__"))
    check(got == expected, "outputs identical to the local run (%d of %d files)" % (len(got), len(expected)))
    by_task = {t: list(tasks.values()).count(t) for t in set(tasks.values())}
    check(by_task.get(victim, 0) >= 2, "the lost task's finished files kept: %r" % by_task)
    check(all(by_task.get(t, 0) > 0 for t in survivors), "both survivors worked: %r" % by_task)
    logs = {t: open(os.path.join(tmp, "st", "slurm-logs", "fb-multi_%s_%d.log" % (job, t))).read()
            for t in survivors}
    check(any("took over the claim of task %d" % victim in text for text in logs.values()),
          "a survivor took the lost task's file over: %r" % {t: v[-400:] for t, v in logs.items()})
    for t in survivors:
        # A task that has left squeue's RUNNING may still be COMPLETING (slurmd ending its
        # steps): wait for the state it ends in, then require COMPLETED.
        end = time.time() + 30
        while True:
            state = sh(["sacct", "-n", "-X", "-j", "%s_%d" % (job, t), "-o", "State"]).stdout.strip()
            r = sh(["scontrol", "show", "job", "-o", "%s_%d" % (job, t)])
            passing = any("JobState=" + word in r.stdout
                          for word in ("PENDING", "CONFIGURING", "RUNNING", "COMPLETING"))
            if not passing or time.time() > end:
                break
            time.sleep(0.2)
        check("JobState=COMPLETED" in r.stdout or state == "COMPLETED",
              "surviving task %d completed: %s" % (t, r.stdout[:300]))
    print("slurm multi-node: fbn2 lost mid-job; %d outputs once each, identical to the local run "
          "(files per task %r)" % (len(tasks), by_task), flush=True)
    return 0  # failed checks: slurm_harness.run exits 1


if __name__ == "__main__":
    run(run_test, nodes=NODES, component="slurm-multinode", prefix="fb_slurm_multi_")
