// SpotNoticeWatcher: notices that EC2 is about to reclaim this Spot instance
// (the two-minute warning), so a worker can stop taking new files.
//
// EC2 publishes the notice in the instance metadata service (IMDS): with
// IMDSv2, PUT <endpoint>/latest/api/token (header
// X-aws-ec2-metadata-token-ttl-seconds) gives a session token; GET
// <endpoint>/latest/meta-data/spot/instance-action with header
// X-aws-ec2-metadata-token answers 404 while there is no notice and 200 with
// {"action": "terminate|stop|hibernate", "time": "..."} once there is. The
// notice is best effort: SIGTERM handling stays the primary stop signal.
//
// Thread safety: CheckSpotNotice is a free function with no shared state.
// SpotNoticeWatcher polls on its own thread; its accessors may be called from
// any thread; the callback runs once, on the watcher's thread.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "common/status.h"
#include "runner/array_task.h"  // GetEnv

namespace fb {

inline constexpr const char* kDefaultImdsEndpoint = "http://169.254.169.254";

struct SpotNoticeOptions {
  std::string endpoint = kDefaultImdsEndpoint;  // scheme://host[:port], no trailing path
  std::chrono::milliseconds poll_interval{5000};
  std::chrono::milliseconds request_timeout{2000};
  int token_ttl_seconds = 21600;
};

struct SpotNotice {
  std::string action;  // "terminate", "stop" or "hibernate"
  std::string time;    // when EC2 will act, ISO 8601 UTC
};

// Whether and where to watch, from a worker's --spot-notice MODE and
// --spot-endpoint URL, falling back to FORESTBATCH_SPOT_NOTICE and
// FORESTBATCH_SPOT_ENDPOINT. MODE "off": never; "on": always; "auto" (the
// default): when running under AWS Batch (AWS_BATCH_JOB_ID is set) or an
// endpoint is given. FORESTBATCH_SPOT_POLL_MS overrides the poll interval.
// nullopt means do not watch.
Result<std::optional<SpotNoticeOptions>> SpotNoticeConfig(const std::string& mode_flag,
                                                          const std::string& endpoint_flag,
                                                          const GetEnv& getenv = nullptr);

// Asks the metadata service once. `token` caches the IMDSv2 token between
// calls (empty: get one; cleared when IMDS rejects it). nullopt = no notice.
// IoError when the service cannot be reached or answers something else.
Result<std::optional<SpotNotice>> CheckSpotNotice(const SpotNoticeOptions& options, std::string& token);

class SpotNoticeWatcher {
 public:
  // Starts polling at once. `on_notice` (may be empty) is called once, when
  // the first notice is seen.
  SpotNoticeWatcher(SpotNoticeOptions options, std::function<void(const SpotNotice&)> on_notice);
  ~SpotNoticeWatcher();  // stops and joins the polling thread
  SpotNoticeWatcher(const SpotNoticeWatcher&) = delete;
  SpotNoticeWatcher& operator=(const SpotNoticeWatcher&) = delete;

  bool notice_seen() const { return seen_.load(std::memory_order_acquire); }
  std::optional<SpotNotice> notice() const;
  // The last error polling met (an unreachable endpoint is not fatal: the
  // watcher keeps trying), empty if none.
  std::string last_error() const;
  int64_t polls() const { return polls_.load(); }

  void Stop();

 private:
  void Loop();

  SpotNoticeOptions options_;
  std::function<void(const SpotNotice&)> on_notice_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::optional<SpotNotice> notice_;
  std::string last_error_;
  std::atomic<bool> seen_{false};
  std::atomic<int64_t> polls_{0};
  std::thread thread_;
};

}  // namespace fb
