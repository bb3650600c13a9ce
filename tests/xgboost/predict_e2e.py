#!/usr/bin/env python3
"""End-to-end: `forestbatch predict` on the XGBoost fixtures (JSON, UBJSON and
converted .fbm) against XGBoost's own margins and predictions, through the
CSV pipeline, with --output-margin, --proba and --iteration-range.

    predict_e2e.py FORESTBATCH FIXTURE_DIR WORK_DIR [--xgboost3]

The pickled wrappers are read from FIXTURE_DIR/../pickles. --xgboost3: the
fixtures XGBoost 3.0.0 made (xgboost3/README.md): no crafted layouts or
hostile files there, and dart_binary's predict_proba within 4 float32 ulps
(3.0's wrapper predicts DART through inplace_predict, 1 ulp off its own
Booster.predict on some rows; Booster.predict is matched bit for bit).

Standard library only. Every output is checked for its header (column
names) and row count before any value. Every value must be XGBoost's
float32 result bit for bit: what forestbatch prints must parse to a float32
value with the same bits as XGBoost's (the fixtures print XGBoost's float32
results with 9 significant digits, which parse back to them); probabilities
are compared with the scikit-learn wrapper's predict_proba (NAME.proba.csv).
"""
import json
import os
import struct
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "harness"))
from e2e_checks import Checks, read_table  # noqa: E402

FB, FIX, WORK = sys.argv[1:4]
XGBOOST3 = "--xgboost3" in sys.argv[4:]
# What each set must hold: fixtures, pickled estimators, hostile pickles.
MIN_FIXTURES, MIN_PICKLED, MIN_HOSTILE = (21, 11, 0) if XGBOOST3 else (25, 15, 7)
WRAPPER_ULPS = {"dart_binary": 4} if XGBOOST3 else {}
checks = Checks(FB)
run, shape_ok, read_rows = checks.run, checks.shape_ok, read_table
# Every fixture (make_fixtures.py writes NAME.meta.json for each).
CASES = sorted(n[:-len(".meta.json")] for n in os.listdir(FIX) if n.endswith(".meta.json"))
def f32_bits(v):
    return struct.unpack("<I", struct.pack("<f", v))[0]


def same_f32(ours, xgb, ulps=0):
    """ours (as printed) is a float32 value with xgb's float32 bits (or within
    `ulps` of them)."""
    if struct.unpack("<f", struct.pack("<f", ours))[0] != ours:
        return False  # not a float32 value at all
    return abs(f32_bits(ours) - f32_bits(xgb)) <= ulps


def hexf(v):
    return "%s (0x%08x)" % (float.hex(v), f32_bits(v))


def want_header(kind, nm, margin):
    """The columns docs/xgboost.md promises: regressors `prediction`;
    classifiers `prediction` then `margin` (binary) / `margin_<k>` per class,
    or `proba_<k>` per class with --proba."""
    if kind == "regressor":
        return ["prediction"]
    if margin:
        return ["prediction", "margin"] if nm == 1 else ["prediction"] + ["margin_%d" % k for k in range(nm)]
    return ["prediction"] + ["proba_%d" % k for k in range(max(nm, 2))]


os.makedirs(WORK, exist_ok=True)
checked = 0
for name in CASES:
    meta = json.load(open(os.path.join(FIX, name + ".meta.json")))
    nm, np_ = meta["margins"], meta["predictions"]
    with open(os.path.join(FIX, name + ".expected.csv")) as f:
        expected = [[float(v) for v in line.split(",")] for line in f if line.strip()]
    proba_path = os.path.join(FIX, name + ".proba.csv")
    proba = None
    if os.path.exists(proba_path):
        with open(proba_path) as f:
            proba = [[float(v) for v in line.split(",")] for line in f if line.strip()]
    x = os.path.join(FIX, name + ".X.csv")
    models = [os.path.join(FIX, name + ".json")]
    if os.path.exists(os.path.join(FIX, name + ".ubj")):
        models.append(os.path.join(FIX, name + ".ubj"))
    fbm = os.path.join(WORK, name + ".fbm")
    if run(["model", "convert", models[0], fbm]):
        models.append(fbm)
    extra = [] if meta["range_is_default"] else [
        "--iteration-range", f"{meta['iteration_begin']}:{meta['iteration_end']}"]
    for model in models:
        tag = f"{name} ({os.path.basename(model)})"
        out_m = os.path.join(WORK, name + ".margin.csv")
        out_p = os.path.join(WORK, name + ".proba.csv")
        if not run(["predict", "-q", "--model", model, "--input", x, "--output", out_m, "--header", "no",
                    "--output-margin"] + extra):
            continue
        header, rows = read_rows(out_m)
        # A classifier's margin file has the prediction first; a regressor's is the value alone.
        kind = "regressor" if header == ["prediction"] else "classifier"
        if kind == "regressor" and (nm != 1 or "softmax" in name or "softprob" in name or "categorical_multi" in name):
            checks.fail(f"{tag}: a classifier gave the regressor header {header}")
            continue
        if not shape_ok(tag + " --output-margin", header, rows, want_header(kind, nm, True), len(expected)):
            continue
        margins = [r[1:] if len(header) > 1 else r[:1] for r in rows]
        for i, (m, e) in enumerate(zip(margins, expected)):
            for k in range(nm):
                if not same_f32(m[k], e[k]):
                    checks.fail(f"{tag} row {i}: margin {hexf(m[k])} vs xgboost {hexf(e[k])}")
        # Probabilities (classifiers) or values (regressors).
        args = ["predict", "-q", "--model", model, "--input", x, "--output", out_p, "--header", "no"] + extra
        if len(header) > 1:
            args.append("--proba")
        if not run(args):
            continue
        header_p, rows_p = read_rows(out_p)
        if not shape_ok(tag, header_p, rows_p, want_header(kind, nm, False), len(expected)):
            continue
        checked += 1
        for i, (r, e) in enumerate(zip(rows_p, expected)):
            if len(header_p) == 1:  # regressor
                if not same_f32(r[0], e[nm]):
                    checks.fail(f"{tag} row {i}: value {hexf(r[0])} vs xgboost {hexf(e[nm])}")
                continue
            probs = r[1:]
            if "softmax" in name:
                want_label = e[nm]
            elif proba is not None:
                # XGBClassifier.predict_proba and predict.
                want, want_label = proba[i][:-1], proba[i][-1]
                for k, (p, w) in enumerate(zip(probs, want)):
                    if not same_f32(p, w, WRAPPER_ULPS.get(name, 0)):
                        checks.fail(f"{tag} row {i}: proba_{k} {hexf(p)} vs xgboost {hexf(w)}")
            else:
                want = e[nm:]
                if np_ == 1:
                    checks.fail(f"{tag}: a binary classifier fixture without {name}.proba.csv")
                    continue
                for k, (p, w) in enumerate(zip(probs, want)):
                    if not same_f32(p, w):
                        checks.fail(f"{tag} row {i}: proba_{k} {hexf(p)} vs xgboost {hexf(w)}")
                want_label = max(range(len(want)), key=lambda k: (want[k], -k))
            if r[0] != want_label:
                checks.fail(f"{tag} row {i}: label {r[0]} vs xgboost {want_label}")

# Pickled scikit-learn wrappers (make_pickle_fixtures.py): labels as the
# wrapper's predict, probabilities / values bit for bit; hostile files exit 3.
PICKLES = os.path.join(os.path.dirname(os.path.abspath(FIX)), "pickles")
pickled = 0
for folder in (PICKLES,) if XGBOOST3 else (PICKLES, os.path.join(PICKLES, "crafted")):
    for meta_name in sorted(n for n in os.listdir(folder) if n.endswith(".meta.json")):
        base = os.path.join(folder, meta_name[:-len(".meta.json")])
        meta = json.load(open(base + ".meta.json"))
        model = os.path.join(folder, meta["file"])
        tag = os.path.basename(model)
        out = os.path.join(WORK, "pickle.csv")
        classifier = meta["kind"] == "classifier"
        args = ["predict", "-q", "--model", model, "--input", base + ".X.csv", "--output", out, "--header", "no"]
        if not run(args + (["--proba"] if classifier else [])):
            continue
        header, rows = read_table(out, convert=None)
        with open(base + ".expected.csv") as f:
            expected = [line.rstrip("\n").split(",") for line in f if line.strip()]
        if len(rows) != len(expected):
            checks.fail(f"{tag}: {len(rows)} rows, expected {len(expected)}")
            continue
        pickled += 1
        for i, (r, e) in enumerate(zip(rows, expected)):
            values, want = (r[1:], e[1:]) if classifier else (r, e)
            if classifier and r[0] != e[0]:
                checks.fail(f"{tag} row {i}: label {r[0]} vs the wrapper's {e[0]}")
            if len(values) != len(want):
                checks.fail(f"{tag} row {i}: {len(values)} values, expected {len(want)}")
                continue
            for k, (v, w) in enumerate(zip(values, want)):
                if not same_f32(float(v), float(w)):
                    checks.fail(f"{tag} row {i} column {k}: {hexf(float(v))} vs {hexf(float(w))}")
hostile = 0
for name in sorted(os.listdir(os.path.join(PICKLES, "crafted")) if not XGBOOST3 else []):
    if not name.startswith("hostile_"):
        continue
    hostile += 1
    p = subprocess.run([FB, "model", "inspect", os.path.join(PICKLES, "crafted", name)], capture_output=True,
                       text=True)
    if p.returncode != 3 or name not in p.stderr:
        checks.fail(f"{name}: exit {p.returncode} (expected 3, naming the file): {p.stderr.strip()[:300]}")
if pickled < MIN_PICKLED or hostile < MIN_HOSTILE:
    checks.fail(f"only {pickled} pickled estimators and {hostile} hostile files found under {PICKLES}")
print(f"{pickled} pickled estimators compared bit for bit, {hostile} hostile pickles refused with exit 3")

# Each fixture through JSON, UBJSON when it has one, and the converted .fbm.
want_checked = sum(3 if os.path.exists(os.path.join(FIX, n + ".ubj")) else 2 for n in CASES)
if checked != want_checked:
    checks.fail(f"{checked} model files compared, expected {want_checked}")
if len(CASES) < MIN_FIXTURES:
    checks.fail(f"only {len(CASES)} fixtures found in {FIX}")
sys.exit(checks.finish(f"{len(CASES)} fixtures, {checked} model files compared bit for bit"))
