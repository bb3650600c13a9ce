#!/usr/bin/python3
"""make check-fixtures: reruns every fixture generator with the installed
reference libraries (Debian's scikit-learn, XGBoost, numpy, pandas, joblib,
lz4) into a scratch folder and compares what they write with the committed
fixtures.

    /usr/bin/python3 scripts/check_fixtures.py [--keep] [NAME...]

Exit 0 when every generated file equals its committed copy, 1 otherwise (a
line per difference), 77 when a reference library is missing (the ctest
entry check_fixtures turns that into a failure under CI=true).

What "equal" means, per kind of file:
- model pickles and joblib files (any compression): the unpickled objects are
  equal, array by array, except the wall-clock timings GridSearchCV and
  RandomizedSearchCV record (cv_results_ *_time, refit_time_), which differ
  on every run; the bytes cannot be compared for that reason;
- text (CSV, JSON, TSV, manifests; .gz decompressed first): the same tokens,
  numbers equal within 1e-12 relative (numpy's float64 exp/log give
  last-digit differences between CPUs: AVX-512 against scalar code);
- anything else (UBJSON models, ...): the same bytes.
A committed file that no generator writes is a difference too, unless the
generator's entry lists it as made by hand.
"""
import fnmatch
import gzip
import os
import re
import shutil
import subprocess
import sys
import tempfile
import types

SRC = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PY = "/usr/bin/python3"

# name: (generator, arguments ({out} = scratch folder), run in the scratch
# folder?, committed folder, committed files made by hand or by another entry,
# how to compare pickles: "objects" (unpickled: only for files our generators
# made from real models) or "bytes" (hostile inputs are never unpickled here))
GENERATORS = {
    "sklearn": ("tests/sklearn/make_fixtures.py", ["{out}"], False, "tests/sklearn/fixtures",
                ["boosting/*", "hgb/*", "pipeline/*"], "objects"),
    "sklearn-boosting": ("tests/sklearn/make_boosting_fixtures.py", ["{out}"], False,
                         "tests/sklearn/fixtures/boosting", [], "objects"),
    "sklearn-hgb": ("tests/sklearn/make_hgb_fixtures.py", ["{out}"], False, "tests/sklearn/fixtures/hgb",
                    ["crafted/*", "preprocessor/*"], "objects"),
    "sklearn-hgb-preprocessor": ("tests/sklearn/make_hgb_preprocessor_fixtures.py", ["{out}"], False,
                                 "tests/sklearn/fixtures/hgb/preprocessor", [], "objects"),
    # Other versions' layouts: stand-in classes under scikit-learn's module
    # names, which the installed version cannot unpickle: compared as bytes.
    "sklearn-hgb-crafted": ("tests/sklearn/make_hgb_fixtures.py", ["--crafted", "{out}"], False,
                            "tests/sklearn/fixtures/hgb/crafted", [], "bytes"),
    "sklearn14-hgb-hostile": ("tests/sklearn/make_hgb14_hostile.py", ["{out}"], False,
                              "tests/sklearn/sklearn14/hgb/hostile", [], "bytes"),
    "sklearn-pipeline": ("tests/sklearn/make_pipeline_fixtures.py", ["{out}"], False,
                         "tests/sklearn/fixtures/pipeline", ["hostile/*"], "objects"),
    "sklearn-pipeline-hostile": ("tests/sklearn/make_pipeline_fixtures.py", ["--hostile", "{out}"], False,
                                 "tests/sklearn/fixtures/pipeline/hostile", [], "bytes"),
    "xgboost": ("tests/xgboost/make_fixtures.py", ["{out}"], False, "tests/xgboost/fixtures", [], "objects"),
    "xgboost-pickles": ("tests/xgboost/make_pickle_fixtures.py", ["{out}", "--real"], False,
                        "tests/xgboost/pickles", ["crafted/*"], "objects"),
    "xgboost-pickles-crafted": ("tests/xgboost/make_pickle_fixtures.py", ["{out}", "--crafted"], False,
                                "tests/xgboost/pickles/crafted", [], "bytes"),
    "predict-data": ("tests/predict/data/make_fixtures.py", [], True, "tests/predict/data",
                     ["make_fixtures.py", "seed-small-*"], "objects"),
    "pickle-corpus": ("fuzz/make_pickle_corpus.py", ["{out}"], False, "fuzz/corpus/pickle", [], "bytes"),
    "pickle-regressions": ("fuzz/make_pickle_regressions.py", ["{out}"], False, "fuzz/regressions/pickle", [],
                           "bytes"),
}
LIBRARIES = ["numpy", "pandas", "joblib", "sklearn", "xgboost", "lz4"]
VOLATILE = re.compile(r"^(mean|std)_(fit|score)_time$|^refit_time_$")
PICKLES = re.compile(r"\.(pkl|joblib)(\.(z|zlib|gz|gzip|bz2|xz|lzma|lz4))?$")
TEXT = re.compile(r"\.(csv|tsv|txt|json|md)(\.gz)?$")
NUMBER = re.compile(r"^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$")


def libraries():
    code = ("import importlib\nfor m in %r:\n"
            "    try:\n        print(m, importlib.import_module(m).__version__)\n"
            "    except Exception as e:\n        print(m, 'MISSING', type(e).__name__)\n" % LIBRARIES)
    r = subprocess.run([PY, "-c", code], capture_output=True, text=True)
    return dict(line.split(" ", 1) for line in r.stdout.splitlines())


def same_text(a, b):
    if a == b:
        return None
    ta, tb = re.split(r"([,\s\[\]{}:\"])", a), re.split(r"([,\s\[\]{}:\"])", b)
    if len(ta) != len(tb):
        return "different number of tokens (%d vs %d)" % (len(ta), len(tb))
    for i, (x, y) in enumerate(zip(ta, tb)):
        if x == y:
            continue
        if NUMBER.match(x) and NUMBER.match(y):
            fx, fy = float(x), float(y)
            if abs(fx - fy) <= 1e-12 * max(abs(fx), abs(fy)):
                continue
        line = a[:sum(len(t) for t in ta[:i])].count("\n") + 1
        return "line %d: %r vs %r" % (line, x, y)
    return None


def same_object(a, b, path="", seen=None):
    """None when equal, else where they differ."""
    import numpy as np
    seen = set() if seen is None else seen
    if id(a) in seen:
        return None
    if type(a) is not type(b):
        return "%s: %s vs %s" % (path, type(a).__name__, type(b).__name__)
    if isinstance(a, np.ndarray):
        if a.dtype != b.dtype or a.shape != b.shape:
            return "%s: array %s%s vs %s%s" % (path, a.dtype, a.shape, b.dtype, b.shape)
        if a.dtype.kind in "fc" or (a.dtype.fields is None and a.dtype.kind != "O"):
            eq = np.array_equal(a, b, equal_nan=a.dtype.kind in "fc")
        elif a.dtype.kind == "O":
            for i, (x, y) in enumerate(zip(a.ravel(), b.ravel())):
                d = same_object(x, y, "%s[%d]" % (path, i), seen)
                if d:
                    return d
            return None
        else:
            eq = a.tobytes() == b.tobytes()
        return None if eq else "%s: arrays differ" % path
    if isinstance(a, (np.generic, int, str, bytes, bool, type(None), complex)):
        return None if a == b or (a != a and b != b) else "%s: %r vs %r" % (path, a, b)
    if isinstance(a, float):
        return None if a == b or (a != a and b != b) else "%s: %r vs %r" % (path, a, b)
    if isinstance(a, (list, dict)):
        seen.add(id(a))
    if isinstance(a, (list, tuple)):
        if len(a) != len(b):
            return "%s: length %d vs %d" % (path, len(a), len(b))
        for i, (x, y) in enumerate(zip(a, b)):
            d = same_object(x, y, "%s[%d]" % (path, i), seen)
            if d:
                return d
        return None
    if isinstance(a, dict):
        ka = sorted(k for k in a if not (isinstance(k, str) and VOLATILE.match(k)))
        kb = sorted(k for k in b if not (isinstance(k, str) and VOLATILE.match(k)))
        if ka != kb:
            return "%s: keys %s vs %s" % (path, ka, kb)
        for k in ka:
            d = same_object(a[k], b[k], "%s.%s" % (path, k), seen)
            if d:
                return d
        return None
    if isinstance(a, (type, types.FunctionType, types.BuiltinFunctionType, types.MethodType)):
        return None if a == b else "%s: %r vs %r" % (path, a, b)
    seen.add(id(a))
    # Estimators and Cython objects (sklearn's Tree) pickle their __getstate__;
    # Tree also its constructor arguments.
    state_a, state_b = a.__getstate__(), b.__getstate__()
    d = same_object(state_a, state_b, path, seen)
    if d:
        return d
    if type(a).__name__ == "Tree":
        return same_object(a.__reduce__()[1], b.__reduce__()[1], path + "<args>", seen)
    return None


def compare_file(rel, got, want, pickles):
    if PICKLES.search(rel) and pickles == "objects":
        import joblib
        try:
            a, b = joblib.load(got), joblib.load(want)
        except ValueError as e:  # the crafted scikit-learn 1.3 layout, which 1.2 refuses to load
            return None if open(got, "rb").read() == open(want, "rb").read() else \
                "not loadable here (%s) and the bytes differ" % str(e).splitlines()[0]
        return same_object(a, b, rel)
    if TEXT.search(rel):
        opener = gzip.open if rel.endswith(".gz") else open
        with opener(got, "rb") as f:
            a = f.read().decode("utf-8", "replace")
        with opener(want, "rb") as f:
            b = f.read().decode("utf-8", "replace")
        return same_text(a, b)
    return None if open(got, "rb").read() == open(want, "rb").read() else "the bytes differ"


def files(root):
    out = set()
    for d, _, fs in os.walk(root):
        for f in fs:
            if f.endswith(".pyc"):
                continue
            out.add(os.path.relpath(os.path.join(d, f), root))
    return out


def check(name, scratch):
    script, args, in_cwd, committed, by_hand, pickles = GENERATORS[name]
    out = os.path.join(scratch, name)
    os.makedirs(out)
    cmd = [PY, os.path.join(SRC, script)] + [a.format(out=out) for a in args]
    r = subprocess.run(cmd, cwd=out if in_cwd else SRC, capture_output=True, text=True)
    if r.returncode != 0:
        return ["%s: %s exited %d: %s" % (name, script, r.returncode, r.stderr.strip()[-2000:])]
    got, want = files(out), files(os.path.join(SRC, committed))
    problems = []
    for rel in sorted(got):
        if rel not in want:
            problems.append("%s: %s/%s is generated but not committed" % (name, committed, rel))
            continue
        d = compare_file(rel, os.path.join(out, rel), os.path.join(SRC, committed, rel), pickles)
        if d:
            problems.append("%s: %s/%s differs: %s" % (name, committed, rel, d))
    for rel in sorted(want - got):
        if not any(fnmatch.fnmatch(rel, g) for g in by_hand):
            problems.append("%s: %s/%s is committed but no longer generated" % (name, committed, rel))
    print("%-20s %3d files generated, %d differences" % (name, len(got), len(problems)), flush=True)
    return problems


def main():
    keep = "--keep" in sys.argv
    names = [a for a in sys.argv[1:] if a != "--keep"] or list(GENERATORS)
    for n in names:
        if n not in GENERATORS:
            sys.exit("check_fixtures: unknown generator %s (have %s)" % (n, ", ".join(GENERATORS)))
    libs = libraries() if os.access(PY, os.X_OK) else {}
    missing = [m for m in LIBRARIES if libs.get(m, "MISSING").startswith("MISSING")]
    print("reference libraries: " + ", ".join("%s %s" % (m, libs.get(m, "MISSING")) for m in LIBRARIES))
    if missing:
        print("SKIPPED: %s cannot import %s (scripts/setup-deps.sh installs them)" % (PY, ", ".join(missing)))
        return 77
    scratch = tempfile.mkdtemp(prefix="fb-check-fixtures.")
    problems = []
    try:
        for n in names:
            problems += check(n, scratch)
    finally:
        if keep:
            print("generated files kept in", scratch)
        else:
            shutil.rmtree(scratch, ignore_errors=True)
    for p in problems:
        print("DIFF", p)
    print("check-fixtures: %d generator(s), %d difference(s)" % (len(names), len(problems)))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
