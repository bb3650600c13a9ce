"""A deterministic per-file program for forestbatch's runner tests.

slow_transform.py INPUT OUTPUT [DELAY]: writes each input line reversed,
prefixed by its line number, in several flushed chunks with DELAY seconds
(default 0.002) between them, so that a kill can land mid-file. Exits 2 on a
line containing "CORRUPT" (after writing part of the output).
"""
import sys
import time

src, dst = sys.argv[1], sys.argv[2]
delay = float(sys.argv[3]) if len(sys.argv) > 3 else 0.002
with open(src) as f:
    lines = f.read().splitlines()
with open(dst, "w") as out:
    for i, line in enumerate(lines):
        if "CORRUPT" in line:
            sys.stderr.write(f"{src}:{i + 1}: corrupt line\n")
            sys.exit(2)
        out.write(f"{i},{line[::-1]}\n")
        if i % 40 == 39:
            out.flush()
            time.sleep(delay)
