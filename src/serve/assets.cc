#include "serve/assets.h"

namespace fb::serve {

const char kAppCss[] = R"css(
:root { --fg: #1d2330; --muted: #5b6475; --line: #d8dde6; --ok: #2e7d32; --bad: #c62828; --run: #ef8f00; --skip: #9aa3b2; }
* { box-sizing: border-box; }
body { font: 14px/1.45 system-ui, sans-serif; color: var(--fg); margin: 0; background: #f6f7f9; }
header { background: #1d2330; color: #fff; padding: 10px 20px; display: flex; gap: 16px; align-items: baseline; }
header a { color: #fff; font-weight: 600; text-decoration: none; }
header .where { color: #b9c1cf; font-size: 12px; }
main { padding: 16px 20px; max-width: 1200px; }
h1 { font-size: 20px; margin: 4px 0 12px; word-break: break-all; }
h2 { font-size: 16px; margin: 22px 0 8px; }
table { border-collapse: collapse; background: #fff; width: 100%; }
th, td { border-bottom: 1px solid var(--line); padding: 5px 8px; text-align: left; vertical-align: top; }
th { background: #eef0f4; font-weight: 600; white-space: nowrap; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.wrap, .wrap { word-break: break-all; }
.state { display: inline-block; padding: 1px 8px; border-radius: 10px; background: #e3e7ee; font-size: 12px; }
.state-succeeded { background: #dcefdc; color: var(--ok); }
.state-failed { background: #f8dcdc; color: var(--bad); }
.state-running, .state-cancelling { background: #fdebd0; color: #a35f00; }
.state-dead { background: #3a3f4b; color: #fff; }
p.warning { background: #fff4e0; border: 1px solid #e8c27a; padding: 8px 12px; border-radius: 4px; }
progress { width: 100%; height: 18px; }
dl.stats { display: grid; grid-template-columns: repeat(auto-fill, minmax(170px, 1fr)); gap: 8px; margin: 12px 0; }
dl.stats div { background: #fff; border: 1px solid var(--line); padding: 6px 10px; border-radius: 4px; }
dl.stats dt { color: var(--muted); font-size: 12px; }
dl.stats dd { margin: 0; font-size: 16px; font-variant-numeric: tabular-nums; }
pre { background: #fff; border: 1px solid var(--line); padding: 10px; overflow: auto; white-space: pre-wrap; word-break: break-all; }
pre.error { color: var(--bad); margin: 0; border: 0; padding: 0; background: none; }
.chart { width: 100%; background: #fff; border: 1px solid var(--line); }
.chart .grid { stroke: #e6e9ef; }
.chart .tick { fill: var(--muted); font-size: 11px; }
.chart .label { fill: var(--fg); font-size: 12px; }
.chart .line { fill: none; stroke: #1565c0; stroke-width: 2; }
.chart .s-done { fill: var(--ok); }
.chart .s-failed { fill: var(--bad); }
.chart .s-skipped { fill: var(--skip); }
.chart .s-running { fill: var(--run); }
form.action { display: inline; }
button { font: inherit; padding: 4px 12px; }
.muted { color: var(--muted); }
)css";

const char kAppJs[] = R"js(
(function () {
  "use strict";
  var body = document.body;
  var job = body.getAttribute("data-job");
  if (!job || body.getAttribute("data-live") !== "1" || !window.EventSource) return;
  var base = "/jobs/" + encodeURIComponent(job);
  function set(id, text) {
    var el = document.getElementById(id);
    if (el) el.textContent = text;
  }
  function duration(s) {
    if (s === null || s === undefined) return "-";
    var m = Math.floor(s / 60);
    return m + "m " + (s - 60 * m).toFixed(1) + "s";
  }
  function charts() {
    fetch(base + "/charts", { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.text() : null; })
      .then(function (t) { if (t !== null) document.getElementById("charts").innerHTML = t; });
  }
  var events = new EventSource("/api/jobs/" + encodeURIComponent(job) + "/events");
  var n = 0;
  events.onmessage = function (e) {
    var p = JSON.parse(e.data);
    var f = p.files;
    var finished = f.done + f.skipped + f.failed;
    var bar = document.getElementById("progress");
    if (bar) { bar.max = Math.max(1, f.total); bar.value = finished; }
    set("state", p.state);
    set("finished", finished + " of " + f.total);
    set("done", String(f.done));
    set("failed", String(f.failed));
    set("rows", String(p.rows));
    set("elapsed", duration(p.elapsed_seconds));
    set("rate", (p.files_per_second * 60).toFixed(1));
    set("eta", duration(p.eta_seconds));
    set("vcpu", p.vcpu_seconds.toFixed(1));
    set("projected", p.projected_vcpu_seconds === null ? "-" : p.projected_vcpu_seconds.toFixed(1));
    if (p.estimate) {
      var a = p.estimate.actual;
      set("actual-duration", duration(a.duration_seconds));
      set("actual-reserved", a.reserved_vcpu_seconds.toFixed(1));
      set("actual-used", a.used_vcpu_seconds.toFixed(1));
    }
    if (++n % 3 === 0) charts();
    if (!p.live) {
      events.close();
      setTimeout(function () { window.location.reload(); }, 300);
    }
  };
})();
)js";

}  // namespace fb::serve
