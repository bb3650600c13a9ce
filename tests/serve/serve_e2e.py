"""End-to-end tests of `forestbatch serve` against a real `forestbatch run`.

serve_e2e.py FORESTBATCH SOURCE_DIR TEST: runs one test (api, security,
actions) in a fresh temporary folder; exits non-zero on failure.
"""
import http.client
import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.parse

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "harness"))
from job_e2e import FB, check, exec_cmd, fail, main, write_seed_rows  # noqa: E402

EVIL = "<img src=x onerror=alert(1)>.csv"
os.environ.pop("FORESTBATCH_PRICE", None)


def make_inputs(root, n, lines=400, corrupt=()):
    """n CSV files under root/in; those named in `corrupt` fail in slow_transform."""
    names = [f"file{i:03d}.csv" for i in range(n)]
    for i, name in enumerate(names):
        write_seed_rows(os.path.join(root, "in", name), i, lines, name in corrupt)
    return names


class Server:
    """`forestbatch serve` on a free port; stops with the test."""

    def __init__(self, cwd, *args):
        self.p = subprocess.Popen([FB, "serve", "--state", "st", "--listen", "127.0.0.1:0", *args], cwd=cwd,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        line = self.p.stdout.readline()
        m = re.search(r"at (http://[^ ]+)", line)
        check(m, f"serve printed no address: {line!r} {self.p.stderr.read() if self.p.poll() is not None else ''}")
        self.url = urllib.parse.urlsplit(m.group(1))
        self.port = self.url.port
        q = urllib.parse.parse_qs(self.url.query)
        self.token = q["token"][0] if "token" in q else None
        self.first = line

    def request(self, method, path, headers=None, body=None, host=None):
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        h = {"Host": host or f"127.0.0.1:{self.port}"}
        h.update(headers or {})
        c.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
        for k, v in h.items():
            c.putheader(k, v)
        if body is not None:
            c.putheader("Content-Length", str(len(body)))
        c.endheaders(body.encode() if body is not None else None)
        r = c.getresponse()
        data = r.read().decode("utf-8", "replace")
        c.close()
        return r.status, dict(r.getheaders()), data

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def json(self, path, **kw):
        status, _, body = self.get(path, **kw)
        check(status == 200, f"GET {path}: {status} {body[:300]}")
        return json.loads(body)

    def stop(self):
        self.p.send_signal(signal.SIGTERM)
        try:
            self.p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.p.kill()
            fail("serve did not stop on SIGTERM")
        check(self.p.returncode == 0, f"serve exited {self.p.returncode}")


def start_run(tmp, n=10, delay="0.05", corrupt=()):
    names = make_inputs(tmp, n, corrupt=corrupt)
    p = subprocess.Popen([FB, "run", "-i", "in", "-o", "out", "--state", "st", "--workers", "2", "--retries", "0",
                          "--exec", exec_cmd(delay), "--progress", "none"],
                         cwd=tmp, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    return p, names


def wait_job(srv, run):
    for _ in range(200):
        jobs = srv.json("/api/jobs")["jobs"]
        if jobs:
            return jobs[0]["job"]
        if run.poll() is not None:
            fail(f"run exited {run.returncode} before its job appeared: {run.stderr.read()}")
        time.sleep(0.1)
    fail("the job never appeared")


def test_api(tmp):
    os.makedirs(os.path.join(tmp, "st"))
    run, names = start_run(tmp, corrupt={"file004.csv"})
    srv = Server(tmp)
    job = wait_job(srv, run)
    # Server-sent events: progress advances while the job runs, and the stream ends with it.
    c = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=60)
    c.request("GET", f"/api/jobs/{job}/events")
    r = c.getresponse()
    check(r.status == 200 and r.getheader("Content-Type").startswith("text/event-stream"), r.getheaders())
    seen = []
    for raw in r:
        line = raw.decode().strip()
        if line.startswith("data: "):
            ev = json.loads(line[6:])
            seen.append(ev)
            if not ev["live"]:
                break
    c.close()
    finished = [e["files"]["done"] + e["files"]["failed"] for e in seen]
    check(len(seen) >= 3, f"only {len(seen)} events")
    check(finished == sorted(finished) and finished[0] < finished[-1] == 10, f"progress did not advance: {finished}")
    check(any(e["live"] and e["eta_seconds"] is not None for e in seen), "no ETA while running")
    check(seen[-1]["state"] == "failed", seen[-1])
    out, err = run.communicate(timeout=60)
    check(run.returncode == 1, f"run exited {run.returncode}: {err}")
    # The API says what `status --json` says.
    st = json.loads(subprocess.run([FB, "status", job, "--state", "st", "--json"], cwd=tmp, capture_output=True,
                                   text=True, check=True).stdout)
    api = srv.json(f"/api/jobs/{job}")
    check(api["files"] == st["files"] and api["rows"] == st["rows"], (api["files"], st["files"]))
    check(api["cost"]["vcpu_seconds"] == st["cost"]["vcpu_seconds"] > 0, (api["cost"], st["cost"]))
    check(api["failed_files"][0]["input"] == "file004.csv", api["failed_files"])
    # No estimate was made: the API and the page say so (and why), rather than show nothing.
    check(api["estimate"] is None and "without --estimate" in api["estimate_missing"], api.get("estimate_missing"))
    check(api["progress"]["estimate"] is None, api["progress"])
    check('id="no-estimate"' in srv.get(f"/jobs/{job}")[2], "the page does not say there is no estimate")
    task = api["failed_files"][0]["task"]
    status, headers, log = srv.get(f"/api/jobs/{job}/tasks/{task}/log")
    check(status == 200 and f"FAILED {tmp}/in/file004.csv" in log and "corrupt line" in log, log[-300:])
    check(headers["Content-Type"].startswith("text/plain"), headers)
    done = [n for n in names if n != "file004.csv"][0]
    fj = srv.json(f"/api/jobs/{job}/files?input={done}")
    check(fj["manifest"]["rows"] == 400 and len(fj["manifest"]["output_sha256"]) == 64, fj)
    lst = srv.json("/api/jobs")["jobs"][0]
    check(lst["files"]["failed"] == 1 and lst["files"]["done"] == 9 and lst["state"] == "failed", lst)
    # The pages: the job, its failure's error and log, the file's manifest.
    status, _, page = srv.get(f"/jobs/{job}")
    check(status == 200 and "exited with status 2" in page and "id=\"timeline\"" in page, page[:300])
    status, _, page = srv.get(f"/jobs/{job}/tasks/{task}/log")
    check(status == 200 and f"FAILED {tmp}/in/file004.csv" in page, page[:300])
    status, _, page = srv.get(f"/jobs/{job}/files?input={done}")
    check(status == 200 and "output_sha256" in page, page[:300])
    srv.stop()
    print(f"api: {len(seen)} progress events {finished[0]}..{finished[-1]}; API matches status --json; log, manifest")


def test_security(tmp):
    os.makedirs(os.path.join(tmp, "st"))
    # A file name with markup, in a failed job.
    make_inputs(tmp, 2)
    os.rename(os.path.join(tmp, "in", "file001.csv"), os.path.join(tmp, "in", EVIL))
    with open(os.path.join(tmp, "in", EVIL), "a") as f:
        f.write("CORRUPT\n")
    open(os.path.join(tmp, "secret.txt"), "w").write("do not serve\n")
    r = subprocess.run([FB, "run", "-i", "in", "-o", "out", "--state", "st", "--retries", "0", "--progress", "none",
                        "--exec", exec_cmd("0") + " --api-token=hunter2secret"], cwd=tmp,
                       capture_output=True, text=True)
    check(r.returncode == 1, r.stderr)
    srv = Server(tmp)
    job = srv.json("/api/jobs")["jobs"][0]["job"]
    status, _, page = srv.get(f"/jobs/{job}")
    check(status == 200, status)
    check("<img src=x" not in page and "&lt;img src=x onerror=alert(1)&gt;.csv" in page, "file name not escaped")
    check("hunter2secret" not in page, "a secret in the page")
    check("hunter2secret" not in srv.get(f"/api/jobs/{job}")[2], "a secret in the API")
    # Every page and API answer about this job: the markup of the file name never as markup, the secret
    # never at all (the task logs, where the failure names the file; the file pages, whose manifests
    # record the command; the charts; the event stream; the list).
    api = srv.json(f"/api/jobs/{job}")
    urls = ["/", "/api/jobs", f"/jobs/{job}/charts", f"/api/jobs/{job}/events"]
    for t in api["tasks"]:
        urls += [f"/jobs/{job}/tasks/{t['index']}/log", f"/api/jobs/{job}/tasks/{t['index']}/log"]
    for name in ("file000.csv", EVIL):
        q = urllib.parse.quote(name, safe="")
        urls += [f"/jobs/{job}/files?input={q}", f"/api/jobs/{job}/files?input={q}"]
    logged = False
    for url in urls:
        status, headers, body = srv.get(url)
        check(status == 200, f"{url}: {status}")
        check("hunter2secret" not in body, f"a secret in {url}")
        html = headers["Content-Type"].startswith("text/html")
        check(not html or "<img src=x" not in body, f"markup from a file name in {url}")
        if url.startswith(f"/jobs/{job}/tasks/") and EVIL[:8].replace("<", "&lt;") in body:
            logged = True
    check(logged, "no task log page names the file with markup (escaped)")
    fj = srv.json(f"/api/jobs/{job}/files?input=file000.csv")
    check("[hidden]" in json.dumps(fj["manifest"]), "the manifest's command is not shown with its secret hidden")
    # DNS rebinding: another name for this address.
    check(srv.get("/", host=f"attacker.example:{srv.port}")[0] == 403, "foreign Host served")
    # Path tricks, sent raw.
    for path in ["/../secret.txt", "/jobs/../../secret.txt", f"/api/jobs/{job}/tasks/0/..%2f..%2f..%2fsecret.txt",
                 f"/api/jobs/{job}/tasks/%2e%2e/log", f"/api/jobs/{job}/files?input=../../secret.txt",
                 f"/api/jobs/{job}/files?input={urllib.parse.quote(os.path.join(tmp, 'secret.txt'))}",
                 "/api/jobs/%2e%2e%2f%2e%2e%2fsecret.txt", "/static/../secret.txt", "//etc/passwd"]:
        status, _, body = srv.get(path)
        check(status in (400, 404) and "do not serve" not in body and "root:" not in body, f"{path}: {status}")
    check(srv.request("POST", f"/jobs/{job}/resume", body="")[0] == 403, "an action without --allow-actions")
    srv.stop()
    # A token: none, wrong, right (header, then the printed link's cookie).
    srv = Server(tmp, "--token", "0123456789abcdef-token")
    check(srv.token == "0123456789abcdef-token", srv.first)
    check(srv.get("/")[0] == 401 and srv.get("/api/jobs")[0] == 401, "served without the token")
    check(srv.get("/", headers={"Authorization": "Bearer wrong-token-0123456"})[0] == 401, "wrong token")
    check(srv.get("/api/jobs", headers={"Authorization": "Bearer 0123456789abcdef-token"})[0] == 200, "right token")
    status, headers, _ = srv.get(f"/jobs/{job}?token=0123456789abcdef-token")
    check(status == 303 and headers["Location"] == f"/jobs/{job}", (status, headers))
    cookie = headers["Set-Cookie"].split(";")[0]
    check(srv.get(f"/jobs/{job}", headers={"Cookie": cookie})[0] == 200, "cookie from the link refused")
    srv.stop()
    # Not loopback: a token is generated and required.
    p = subprocess.Popen([FB, "serve", "--state", "st", "--listen", "0.0.0.0:0"], cwd=tmp, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    first = p.stdout.readline() + p.stdout.readline()
    m = re.search(r":(\d+)/\?token=([0-9a-f]{64})", first)
    check(m, f"no generated token printed: {first!r}")
    port, token = int(m.group(1)), m.group(2)
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    c.request("GET", "/api/jobs")
    check(c.getresponse().status == 401, "0.0.0.0 without a token")
    c.close()
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    c.request("GET", "/api/jobs", headers={"Authorization": "Bearer " + token})
    check(c.getresponse().status == 200, "0.0.0.0 with the generated token")
    c.close()
    p.send_signal(signal.SIGTERM)
    p.wait(timeout=10)
    print("security: escaping, secrets, Host, path tricks, tokens")


def test_actions(tmp):
    os.makedirs(os.path.join(tmp, "st"))
    run, _ = start_run(tmp, n=12, delay="0.1")
    srv = Server(tmp, "--allow-actions")
    job = wait_job(srv, run)
    status, _, page = srv.get(f"/jobs/{job}")
    m = re.search(r'name="csrf" value="([0-9a-f]+)"', page)
    check(m and 'id="cancel"' in page, "no cancel button")
    csrf = m.group(1)
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    check(srv.request("POST", f"/jobs/{job}/cancel", headers=form, body="csrf=wrong")[0] == 403, "wrong CSRF")
    check(srv.request("POST", f"/jobs/{job}/cancel", headers=dict(form, Origin="http://evil.example"),
                      body=f"csrf={csrf}")[0] == 403, "cross-origin POST")
    status, headers, _ = srv.request("POST", f"/jobs/{job}/cancel", headers=form, body=f"csrf={csrf}")
    check(status == 303 and headers["Location"] == f"/jobs/{job}", (status, headers))
    run.wait(timeout=60)
    check(run.returncode == 75, f"cancelled run exited {run.returncode}")
    check(srv.json(f"/api/jobs/{job}")["state"] == "cancelled", "not cancelled")
    status, _, page = srv.get(f"/jobs/{job}")
    check('id="resume"' in page, "no resume button")
    status, _, _ = srv.request("POST", f"/jobs/{job}/resume", headers=form, body=f"csrf={csrf}")
    check(status == 303, status)
    for _ in range(300):
        st = srv.json(f"/api/jobs/{job}")
        if st["state"] == "succeeded":
            break
        time.sleep(0.1)
    check(st["state"] == "succeeded" and st["files"]["done"] == 12, st["files"])
    srv.stop()
    print("actions: cancel and resume by POST with the CSRF token")


def test_dead(tmp):
    """A run whose supervisor is killed: the dashboard says dead (not running), and resume finishes it."""
    os.makedirs(os.path.join(tmp, "st"))
    run, _ = start_run(tmp, n=12, delay="0.2")
    srv = Server(tmp, "--allow-actions")
    job = wait_job(srv, run)
    for _ in range(300):
        st = srv.json(f"/api/jobs/{job}")
        if st["files"]["done"] >= 2:
            break
        time.sleep(0.1)
    check(st["state"] == "running" and st["progress"]["live"], st["state"])
    run.kill()  # SIGKILL: no chance to record anything; its workers die with it
    run.wait(timeout=30)
    time.sleep(0.5)
    st = srv.json(f"/api/jobs/{job}")
    check(st["state"] == "dead" and not st["progress"]["live"], (st["state"], st["progress"]))
    check(st["progress"]["eta_seconds"] is None, st["progress"])
    check(srv.json("/api/jobs")["jobs"][0]["state"] == "dead", "the list calls it live")
    # The event stream says so once and ends, instead of following a job that will never move.
    c = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=30)
    c.request("GET", f"/api/jobs/{job}/events")
    events = [json.loads(raw.decode()[6:]) for raw in c.getresponse() if raw.startswith(b"data: ")]
    c.close()
    check(len(events) == 1 and events[0]["state"] == "dead" and not events[0]["live"], events)
    status, _, page = srv.get(f"/jobs/{job}")
    check(status == 200 and 'data-live="0"' in page and 'id="dead"' in page, page[:400])
    check('id="cancel"' not in page and 'id="resume"' in page, "buttons of a live job")
    text = subprocess.run([FB, "status", job, "--state", "st"], cwd=tmp, capture_output=True, text=True).stdout
    check(": dead," in text, text)
    csrf = re.search(r'name="csrf" value="([0-9a-f]+)"', page).group(1)
    status, _, _ = srv.request("POST", f"/jobs/{job}/resume",
                               headers={"Content-Type": "application/x-www-form-urlencoded"}, body=f"csrf={csrf}")
    check(status == 303, f"resume of a dead job: {status}")
    for _ in range(600):
        st = srv.json(f"/api/jobs/{job}")
        if st["state"] == "succeeded":
            break
        time.sleep(0.1)
    check(st["state"] == "succeeded" and st["files"]["done"] == 12, (st["state"], st["files"]))
    srv.stop()
    print("dead: a killed supervisor shows as dead, its event stream ends, resume by POST finishes it")


if __name__ == "__main__":
    main("fb_serve", globals())
