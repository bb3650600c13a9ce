#!/usr/bin/python3
"""End-to-end tests of `forestbatch submit` without the real engines.

- The AWS Batch request is validated against botocore's model of the Batch
  API (Debian's python3-botocore): the documented shape, member names and types.
- Part "awscli" (its own ctest entry, scaleout_submit_awscli, which requires
  the AWS CLI): the real CLI submits it to a local server that plays AWS
  Batch; the body the CLI sent must equal our request, and `submit --status`
  reads describe-jobs through the CLI too.
- The Kubernetes manifest parses as YAML (kubectl reads JSON or YAML).
- The engines' failures: tools missing from PATH (exit 5) and tools that
  reject the submission (exit 6, their stderr in the message).

Usage: submit_test.py FORESTBATCH [main|awscli]
"""
import http.server
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading

import botocore.session
import botocore.validate
import yaml

FB = os.path.abspath(sys.argv[1])
PART = sys.argv[2] if len(sys.argv) > 2 else "main"
if PART not in ("main", "awscli"):
    sys.exit("submit_test: unknown part " + PART)
EXIT_NOT_FOUND, EXIT_IO = 5, 6
failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL:", what, file=sys.stderr)


def run(args, env=None, cwd=None):
    return subprocess.run([FB] + args, capture_output=True, text=True, env=env, cwd=cwd)


tmp = tempfile.mkdtemp(prefix="fb_submit_test_")
WORKER = ["--model", "s3://bucket/model.joblib", "--input", "s3://bucket/input/", "--output", "s3://bucket/out/"]

if PART == "main":
    # --- AWS Batch request against botocore's model -------------------------------
    batch = botocore.session.get_session().get_service_model("batch")
    shape = batch.operation_model("SubmitJob").input_shape
    for workers, extra in [(10, ["--timeout", "3600", "--attempts", "5", "--env", "AWS_REGION=eu-west-1"]),
                           (1, []), (10000, [])]:
        r = run(["submit", "--engine", "aws-batch", "--workers", str(workers), "--job-queue", "q",
                 "--job-definition", "forestbatch-worker:3", "--name", "test-%d-workers" % workers, "--dry-run"]
                + extra + ["--"] + WORKER)
        check(r.returncode == 0, "aws dry-run exit %d: %s" % (r.returncode, r.stderr))
        req = json.loads(r.stdout)
        report = botocore.validate.ParamValidator().validate(req, shape)
        check(not report.has_errors(), "SubmitJob request invalid for botocore: " + report.generate_report())
        check(("arrayProperties" in req) == (workers > 1), "arrayProperties only for arrays")
        check(req["retryStrategy"]["evaluateOnExit"][0] == {"onStatusReason": "Host EC2*", "action": "RETRY"},
              "Spot reclaims retried first")
        check(req["retryStrategy"]["evaluateOnExit"][1] == {"onExitCode": "75", "action": "RETRY"},
              "early stops (exit 75) retried")
        check(req["retryStrategy"]["evaluateOnExit"][-1] == {"onReason": "*", "action": "EXIT"}, "others exit")
        env = {e["name"]: e["value"] for e in req["containerOverrides"]["environment"]}
        check(env["NUMBER_OF_WORKERS"] == str(workers), "NUMBER_OF_WORKERS")
        check(req["containerOverrides"]["command"] == WORKER, "command = worker options")
    # The validator can fail: a wrong type is reported.
    bad = dict(req, arrayProperties={"size": "10"})
    check(botocore.validate.ParamValidator().validate(bad, shape).has_errors(), "botocore validator catches types")

    # Refused before any engine is called.
    r = run(["submit", "--engine", "aws-batch", "--workers", "10001", "--job-queue", "q", "--job-definition", "d",
             "--dry-run"])
    check(r.returncode == 2 and "10,000" in r.stderr, "10,001 tasks refused: %d %s" % (r.returncode, r.stderr))

    # --- Kubernetes manifest as YAML ---------------------------------------------
    r = run(["submit", "--engine", "kubernetes", "--workers", "6", "--parallelism", "3", "--image", "fb:1", "--name",
             "fb-job", "--dry-run", "--"] + WORKER)
    check(r.returncode == 0, "k8s dry-run: " + r.stderr)
    job = yaml.safe_load(r.stdout)
    check(job["kind"] == "Job" and job["spec"]["completionMode"] == "Indexed", "Indexed Job")
    check(job["spec"]["completions"] == 6 and job["spec"]["parallelism"] == 3, "completions/parallelism")
    check(job["spec"]["template"]["spec"]["restartPolicy"] == "Never", "restartPolicy Never")
    c = job["spec"]["template"]["spec"]["containers"][0]
    check({"name": "FORESTBATCH_TASK_COUNT", "value": "6"} in c["env"], "task count env")
    check(c["args"] == WORKER, "args = worker options")

    # --- Slurm script is valid bash --------------------------------------------------
    r = run(["submit", "--engine", "slurm", "--workers", "4", "--max-parallel", "2", "--dry-run", "--", "--input",
             "in dir", "--output", "o'ut"])
    check(r.returncode == 0, "slurm dry-run: " + r.stderr)
    check(subprocess.run(["bash", "-n"], input=r.stdout, text=True).returncode == 0, "slurm script parses")
    check("#SBATCH --array=0-3%2" in r.stdout, "array throttle")

    # --- Engines missing from PATH ------------------------------------------------------
    empty = os.path.join(tmp, "empty-path")
    os.mkdir(empty)
    for engine, tool, extra in [("slurm", "sbatch", []),
                                ("aws-batch", "aws", ["--job-queue", "q", "--job-definition", "d"]),
                                ("kubernetes", "kubectl", ["--image", "i"])]:
        r = run(["submit", "--engine", engine, "--workers", "2", "--state", os.path.join(tmp, "st")] + extra + ["--"] +
                WORKER, env={"PATH": empty, "HOME": tmp})
        check(r.returncode == EXIT_NOT_FOUND, "%s missing: exit %d" % (tool, r.returncode))
        check("'%s' was not found on PATH" % tool in r.stderr, "%s missing: message %r" % (tool, r.stderr))

    # --- Engines that reject the submission --------------------------------------------
    fake = os.path.join(tmp, "fake-bin")
    os.mkdir(fake)
    captured = os.path.join(tmp, "kubectl-stdin")


    def tool(name, body):
        p = os.path.join(fake, name)
        with open(p, "w") as f:
            f.write("#!/bin/sh\n" + body + "\n")
        os.chmod(p, 0o755)


    tool("sbatch", 'echo "sbatch: error: Batch job submission failed: Invalid partition name specified" >&2; exit 1')
    tool("kubectl", 'cat > %s; echo "$@" > %s.args; '
         '[ -n "$FAIL" ] && { echo "error: jobs.batch \\"x\\" is forbidden" >&2; exit 1; }; '
         'echo "job.batch/fb-job created"' % (captured, captured))
    fake_env = {"PATH": fake + ":/usr/bin:/bin", "HOME": tmp}
    r = run(["submit", "--engine", "slurm", "--workers", "2", "--state", os.path.join(tmp, "st"), "--", "--input", "x"],
            env=fake_env)
    check(r.returncode == EXIT_IO and "Invalid partition name" in r.stderr, "sbatch rejection: %d %r" %
          (r.returncode, r.stderr))
    r = run(["submit", "--engine", "kubernetes", "--workers", "2", "--image", "i", "--name", "fb-job", "--namespace",
             "batch", "--state", os.path.join(tmp, "st"), "--"] + WORKER, env=dict(fake_env, FAIL="1"))
    check(r.returncode == EXIT_IO and "forbidden" in r.stderr, "kubectl rejection: %d %r" % (r.returncode, r.stderr))
    r = run(["submit", "--engine", "kubernetes", "--workers", "2", "--image", "i", "--name", "fb-job", "--namespace",
             "batch", "--state", os.path.join(tmp, "st"), "--"] + WORKER, env=fake_env)
    check(r.returncode == 0, "kubectl accepted: " + r.stderr)
    with open(captured) as f:
        check(json.load(f)["metadata"]["name"] == "fb-job", "manifest reached kubectl's stdin")
    with open(captured + ".args") as f:
        check(f.read().split() == ["apply", "-f", "-", "-n", "batch"], "kubectl arguments")
    with open(os.path.join(tmp, "st", "submits", "fb-job.json")) as f:
        rec = json.load(f)
    check(rec["engine"] == "kubernetes" and rec["job_id"] == "fb-job" and rec["namespace"] == "batch", "k8s record")

# --- The real AWS CLI against a local Batch endpoint ----------------------------------
if PART == "awscli":
    got = {}

    class Batch(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            got[self.path] = json.loads(body or b"{}")
            if self.path == "/v1/submitjob":
                if got[self.path].get("jobQueue") == "missing":
                    out, code = {"__type": "ClientException", "message": "Job Queue missing not found"}, 400
                else:
                    out, code = {"jobArn": "arn:aws:batch:eu-west-1:123456789012:job/abc-123",
                                 "jobName": got[self.path]["jobName"], "jobId": "abc-123"}, 200
            elif self.path == "/v1/describejobs":
                out, code = {"jobs": [{"jobName": "j", "jobId": "abc-123", "status": "RUNNING",
                                       "arrayProperties": {"size": 3, "statusSummary": {
                                           "RUNNING": 1, "SUCCEEDED": 1, "RUNNABLE": 1}}}]}, 200
            else:
                out, code = {"message": "unexpected " + self.path}, 404
            data = json.dumps(out).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            if code != 200:
                self.send_header("x-amzn-ErrorType", out["__type"] if "__type" in out else "NotFound")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *a):
            pass

    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Batch)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    aws_env = dict(os.environ, AWS_ENDPOINT_URL="http://127.0.0.1:%d" % srv.server_address[1],
                   AWS_ACCESS_KEY_ID="AKIDEXAMPLE", AWS_SECRET_ACCESS_KEY="secret", AWS_DEFAULT_REGION="eu-west-1",
                   AWS_CONFIG_FILE=os.path.join(tmp, "none"), AWS_SHARED_CREDENTIALS_FILE=os.path.join(tmp, "none"),
                   AWS_MAX_ATTEMPTS="1")
    st = os.path.join(tmp, "aws-state")
    r = run(["submit", "--engine", "aws-batch", "--workers", "3", "--job-queue", "fbq", "--job-definition", "fbdef",
             "--name", "aws-e2e", "--timeout", "600", "--state", st, "--"] + WORKER, env=aws_env)
    check(r.returncode == 0, "aws submit: %d %s" % (r.returncode, r.stderr))
    with open(os.path.join(st, "submits", "aws-e2e.submit-job.json")) as f:
        sent = json.load(f)
    check(got.get("/v1/submitjob") == sent, "the CLI sent our request unchanged: %r" % got.get("/v1/submitjob"))
    with open(os.path.join(st, "submits", "aws-e2e.json")) as f:
        check(json.load(f)["job_id"] == "abc-123", "record holds the jobId")
    r = run(["submit", "--status", "aws-e2e", "--state", st, "--json"], env=aws_env)
    check(r.returncode == 0, "aws status: " + r.stderr)
    if r.returncode == 0:
        s = json.loads(r.stdout)["state"]
        check((s["running"], s["succeeded"], s["pending"]) == (1, 1, 1), "describe-jobs summary %r" % s)
    check(got.get("/v1/describejobs") == {"jobs": ["abc-123"]}, "describe-jobs asked for the job")
    r = run(["submit", "--engine", "aws-batch", "--workers", "3", "--job-queue", "missing", "--job-definition", "d",
             "--state", st, "--"] + WORKER, env=aws_env)
    check(r.returncode == EXIT_IO and "Job Queue missing not found" in r.stderr,
          "aws rejection: %d %r" % (r.returncode, r.stderr))
    srv.shutdown()

shutil.rmtree(tmp)
if failures:
    print("%d failure(s)" % len(failures), file=sys.stderr)
    sys.exit(1)
print("submit_test: all checks passed")
