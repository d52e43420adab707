// grist-serve's counters, exposed as Prometheus text (GET /metrics).
//
// Every counter is a relaxed atomic: requests on any worker thread bump
// them without a lock, and a scrape reads each one once (a scrape is not a
// snapshot across counters, as with any Prometheus exporter).
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <string>

#include "grist/serve/model_holder.hpp"

namespace grist::serve {

enum class Endpoint { predict, healthz, readyz, metrics, model, other, count_ };
const char* endpoint_name(Endpoint e);

// The statuses the server answers with; any other counts as "other".
inline constexpr std::array<int, 11> kStatuses = {200, 400, 401, 404, 405, 408,
                                                  413, 415, 500, 503, 0};

// Upper bounds, in seconds, of the latency histogram's buckets (+Inf last).
inline constexpr std::array<double, 14> kLatencyBuckets = {
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5};

enum class ExampleOutcome { scored, refused };
enum class ReloadOutcome { loaded, refused };

class ServeMetrics {
 public:
  void request(Endpoint e, int status, double seconds);
  void examples(ExampleOutcome o, uint64_t n) {
    (o == ExampleOutcome::scored ? examples_ok_ : examples_err_)
        .fetch_add(n, std::memory_order_relaxed);
  }
  void reload(ReloadOutcome o) {
    (o == ReloadOutcome::loaded ? reloads_ : reload_failures_)
        .fetch_add(1, std::memory_order_relaxed);
  }
  void connection_opened() { connections_.fetch_add(1, std::memory_order_relaxed); }
  void connection_closed() { connections_.fetch_sub(1, std::memory_order_relaxed); }
  int64_t open_connections() const { return connections_.load(std::memory_order_relaxed); }
  uint64_t reloads() const { return reloads_.load(std::memory_order_relaxed); }
  uint64_t reload_failures() const { return reload_failures_.load(std::memory_order_relaxed); }

  // The Prometheus text exposition (version 0.0.4) of every counter, with
  // the model's hash, file and load time when one is loaded.
  std::string text(const LoadedModel* model) const;

 private:
  static constexpr size_t kE = static_cast<size_t>(Endpoint::count_);
  std::array<std::array<std::atomic<uint64_t>, kStatuses.size()>, kE> requests_{};
  std::array<std::atomic<uint64_t>, kLatencyBuckets.size() + 1> buckets_{};  // predict only
  std::atomic<uint64_t> latency_ns_{0};
  std::atomic<uint64_t> examples_ok_{0}, examples_err_{0};
  std::atomic<uint64_t> reloads_{0}, reload_failures_{0};
  std::atomic<int64_t> connections_{0};
};

}  // namespace grist::serve
