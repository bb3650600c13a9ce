#include "serve/charts.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <vector>

#include "serve/html.h"

namespace fb::serve {
namespace {

constexpr double kWidth = 760, kLeft = 56, kRight = 12, kTop = 10, kBottom = 28;

struct Span {
  double start, end;
  const FileRecord* file;
};

// The files with a time, and the span of the whole picture.
std::vector<Span> Spans(const JobView& v, double now, double* t0, double* t1) {
  std::vector<Span> out;
  *t0 = 0;
  *t1 = 0;
  for (const auto& f : v.files) {
    if (f.updated_unix <= 0 || f.state == FileState::kPending) continue;
    // A dead job's "running" files ended when their worker died, not now.
    const bool running = v.live && (f.state == FileState::kRunning || f.state == FileState::kRetrying);
    const double start = running ? f.updated_unix : f.updated_unix - f.seconds;
    const double end = running ? std::max(now, f.updated_unix) : f.updated_unix;
    out.push_back({start, end, &f});
    if (*t0 == 0 || start < *t0) *t0 = start;
    *t1 = std::max(*t1, end);
  }
  if (v.started_unix > 0 && (*t0 == 0 || v.started_unix < *t0)) *t0 = v.started_unix;
  if (*t1 <= *t0) *t1 = *t0 + 1;
  return out;
}

std::string Axis(double t0, double t1, double plot_h) {
  std::string s;
  const double span = t1 - t0;
  const double plot_w = kWidth - kLeft - kRight;
  for (int i = 0; i <= 4; ++i) {
    const double x = kLeft + plot_w * i / 4;
    s += fmt::format(R"(<line x1="{0:.1f}" y1="{1:.1f}" x2="{0:.1f}" y2="{2:.1f}" class="grid"/>)", x, kTop,
                     kTop + plot_h);
    s += fmt::format(R"(<text x="{:.1f}" y="{:.1f}" class="tick" text-anchor="middle">{:.1f} s</text>)", x,
                     kTop + plot_h + 16, span * i / 4);
  }
  return s;
}

const char* StateClass(FileState state) {
  switch (state) {
    case FileState::kDone: return "s-done";
    case FileState::kFailed: return "s-failed";
    case FileState::kSkipped: return "s-skipped";
    default: return "s-running";
  }
}

}  // namespace

std::string ThroughputSvg(const JobView& v, double now) {
  double t0, t1;
  auto spans = Spans(v, now, &t0, &t1);
  std::vector<double> ends;
  for (const auto& s : spans) {
    if (s.file->state == FileState::kDone || s.file->state == FileState::kFailed) ends.push_back(s.end);
  }
  std::sort(ends.begin(), ends.end());
  const double plot_h = 150, plot_w = kWidth - kLeft - kRight;
  const double total = static_cast<double>(std::max<int64_t>(1, v.job.files_total));
  std::string svg = fmt::format(
      R"(<svg class="chart" id="throughput" viewBox="0 0 {} {}" role="img" aria-label="files finished over time">)",
      kWidth, plot_h + kTop + kBottom);
  svg += Axis(t0, t1, plot_h);
  for (int i = 0; i <= 2; ++i) {
    const double y = kTop + plot_h * (1 - i / 2.0);
    svg += fmt::format(R"(<text x="{:.1f}" y="{:.1f}" class="tick" text-anchor="end">{:.0f}</text>)",
                       kLeft - 6, y + 4, total * i / 2);
  }
  std::string points = fmt::format("{:.1f},{:.1f}", kLeft, kTop + plot_h);
  for (size_t i = 0; i < ends.size(); ++i) {
    const double x = kLeft + plot_w * (ends[i] - t0) / (t1 - t0);
    const double y = kTop + plot_h * (1 - static_cast<double>(i + 1) / total);
    points += fmt::format(" {:.1f},{:.1f}", x, y);
  }
  svg += fmt::format(R"(<polyline class="line" points="{}"/>)", points);
  svg += fmt::format(R"(<text x="{:.1f}" y="{:.1f}" class="label">{} of {} files finished</text>)", kLeft + 6,
                     kTop + 14, ends.size(), v.job.files_total);
  svg += "</svg>";
  return svg;
}

std::string TimelineSvg(const JobView& v, double now) {
  double t0, t1;
  auto spans = Spans(v, now, &t0, &t1);
  std::map<int64_t, int> rows;  // task -> row
  for (const auto& t : v.tasks) rows.emplace(t.record.index, 0);
  for (const auto& s : spans) rows.emplace(s.file->task, 0);
  int r = 0;
  for (auto& [task, row] : rows) row = r++;
  const double row_h = 18, plot_h = std::max(1, r) * row_h, plot_w = kWidth - kLeft - kRight;
  std::string svg = fmt::format(
      R"(<svg class="chart" id="timeline" viewBox="0 0 {} {}" role="img" aria-label="which task did which file when">)",
      kWidth, plot_h + kTop + kBottom);
  svg += Axis(t0, t1, plot_h);
  for (const auto& [task, row] : rows) {
    svg += fmt::format(R"(<text x="{:.1f}" y="{:.1f}" class="tick" text-anchor="end">task {}</text>)",
                       kLeft - 6, kTop + row * row_h + row_h / 2 + 4, task);
  }
  for (const auto& s : spans) {
    const double x = kLeft + plot_w * (s.start - t0) / (t1 - t0);
    const double w = std::max(1.0, plot_w * (s.end - s.start) / (t1 - t0));
    const double y = kTop + rows[s.file->task] * row_h + 2;
    svg += fmt::format(
        R"(<rect x="{:.1f}" y="{:.1f}" width="{:.1f}" height="{:.1f}" class="{}"><title>{}: {}, {:.3f} s</title></rect>)",
        x, y, w, row_h - 4, StateClass(s.file->state), HtmlEscape(s.file->relative),
        HtmlEscape(StateName(s.file->state)), s.file->seconds);
  }
  svg += "</svg>";
  return svg;
}

}  // namespace fb::serve
