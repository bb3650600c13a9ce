#!/usr/bin/python3
"""The harness of forestbatch's tests that need real components (s3rver, the
AWS CLI, botocore, Slurm, root, npm packages, scikit-learn, XGBoost, ...).

A component test is registered with fb_add_component_test() (CMakeLists.txt),
which runs it through this file:

    fbtest.py run --name NAME --records DIR [--requires a,b] -- COMMAND...

`run` checks each required component it knows how to probe (PROBES below),
records the versions it found, then runs COMMAND with FB_TEST_RECORD naming
the test's record file (DIR/NAME.tsv), where the test itself (through
fbtest.sh or this module) records what it found or installed on the way
(s3rver, DuckDB, ...).

A missing component is a skip (exit 77, ctest "Skipped") on a developer's
machine, and a failure naming what is missing when CI=true or
FORESTBATCH_REQUIRE_ALL=1 ("strict"). In strict mode an exit 77 from the test
itself is turned into a failure too. A broken harness (a daemon that does not
start, a server that does not answer) is a failure in every mode: tests call
missing() only for a component that is not there.

    fbtest.py summary [--strict] BUILD_DIR...

prints the table of the real components the last ctest run used (from
BUILD_DIR/test-records) and of every test that was skipped and why (from the
records and BUILD_DIR/test-results.xml, written by `ctest --output-junit`),
including GoogleTest cases skipped inside a passing entry. With --strict (or
in strict mode) it exits 1 when a component test was skipped or failed for a
missing component; other skips (a unit test's own GTEST_SKIP) are listed.
"""
import os
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET

SKIP = 77
PY = "/usr/bin/python3"


def strict():
    return (os.environ.get("CI", "").lower() in ("true", "1", "yes")
            or os.environ.get("FORESTBATCH_REQUIRE_ALL", "") not in ("", "0"))


def _record(*fields):
    path = os.environ.get("FB_TEST_RECORD")
    if not path:
        return
    line = "\t".join(str(f).replace("\t", " ").replace("\n", " ") for f in fields) + "\n"
    with open(path, "a") as f:
        f.write(line)


def use(component, version):
    """Records that the test used COMPONENT at VERSION."""
    _record("use", component, version)


def missing(component, reason):
    """COMPONENT is not there: skip (77), or fail in strict mode. Does not return."""
    _record("missing-failed" if strict() else "missing", component, reason)
    if strict():
        print(f"FAIL: required component {component} is missing: {reason} "
              "(CI=true / FORESTBATCH_REQUIRE_ALL=1: a missing component is a failure)", flush=True)
        sys.exit(1)
    print(f"SKIPPED: component {component} is missing: {reason}", flush=True)
    sys.exit(SKIP)


def _out(args, **kw):
    try:
        r = subprocess.run(args, capture_output=True, text=True, timeout=60, **kw)
    except (OSError, subprocess.TimeoutExpired) as e:
        return None, str(e)
    text = (r.stdout.strip() or r.stderr.strip()).splitlines()
    if r.returncode != 0:
        return None, f"{' '.join(args)} exited {r.returncode}: {' '.join(text)[:300]}"
    return (text[0] if text else ""), None


def _python_module(module, package):
    def probe():
        if not os.access(PY, os.X_OK):
            return None, f"{PY} is not installed"
        v, err = _out([PY, "-c", f"import {module}; print(getattr({module}, '__version__', '?'))"])
        if v is None:
            return None, f"{PY} cannot import {module} (Debian package {package}): {err}"
        return f"{v} ({package})", None
    return probe


def _program(path_or_name, hint, version_args=("--version",)):
    def probe():
        path = path_or_name if os.path.isabs(path_or_name) else shutil.which(path_or_name)
        if not path or not os.access(path, os.X_OK):
            return None, f"{path_or_name} is not installed ({hint})"
        v, err = _out([path, *version_args])
        if v is None:
            return None, err
        if len(v) > 40:  # "aws-cli/2.9.19 Python/3.11.2 Linux/..." -> "aws-cli/2.9.19"
            v = v.split()[0]
        return f"{v} ({path})", None
    return probe


def _root():
    if os.geteuid() != 0:
        return None, f"the test must run as root (uid is {os.geteuid()})"
    return "uid 0", None


def _slurm():
    for p in ("munged", "slurmctld", "slurmd", "sbatch", "squeue", "sinfo", "scontrol", "scancel"):
        if shutil.which(p) is None:
            return None, f"{p} is not installed (scripts/setup-deps.sh installs slurm-wlm and munge)"
    v, err = _out(["slurmctld", "-V"])  # the clients need a configuration even for --version
    if v is None:
        return None, err
    m, err = _out(["munged", "--version"])
    return f"{v}, {m or 'munge ?'}", None


def _npm():
    n, err = _out(["npm", "--version"])
    if n is None:
        return None, f"npm is not installed or does not run ({err}; scripts/setup-deps.sh installs nodejs, npm)"
    node, err = _out(["node", "--version"])
    if node is None:
        return None, f"node does not run: {err}"
    return f"npm {n}, node {node}", None


# Components `run` probes before starting the test. Others (s3rver, DuckDB,
# parquet-wasm: installed by the test from npm) are recorded by the test.
PROBES = {
    "root": _root,
    "npm": _npm,
    "awscli": _program("/usr/bin/aws", "Debian package awscli"),
    "aws-on-path": _program("aws", "an AWS CLI on PATH, e.g. Debian package awscli"),
    "cfn-lint": _program("cfn-lint", "not packaged by Debian 12; on this project's machine image"),
    "botocore": _python_module("botocore", "python3-botocore"),
    "sklearn": _python_module("sklearn", "python3-sklearn"),
    "xgboost": _python_module("xgboost", "python3-xgboost"),
    "lz4": _python_module("lz4", "python3-lz4"),
    "pandas": _python_module("pandas", "python3-pandas"),
    "yaml": _python_module("yaml", "python3-yaml"),
    "slurm": _slurm,
}


def probe(component):
    """(version, None) when COMPONENT is there, else (None, reason)."""
    return PROBES[component]()


def require(component):
    """Probes COMPONENT: records its version, or calls missing()."""
    v, reason = probe(component)
    if v is None:
        missing(component, reason)
    use(component, v)
    return v


def _cmd_run(argv):
    name = records = None
    requires = []
    i = 0
    while i < len(argv) and argv[i] != "--":
        if argv[i] == "--name":
            name = argv[i + 1]
        elif argv[i] == "--records":
            records = argv[i + 1]
        elif argv[i] == "--requires":
            requires = [r for r in re.split(r"[,;]", argv[i + 1]) if r]
        else:
            sys.exit(f"fbtest run: unknown option {argv[i]}")
        i += 2
    cmd = argv[i + 1:]
    if not name or not records or not cmd:
        sys.exit("usage: fbtest.py run --name NAME --records DIR [--requires a,b] -- COMMAND...")
    os.makedirs(records, exist_ok=True)
    path = os.path.join(records, name + ".tsv")
    open(path, "w").close()
    os.environ["FB_TEST_RECORD"] = path
    os.environ["FB_TEST_NAME"] = name
    os.environ["FB_TEST_HARNESS"] = os.path.abspath(os.path.dirname(__file__))
    for comp in requires:
        if comp in PROBES:
            require(comp)
        else:
            _record("requires", comp, "recorded by the test")
    sys.stdout.flush()
    rc = subprocess.call(cmd)
    if rc == SKIP:
        reasons = [line.split("\t")[1:] for line in open(path).read().splitlines()
                   if line.startswith(("missing\t", "missing-failed\t", "skip\t"))]
        why = "; ".join(": ".join(r) for r in reasons) or "the test exited 77 without recording why"
        if not reasons:
            _record("skip", why)
        if strict():
            print(f"FAIL: {name} skipped under CI=true / FORESTBATCH_REQUIRE_ALL=1: {why}", flush=True)
            _record("skip-failed", why)
            return 1
    return rc


def _read_records(build):
    used, skipped, tests = {}, {}, set()
    d = os.path.join(build, "test-records")
    if not os.path.isdir(d):
        return used, skipped, tests
    for f in sorted(os.listdir(d)):
        if not f.endswith(".tsv"):
            continue
        test = f[:-4]
        tests.add(test)
        for line in open(os.path.join(d, f)).read().splitlines():
            parts = line.split("\t")
            if parts[0] == "use" and len(parts) >= 3:
                used.setdefault((parts[1], parts[2]), []).append(test)
            elif parts[0] in ("missing", "skip"):
                skipped.setdefault(test, []).append("skipped: " + ": ".join(parts[1:]))
            elif parts[0] in ("missing-failed", "skip-failed"):
                skipped.setdefault(test, []).append("FAILED (required): " + ": ".join(parts[1:]))
    return used, skipped, tests


def _read_junit(build):
    """(tests skipped by ctest, GoogleTest cases skipped inside an entry) from test-results.xml."""
    path = os.path.join(build, "test-results.xml")
    ctest_skipped, inner = {}, {}
    if not os.path.exists(path):
        return ctest_skipped, inner, False
    root = ET.parse(path).getroot()
    for case in root.iter("testcase"):
        name = case.get("name")
        status = case.get("status", "")
        out = "".join(e.text or "" for e in case.iter("system-out"))
        if status in ("skipped", "notrun", "disabled") or case.find("skipped") is not None:
            m = re.findall(r"(?:SKIPPED|SKIP):? ?([^\n]*)", out)
            ctest_skipped[name] = m[-1].strip() if m else status or "skipped"
        for m in re.finditer(r"^\[  SKIPPED \] (\S+)", out, re.M):
            inner.setdefault(name, []).append(m.group(1))
    return ctest_skipped, inner, True


def _cmd_summary(argv):
    force_strict = "--strict" in argv
    builds = [a for a in argv if a != "--strict"]
    bad = 0
    for build in builds:
        used, skipped, records = _read_records(build)
        ctest_skipped, inner, have_junit = _read_junit(build)
        print(f"\n== Real components used by the tests in {build} ==")
        if used:
            w = max(len(c) for c, _ in used)
            wv = max(len(v) for _, v in used)
            for (comp, ver), tests in sorted(used.items()):
                print(f"  {comp:<{w}}  {ver:<{wv}}  {', '.join(sorted(set(tests)))}")
        else:
            print("  (none recorded)")
        rows = {t: list(dict.fromkeys(w)) for t, w in skipped.items()}
        for t, why in ctest_skipped.items():
            rows.setdefault(t, ["skipped: " + why])
        for t, cases in inner.items():
            rows.setdefault(t, []).append("GoogleTest skipped " + ", ".join(cases) + " inside the entry")
        print(f"== Skipped, or failed for a missing component, in {build} ==")
        if not have_junit:
            print("  (no test-results.xml: ctest was not run with --output-junit)")
        if rows:
            for t, why in sorted(rows.items()):
                # Component tests (they have a record) must not skip under CI; a unit test's own
                # GTEST_SKIP (a race it could not set up, say) is listed but is not a missing component.
                component = t in records
                print(f"  {t}{'' if component else ' (not a component test)'}: {'; '.join(why)}")
                bad += component
        else:
            print("  nothing")
    if bad and (force_strict or strict()):
        print(f"FAIL: {bad} test(s) skipped or could not use their real components "
              "(CI=true / FORESTBATCH_REQUIRE_ALL=1)")
        return 1
    return 0


# LeakSanitizer's exit-time check stops every thread of the process with ptrace; a thread
# that is exiting at that moment (one just joined, still listed in /proc/self/task) cannot
# give its registers, and LSan says so on a line of its own, then scans that thread's stack
# whole or skips it because it is gone. That line alone is not a report of an error (LLVM
# later turned it into a verbose-only message, llvm-project#116555); any other text is.
_LSAN_THREAD_GONE = re.compile(r"==\d+==Unable to get registers from thread \d+\.")


def _only_lsan_thread_gone(text):
    lines = [line for line in text.splitlines() if line.strip()]
    return bool(lines) and all(_LSAN_THREAD_GONE.fullmatch(line.strip()) for line in lines)


def _cmd_sanitizer_logs(argv):
    """Fails (printing them) when ASan/UBSan/LSan wrote any report file into DIR. A file that
    holds nothing but LSan's line about a thread that exited during its check is printed as
    a note and does not fail."""
    d = argv[0]
    logs = sorted(f for f in os.listdir(d)) if os.path.isdir(d) else []
    bad = 0
    for f in logs:
        text = open(os.path.join(d, f), errors="replace").read()
        if _only_lsan_thread_gone(text):
            print(f"== note: {os.path.join(d, f)}: LeakSanitizer could not stop a thread that was "
                  f"exiting during its check (not an error report) ==\n{text[:600]}")
            continue
        bad += 1
        print(f"== sanitizer report {os.path.join(d, f)} ==\n{text[:6000]}")
    if bad:
        print(f"FAIL: {bad} sanitizer report(s) in {d}")
        return 1
    print(f"sanitizer logs: no error report in {d}")
    return 0


def main():
    if len(sys.argv) < 2 or sys.argv[1] not in ("run", "summary", "probe", "sanitizer-logs"):
        sys.exit("usage: fbtest.py run|summary|probe|sanitizer-logs ...")
    if sys.argv[1] == "sanitizer-logs":
        return _cmd_sanitizer_logs(sys.argv[2:])
    if sys.argv[1] == "run":
        return _cmd_run(sys.argv[2:])
    if sys.argv[1] == "probe":  # fbtest.py probe COMPONENT: prints the version or the reason, exit 0/1
        v, reason = probe(sys.argv[2])
        print(v if v is not None else reason)
        return 0 if v is not None else 1
    return _cmd_summary(sys.argv[2:])


if __name__ == "__main__":
    sys.exit(main())
