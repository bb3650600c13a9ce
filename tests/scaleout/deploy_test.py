#!/usr/bin/python3
"""Checks the deploy kit (deploy/) against what `forestbatch submit` emits.

Docker cannot run where these tests run, so the Dockerfile is checked as text;
the CloudFormation template is linted with cfn-lint by the second part.

Usage: deploy_test.py SOURCE_DIR FORESTBATCH [main|cfn-lint]
  main      the Kubernetes and Slurm examples, the template's content, the Dockerfile
  cfn-lint  cfn-lint on the CloudFormation template (its own ctest entry,
            scaleout_deploy_cfnlint, which requires cfn-lint)
"""
import json
import os
import re
import shutil
import subprocess
import sys

import yaml

src, fb = sys.argv[1], os.path.abspath(sys.argv[2])
PART = sys.argv[3] if len(sys.argv) > 3 else "main"
deploy = os.path.join(src, "deploy")
failures = []
cfn_path = os.path.join(deploy, "aws", "forestbatch-batch.yml")

if PART == "cfn-lint":
    sys.path.insert(0, os.path.join(src, "tests", "harness"))
    import fbtest  # noqa: E402

    cfn_lint = shutil.which("cfn-lint")
    if cfn_lint is None:
        fbtest.missing("cfn-lint", "cfn-lint is not on PATH")
    r = subprocess.run([cfn_lint, cfn_path], capture_output=True, text=True)
    if r.returncode != 0:
        print("FAIL: cfn-lint %s: %s%s" % (cfn_path, r.stdout, r.stderr))
        sys.exit(1)
    print("deploy_test: cfn-lint passed on", cfn_path)
    sys.exit(0)
elif PART != "main":
    sys.exit("deploy_test: unknown part " + PART)


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL:", what, file=sys.stderr)


# --- Kubernetes example = the generated Job, up to names and values -----------
with open(os.path.join(deploy, "kubernetes", "indexed-job.yaml")) as f:
    example = yaml.safe_load(f)
gen = json.loads(subprocess.run(
    [fb, "submit", "--engine", "kubernetes", "--workers", "10", "--image", "x", "--name", "forestbatch-example",
     "--service-account", "forestbatch", "--env", "AWS_REGION=eu-west-1", "--dry-run", "--", "--model", "m"],
    capture_output=True, text=True, check=True).stdout)
for key in ["completionMode", "completions", "parallelism", "backoffLimitPerIndex", "podFailurePolicy"]:
    check(example["spec"][key] == gen["spec"][key], "k8s example spec.%s matches submit" % key)
ex_pod, gen_pod = example["spec"]["template"]["spec"], gen["spec"]["template"]["spec"]
for key in ["restartPolicy", "terminationGracePeriodSeconds", "serviceAccountName"]:
    check(ex_pod[key] == gen_pod[key], "k8s example pod %s" % key)
ex_c, gen_c = ex_pod["containers"][0], gen_pod["containers"][0]
check(ex_c["env"] == gen_c["env"], "k8s example env")
check(ex_c["resources"] == gen_c["resources"], "k8s example resources")
check({"name": "FORESTBATCH_TASK_COUNT", "value": str(example["spec"]["completions"])} in ex_c["env"],
      "FORESTBATCH_TASK_COUNT = completions")

# --- Slurm example: valid bash, a regular array, exec'd worker ----------------
sb = os.path.join(deploy, "slurm", "forestbatch-array.sbatch")
check(subprocess.run(["bash", "-n", sb]).returncode == 0, "sbatch example parses")
text = open(sb).read()
check(re.search(r"^#SBATCH --array=0-\d+(%\d+)?$", text, re.M) is not None, "regular --array range")
check(re.search(r"^exec forestbatch worker", text, re.M) is not None, "exec forestbatch worker")


# --- CloudFormation ------------------------------------------------------------
class CfnLoader(yaml.SafeLoader):
    pass


def tag(loader, suffix, node):
    if isinstance(node, yaml.ScalarNode):
        v = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        v = loader.construct_sequence(node, deep=True)
    else:
        v = loader.construct_mapping(node, deep=True)
    return {suffix: v}


CfnLoader.add_multi_constructor("!", tag)
with open(cfn_path) as f:
    cfn = yaml.load(f, Loader=CfnLoader)
res = cfn["Resources"]
ce = res["ComputeEnvironment"]["Properties"]["ComputeResources"]
check(ce["Type"] == "SPOT" and ce["MinvCpus"] == 0 and ce["InstanceTypes"] == ["optimal"], "Spot, optimal, 0 vCPU")
check(cfn["Parameters"]["MaxvCpus"]["Default"] == 320, "320 vCPU")
jd = res["JobDefinition"]["Properties"]
rr = {r["Type"]: r["Value"] for r in jd["ContainerProperties"]["ResourceRequirements"]}
check(rr == {"VCPU": "2", "MEMORY": "7168"}, "2 vCPU / 7 GiB")
req = json.loads(subprocess.run(
    [fb, "submit", "--engine", "aws-batch", "--workers", "2", "--job-queue", "q", "--job-definition", "d",
     "--dry-run"], capture_output=True, text=True, check=True).stdout)
want = [{k[0].upper() + k[1:]: v for k, v in rule.items()} for rule in req["retryStrategy"]["evaluateOnExit"]]
check(jd["RetryStrategy"]["EvaluateOnExit"] == want, "job definition retries like submit's request")
check(jd["RetryStrategy"]["Attempts"] == req["retryStrategy"]["attempts"], "attempts")
check("JobRoleArn" in jd["ContainerProperties"], "job role for S3")
pol = res["JobRole"]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]
actions = {a for s in pol for a in s["Action"]}
check({"s3:ListBucket", "s3:GetObject", "s3:PutObject"} <= actions, "S3 permissions")
check(all(r.get("Condition") == "WithFsx" for n, r in res.items() if n.startswith(("Fsx", "FileSystem"))),
      "FSx only with UseFsx")
# --- Dockerfile (cannot be built here: no Docker daemon) ------------------------
df = open(os.path.join(deploy, "Dockerfile")).read()
stages = re.findall(r"^FROM (\S+) AS (\S+)", df, re.M)
check(stages == [("debian:bookworm", "build"), ("debian:bookworm-slim", "runtime")], "two stages: %r" % stages)
check("scripts/setup-deps.sh" in df and "make build" in df, "build stage uses the project's setup")
check('ENTRYPOINT ["forestbatch", "worker"]' in df, "entrypoint forestbatch worker")
check(re.search(r"^USER ", df, re.M) is not None, "runs as a non-root user")
# serve's HTTP module sits beside the binary (its libraries found by ldd too),
# and S3 transfers load libcurl.so.4 at run time, which ldd cannot see.
check(re.search(r"^COPY --from=build .*forestbatch-http\.so /usr/local/bin/", df, re.M) is not None,
      "forestbatch-http.so copied beside the binary")
check("ldd /out/forestbatch /out/forestbatch-http.so" in df, "the module's libraries installed")
check(re.search(r"apt-get install .*\blibcurl4\b", df) is not None, "libcurl4 installed for S3")

if failures:
    sys.exit(1)
print("deploy_test: all checks passed")
