#!/usr/bin/python3
"""The training section of BENCHMARKS.md (issue 8: `forestbatch train` against scikit-learn),
kept between two marker lines so that bench/report.py, which rewrites the rest of the file,
and this script never touch each other's text.

  train_report.py extract BENCHMARKS.md SECTION.md   save the current section (or nothing)
  train_report.py write RESULTS.json SECTION.md CMD  make a section from train_compare.py's results
  train_report.py insert BENCHMARKS.md SECTION.md    put the section back (appended if absent)
"""
import datetime, json, os, sys

BEGIN, END = "<!-- train-bench: begin -->", "<!-- train-bench: end -->"


def section_of(text):
    b, e = text.find(BEGIN), text.find(END)
    return text[b:e + len(END)] if b >= 0 and e > b else ""


def cpu_model():
    for line in open("/proc/cpuinfo"):
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return "unknown CPU"


def write(results, out, command):
    rows = json.load(open(results))
    now = datetime.datetime.utcnow().strftime("%Y-%m-%d %H:%M UTC")
    lines = [BEGIN, "## Training: `forestbatch train` against scikit-learn", "",
             f"`{command}`, {now}, on **{cpu_model()}** ({os.cpu_count()} cores). Both fit the same",
             "75 % split with the same hyperparameters (scikit-learn's defaults, `random_state=0`) and the same",
             "thread count; fit is the training call alone (forestbatch: binning and growing, as printed by",
             "`train`; scikit-learn: `fit`), peak is the whole process's (`/usr/bin/time -v`: read, fit,",
             "predict the 25 % held out). Fit time is linear in the tree count: when scikit-learn ran fewer",
             "trees (`--sk-trees`), the speed-up is per tree. Data: scikit-learn's `make_classification`",
             "(1,000,000 x 50, 25 informative, 10 redundant, `flip_y=0.05`, `class_sep=0.8`,",
             "`random_state=3`, bench/train_compare.py). How the trainer got there, single-thread figures",
             "and the quality table: docs/train.md.", "",
             "| data set | train rows x features | trees fb / sk | threads | ROC AUC fb / sk | fit fb | fit sk | "
             "speed-up per tree | peak MB fb / sk | load average |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        trees, sk_trees = r.get("trees", 100), r.get("sk_trees", r.get("trees", 100))
        lines.append(
            f"| {r['name']} | {r['rows']:,} x {r['features']} | {trees} / {sk_trees} | {r.get('threads', '?')} | "
            f"{r['forestbatch']:.4f} / {r['sklearn']:.4f} | {r['fb_fit_s']:.1f} s | {r['sk_fit_s']:.1f} s | "
            f"{r['speedup']:.1f}x | {r['fb_peak_mb']:.0f} / {r['sk_peak_mb']:.0f} | "
            f"{' '.join(r.get('load', ['?']))} |")
    lines += ["", END]
    open(out, "w").write("\n".join(lines) + "\n")
    print("\n".join(lines))


def main():
    mode = sys.argv[1]
    if mode == "extract":
        text = open(sys.argv[2]).read() if os.path.exists(sys.argv[2]) else ""
        open(sys.argv[3], "w").write(section_of(text) + ("\n" if section_of(text) else ""))
    elif mode == "write":
        write(sys.argv[2], sys.argv[3], sys.argv[4])
    elif mode == "insert":
        section = open(sys.argv[3]).read().strip() if os.path.exists(sys.argv[3]) else ""
        if not section:
            return
        text = open(sys.argv[2]).read()
        old = section_of(text)
        text = text.replace(old, section) if old else text.rstrip("\n") + "\n\n" + section + "\n"
        open(sys.argv[2], "w").write(text if text.endswith("\n") else text + "\n")
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    main()
