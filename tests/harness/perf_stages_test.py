"""bench/perf_stages.py: samples put in their stages, milliseconds from their periods, bad input refused."""
import os
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TOOL = os.path.join(ROOT, "bench", "perf_stages.py")

# `perf script -F comm,period,ip,sym,dso` lines: 2 runs; periods in ns.
SCRIPT = """\
     forestbatch    2000000      55d0c0a01234 fb::(anonymous namespace)::CompleteImpl<fb::(anonymous namespace)::Avx512Ops>::RunTiles<512ul, true> (/work/build/forestbatch)
     forestbatch    2000000      55d0c0a01234 fb::(anonymous namespace)::CompleteImpl<fb::(anonymous namespace)::Avx512Ops>::RunTiles<512ul, true> (/work/build/forestbatch)
     forestbatch    1000000      55d0c0a05678 fb::CsvReader::Impl::ParseRows<1> (/work/build/forestbatch)
     forestbatch     500000  ffffffff81bacf18 _copy_to_iter ([kernel.kallsyms])
     forestbatch     500000  ffffffff8133cc5c clear_page_erms ([kernel.kallsyms])
     forestbatch     500000  ffffffff8177dd2e load_elf_binary ([kernel.kallsyms])
     forestbatch     500000      7f08bb7454b6 strcmp (/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2)
     forestbatch     500000      7f08bb7454b6 __memcmp_evex_movbe (/usr/lib/x86_64-linux-gnu/libc.so.6)
     forestbatch    1000000      55d0c0a09abc fb::LazyDoc::JsonElement(char const*, fb::LazyDoc::Node*) const (/work/build/forestbatch)
            bash    9000000      55d0c0a09abc main (/usr/bin/bash)
this line is not a sample
"""
WANT = [
    "| the kernel (tree walks, sums) | 2.0 | 22 % |",
    "| CSV parse | 0.5 | 11 % |",
    "| model load and compile | 0.5 | 11 % |",
    "| the read's copy out of the page cache | 0.2 | 11 % |",
    "| zeroing fresh pages | 0.2 | 11 % |",
    "| other kernel time (exec, mmap, faults, the hypervisor) | 0.2 | 11 % |",
    "| the dynamic loader | 0.2 | 11 % |",
    "| other user space | 0.2 | 11 % |",
    "| all | 4.2 | |",
]


def run(*args):
    return subprocess.run([sys.executable, TOOL, *args], capture_output=True, text=True)


with tempfile.TemporaryDirectory() as d:
    path = os.path.join(d, "script.txt")
    with open(path, "w") as f:
        f.write(SCRIPT)
    r = run(path, "2", "--script")
    if r.returncode != 0:
        sys.exit(f"exit {r.returncode}: {r.stderr}")
    for line in WANT:
        if line not in r.stdout.splitlines():
            sys.exit(f"missing {line!r} in:\n{r.stdout}")
    for args, rc, words in [((path, "0", "--script"), 2, "RUNS must be 1 or more"),
                            ((path, "2", "--script", "--comm", "nothere"), 1, "no samples of a process named nothere"),
                            ((os.path.join(d, "missing.txt"), "2", "--script"), 1, "missing.txt")]:
        r = run(*args)
        if r.returncode != rc or words not in r.stderr or "Traceback" in r.stderr:
            sys.exit(f"{args}: exit {r.returncode}, want {rc} and {words!r}:\n{r.stderr}")
print("perf_stages: ok")
