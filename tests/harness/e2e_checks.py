"""What the end-to-end parity scripts (tests/xgboost/predict_e2e.py,
tests/lightgbm/predict_e2e.py) share: running the binary, collecting
failures, reading its CSV outputs and checking their shape before any value.

Standard library only. A script builds one `Checks`, records every problem
with `fail` (or through `run` and `shape_ok`), and ends with
`sys.exit(checks.finish(summary))`, which prints the first failures and the
summary line and returns the exit status.
"""
import csv
import subprocess


class Checks:
    def __init__(self, forestbatch):
        self.fb = forestbatch
        self.failures = []

    def fail(self, message):
        self.failures.append(message)

    def run(self, args):
        """Runs `forestbatch ARGS`; the completed process, or None (recorded
        as a failure with its exit status and message) when it did not exit 0."""
        p = subprocess.run([self.fb] + args, capture_output=True, text=True)
        if p.returncode != 0:
            self.fail(f"{' '.join(args)}: exit {p.returncode}: {p.stderr.strip()}")
            return None
        return p

    def shape_ok(self, tag, header, rows, want, n):
        """The output has exactly the columns `want`, n rows, and every row as
        many fields as the header."""
        if header != want:
            self.fail(f"{tag}: header {header}, expected {want}")
            return False
        if len(rows) != n:
            self.fail(f"{tag}: {len(rows)} rows, expected {n}")
            return False
        bad = [i for i, r in enumerate(rows) if len(r) != len(want)]
        if bad:
            self.fail(f"{tag}: row {bad[0]} has {len(rows[bad[0]])} fields, expected {len(want)}")
            return False
        return True

    def finish(self, summary, shown=30):
        for f in self.failures[:shown]:
            print("FAIL", f)
        print(f"{summary}, {len(self.failures)} failures")
        return 1 if self.failures else 0


def read_table(path, convert=float):
    """(header, rows) of a CSV file with a header line; cells through `convert`
    (None keeps the text)."""
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    if not rows:
        return [], []
    body = rows[1:] if convert is None else [[convert(v) for v in r] for r in rows[1:]]
    return rows[0], body
