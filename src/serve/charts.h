// The job page's pictures, as inline SVG (no script, no external file):
// throughput (files finished over time) and the per-task timeline (which task
// did which file when: stragglers stand out). Every text from the records is
// escaped.
//
// Thread safety: pure functions.
#pragma once

#include <string>

#include "serve/job_view.h"

namespace fb::serve {

std::string ThroughputSvg(const JobView& v, double now_unix);
std::string TimelineSvg(const JobView& v, double now_unix);

}  // namespace fb::serve
