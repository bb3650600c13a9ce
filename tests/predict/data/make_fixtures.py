# Regenerates the small named-feature fixtures of tests/predict (run with
# /usr/bin/python3: Debian's scikit-learn 1.2.1, pandas 1.5.3). Outputs are
# what scikit-learn and pandas give, used as expected results by run_e2e.sh.
import io
import joblib
import numpy as np
import pandas as pd
from sklearn.datasets import load_iris, load_diabetes
from sklearn.ensemble import RandomForestClassifier, ExtraTreesRegressor

iris = load_iris(as_frame=True)
X = iris.data.rename(columns=lambda c: c.replace(" (cm)", "").replace(" ", "_"))
y = iris.target_names[iris.target]  # string labels
clf = RandomForestClassifier(n_estimators=5, max_depth=3, random_state=0).fit(X, y)
joblib.dump(clf, "iris_named.joblib")
# Input: columns shuffled, an extra text column, a quoted field, CRLF endings.
inp = X.iloc[::7].copy()
inp.insert(1, "note", ["a, b" if i % 2 else "x" for i in range(len(inp))])
inp = inp[["petal_width", "note", "sepal_length", "petal_length", "sepal_width"]]
inp.to_csv("iris_named.csv", index=False, lineterminator="\r\n")
pred = clf.predict(X.iloc[::7])
pd.DataFrame(pred).to_csv("iris_named.seed.csv")
proba = clf.predict_proba(X.iloc[::7])
with open("iris_named.proba.csv", "w") as f:
    f.write("prediction," + ",".join("proba_" + c for c in clf.classes_) + "\n")
    for lab, row in zip(pred, proba):
        f.write(lab + "," + ",".join(repr(float(v)) for v in row) + "\n")

d = load_diabetes()
reg = ExtraTreesRegressor(n_estimators=4, max_depth=4, random_state=0).fit(d.data, d.target)
joblib.dump(reg, "diabetes.joblib")
pd.DataFrame(d.data[:50]).to_csv("diabetes.csv", index=False, header=False)
pd.DataFrame(reg.predict(d.data[:50].astype(np.float32))).to_csv("diabetes.seed.csv")
