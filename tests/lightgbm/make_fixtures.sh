#!/bin/bash
# Makes the LightGBM fixtures in tests/lightgbm/fixtures/ with LightGBM's own
# command-line program: small models for every objective forestbatch reads,
# NaN, zero_as_missing, categorical features, random-forest mode, early
# stopping, multiclass and a linear tree (refused), and LightGBM's
# predictions (task=predict, also predict_raw_score=true and an iteration
# range) on inputs made to hit every decision edge.
#
#   tests/lightgbm/make_fixtures.sh /path/to/lightgbm [OUT_DIR]
#
# The committed fixtures were made by LightGBM built from its public source
# at commit bae0b7ba953341a32b2a9c5c5c437a1b976f576f (fixtures/LIGHTGBM_COMMIT).
# CI never runs this script: the tests read the committed files only.
#
# Data: python3 (standard library) writes the CSVs; every feature value is a
# multiple of 1/64 (exact in float32 and in decimal) or NaN, so LightGBM's
# double parser and forestbatch's float32 one read the same numbers. The
# prediction inputs add the edges: +-0, the zero band (1e-36), -0.5 / -1 /
# fractional / large categories, infinities. Outputs are LightGBM's, printed
# with 17 significant digits.
set -euo pipefail
LGBM=${1:?usage: make_fixtures.sh /path/to/lightgbm [OUT_DIR]}
HERE=$(cd "$(dirname "$0")" && pwd)
OUT=${2:-$HERE/fixtures}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
cd "$WORK"

python3 - <<'EOF'
import math, random

def q(v):  # a multiple of 1/64, printed exactly
    return repr(round(v * 64) / 64)

def write(path, rows):
    with open(path, "w") as f:
        for r in rows:
            f.write(",".join(r) + "\n")

def numeric_rows(rng, n, nf, nan_rate=0.05, zero_rate=0.0):
    X = []
    for _ in range(n):
        row = []
        for j in range(nf):
            u = rng.random()
            if u < nan_rate:
                row.append(float("nan"))
            elif u < nan_rate + zero_rate:
                row.append(0.0)
            else:
                row.append(round(rng.gauss(0, 1.5) * 64) / 64)
        X.append(row)
    return X

def fmt(v):
    return "nan" if isinstance(v, float) and math.isnan(v) else q(v) if isinstance(v, float) else str(v)

def score(x):
    g = lambda v: 0.0 if math.isnan(v) else v
    return 1.2 * g(x[0]) - 0.8 * g(x[1]) + 0.5 * g(x[2]) * g(x[3]) + (0.7 if math.isnan(x[4]) else 0.3 * g(x[4]))

rng = random.Random(20261202)
NF = 6
train = numeric_rows(rng, 600, NF, 0.06, 0.08)
valid = numeric_rows(rng, 200, NF, 0.06, 0.08)
s_train = [score(x) for x in train]
s_valid = [score(x) for x in valid]

def labelled(name, X, labels):
    write(name, [[str(l)] + [fmt(v) for v in x] for l, x in zip(labels, X)])

def binary(s, r):
    return [1 if v + r.gauss(0, 0.5) > 0 else 0 for v in s]
def multi(s, r):
    return [min(2, max(0, int((v + r.gauss(0, 0.4) + 1.5) // 1.2))) for v in s]
def reg(s, r):
    return [q(v + r.gauss(0, 0.3)) for v in s]
def positive(s, r):
    return [q(math.exp(0.4 * v) + 0.1 + abs(r.gauss(0, 0.2))) for v in s]
def counts(s, r):
    return [str(min(20, int(math.exp(0.4 * v) + r.random() * 2))) for v in s]
def prob(s, r):
    return [q(1 / (1 + math.exp(-v - r.gauss(0, 0.3)))) for v in s]
def relevance(s, r):
    return [str(min(3, max(0, int(v + r.gauss(0, 0.5) + 1.5)))) for v in s]

for name, f in [("binary", binary), ("multi", multi), ("reg", reg), ("positive", positive),
                ("counts", counts), ("prob", prob), ("relevance", relevance)]:
    labelled("train_%s.csv" % name, train, f(s_train, random.Random(1)))
    labelled("valid_%s.csv" % name, valid, f(s_valid, random.Random(2)))
# Ranking: 30 queries of 20 rows.
for split, n in [("train", 600), ("valid", 200)]:
    with open("%s_relevance.csv.query" % split, "w") as f:
        f.write("\n".join(["20"] * (n // 20)) + "\n")

# Categorical: features 0 and 1 are categories (0..9 and 0..39), 2..5 numeric.
def cat_rows(r, n):
    X = []
    for _ in range(n):
        x = numeric_rows(r, 1, NF, 0.04, 0.05)[0]
        x[0] = float(r.randrange(10)) if r.random() > 0.05 else float("nan")
        x[1] = float(r.randrange(40))
        X.append(x)
    return X
cat_train = cat_rows(rng, 800)
cat_s = [(1.0 if (not math.isnan(x[0]) and int(x[0]) in (1, 3, 7)) else -0.5) + (0.8 if int(x[1]) % 3 == 0 else -0.4)
         + 0.3 * (0 if math.isnan(x[2]) else x[2]) for x in cat_train]
labelled("train_cat.csv", cat_train, binary(cat_s, random.Random(3)))
labelled("train_cat_reg.csv", cat_train, reg(cat_s, random.Random(4)))

# Prediction inputs: fresh rows, then the edges.
edges = [0.0, -0.0, 1e-36, -1e-36, float("nan"), 0.5, -0.5, -1.0, 1.5, 31.9, 32.0, 39.0, 40.0, 100.0, 1e9,
         -1e9, float("inf"), float("-inf"), 3.984375, -3.984375]
pred = numeric_rows(random.Random(99), 200, NF, 0.08, 0.08) + cat_rows(random.Random(98), 100)
er = random.Random(97)
for _ in range(120):
    pred.append([er.choice(edges) if er.random() < 0.6 else round(er.gauss(0, 1.5) * 64) / 64 for _ in range(NF)])
def efmt(v):
    if isinstance(v, float) and math.isinf(v):
        return "inf" if v > 0 else "-inf"
    if v in (1e-36, -1e-36, 1e9, -1e9):
        return repr(v)
    return fmt(v) if not (isinstance(v, float) and v == 0.0 and math.copysign(1, v) < 0) else "-0.0"
write("predict.csv", [["0"] + [efmt(v) for v in x] for x in pred])
write("X.csv", [[efmt(v) for v in x] for x in pred])
EOF

COMMON="task=train header=false label_column=0 num_threads=1 deterministic=true force_row_wise=true seed=7 \
verbosity=-1 precise_float_parser=true num_leaves=15 num_iterations=20 min_data_in_leaf=5 learning_rate=0.2"

# name | data | extra parameters
FIXTURES=(
  "binary|binary|objective=binary"
  "binary_sigmoid|binary|objective=binary sigmoid=0.7"
  "multiclass|multi|objective=multiclass num_class=3"
  "multiclassova|multi|objective=multiclassova num_class=3 sigmoid=1.3"
  "regression|reg|objective=regression"
  "regression_sqrt|reg|objective=regression reg_sqrt=true"
  "regression_l1|reg|objective=regression_l1"
  "huber|reg|objective=huber"
  "fair|reg|objective=fair"
  "quantile|reg|objective=quantile alpha=0.7"
  "mape|positive|objective=mape"
  "poisson|counts|objective=poisson"
  "gamma|positive|objective=gamma"
  "tweedie|positive|objective=tweedie tweedie_variance_power=1.4"
  "cross_entropy|prob|objective=cross_entropy"
  "cross_entropy_lambda|prob|objective=cross_entropy_lambda"
  "lambdarank|relevance|objective=lambdarank"
  "rank_xendcg|relevance|objective=rank_xendcg"
  "zero_as_missing|reg|objective=regression zero_as_missing=true"
  "zero_as_missing_binary|binary|objective=binary zero_as_missing=true"
  "no_missing|reg|objective=regression use_missing=false"
  "categorical|cat|objective=binary categorical_feature=0,1 max_cat_to_onehot=4 cat_smooth=1 min_data_per_group=5 cat_l2=1"
  "categorical_reg|cat_reg|objective=regression categorical_feature=0,1 max_cat_to_onehot=12 min_data_per_group=5"
  "rf_binary|binary|objective=binary boosting=rf bagging_fraction=0.7 bagging_freq=1 feature_fraction=0.8"
  "rf_multiclass|multi|objective=multiclass num_class=3 boosting=rf bagging_fraction=0.6 bagging_freq=1"
  "rf_regression|reg|objective=regression boosting=rf bagging_fraction=0.7 bagging_freq=1"
  "early_stopping|binary|objective=binary num_iterations=300 learning_rate=0.5 early_stopping_round=3 metric=binary_logloss VALID"
  "early_stopping_multiclass|multi|objective=multiclass num_class=3 num_iterations=300 learning_rate=0.5 early_stopping_round=2 metric=multi_logloss VALID"
  "linear_tree|reg|objective=regression linear_tree=true"
)

for spec in "${FIXTURES[@]}"; do
  IFS='|' read -r name data params <<<"$spec"
  valid=""
  if [[ $params == *VALID* ]]; then
    params=${params/VALID/}
    valid="valid=valid_$data.csv"
  fi
  # shellcheck disable=SC2086
  "$LGBM" $COMMON data=train_$data.csv $valid $params output_model=$name.txt >/dev/null
  cp $name.txt "$OUT/$name.txt"
  [[ $name == linear_tree ]] && continue
  "$LGBM" task=predict input_model=$name.txt data=predict.csv header=false precise_float_parser=true \
    num_threads=1 verbosity=-1 output_result=$name.pred >/dev/null
  "$LGBM" task=predict input_model=$name.txt data=predict.csv header=false precise_float_parser=true \
    num_threads=1 verbosity=-1 predict_raw_score=true output_result=$name.raw >/dev/null
  cp $name.pred $name.raw "$OUT/"
done
# Iteration ranges: rounds [5, 12) of three models.
for name in multiclass rf_binary regression; do
  "$LGBM" task=predict input_model=$name.txt data=predict.csv header=false precise_float_parser=true \
    num_threads=1 verbosity=-1 start_iteration_predict=5 num_iteration_predict=7 output_result=$name.range.pred >/dev/null
  "$LGBM" task=predict input_model=$name.txt data=predict.csv header=false precise_float_parser=true \
    num_threads=1 verbosity=-1 start_iteration_predict=5 num_iteration_predict=7 predict_raw_score=true \
    output_result=$name.range.raw >/dev/null
  cp $name.range.pred $name.range.raw "$OUT/"
done
cp X.csv "$OUT/X.csv"
echo bae0b7ba953341a32b2a9c5c5c437a1b976f576f >"$OUT/LIGHTGBM_COMMIT"
echo "fixtures in $OUT"
