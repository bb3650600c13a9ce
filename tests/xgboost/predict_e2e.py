#!/usr/bin/env python3
"""End-to-end: `forestbatch predict` on the XGBoost fixtures (JSON, UBJSON and
converted .fbm) against XGBoost's own margins and predictions, through the
CSV pipeline, with --output-margin, --proba and --iteration-range.

    predict_e2e.py FORESTBATCH FIXTURE_DIR WORK_DIR

Standard library only. Every output is checked for its header (column
names) and row count before any value. Tolerances are the parity test's
(margins 1e-5; probabilities 1e-6 relative plus XGBoost's float32 margin
rounding).
"""
import csv
import json
import math
import os
import subprocess
import sys

FB, FIX, WORK = sys.argv[1:4]
CASES = ["binary_logistic", "multi_softprob", "multi_softmax", "categorical_multi", "categorical_reg",
         "reg_gamma", "rf_multi", "dart_binary", "sklearn_early_stopping", "iteration_range_1_3",
         "v3_multi_softprob", "v2_rf_binary"]
failures = []


def run(args):
    p = subprocess.run([FB] + args, capture_output=True, text=True)
    if p.returncode != 0:
        failures.append(f"{' '.join(args)}: exit {p.returncode}: {p.stderr.strip()}")
        return None
    return p


def read_rows(path):
    with open(path) as f:
        rows = list(csv.reader(f))
    return rows[0], [[float(v) for v in r] for r in rows[1:]]


def close(a, b, tol):
    return abs(a - b) <= tol


def want_header(kind, nm, margin):
    """The columns docs/xgboost.md promises: regressors `prediction`;
    classifiers `prediction` then `margin` (binary) / `margin_<k>` per class,
    or `proba_<k>` per class with --proba."""
    if kind == "regressor":
        return ["prediction"]
    if margin:
        return ["prediction", "margin"] if nm == 1 else ["prediction"] + ["margin_%d" % k for k in range(nm)]
    return ["prediction"] + ["proba_%d" % k for k in range(max(nm, 2))]


def shape_ok(tag, header, rows, want, n):
    if header != want:
        failures.append(f"{tag}: header {header}, expected {want}")
        return False
    if len(rows) != n:
        failures.append(f"{tag}: {len(rows)} rows, expected {n}")
        return False
    bad = [i for i, r in enumerate(rows) if len(r) != len(want)]
    if bad:
        failures.append(f"{tag}: row {bad[0]} has {len(rows[bad[0]])} fields, expected {len(want)}")
        return False
    return True


os.makedirs(WORK, exist_ok=True)
checked = 0
for name in CASES:
    meta = json.load(open(os.path.join(FIX, name + ".meta.json")))
    nm, np_ = meta["margins"], meta["predictions"]
    with open(os.path.join(FIX, name + ".expected.csv")) as f:
        expected = [[float(v) for v in line.split(",")] for line in f if line.strip()]
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
            failures.append(f"{tag}: a classifier gave the regressor header {header}")
            continue
        if not shape_ok(tag + " --output-margin", header, rows, want_header(kind, nm, True), len(expected)):
            continue
        margins = [r[1:] if len(header) > 1 else r[:1] for r in rows]
        for i, (m, e) in enumerate(zip(margins, expected)):
            for k in range(nm):
                if not close(m[k], e[k], 1e-5 * max(1.0, abs(e[k]))):
                    failures.append(f"{tag} row {i}: margin {m[k]} vs xgboost {e[k]}")
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
        for i, (r, e, m) in enumerate(zip(rows_p, expected, margins)):
            dm = max(abs(m[k] - e[k]) for k in range(nm))
            if len(header_p) == 1:  # regressor
                if not close(r[0], e[nm], 1e-5 * max(1.0, abs(e[nm]))):
                    failures.append(f"{tag} row {i}: value {r[0]} vs xgboost {e[nm]}")
                continue
            probs = r[1:]
            if "softmax" in name:
                want_label = e[nm]
            else:
                want = e[nm:] if np_ > 1 else [1 - e[nm], e[nm]]
                for k, (p, w) in enumerate(zip(probs, want)):
                    if np_ == 1 and k == 0:
                        continue  # 1 - p computed from XGBoost's float32 p: not XGBoost's own output
                    if not close(p, w, (1e-6 + 2 * dm) * abs(w) + 1e-9):
                        failures.append(f"{tag} row {i}: proba_{k} {p} vs xgboost {w}")
                want_label = max(range(len(want)), key=lambda k: (want[k], -k))
            if r[0] != want_label:
                failures.append(f"{tag} row {i}: label {r[0]} vs xgboost {want_label}")

for f in failures[:30]:
    print("FAIL", f)
# Each fixture through JSON, UBJSON when it has one, and the converted .fbm.
want_checked = sum(3 if os.path.exists(os.path.join(FIX, n + ".ubj")) else 2 for n in CASES)
if checked != want_checked:
    failures.append(f"{checked} model files compared, expected {want_checked}")
print(f"{len(CASES)} fixtures, {checked} model files compared, {len(failures)} failures")
sys.exit(1 if failures else 0)
