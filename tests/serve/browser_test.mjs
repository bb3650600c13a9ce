// The dashboard in headless Chromium during a real `forestbatch run`
// (see browser_test.sh). Exits non-zero on the first failed check.
import { chromium } from "playwright-core";
import { spawn, spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import readline from "node:readline";

const [fb, src, chromiumPath, artifacts] = process.argv.slice(2).map((p) => path.resolve(p));
const py = "/usr/bin/python3";
const transform = path.join(src, "tests/runner/slow_transform.py");
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "fb_browser_"));
const children = [];
const evil = "<img src=x onerror=window.__pwned=1>.csv";

function check(cond, msg) {
  if (!cond) throw new Error("FAIL: " + msg);
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Inputs: 16 files of the seed's rows; one fails, and one more failing file has markup in its name.
const seed = fs.readFileSync(path.join(src, "examples/seed/test-data1-small.csv"), "utf8").split("\n");
fs.mkdirSync(path.join(tmp, "in"));
fs.mkdirSync(path.join(tmp, "st"));
for (let i = 0; i < 16; i++) {
  const rows = seed.slice(i * 200, i * 200 + 400);
  if (i === 9) rows[150] = "CORRUPT";
  fs.writeFileSync(path.join(tmp, "in", i === 13 ? evil : `part-${String(i).padStart(3, "0")}.csv`),
                   rows.join("\n") + (i === 13 ? "\nCORRUPT\n" : "\n"));
}
fs.writeFileSync(path.join(tmp, "secret.txt"), "do not serve\n");

function start(args) {
  const p = spawn(fb, args, { cwd: tmp, stdio: ["ignore", "pipe", "pipe"] });
  children.push(p);
  return p;
}
async function serve(extra) {
  const p = start(["serve", "--state", "st", "--listen", "127.0.0.1:0", ...extra]);
  const line = await new Promise((resolve, reject) => {
    readline.createInterface({ input: p.stdout }).once("line", resolve);
    p.once("exit", (code) => reject(new Error("serve exited " + code)));
  });
  const m = /at (http:\/\/\S+)/.exec(line);
  check(m, "serve printed no address: " + line);
  const url = new URL(m[1]);
  return { p, base: url.origin, token: url.searchParams.get("token") };
}

let browser;
try {
  // The browser and the server first, so the page sees the job from its start.
  const srv = await serve(["--price-per-vcpu-hour", "0.04"]);
  browser = await chromium.launch({ executablePath: chromiumPath, args: ["--no-sandbox"] });
  const context = await browser.newContext({ viewport: { width: 1280, height: 1500 } });
  const page = await context.newPage();
  const offsite = [];
  page.on("request", (r) => { if (!r.url().startsWith(srv.base)) offsite.push(r.url()); });
  page.on("dialog", () => { throw new Error("FAIL: a dialog opened (script injection)"); });
  await page.goto(srv.base + "/");
  const run = start(["run", "-i", "in", "-o", "out", "--state", "st", "--workers", "2", "--retries", "0",
                     "--exec", `${py} ${transform} {input} {output} 0.12`, "--progress", "none",
                     "--price-per-vcpu-hour", "0.04", "--estimate"]);
  const runExit = new Promise((resolve) => run.once("exit", resolve));

  // The job list, then the job.
  let jobLink;
  for (let i = 0; i < 50 && !jobLink; i++) {
    await page.goto(srv.base + "/");
    jobLink = await page.$("#jobs a");
    if (!jobLink) await sleep(200);
  }
  check(jobLink, "no job in the list");
  await jobLink.click();
  await page.waitForSelector("#progress");
  const jobUrl = page.url();
  // Progress advances live (server-sent events), without a reload.
  const values = [];
  let eta = "-";
  for (let i = 0; i < 12; i++) {
    const v = await page.$eval("#progress", (e) => e.value).catch(() => null);
    if (v !== null) values.push(v);
    const e = await page.textContent("#eta").catch(() => "-");
    if (e && e !== "-") eta = e;
    if ((await page.textContent("#state").catch(() => "")) !== "running") break;
    await sleep(500);
  }
  check(values.length >= 3 && values[values.length - 1] > values[0], "progress did not advance: " + values);
  check(eta !== "-", "no ETA shown while running");
  console.log(`progress ${values.join(" ")}; ETA shown: ${eta}`);
  // The job finishes; the page reloads itself with the final state.
  await page.waitForFunction(() => document.querySelector("#state")?.textContent === "failed", null,
                             { timeout: 90000 });
  check((await runExit) === 1, "run did not exit 1 (some files failed)");
  // The reloaded page (no longer live) has the final records.
  await page.waitForSelector('body[data-live="0"] #failures', { timeout: 30000 });
  check(await page.evaluate(() => window.__pwned === undefined), "markup in a file name ran");
  const failures = await page.textContent("#failures");
  check(failures.includes(evil) && failures.includes("part-009.csv") && failures.includes("exited with status 2"),
        "failures table: " + failures);
  check((await page.$$("#timeline rect")).length === 16, "timeline does not show 16 files");
  check((await page.textContent("#done")) === "14", "done count");
  // The estimate `run --estimate` kept, against the actual, both priced.
  const est = await page.textContent("#estimate");
  check(est.includes("duration") && est.includes("reserved vCPU-seconds"), "estimate table: " + est);
  check(/^\d+m \d+\.\ds$/.test(await page.textContent("#actual-duration")), "no actual duration");
  check(parseFloat(await page.textContent("#actual-reserved")) > 0, "no actual reserved vCPU-seconds");
  check((await page.textContent("#estimated-cost")) !== "-" && (await page.textContent("#actual-cost")) !== "-",
        "estimate or actual not priced");
  await page.screenshot({ path: path.join(artifacts, "dashboard.png"), fullPage: false });
  // A failure's log, by its link.
  await page.click("#failures a[href*='/tasks/']");
  await page.waitForSelector("#log");
  const log = await page.textContent("#log");
  check(log.includes("FAILED") && log.includes("corrupt line"), "log page: " + log.slice(0, 300));
  // Deep links survive a reload: the log page, then a failed file's page (its link from the job page).
  await page.reload();
  await page.waitForSelector("#log");
  check((await page.textContent("#log")) === log, "the log page changed on reload");
  await page.goto(jobUrl);
  await page.click("#failures a[href*='/files?input=']");
  await page.waitForSelector("#record");
  const fileUrl = page.url();
  const record = await page.textContent("#record");
  await page.reload();
  await page.waitForSelector("#record");
  check(page.url() === fileUrl && (await page.textContent("#record")) === record && record.includes("failed"),
        "the file page changed on reload: " + record.slice(0, 200));
  check(offsite.length === 0, "requests off the server: " + offsite);

  // Path tricks and a foreign Host, through the browser's request API.
  for (const p of ["/jobs/..%2f..%2fsecret.txt", "/api/jobs/x/tasks/0/..%2f..%2f..%2fsecret.txt",
                   "/static/..%2f..%2fsecret.txt", `/api/jobs/${path.basename(jobUrl)}/files?input=../../secret.txt`]) {
    const r = await context.request.get(srv.base + p);
    check([400, 404].includes(r.status()) && !(await r.text()).includes("do not serve"), `${p}: ${r.status()}`);
  }
  const foreign = await context.request.get(srv.base + "/", { headers: { Host: "attacker.example" } });
  check(foreign.status() === 403, "foreign Host: " + foreign.status());

  // With a token: none, wrong, right (the printed link sets a cookie).
  const tsrv = await serve(["--token", "browser-test-token-0123456789"]);
  const fresh = await browser.newContext();
  const p2 = await fresh.newPage();
  let r = await p2.goto(tsrv.base + "/");
  check(r.status() === 401, "no token: " + r.status());
  r = await p2.goto(tsrv.base + "/?token=wrong-token-0123456789");
  check(r.status() === 401, "wrong token: " + r.status());
  r = await p2.goto(tsrv.base + "/?token=" + tsrv.token);
  check(r.status() === 200 && !p2.url().includes("token="), "right token: " + r.status() + " " + p2.url());
  r = await p2.goto(tsrv.base + new URL(jobUrl).pathname);
  check(r.status() === 200, "cookie not kept: " + r.status());
  console.log("browser: progress, finish, failure log, screenshot, security cases: ok");
} catch (e) {
  console.error(e.stack || String(e));
  process.exitCode = 1;
} finally {
  if (browser) await browser.close();
  for (const c of children) if (c.exitCode === null) c.kill("SIGTERM");
  await sleep(300);
  if (!process.env.FB_KEEP_TMP) fs.rmSync(tmp, { recursive: true, force: true });
}
