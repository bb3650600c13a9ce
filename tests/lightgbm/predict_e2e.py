#!/usr/bin/env python3
"""End-to-end: `forestbatch predict` on LightGBM fixtures (the text model and
its converted .fbm) against LightGBM's own task=predict outputs, through the
CSV pipeline, with --output-margin (LightGBM's predict_raw_score), --proba and
--iteration-range.

    predict_e2e.py FORESTBATCH FIXTURE_DIR WORK_DIR

Standard library only. Headers and row counts are checked before values;
values must be within 1e-12 relative of LightGBM's, labels identical.
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "harness"))
from e2e_checks import Checks, read_table  # noqa: E402

FB, FIX, WORK = sys.argv[1:4]
checks = Checks(FB)
read_csv = read_table
# name, classifier, iteration range
CASES = [("binary", True, None), ("multiclass", True, None), ("multiclass", True, "5:12"),
         ("multiclassova", True, None), ("regression", False, None), ("regression", False, "5:12"),
         ("poisson", False, None), ("cross_entropy_lambda", False, None), ("zero_as_missing", False, None),
         ("categorical", True, None), ("rf_binary", True, None), ("rf_binary", True, "5:12"),
         ("early_stopping", True, None), ("lambdarank", False, None)]
def read_lgbm(path):
    with open(path) as f:
        return [[float(v) for v in line.split("\t")] for line in f if line.strip()]


def close(a, b):
    return a == b or abs(a - b) <= 1e-12 * abs(b)


os.makedirs(WORK, exist_ok=True)
x = os.path.join(FIX, "X.csv")
checked = 0
for name, classifier, rng in CASES:
    stem = name + (".range" if rng else "")
    raw, pred = read_lgbm(os.path.join(FIX, stem + ".raw")), read_lgbm(os.path.join(FIX, stem + ".pred"))
    k = len(raw[0])
    fbm = os.path.join(WORK, name + ".fbm")
    models = [os.path.join(FIX, name + ".txt")]
    if checks.run(["model", "convert", models[0], fbm]):
        models.append(fbm)
    extra = ["--iteration-range", rng] if rng else []
    for model in models:
        tag = f"{stem} ({os.path.basename(model)})"
        out = os.path.join(WORK, stem + ".margin.csv")
        if not checks.run(["predict", "-q", "--model", model, "--input", x, "--output", out, "--header", "no",
                    "--output-margin"] + extra):
            continue
        header, rows = read_csv(out)
        if classifier:
            want = ["prediction"] + (["margin"] if k == 1 else ["margin_%d" % j for j in range(k)])
        else:
            want = ["prediction"]
        if header != want or len(rows) != len(raw):
            checks.fail(f"{tag}: margin header {header} / {len(rows)} rows, expected {want} / {len(raw)}")
            continue
        for i, (r, w) in enumerate(zip(rows, raw)):
            got = r[1:] if classifier else r
            for j in range(k):
                if not close(got[j], w[j]):
                    checks.fail(f"{tag} row {i}: raw {got[j]} vs LightGBM {w[j]}")
        out = os.path.join(WORK, stem + ".pred.csv")
        if not checks.run(["predict", "-q", "--model", model, "--input", x, "--output", out, "--header", "no"]
                   + (["--proba"] if classifier else []) + extra):
            continue
        header, rows = read_csv(out)
        want = ["prediction"] + ["proba_%d" % j for j in range(max(k, 2))] if classifier else ["prediction"]
        if header != want or len(rows) != len(pred):
            checks.fail(f"{tag}: header {header} / {len(rows)} rows, expected {want} / {len(pred)}")
            continue
        checked += 1
        for i, (r, w) in enumerate(zip(rows, pred)):
            if not classifier:
                if not close(r[0], w[0]):
                    checks.fail(f"{tag} row {i}: value {r[0]} vs LightGBM {w[0]}")
                continue
            probs = w if k > 1 else [1 - w[0], w[0]]
            for j, p in enumerate(probs):
                if not close(r[1 + j], p):
                    checks.fail(f"{tag} row {i}: proba_{j} {r[1 + j]} vs LightGBM {p}")
            label = max(range(len(probs)), key=lambda j: (probs[j], -j))
            if r[0] != label:
                checks.fail(f"{tag} row {i}: label {r[0]} vs LightGBM's argmax {label}")

if checked != 2 * len(CASES):
    checks.fail(f"{checked} model files compared, expected {2 * len(CASES)}")
sys.exit(checks.finish(f"{len(CASES)} cases, {checked} model files compared"))
