"""The sanitizer-log check of `make test-asan` (fbtest.py sanitizer-logs): which files fail it."""
import os
import subprocess
import sys
import tempfile

FBTEST = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fbtest.py")
THREAD_GONE = "==32573==Unable to get registers from thread 32512.\n"
LEAK = "==7==ERROR: LeakSanitizer: detected memory leaks\n\nDirect leak of 8 byte(s) in 1 object(s)\n"
UB = "src/x.cc:3:5: runtime error: signed integer overflow\n"


def check(files, want_rc):
    with tempfile.TemporaryDirectory() as d:
        for name, text in files.items():
            with open(os.path.join(d, name), "w") as f:
                f.write(text)
        r = subprocess.run([sys.executable, FBTEST, "sanitizer-logs", d], capture_output=True, text=True)
        if r.returncode != want_rc:
            sys.exit(f"files {sorted(files)}: exit {r.returncode}, want {want_rc}\n{r.stdout}{r.stderr}")
        for name, text in files.items():
            if text.strip() and text.strip().splitlines()[0] not in r.stdout:
                sys.exit(f"{name} was not printed:\n{r.stdout}")


check({}, 0)
check({"asan.forestbatch.1": THREAD_GONE}, 0)
check({"asan.forestbatch.1": THREAD_GONE * 2}, 0)
check({"asan.forestbatch.1": LEAK}, 1)
check({"asan.forestbatch.1": THREAD_GONE + LEAK}, 1)
check({"asan.forestbatch.1": THREAD_GONE, "ubsan.io_test.2": UB}, 1)
check({"asan.forestbatch.1": ""}, 1)  # an empty report file is still a report
check({"asan.forestbatch.1": "Unable to get registers from thread 32512.\n"}, 1)  # not LSan's exact line
print("sanitizer log check: ok")
