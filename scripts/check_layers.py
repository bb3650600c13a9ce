#!/usr/bin/env python3
"""Checks that every cross-folder #include in src/ follows the layering table
of src/README.md.

The table's rows are `| `folder/` | what it does | may depend on |`. A file
in folder F may include a header of folder G when G is F itself, or G is
reachable from F through "may depend on" (dependencies are transitive: a
folder that may use `pipeline` may also use what `pipeline` may use). "everything
above" means every folder in an earlier row. A line under the table of the form
`Tests (`*_test.cc`) may also include: a, b` lets test files include those
folders too.

Usage: check_layers.py [SRC_DIR]      exits 1 and prints file:line: message per violation
       check_layers.py --self-test    checks the checker on a made-up tree
"""
import os
import re
import sys
import tempfile

ROW = re.compile(r"^\|\s*`([a-z_/]+)/`\s*\|[^|]*\|\s*(.*?)\s*\|\s*$")
INCLUDE = re.compile(r'^\s*#\s*include\s*"([a-z_]+(?:/[a-z_]+)*)/[^"/]+"')
TEST_EXTRA = re.compile(r"^Tests \(`\*_test\.cc`\) may also include:\s*(.+?)\.?\s*$")


def parse_table(readme_text):
    """Returns (ordered folders, {folder: set of direct deps}, test extras)."""
    order, direct, test_extra = [], {}, set()
    for line in readme_text.splitlines():
        m = ROW.match(line.strip())
        if m:
            folder, deps = m.group(1), m.group(2)
            order.append(folder)
            if "everything above" in deps:
                direct[folder] = set(order[:-1])
            else:
                # "storage (its stream interfaces only)" -> storage
                deps = re.sub(r"\([^)]*\)", "", deps)
                direct[folder] = {d.strip().strip("`").rstrip("/") for d in deps.split(",")
                                  if d.strip() and d.strip() != "(nothing)"}
            continue
        m = TEST_EXTRA.match(line.strip())
        if m:
            test_extra |= {d.strip().strip("`").rstrip("/") for d in m.group(1).split(",")}
    for folder, deps in direct.items():
        unknown = deps - set(order)
        if unknown:
            raise SystemExit(f"src/README.md: row {folder}/ names unknown folders: {', '.join(sorted(unknown))}")
    return order, direct, test_extra


def closure(direct):
    allowed = {}
    for folder in direct:
        seen, todo = {folder}, [folder]
        while todo:
            for d in direct.get(todo.pop(), ()):
                if d not in seen:
                    seen.add(d)
                    todo.append(d)
        allowed[folder] = seen
    return allowed


def folder_of(rel_path, folders):
    """The longest table folder that contains rel_path (e.g. model/import)."""
    best = None
    for f in folders:
        if rel_path == f or rel_path.startswith(f + "/"):
            if best is None or len(f) > len(best):
                best = f
    return best


def check(src_dir):
    with open(os.path.join(src_dir, "README.md"), encoding="utf-8") as fh:
        order, direct, test_extra = parse_table(fh.read())
    allowed = closure(direct)
    problems = []
    for root, _, files in os.walk(src_dir):
        for name in sorted(files):
            if not name.endswith((".cc", ".h")):
                continue
            path = os.path.join(root, name)
            rel = os.path.relpath(path, src_dir)
            own = folder_of(os.path.dirname(rel), order)
            if own is None:
                problems.append(f"{path}:1: folder {os.path.dirname(rel)}/ has no row in {src_dir}/README.md")
                continue
            ok = allowed[own] | (test_extra if name.endswith("_test.cc") else set())
            with open(path, encoding="utf-8", errors="replace") as fh:
                for lineno, line in enumerate(fh, 1):
                    m = INCLUDE.match(line)
                    if not m:
                        continue
                    target = folder_of(m.group(1), order)
                    if target is None or target in ok:
                        continue
                    problems.append(f"{path}:{lineno}: {own}/ may not include {m.group(1)}/ "
                                    f"(src/README.md: {own}/ may depend on "
                                    f"{', '.join(sorted(allowed[own] - {own})) or 'nothing'})")
    return problems


def self_test():
    readme = """| folder | what | may depend on |
|---|---|---|
| `common/` | x | (nothing) |
| `model/` | x | common |
| `model/import/` | x | model, common |
| `io/` | x | common, storage (its stream interfaces only) |
| `storage/` | x | common |
| `cli/` | x | everything above |

Tests (`*_test.cc`) may also include: io.
"""
    files = {
        "model/import/a.cc": '#include "model/forest.h"\n#include "common/status.h"\n',  # ok (transitive too)
        "model/b.cc": '#include "model/import/x.h"\n',  # bad: up
        "model/b_test.cc": '#include "io/r.h"\n',  # ok: test extra
        "common/c.cc": '\n#include "io/r.h"\n',  # bad, line 2
        "cli/d.cc": '#include "io/r.h"\n#include <vector>\n',  # ok
        "io/e.cc": '#include "storage/s.h"\n',  # ok
    }
    with tempfile.TemporaryDirectory() as d:
        with open(os.path.join(d, "README.md"), "w") as fh:
            fh.write(readme)
        for rel, text in files.items():
            os.makedirs(os.path.join(d, os.path.dirname(rel)), exist_ok=True)
            with open(os.path.join(d, rel), "w") as fh:
                fh.write(text)
        got = sorted(p.split(": ")[0].replace(d + "/", "") for p in check(d))
    want = ["common/c.cc:2", "model/b.cc:1"]
    if got != want:
        print(f"self-test failed: got {got}, want {want}", file=sys.stderr)
        return 1
    return 0


def main(argv):
    if argv[1:] == ["--self-test"]:
        return self_test()
    src_dir = argv[1] if len(argv) > 1 else "src"
    problems = check(src_dir)
    for p in problems:
        print(p, file=sys.stderr)
    if problems:
        print(f"check_layers: {len(problems)} include(s) break the layering of {src_dir}/README.md", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
