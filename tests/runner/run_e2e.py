"""End-to-end tests of `forestbatch run` / `worker` / `resume` / `cancel`.

run_e2e.py FORESTBATCH SOURCE_DIR TEST: runs one test (kill, corrupt, sigterm,
exec_seed, seed_env) in a fresh temporary folder; exits non-zero on failure.
"""
import json
import os
import random
import shlex
import shutil
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "harness"))
from job_e2e import FB, MODEL, PY, SEED_CSV, SRC, check, exec_cmd, main, run, status, wait_for, write_seed_rows  # noqa: E402


def make_inputs(root, n, lines=160, corrupt=()):
    for i in range(n):
        sub = "" if i % 3 else f"part{i % 2}/"
        write_seed_rows(os.path.join(root, "in", f"{sub}file{i:03d}.csv"), i, lines, i in corrupt)


def tree(root):
    """relative path -> bytes, every file (dot files too). While workers run, a temporary
    (".fbtmp.") can be renamed into place between listing the folder and opening it; such a
    file is skipped. Any other file that vanishes is an error."""
    out = {}
    for d, _, files in os.walk(root):
        for name in files:
            p = os.path.join(d, name)
            try:
                with open(p, "rb") as f:
                    out[os.path.relpath(p, root)] = f.read()
            except FileNotFoundError:
                if ".fbtmp." not in name:
                    raise
    return out


def outputs(root):
    """The outputs: no hidden file or folder (manifests, claims)."""
    return {k: v for k, v in tree(root).items() if not any(p.startswith(".") for p in k.split(os.sep))}




def last_job(cwd, state):
    r = run(["jobs", "--state", state], cwd)
    return r.stdout.strip().splitlines()[-1].split()[0]


def resume_hint(stderr, job, state_abs):
    """The command a job that did not succeed prints to resume it, as argv
    (its forestbatch replaced by the binary under test)."""
    marker = "to resume it: "
    lines = [l for l in stderr.splitlines() if marker in l]
    check(len(lines) == 1, f"no resume command in: {stderr}")
    cmd = lines[0].split(marker, 1)[1]
    check(cmd == f"forestbatch resume {job} --state {shlex.quote(state_abs)}", f"resume command: {cmd}")
    argv = shlex.split(cmd)
    return [FB] + argv[1:]


def children(pid):
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return [int(x) for x in f.read().split()]
    except OSError:
        return []


def no_temporaries(root):
    temps = [k for k in tree(root) if ".fbtmp." in k]
    check(not temps, f"temporaries left behind: {temps}")


def test_kill(tmp, model=False, dynamic=False):
    make_inputs(tmp, 40, lines=12000 if model else 160)
    how = ["--model", MODEL, "--format", "seed"] if model else ["--exec", exec_cmd()]
    common = how + ["--workers", "3", "--progress", "none", "--backoff", "0.05"]
    if dynamic:
        common += ["--schedule", "dynamic", "--lease", "2"]
    t0 = time.monotonic()
    ref = run(["run", "-i", "in", "-o", "ref", "--state", "ref-state"] + common, tmp)
    # Kill moments scale with how long an uninterrupted run takes here, so the
    # kills land mid-run on a fast idle machine as on a slow loaded one.
    span = max(time.monotonic() - t0, 0.05)
    check(ref.returncode == 0, f"reference run failed: {ref.stdout} {ref.stderr}")
    expected = outputs(os.path.join(tmp, "ref"))
    check(len(expected) == 40, f"reference has {len(expected)} outputs")
    rng = random.Random(int(os.environ.get("FB_KILL_SEED", "1234")))
    job = None
    kills = 0
    # At least 14 rounds, and more (up to 60) until enough kills have landed:
    # a run that finished before its kill moment shortens the next moments.
    scale = 1.0
    round_ = 0
    while round_ < 14 or (kills < 5 and round_ < 60):
        round_ += 1
        kills_before = kills
        if job is not None and rng.random() < 0.5:
            args = ["resume", job, "--state", "st", "--progress", "none"]
        else:
            args = ["run", "-i", "in", "-o", "out", "--state", "st"] + common
        p = subprocess.Popen([FB] + args, cwd=tmp, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(rng.uniform(0.1, 0.9) * span * scale)
        if rng.random() < 0.5:
            # Kill one worker, let the supervisor restart it, then maybe the whole run.
            kids = children(p.pid)
            if kids:
                os.kill(rng.choice(kids), signal.SIGKILL)
                kills += 1
            time.sleep(rng.uniform(0.0, 0.5) * span * scale)
        if p.poll() is None:
            p.send_signal(signal.SIGKILL)
            kills += 1
        p.wait()
        scale = min(1.0, scale * 1.25) if kills > kills_before else scale * 0.6
        if os.path.exists(os.path.join(tmp, "st", "jobs.db")):
            job = last_job(tmp, "st")
        # Keep work to do: drop some outputs or manifests, as a lost write would.
        out_dir = os.path.join(tmp, "out")
        for d, _, files in os.walk(out_dir):
            for name in files:
                if ".fbtmp." not in name and rng.random() < 0.1:
                    os.remove(os.path.join(d, name))
        # Whatever the moment, every output present is complete and correct.
        got = outputs(os.path.join(tmp, "out")) if os.path.isdir(os.path.join(tmp, "out")) else {}
        for k, v in got.items():
            if os.path.exists(os.path.join(tmp, "out", os.path.dirname(k), "." + os.path.basename(k) + ".fbmanifest.json")):
                check(v == expected[k], f"round {round_}: {k} has a manifest but differs from the reference")
    check(kills >= 5, f"only {kills} kills happened")
    final = run(["resume", job, "--state", "st", "--progress", "none"], tmp)
    check(final.returncode == 0, f"final resume failed ({final.returncode}): {final.stdout} {final.stderr}")
    got = outputs(os.path.join(tmp, "out"))
    check(sorted(got) == sorted(expected), f"output set differs: {sorted(set(got) ^ set(expected))}")
    for k in expected:
        check(got[k] == expected[k], f"{k} differs from the uninterrupted run")
    no_temporaries(os.path.join(tmp, "out"))
    st = status(tmp, "st", job)
    check(st["state"] == "succeeded" and st["files"]["failed"] == 0, f"final status {st['state']} {st['files']}")
    check(st["files"]["done"] + st["files"]["skipped"] == 40, f"files {st['files']}")
    # A further run redoes nothing.
    again = run(["run", "-i", "in", "-o", "out", "--state", "st", "--json"] + common, tmp)
    check(again.returncode == 0, "rerun failed")
    js = json.loads(again.stdout)
    check(js["files"]["done"] == 0 and js["files"]["skipped"] == 40, f"rerun did work: {js['files']}")
    print(f"kill: {kills} kills over 14 rounds; final outputs identical to the uninterrupted run")


def test_kill_model(tmp):
    test_kill(tmp, model=True)


def test_kill_dynamic(tmp):
    test_kill(tmp, dynamic=True)


def manifests(root):
    return {k: json.loads(v) for k, v in tree(root).items() if k.endswith(".fbmanifest.json")}


def test_dynamic(tmp):
    # The same outputs as the static schedule, each made once, by tasks the
    # manifests, the claims and `status` name.
    make_inputs(tmp, 24, lines=400)
    common = ["--model", MODEL, "--format", "seed", "--workers", "3", "--progress", "none"]
    ref = run(["run", "-i", "in", "-o", "ref", "--state", "st"] + common, tmp)
    check(ref.returncode == 0, f"static run failed: {ref.stderr}")
    r = run(["run", "-i", "in", "-o", "out", "--state", "st", "--schedule", "dynamic", "--lease", "5", "--json"]
            + common, tmp)
    check(r.returncode == 0, f"dynamic run failed ({r.returncode}): {r.stdout} {r.stderr}")
    st = json.loads(r.stdout)
    check(st["files"]["done"] == 24 and st["files"]["failed"] == 0, f"files {st['files']}")
    check(st["spec"]["schedule"] == "dynamic", f"spec {st['spec']}")
    check(sum(t["files_done"] for t in st["tasks"]) == 24, f"tasks {st['tasks']}")
    expected, got = outputs(os.path.join(tmp, "ref")), outputs(os.path.join(tmp, "out"))
    check(sorted(got) == sorted(expected), f"output set differs: {sorted(set(got) ^ set(expected))}")
    for k in expected:
        check(got[k] == expected[k], f"{k} differs from the static run")
    ms = manifests(os.path.join(tmp, "out"))
    check(len(ms) == 24 and all(m["task"] in (0, 1, 2) and m["host"] for m in ms.values()), "manifest tasks")
    by_task = {t["index"]: t["files_done"] for t in st["tasks"]}
    for t in range(3):
        check(sum(1 for m in ms.values() if m["task"] == t) == by_task[t], f"task {t}: status and manifests disagree")
    claims = [json.loads(v) for k, v in tree(os.path.join(tmp, "st", "claims")).items() if k.endswith(".claim")]
    check(len(claims) == 24 and all(c["state"] == "done" for c in claims), f"{len(claims)} claims")
    check({c["file"]: c["task"] for c in claims} == {m["input"]: m["task"] for m in ms.values()},
          "claims and manifests name different tasks")
    no_temporaries(os.path.join(tmp, "out"))
    # A worker alone without a run id is refused, naming what to give.
    w = run(["worker", "-i", "in", "-o", "w", "--model", MODEL, "--schedule", "dynamic"], tmp,
            env={k: v for k, v in os.environ.items() if k not in ("AWS_BATCH_JOB_ID", "SLURM_ARRAY_JOB_ID")})
    check(w.returncode == 2 and "--claims" in w.stderr, f"{w.returncode} {w.stderr}")
    # Workers started by hand share the files through OUT/.forestbatch-claims/<job>.
    procs = [subprocess.Popen([FB, "worker", "-i", "in", "-o", "w", "--model", MODEL, "--format", "seed",
                               "--schedule", "dynamic", "--job", "hand", "--index", str(i), "--count", "2"],
                              cwd=tmp, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for i in range(2)]
    for p in procs:
        out, err = p.communicate(timeout=120)
        check(p.returncode == 0, f"worker: {p.returncode} {out} {err}")
    got = outputs(os.path.join(tmp, "w"))
    check(got == expected, "hand-started dynamic workers differ from the static run")
    check(os.path.isdir(os.path.join(tmp, "w", ".forestbatch-claims", "hand")), "claims folder")
    print(f"dynamic: 24 files over 3 tasks {sorted(by_task.values())}, identical to static")


def test_dynamic_stall(tmp):
    # One worker frozen mid-file (SIGSTOP, a paused VM or a lost node): the
    # others take its file over after the lease and finish the job; when it
    # wakes it finds its claim lost and exits cleanly.
    make_inputs(tmp, 12, lines=400)
    slow = ["--exec", exec_cmd("0.05"), "--workers", "3", "--progress", "none"]
    ref = run(["run", "-i", "in", "-o", "ref", "--state", "st"] + slow, tmp)
    check(ref.returncode == 0, f"static run failed: {ref.stderr}")
    p = subprocess.Popen([FB, "run", "-i", "in", "-o", "out", "--state", "st", "--schedule", "dynamic", "--lease",
                          "1"] + slow, cwd=tmp, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    wait_for(lambda: len(children(p.pid)) == 3, "three workers")

    def read_claim(path):
        """The claim at `path`, or None: workers replace and remove claims while this reads them."""
        try:
            with open(path) as f:
                return json.loads(f.read())
        except (OSError, ValueError):
            return None

    def held():
        """(path, claim) of a file a worker is processing now."""
        root = os.path.join(tmp, "st", "claims")
        for d, _, files in os.walk(root):
            for name in files:
                if not name.endswith(".claim"):
                    continue
                c = read_claim(os.path.join(d, name))
                if c and c["state"] == "claimed" and c["owner"]["pid"] in children(p.pid):
                    return os.path.relpath(os.path.join(d, name), root), c
        return None

    frozen = None
    for _ in range(50):
        wait_for(lambda: held() is not None, "a held claim")
        path, c = held() or (None, None)
        if c is None:
            continue
        os.kill(c["owner"]["pid"], signal.SIGSTOP)
        now = read_claim(os.path.join(tmp, "st", "claims", path))
        if now and now["token"] == c["token"] and now["state"] == "claimed":
            frozen = c
            break
        os.kill(c["owner"]["pid"], signal.SIGCONT)  # it finished just before: try another
    check(frozen is not None, "never froze a worker mid-file")
    try:
        wait_for(lambda: len(manifests(os.path.join(tmp, "out"))) == 12, "every output without the frozen task", 90)
    finally:
        os.kill(frozen["owner"]["pid"], signal.SIGCONT)
    out, err = p.communicate(timeout=60)
    check(p.returncode == 0, f"run: {p.returncode} {out} {err}")
    expected, got = outputs(os.path.join(tmp, "ref")), outputs(os.path.join(tmp, "out"))
    check(got == expected, "outputs differ from the static run")
    no_temporaries(os.path.join(tmp, "out"))
    logs = "".join(v.decode() for k, v in tree(os.path.join(tmp, "st", "logs")).items())
    check(f"took over the claim of task {frozen['task']}" in logs, "no takeover logged")
    print("dynamic_stall: a frozen task's file was taken over; outputs identical; the task exited cleanly")


def test_corrupt(tmp):
    make_inputs(tmp, 8, corrupt={5})
    r = run(["run", "-i", "in", "-o", "out", "--state", "st", "--workers", "2", "--retries", "2", "--backoff", "0",
             "--exec", exec_cmd(), "--progress", "none", "--json"], tmp)
    check(r.returncode == 1, f"expected exit 1 (some files failed), got {r.returncode}: {r.stderr}")
    js = json.loads(r.stdout)
    check(js["state"] == "failed", js["state"])
    check(js["files"]["done"] == 7 and js["files"]["failed"] == 1, js["files"])
    ff = js["failed_files"]
    check(len(ff) == 1 and ff[0]["input"] == "file005.csv" and ff[0]["attempts"] == 3, ff)
    check("status 2" in ff[0]["error"], ff[0]["error"])
    got = outputs(os.path.join(tmp, "out"))
    check(len(got) == 7 and "file005.csv" not in got, sorted(got))
    no_temporaries(os.path.join(tmp, "out"))
    cat = [json.loads(l) for l in open(os.path.join(tmp, js["catalog"]))]
    check(len(cat) == 7, f"catalogue has {len(cat)} lines")
    check(all(c["rows"] == 160 and len(c["sha256"]) == 64 for c in cat), cat[0])
    log = run(["logs", js["job"], "--state", "st"], tmp).stdout
    check("FAILED" in log and "corrupt line" in log, log)
    # The run said how to resume; with the file repaired, that exact command
    # (from another folder) finishes the job.
    again = resume_hint(r.stderr, js["job"], os.path.join(tmp, "st"))
    make_inputs(tmp, 8)
    r = subprocess.run(again + ["--progress", "none"], cwd="/", capture_output=True, text=True, timeout=120)
    check(r.returncode == 0, f"the printed resume command failed ({r.returncode}): {r.stderr}")
    check("to resume it" not in r.stderr, r.stderr)
    check(len(outputs(os.path.join(tmp, "out"))) == 8, "resume did not make the repaired file")
    print("corrupt: 1 failed after 3 attempts, 7 done, exit 1; the printed resume command finishes it")


def test_corrupt_model(tmp):
    make_inputs(tmp, 6)
    bad = os.path.join(tmp, "in", "file004.csv")
    lines = open(bad).read().splitlines()
    lines[9] = lines[9].replace(",", ",x", 1)  # a non-number in line 10
    open(bad, "w").write("\n".join(lines) + "\n")
    r = run(["run", "-i", "in", "-o", "out", "--state", "st", "--workers", "2", "--retries", "1", "--backoff", "0",
             "--model", MODEL, "--progress", "none", "--json"], tmp)
    check(r.returncode == 1, f"expected exit 1, got {r.returncode}: {r.stderr}")
    js = json.loads(r.stdout)
    check(js["files"]["done"] == 5 and js["files"]["failed"] == 1, js["files"])
    err = js["failed_files"][0]["error"]
    check("file004.csv" in err and ":10:" in err, err)
    got = outputs(os.path.join(tmp, "out"))
    check(len(got) == 5 and "file004.csv" not in got, sorted(got))
    no_temporaries(os.path.join(tmp, "out"))
    cat = [json.loads(l) for l in open(os.path.join(tmp, js["catalog"]))]
    check(len(cat) == 5 and all(sum(c["class_counts"]) == c["rows"] == 160 for c in cat), cat[:1])
    print("corrupt_model: the bad file fails with its line, the others are done, exit 1")


def test_sigterm(tmp):
    make_inputs(tmp, 12, lines=400)
    common = ["--exec", exec_cmd("0.03"), "--workers", "2", "--progress", "none", "--grace", "5"]
    ref = run(["run", "-i", "in", "-o", "ref", "--state", "ref-state", "--exec", exec_cmd("0"), "--progress", "none"],
              tmp)
    check(ref.returncode == 0, ref.stderr)
    expected = outputs(os.path.join(tmp, "ref"))
    p = subprocess.Popen([FB, "run", "-i", "in", "-o", "out", "--state", "st"] + common, cwd=tmp,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(1.0)
    t0 = time.time()
    p.send_signal(signal.SIGTERM)
    out, err = p.communicate(timeout=30)
    check(p.returncode == 75, f"expected exit 75 after SIGTERM, got {p.returncode}: {err}")
    check(time.time() - t0 < 8, "did not stop within the grace period")
    job = last_job(tmp, "st")
    st = status(tmp, "st", job)
    check(st["state"] == "interrupted", st["state"])
    got = outputs(os.path.join(tmp, "out"))
    check(0 < len(got) < 12, f"{len(got)} outputs after SIGTERM")
    for k, v in got.items():
        check(v == expected[k], f"{k} is not complete")
    no_temporaries(os.path.join(tmp, "out"))
    # An interrupted run says how to resume it, runnable from any folder.
    again = resume_hint(err, job, os.path.join(tmp, "st"))
    # cancel: the supervisor stops its workers, the job is marked cancelled.
    p = subprocess.Popen(again + ["--progress", "none"], cwd="/", stdout=subprocess.DEVNULL,
                         stderr=subprocess.PIPE, text=True)
    time.sleep(0.7)
    c = run(["cancel", job, "--state", "st"], tmp)
    check(c.returncode == 0, c.stderr)
    _, err = p.communicate(timeout=30)
    check(p.returncode == 75, f"cancelled run exited {p.returncode}")
    check(status(tmp, "st", job)["state"] == "cancelled", "not cancelled")
    check(resume_hint(err, job, os.path.join(tmp, "st")) == again, "a cancelled job's resume command differs")
    r = subprocess.run(again + ["--progress", "none"], cwd="/", capture_output=True, text=True, timeout=120)
    check(r.returncode == 0, r.stderr)
    check("to resume it" not in r.stderr, r.stderr)
    got = outputs(os.path.join(tmp, "out"))
    check(got == expected, "outputs after resume differ")
    print("sigterm: exit 75, complete outputs only, says how to resume; cancel; the printed resume completes")


def test_exec_seed(tmp):
    shutil.copy(os.path.join(SRC, "examples", "seed", "model.joblib"), tmp)
    seed = open(SEED_CSV).read().splitlines()
    os.makedirs(os.path.join(tmp, "in"))
    for i in range(3):
        with open(os.path.join(tmp, "in", f"test-data{i}.csv"), "w") as f:
            f.write("\n".join(seed[i * 300:(i + 1) * 300]) + "\n")
    predict = os.path.join(SRC, "examples", "seed", "reference", "predict.py")
    r = run(["run", "-i", "in", "-o", "out", "--workers", "2", "--progress", "none", "--exec",
             f"{PY} {predict} {{input}} {{output}}"], tmp)
    check(r.returncode == 0, f"{r.stdout} {r.stderr}")
    for i in range(3):
        name = f"test-data{i}.csv"
        direct = os.path.join(tmp, "direct-" + name)
        subprocess.run([PY, predict, os.path.join(tmp, "in", name), direct], cwd=tmp, check=True,
                       capture_output=True)
        got = open(os.path.join(tmp, "out", name), "rb").read()
        check(got == open(direct, "rb").read(), f"{name} differs from predict.py run directly")
        check(got.startswith(b",0\n") and got.count(b"\n") == 300, "not the seed's output shape")
    print("exec_seed: predict.py under forestbatch run --exec matches predict.py run directly")


def test_seed_env(tmp):
    # `worker` alone, configured like the seed's container: env only, no state.
    make_inputs(tmp, 5)
    outs = []
    for idx in range(3):
        env = dict(os.environ, INPUT_DIR="in", OUTPUT_DIR="out", NUMBER_OF_WORKERS="3",
                   AWS_BATCH_JOB_ARRAY_INDEX=str(idx))
        r = run(["worker", "--exec", exec_cmd()], tmp, env=env)
        check(r.returncode == 0, r.stderr)
        check("AWS_BATCH_JOB_ARRAY_INDEX" in r.stdout, r.stdout)
        outs.append(r.stdout)
    # 5 files, 3 workers: ceil = 2 -> 2, 2, 1.
    check("2 files" in outs[0].splitlines()[-1] and "1 files" in outs[2].splitlines()[-1], outs)
    check(len(outputs(os.path.join(tmp, "out"))) == 5, "missing outputs")
    check(not os.path.exists(os.path.join(tmp, ".forestbatch")), "a lone worker wrote state")
    print("seed_env: INPUT_DIR/OUTPUT_DIR/NUMBER_OF_WORKERS/AWS_BATCH_JOB_ARRAY_INDEX honoured")


HOSTILE = ["$(touch PWNED){output}.csv", "$(touch PWNED).csv", "`touch PWNED`.csv",
           "q'uo\"te;touch PWNED.csv", "new\nline.csv", "-rf.csv", "{input}.csv"]


def test_exec_hostile(tmp):
    # File names as an attacker would choose them, through run --exec with
    # and without a shell: every file copied faithfully, no command run.
    os.makedirs(os.path.join(tmp, "in"))
    for i, name in enumerate(HOSTILE):
        with open(os.path.join(tmp, "in", name), "w") as f:
            f.write(f"{i}\n")
    for k, (cmd, shell) in enumerate([("cp {input} {output}", False), ("cp {input} {output}", True),
                                      ('cp "{input}" "{output}"', True),
                                      ("cat < {input} > {output}", True)]):
        out = f"out{k}"
        r = run(["run", "-i", "in", "-o", out, "--workers", "2", "--progress", "none", "--exec", cmd]
                + (["--shell"] if shell else []), tmp)
        check(r.returncode == 0, f"{cmd}: {r.stdout} {r.stderr}")
        check(not os.path.exists(os.path.join(tmp, "PWNED")), f"{cmd} (shell={shell}): a file name ran a command")
        got = outputs(os.path.join(tmp, out))
        check(got == {n: f"{i}\n".encode() for i, n in enumerate(HOSTILE)}, f"{cmd}: outputs {sorted(got)}")
    # A placeholder inside '...' cannot be made safe: refused before any work.
    r = run(["run", "-i", "in", "-o", "outq", "--progress", "none", "--shell", "--exec",
             "sh -c 'cp {input} {output}'"], tmp)
    check(r.returncode == 2 and "FB_INPUT" in r.stderr, f"single-quoted placeholder: {r.returncode} {r.stderr}")
    check(not os.path.exists(os.path.join(tmp, "PWNED")), "a file name ran a command")
    print("exec_hostile: hostile names copied by --exec and --shell; no command ran")


def test_same_folder(tmp):
    # run and worker refuse an output that is the input, however spelled, and
    # leave the inputs as they were.
    make_inputs(tmp, 4)
    os.symlink("in", os.path.join(tmp, "link"))
    before = tree(os.path.join(tmp, "in"))
    model = ["--model", MODEL]
    for args in (["run", "-i", "in", "-o", "in"], ["run", "-i", "in", "-o", "./in/"],
                 ["run", "-i", "in", "-o", "link"], ["run", "-i", "link/", "-o", os.path.join(tmp, "in")],
                 ["run", "-i", "in/part0", "-o", "in"],
                 ["worker", "-i", "in", "-o", "./in", "--index", "0", "--count", "1"],
                 ["worker", "-i", "in", "-o", "link", "--index", "0", "--count", "1"],
                 ["predict", "-i", "in", "-o", "./link/"]):
        r = run(args + model + (["--progress", "none"] if args[0] == "run" else []), tmp)
        check(r.returncode == 2, f"{args}: exit {r.returncode}: {r.stdout} {r.stderr}")
        check("input" in r.stderr and "output" in r.stderr, f"{args}: {r.stderr}")
        check(tree(os.path.join(tmp, "in")) == before, f"{args} changed the inputs")
    print("same_folder: run, worker and predict refuse an output that is their input")


def test_hostile_data(tmp):
    # Names and fields an attacker (or an accident) would produce, through run
    # with a model: a name of 250 bytes (its manifest must fit NAME_MAX too), a
    # name with an escape sequence, a field with an escape sequence and a NUL.
    # The bad file fails at once (a data error is not retried), its message is
    # escaped everywhere it is shown, and every other file is done.
    make_inputs(tmp, 3)
    seed = open(SEED_CSV).read().splitlines()
    long_name = "L" * 246 + ".csv"
    evil_name = "evil\x1b]0;title\x07\x1b[2J.csv"
    with open(os.path.join(tmp, "in", long_name), "w") as f:
        f.write("\n".join(seed[:50]) + "\n")
    with open(os.path.join(tmp, "in", evil_name), "wb") as f:
        rows = seed[:20]
        rows[7] = rows[7].replace(",", ",\x1b[31mred\x00x", 1)
        f.write(("\n".join(rows) + "\n").encode())
    t0 = time.monotonic()
    r = run(["run", "-i", "in", "-o", "out", "--state", "st", "--workers", "2", "--retries", "3", "--backoff", "2",
             "--model", MODEL, "--progress", "none", "--json"], tmp)
    took = time.monotonic() - t0
    check(r.returncode == 1, f"expected exit 1, got {r.returncode}: {r.stderr}")
    js = json.loads(r.stdout)
    check(js["files"]["done"] == 4 and js["files"]["failed"] == 1, js["files"])
    ff = js["failed_files"][0]
    check(ff["attempts"] == 1, f"a data error was retried: {ff}")
    check(took < 6, f"took {took:.1f} s: retries with back-off?")
    check("\\x1b[31mred\\0x" in ff["error"] and ":8:" in ff["error"], ff["error"])
    got = outputs(os.path.join(tmp, "out"))
    check(long_name in got and evil_name not in got, sorted(got))
    manifests = [k for k in tree(os.path.join(tmp, "out")) if k.endswith(".fbmanifest.json")]
    check(len(manifests) == 4 and all(len(os.path.basename(m).encode()) <= 255 for m in manifests), manifests)
    for what, text in (("stdout", r.stdout), ("stderr", r.stderr),
                       ("logs", run(["logs", js["job"], "--state", "st"], tmp).stdout),
                       ("status", run(["status", js["job"], "--state", "st"], tmp).stdout)):
        check("\x1b" not in text and "\x00" not in text, f"raw control characters in {what}: {text!r}")
    # A rerun skips the four done files, the long-named one included.
    r = run(["run", "-i", "in", "-o", "out", "--state", "st", "--model", MODEL, "--progress", "none", "--json",
             "--retries", "0"], tmp)
    js = json.loads(r.stdout)
    check(js["files"]["skipped"] == 4, js["files"])
    print(f"hostile_data: 250-byte name done and skipped on rerun; bad field failed once in {took:.1f} s, escaped")


def test_cpu_limits(tmp):
    # Under `taskset -c 0` one CPU is available: run starts one worker with one
    # thread, whatever the machine has.
    if not shutil.which("taskset"):
        print("cpu_limits: SKIP no taskset")
        sys.exit(77)
    make_inputs(tmp, 2)
    r = subprocess.run(["taskset", "-c", "0", FB, "run", "-i", "in", "-o", "out", "--state", "st",
                        "--model", MODEL, "--progress", "none", "--json"],
                       cwd=tmp, capture_output=True, text=True, timeout=120)
    check(r.returncode == 0, f"exit {r.returncode}: {r.stderr}")
    js = json.loads(r.stdout)
    st = status(tmp, "st", js["job"])
    check(len(st["tasks"]) == 1, f"{len(st['tasks'])} workers under taskset -c 0")
    print("cpu_limits: taskset -c 0 gives 1 worker x 1 thread")


def test_owners(tmp):
    # One owner per output folder and per job; a dead owner is reported dead
    # and its leases are taken over.
    make_inputs(tmp, 6, lines=400)
    slow = ["--exec", exec_cmd("0.05"), "--workers", "2", "--progress", "none"]
    a = subprocess.Popen([FB, "run", "-i", "in", "-o", "out", "--state", "st", "--name", "a"] + slow, cwd=tmp,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    wait_for(lambda: os.path.exists(os.path.join(tmp, "out", ".forestbatch.lease")), "the output lease")
    wait_for(lambda: os.path.exists(os.path.join(tmp, "st", "jobs.db")) and last_job(tmp, "st") != "JOB",
             "the job record")
    job = last_job(tmp, "st")
    # A second run on the same folder, however spelled, and from another
    # state folder: refused, naming the owner.
    for out, state in (("out", "st2"), ("./out/", "st"), (os.path.join(tmp, "out"), "st3")):
        r = run(["run", "-i", "in", "-o", out, "--state", state, "--model", MODEL, "--progress", "none"], tmp)
        check(r.returncode == 7, f"second run on {out}: exit {r.returncode}: {r.stderr}")
        check(f"pid {a.pid}" in r.stderr and job in r.stderr, f"owner not named: {r.stderr}")
    r = run(["resume", job, "--state", "st", "--progress", "none"], tmp)
    check(r.returncode == 7 and "still running" in r.stderr, f"resume of a running job: {r.returncode} {r.stderr}")
    check(status(tmp, "st", job)["state"] == "running", "not running")
    # Kill the supervisor outright: the job is dead, not running.
    a.kill()
    a.communicate(timeout=30)
    st = status(tmp, "st", job)
    check(st["state"] == "dead", f"a killed job shows {st['state']}")
    check("dead" in run(["jobs", "--state", "st"], tmp).stdout, "jobs does not show dead")
    text = run(["status", job, "--state", "st"], tmp).stdout
    check("resume" in text, text)
    # The dead owner's leases are taken over by resume.
    r = run(["resume", job, "--state", "st", "--progress", "none"], tmp)
    check(r.returncode == 0, f"resume after a kill: {r.returncode} {r.stderr}")
    check(status(tmp, "st", job)["state"] == "succeeded", "not succeeded")
    check(len(outputs(os.path.join(tmp, "out"))) == 6, "missing outputs")
    check(not os.path.exists(os.path.join(tmp, "out", ".forestbatch.lease")), "lease left behind")
    no_temporaries(os.path.join(tmp, "out"))
    # Cancel of a dead job signals nobody.
    b = subprocess.Popen([FB, "run", "-i", "in", "-o", "out2", "--state", "st", "--name", "b"] + slow, cwd=tmp,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_for(lambda: os.path.exists(os.path.join(tmp, "out2", ".forestbatch.lease")), "the second job's lease")
    job_b = last_job(tmp, "st")
    b.kill()
    b.wait()
    c = run(["cancel", job_b, "--state", "st"], tmp)
    check(c.returncode == 0 and "cancelled" in c.stdout, c.stdout + c.stderr)
    print("owners: a second run and a resume of a running job refused; a killed job is dead; resume takes over")


def test_group_stop(tmp):
    # SIGTERM during --exec: nothing the command started goes on writing.
    make_inputs(tmp, 2)
    cmd = "(sleep 3; echo late > {output}.late) & sleep 30; cp {input} {output}"
    p = subprocess.Popen([FB, "run", "-i", "in", "-o", "out", "--workers", "1", "--progress", "none", "--grace",
                          "0.5", "--shell", "--exec", cmd], cwd=tmp, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    time.sleep(1.0)
    p.send_signal(signal.SIGTERM)
    _, err = p.communicate(timeout=30)
    check(p.returncode == 75, f"exit {p.returncode}: {err}")
    time.sleep(3.5)
    left = [k for k in tree(os.path.join(tmp, "out")) if "late" in k]
    check(not left, f"a subshell outlived run: {left}")
    print("group_stop: SIGTERM stops the command's whole process group")


def test_cost(tmp):
    # vCPU-seconds from wait4() of each worker, the cost at a given price, in the
    # summary table, status (text and JSON) and the catalogue.
    import resource
    os.environ.pop("FORESTBATCH_PRICE", None)
    make_inputs(tmp, 6, lines=3000)
    env = dict(os.environ, FORESTBATCH_PRICE="0.04")
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    r = run(["run", "-i", "in", "-o", "out", "--state", "st", "--workers", "2", "--threads", "1", "--model", MODEL,
             "--progress", "none"], tmp, env=env)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    check(r.returncode == 0, r.stderr)
    head = r.stdout.splitlines()[0]
    for col in ("vCPU-seconds", "cost per 1,000 files", "cost per million rows"):
        check(col in head, f"no '{col}' column: {head}")
    job = last_job(tmp, "st")
    st = status(tmp, "st", job)
    cost = st["cost"]
    # Without a price (the environment's is not set here): the vCPU-seconds only.
    check(cost["price_per_vcpu_hour"] is None and cost["cost"] is None, cost)
    children = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    # The workers' time is part of what `run` and its children used, and most of it.
    check(0.5 * children <= cost["vcpu_seconds"] <= children + 0.01, f"{cost} vs {children:.3f} s of children")
    check(all(t["cpu_seconds"] > 0 for t in st["tasks"]), st["tasks"])
    check(abs(sum(t["cpu_seconds"] for t in st["tasks"]) - cost["vcpu_seconds"]) < 1e-6, st["tasks"])
    js = json.loads(run(["status", job, "--state", "st", "--json", "--price-per-vcpu-hour", "0.5"], tmp).stdout)
    c = js["cost"]
    check(abs(c["cost"] - c["vcpu_seconds"] / 3600 * 0.5) < 1e-12, c)
    check(abs(c["per_1000_files"] - c["cost"] * 1000 / 6) < 1e-12, c)
    check(abs(c["per_million_rows"] - c["cost"] * 1e6 / (6 * 3000)) < 1e-12, c)
    text = run(["status", job, "--state", "st"], tmp, env=env).stdout
    check("vCPU-seconds, at 0.0400 per vCPU-hour" in text and "per 1,000 files" in text, text)
    cat = [json.loads(l) for l in open(os.path.join(tmp, st["catalog"]))]
    check(len(cat) == 6 and all(l["seconds"]["total"] > 0 and l["vcpu_seconds"] > 0 for l in cat), cat[0])
    check(abs(sum(l["vcpu_seconds"] for l in cat) - cost["vcpu_seconds"]) < 1e-6, "catalogue shares do not add up")
    check(all(abs(l["cost"] - l["vcpu_seconds"] / 3600 * 0.04) < 1e-12 for l in cat), cat[0])
    # A price that is not a plain number is refused before anything runs, naming its source.
    for extra, envp, name in ((["--price-per-vcpu-hour", "1e3"], {}, "--price-per-vcpu-hour"),
                              ([], {"FORESTBATCH_PRICE": "nan"}, "FORESTBATCH_PRICE")):
        b = run(["run", "-i", "in", "-o", "out2", "--state", "st2", "--model", MODEL, "--progress", "none"] + extra,
                tmp, env=dict(os.environ, **envp))
        check(b.returncode == 2 and name in b.stderr, f"{b.returncode} {b.stderr}")
    check(not os.path.exists(os.path.join(tmp, "out2")), "a refused price still ran the job")
    print(f"cost: {cost['vcpu_seconds']:.2f} vCPU-seconds of {children:.2f} s used by run and its children")


main("fb_e2e", globals())
