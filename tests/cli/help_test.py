"""Every command's --help and every command-line error, through the binary.

help_test.py FORESTBATCH: walks `forestbatch --help` and every subcommand's
(and their subcommands'), and checks that each
- exits 0 and ends with the exit codes (every code of common/exit_codes.h);
- shows each option's default: a number-typed option shows it (=N) or states
  it in words (its description says "default"), and no option whose default
  is a number is typed TEXT;
and that a parse error in any command exits 2 with the `forestbatch: error:`
prefix (unknown option, bad number, unknown command).
"""
import re
import subprocess
import sys

FB = sys.argv[1]
CODES = [0, 1, 2, 3, 4, 5, 6, 7, 70, 75]
NUMERIC = {"INT", "UINT", "FLOAT", "NUM", "NUMBER"}
WIDTH = 30  # CLI11's option column
failures = []


def check(cond, msg):
    if not cond:
        failures.append(msg)


def fb(*args):
    return subprocess.run([FB, *args], capture_output=True, text=True, timeout=30)


def section(text, title):
    """The lines of a help section ("Options:", "Subcommands:")."""
    out, inside = [], False
    for line in text.splitlines():
        if line == title:
            inside = True
            continue
        if inside and line and not line.startswith(" "):
            break
        if inside:
            out.append(line)
    return out


# names, then TYPE[:validator][=default], then REQUIRED, then the description
# (on the next line when the option column is full).
OPTION = re.compile(r"^  (?P<names>-\S+)"
                    r"(?: (?P<type>[A-Za-z|]+(?::(?:\{[^}]*\}|[A-Z]+ in \[[^\]]*\]|[A-Z]+))?)(?:=(?P<default>\S*))?)?"
                    r"(?P<required> REQUIRED)?(?:\s+(?P<desc>.*))?$")


def options(text):
    """(names, type, default, required, description) of each option line."""
    lines = section(text, "Options:")
    out = []
    for i, line in enumerate(lines):
        if not line.startswith("  -"):
            continue
        m = OPTION.match(line)
        check(m is not None, f"cannot read the option line {line!r}")
        if not m:
            continue
        desc = m.group("desc") or ""
        if not desc and i + 1 < len(lines) and lines[i + 1].startswith(" " * WIDTH):
            desc = lines[i + 1].strip()
        out.append((m.group("names"), m.group("type") or "", m.group("default") or "", bool(m.group("required")),
                    desc))
    return out


def is_number(s):
    try:
        float(s)
        return True
    except ValueError:
        return False


def check_help(words):
    name = " ".join(words) or "forestbatch"
    r = fb(*words, "--help")
    check(r.returncode == 0, f"{name} --help exited {r.returncode}: {r.stderr}")
    text = r.stdout
    tail = text[text.rfind("Exit codes:"):] if "Exit codes:" in text else ""
    check(tail != "", f"{name} --help lists no exit codes")
    listed = [int(m.group(1)) for m in re.finditer(r"^ +(\d+)  \S", tail, re.M)]
    check(listed == CODES, f"{name} --help exit codes {listed}")
    checked = 0
    for first, typ, default, required, desc in options(text):
        if not typ:
            continue  # a flag
        base = typ.split(":")[0].split("|")[0]
        check(default != "[]", f"{name} {first}: an empty list shown as its default")
        if default and is_number(default):
            check(base in NUMERIC, f"{name} {first}: default {default} but typed {typ}")
        if base in NUMERIC and not required:
            check(default != "" or "default" in desc.lower(),
                  f"{name} {first}: a number without its default ({typ!r} {desc!r})")
        checked += 1
    subs = [l.split()[0] for l in section(text, "Subcommands:") if l.strip()]
    return subs, checked


def main():
    top, _ = check_help([])
    check(len(top) >= 13, f"only {top} listed")
    seen = 0
    todo = [[c] for c in top]
    while todo:
        words = todo.pop(0)
        subs, n = check_help(words)
        seen += 1
        todo.extend(words + [s] for s in subs)
        # Parse errors carry the prefix every other error has, and exit 2.
        r = fb(*words, "--no-such-option")
        check(r.returncode == 2 and r.stderr.startswith("forestbatch: error:"),
              f"{' '.join(words)} --no-such-option: {r.returncode} {r.stderr!r}")
    # Defaults are the values the command really uses, typed as numbers.
    run_help = fb("run", "--help").stdout
    for opt, want in [("--lease", "FLOAT:FLOAT in [1 - 86400]=60"), ("--retries", "INT:INT in [0 - 100]=3"),
                      ("--grace", "FLOAT:FLOAT in [0 - 3600]=20"), ("--task-retries", "INT:INT in [0 - 100]=2"),
                      ("--backoff", "FLOAT:FLOAT in [0 - 3600]=1")]:
        check(f"{opt} {want}" in run_help, f"run --help: {opt} is not shown as {want}")
    check("--price-per-vcpu-hour FLOAT" in run_help, "run --help: the price is not typed FLOAT")
    check("--trees INT" in fb("train", "--help").stdout, "train --help: --trees is not typed INT")
    for args in (["run", "-i", "a", "-o", "b", "--workers", "many"], ["nosuchcommand"], ["predict", "--threads"],
                 []):
        r = fb(*args)
        check(r.returncode == 2 and r.stderr.startswith("forestbatch: error:"),
              f"{args}: {r.returncode} {r.stderr!r}")
    check(seen >= 15, f"only {seen} commands' help seen")
    if failures:
        print("\n".join(failures))
        sys.exit(1)
    print(f"help: {seen} commands, each with its defaults and exit codes; parse errors prefixed")


main()
