"""End-to-end tests of what forestbatch says about a job: the summary, `status`, `jobs`, the progress line.

report_e2e.py FORESTBATCH SOURCE_DIR TEST: runs one test (numbers, person, estimate) in a fresh temporary
folder; exits non-zero on failure.
"""
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "harness"))
from job_e2e import FB, MODEL, PY, TRANSFORM, check, exec_cmd, main, run, status, wait_for, write_seed_rows  # noqa: E402

os.environ.pop("FORESTBATCH_PRICE", None)


def make_inputs(root, n, lines=400, corrupt=()):
    for i in range(n):
        write_seed_rows(os.path.join(root, "in", f"file{i:03d}.csv"), i, lines, i in corrupt)


def jobs(cwd, state):
    r = run(["jobs", "--state", state, "--json"], cwd)
    check(r.returncode == 0, f"jobs --json failed: {r.stderr}")
    return json.loads(r.stdout)["jobs"]


def summary(stdout):
    """The summary table's rows as dicts (header -> cell)."""
    lines = [l for l in stdout.splitlines() if l.startswith("|")]
    cells = [[c.strip() for c in l.strip("|").split("|")] for l in lines]
    return [dict(zip(cells[0], r)) for r in cells[2:]]


def seconds_of(text):
    m = re.fullmatch(r"(\d+)m (\d+\.\d)s", text)
    check(m, f"not a duration: {text!r}")
    return int(m.group(1)) * 60 + float(m.group(2))


def near(shown, exact):
    """A rate the table shows (rounded), against one computed from its rounded time (0.1 s)."""
    return abs(int(shown) - exact) <= 1 + 0.05 * exact


def test_numbers(tmp):
    """Files per minute, resumed summaries, the progress line, and elapsed time of running and dead jobs."""
    make_inputs(tmp, 12)
    common = ["-i", "in", "-o", "out", "--state", "st", "--workers", "2", "--exec", exec_cmd("0.05")]
    p = subprocess.Popen([FB, "run", *common, "--progress", "lines"], cwd=tmp, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    wait_for(lambda: os.path.exists(os.path.join(tmp, "st", "jobs.db")) and jobs(tmp, "st"), "the job")
    job = jobs(tmp, "st")[0]["job"]
    wait_for(lambda: status(tmp, "st", job)["files"]["done"] >= 3, "three files")
    # While it runs: elapsed time, not "exit code -1, 0.0 s".
    text = run(["status", job, "--state", "st"], tmp).stdout
    check(re.search(r": running, running for \dm \d+\.\ds, created", text) and "exit code" not in text.splitlines()[0],
          text.splitlines()[0])
    js = status(tmp, "st", job)
    check(js["seconds"] > 0.3 and js["runs"][0]["state"] == "running", (js["seconds"], js["runs"]))
    p.send_signal(signal.SIGTERM)
    out, err = p.communicate(timeout=60)
    check(p.returncode == 75, f"interrupted run exited {p.returncode}: {err}")
    first = summary(out)
    check(len(first) == 1, out)
    made = int(first[0]["files made"])
    st = status(tmp, "st", job)
    check(made == st["files"]["done"] and 0 < made < 12, (made, st["files"]))
    t = seconds_of(first[0]["total time"])
    # Files per minute: the files this run made in its time, not the 12 of the input list.
    check(near(first[0]["files per minute"], made / t * 60), (first[0], made, t))
    check(st["state"] == "interrupted" and abs(st["seconds"] - t) < 0.2, (st["state"], st["seconds"], t))
    # The progress line of a resume counts this run's rows and files, never the earlier run's.
    r = run(["resume", job, "--state", "st", "--progress", "lines"], tmp)
    check(r.returncode == 0, r.stderr)
    rows = summary(r.stdout)
    check(len(rows) == 2 and rows[0]["runs"] == "all 2" and rows[1]["job"] == "this run", r.stdout)
    whole, now = rows
    check(int(whole["files made"]) == 12 and int(now["files made"]) == 12 - made, (whole, now, made))
    check(int(whole["rows"]) == 12 * 400 and int(now["rows"]) == (12 - made) * 400, (whole, now))
    t_now, t_all = seconds_of(now["total time"]), seconds_of(whole["total time"])
    check(abs(t_all - (t + t_now)) <= 0.15, (t, t_now, t_all))
    check(near(now["files per minute"], (12 - made) / t_now * 60), now)
    check(near(now["rows per second"], (12 - made) * 400 / t_now), now)
    first_rate = [l for l in r.stderr.splitlines() if l.startswith("progress:")]
    check(first_rate, r.stderr)
    # The resume's first line comes before any file of its own is done: 0 rows a second and no ETA yet (the
    # earlier run's rows over a fraction of a second would be thousands a second).
    check(re.search(r" 0 rows/s, ETA -$", first_rate[0]), first_rate[0])
    st = status(tmp, "st", job)
    check(len(st["runs"]) == 2 and abs(st["seconds"] - t_all) < 0.2 and abs(st["this_run_seconds"] - t_now) < 0.2,
          (st["runs"], st["seconds"], st["this_run_seconds"]))
    text = run(["status", job, "--state", "st"], tmp).stdout
    check(re.search(r": succeeded, exit code 0, \dm \d+\.\ds \(2 runs: .* before this one, .* in it\)", text), text)
    # Every file fails at once: no files made, 0 a minute.
    os.makedirs(os.path.join(tmp, "bad"))
    make_inputs(os.path.join(tmp, "bad"), 6, corrupt=range(6))
    r = run(["run", "-i", "bad/in", "-o", "bad/out", "--state", "st", "--retries", "0", "--exec", exec_cmd("0"),
             "--progress", "none"], tmp)
    check(r.returncode == 1, r.stderr)
    row = summary(r.stdout)[0]
    check(row["files made"] == "0" and row["files per minute"] == "0" and row["failed files"] == "6", row)
    # A killed supervisor: dead, and its time stops at its last recorded activity.
    p = subprocess.Popen([FB, "run", "-i", "in", "-o", "out2", "--state", "st2", "--workers", "1", "--exec",
                          exec_cmd("0.2"), "--progress", "none"], cwd=tmp, stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL)
    wait_for(lambda: os.path.exists(os.path.join(tmp, "st2", "jobs.db")) and jobs(tmp, "st2")
             and status(tmp, "st2", jobs(tmp, "st2")[0]["job"])["files"]["done"] >= 1, "a file of the second job")
    p.kill()
    p.wait(timeout=30)
    dead = jobs(tmp, "st2")[0]
    a = status(tmp, "st2", dead["job"])
    time.sleep(1.5)
    b = status(tmp, "st2", dead["job"])
    check(a["state"] == "dead" and b["state"] == "dead" and a["seconds_until_last_activity"], a["state"])
    check(a["seconds"] == b["seconds"] > 0, (a["seconds"], b["seconds"]))
    check(dead["state"] == "dead" and dead["exit_code"] is None, dead)
    text = run(["status", dead["job"], "--state", "st2"], tmp).stdout
    check("until its last recorded activity" in text and "exit code -1" not in text, text)
    print(f"numbers: interrupted after {made} files ({first[0]['files per minute']}/min); resumed summary "
          f"{whole['total time']} = {first[0]['total time']} + {now['total time']}; all-failed 0/min; dead stops")


def test_person(tmp):
    """status shows what the job does; jobs --json; resume from anywhere; S3 without credentials."""
    a = os.path.join(tmp, "a")
    os.makedirs(a)
    make_inputs(a, 8)
    # A program named relative to the folder the job was started in.
    shutil.copy(TRANSFORM, os.path.join(a, "transform.py"))
    p = subprocess.Popen([FB, "run", "-i", "in", "-o", "out", "--state", "st", "--workers", "2", "--name", "rel",
                          "--exec", f"{PY} transform.py {{input}} {{output}} 0.1 --api-token=hunter2secret",
                          "--progress", "none"], cwd=a, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    wait_for(lambda: os.path.exists(os.path.join(a, "st", "jobs.db")) and jobs(a, "st")
             and status(a, "st", jobs(a, "st")[0]["job"])["files"]["done"] >= 2, "two files")
    p.send_signal(signal.SIGTERM)
    p.communicate(timeout=60)
    check(p.returncode == 75, f"exit {p.returncode}")
    listed = jobs(a, "st")
    check(len(listed) == 1, listed)
    j = listed[0]
    job = j["job"]
    check(j["state"] == "interrupted" and j["name"] == "rel" and j["exit_code"] == 75, j)
    check(j["input"] == os.path.join(a, "in") and j["output"] == os.path.join(a, "out"), (j["input"], j["output"]))
    check(j["files"]["total"] == 8 and j["seconds"] > 0 and "hunter2secret" not in json.dumps(j), j)
    text = run(["status", job, "--state", "st"], a).stdout
    for want in (f"\ninput: {a}/in\n", f"\noutput: {a}/out\n", "\nexec: /usr/bin/python3 transform.py",
                 "\noptions: workers 2, threads "):
        check(want in text, f"{want!r} not in {text}")
    check("hunter2secret" not in text and "--api-token=[hidden]" in text, text)
    # Resume from another folder, naming the state folder: the job's paths and its program still resolve.
    elsewhere = os.path.join(tmp, "elsewhere")
    os.makedirs(elsewhere)
    r = run(["resume", job, "--state", os.path.join(a, "st"), "--progress", "none"], elsewhere)
    check(r.returncode == 0, f"resume from another folder: {r.returncode} {r.stdout} {r.stderr}")
    check(len(os.listdir(os.path.join(a, "out"))) >= 8 and not os.path.exists(os.path.join(elsewhere, "out")),
          os.listdir(elsewhere))
    check(status(a, "st", job)["files"]["done"] == 8, "not all done")
    # A model job shows its model.
    r = run(["run", "-i", "in", "-o", "out-m", "--state", "st", "--model", MODEL, "--progress", "none"], a)
    check(r.returncode == 0, r.stderr)
    mjob = jobs(a, "st")[-1]
    check(mjob["model"] == MODEL, mjob)
    check(f"\nmodel: {MODEL}\n" in run(["status", mjob["job"], "--state", "st"], a).stdout, "no model line")
    # S3 without credentials: where they were looked for, not an HTTP error.
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(HOME=tmp, AWS_EC2_METADATA_DISABLED="true")
    r = run(["worker", "-i", "s3://no-such-bucket/in/", "-o", os.path.join(tmp, "s3out"), "--exec",
             exec_cmd("0")], tmp, env=env)
    check(r.returncode != 0 and "no AWS credentials found (looked in: the environment" in r.stderr, r.stderr)
    check(f"{tmp}/.aws/credentials" in r.stderr and "instance metadata" in r.stderr, r.stderr)
    print("person: status shows model/input/output/options (secrets hidden); jobs --json; resume from "
          "another folder; S3 credentials message")


def test_estimate(tmp):
    """run --estimate keeps its projection with the job; status and status --json compare it with the actual."""
    make_inputs(tmp, 8)
    r = run(["run", "-i", "in", "-o", "out", "--state", "st", "--workers", "2", "--exec", exec_cmd("0.02"),
             "--progress", "none", "--estimate", "--price-per-vcpu-hour", "0.36"], tmp)
    check(r.returncode == 0, r.stderr)
    check("estimate: 8 files" in r.stderr and "assumptions:" in r.stderr, r.stderr)
    job = jobs(tmp, "st")[0]["job"]
    st = status(tmp, "st", job)
    e = st["estimate"]
    check(e is not None and e["estimate"]["files"] == 8 and e["estimate"]["workers"] == 2, st.get("estimate"))
    check(e["estimate"]["duration_seconds"] > 0 and e["actual"]["duration_seconds"] == st["seconds"], e)
    check(e["actual"]["finished"] and e["actual"]["reserved_vcpu_seconds"] > 0, e["actual"])
    check(e["actual"]["used_vcpu_seconds"] == st["cost"]["vcpu_seconds"], (e["actual"], st["cost"]))
    # The price kept with the estimate prices both sides.
    check(abs(e["cost"]["estimated"] - e["estimate"]["vcpu_seconds"] / 3600 * 0.36) < 1e-12, e["cost"])
    check(abs(e["cost"]["actual_reserved"] - e["actual"]["reserved_vcpu_seconds"] / 3600 * 0.36) < 1e-12, e["cost"])
    text = run(["status", job, "--state", "st"], tmp).stdout
    check(re.search(r"\nestimate \(.*2 workers x 1 vCPU, sample .*file\d+\.csv\): \dm", text), text)
    check(re.search(r"\nactual: \dm \d+\.\ds, [\d.]+ reserved vCPU-seconds \([\d.]+ used\), cost ", text), text)
    # Without --estimate: said so.
    r = run(["run", "-i", "in", "-o", "out2", "--state", "st", "--exec", exec_cmd("0"), "--progress", "none"], tmp)
    check(r.returncode == 0, r.stderr)
    other = jobs(tmp, "st")[-1]["job"]
    st = status(tmp, "st", other)
    check(st["estimate"] is None and "without --estimate" in st["estimate_missing"], st.get("estimate_missing"))
    check("estimate: none: the job was started without --estimate" in run(["status", other, "--state", "st"],
                                                                           tmp).stdout, "no reason given")
    print(f"estimate: {e['estimate']['duration_seconds']:.2f} s estimated, {e['actual']['duration_seconds']:.2f} s "
          f"actual; kept, compared, priced")


main("fb_report", globals())
