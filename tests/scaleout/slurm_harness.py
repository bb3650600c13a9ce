"""What the real-Slurm tests share (slurm_e2e.py, slurm_multinode_e2e.py):
failure collection, running programs, reading an output folder, and running a
test body against a throw-away cluster (slurm_cluster.sh) that is stopped,
with every daemon and namespace it made, whatever happens.

A cluster that cannot be had (not root, Slurm not installed, namespaces not
permitted) is a skip (exit 77) with the reason, or a failure under CI=true
(tests/harness/fbtest.py); daemons that do not start are a failure.
"""
import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
CLUSTER = os.path.join(HERE, "slurm_cluster.sh")
SKIP = 77
failures = []
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "harness"))
import fbtest  # noqa: E402


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL:", what, file=sys.stderr, flush=True)
    return cond


def sh(args, **kw):
    return subprocess.run(args, capture_output=True, text=True, **kw)


def outputs(root):
    """Outputs by relative path, temporaries under "__temporaries__"; dot files and folders
    (manifests, claims) left out."""
    got = {}
    for d, dirs, files in os.walk(root):
        dirs[:] = [x for x in dirs if not x.startswith(".")]
        for f in files:
            rel = os.path.relpath(os.path.join(d, f), root)
            if ".fbtmp." in f:
                got.setdefault("__temporaries__", []).append(rel)
            elif not f.startswith("."):
                got[rel] = open(os.path.join(d, f), "rb").read()
    return got


def run(body, nodes=1, component="slurm", prefix="fb_slurm_"):
    """Starts a cluster of `nodes` in a temporary folder, sets SLURM_CONF, calls body(tmp, cluster)
    and exits with its result (1 if any check failed); stops the cluster whatever happens."""
    if os.geteuid() != 0:
        fbtest.missing("root", "the Slurm tests need root (munged, slurmctld, slurmd, namespaces)")
    tmp = tempfile.mkdtemp(prefix=prefix)
    rc = 1
    try:
        cluster = os.path.join(tmp, "slurm")
        start = sh([CLUSTER, "start", cluster, str(nodes)])
        if start.returncode == SKIP:
            sh([CLUSTER, "stop", cluster])
            fbtest.missing(component, start.stderr.strip() or "slurm_cluster.sh: Slurm unavailable")
        if start.returncode != 0:
            print("FAIL: the Slurm cluster did not start (a harness failure, not a skip): " + start.stderr.strip(),
                  flush=True)
            sh([CLUSTER, "stop", cluster])
            sys.exit(1)
        try:
            os.environ["SLURM_CONF"] = os.path.join(cluster, "slurm.conf")
            rc = body(tmp, cluster)
        finally:
            sh([CLUSTER, "stop", cluster])
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    if failures:
        print("%d failure(s)" % len(failures), file=sys.stderr)
        sys.exit(1)
    sys.exit(rc)
