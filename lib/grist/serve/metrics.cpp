#include "grist/serve/metrics.hpp"

#include <cstdio>

namespace grist::serve {

const char* endpoint_name(Endpoint e) {
  switch (e) {
    case Endpoint::predict: return "/v1/predict";
    case Endpoint::healthz: return "/healthz";
    case Endpoint::readyz: return "/readyz";
    case Endpoint::metrics: return "/metrics";
    case Endpoint::model: return "/v1/model";
    default: return "other";
  }
}

void ServeMetrics::request(Endpoint e, int status, double seconds) {
  size_t s = kStatuses.size() - 1;
  for (size_t i = 0; i + 1 < kStatuses.size(); ++i) {
    if (kStatuses[i] == status) s = i;
  }
  requests_[static_cast<size_t>(e)][s].fetch_add(1, std::memory_order_relaxed);
  if (e != Endpoint::predict) return;
  size_t b = 0;
  while (b < kLatencyBuckets.size() && seconds > kLatencyBuckets[b]) ++b;
  buckets_[b].fetch_add(1, std::memory_order_relaxed);
  latency_ns_.fetch_add(static_cast<uint64_t>(seconds * 1e9), std::memory_order_relaxed);
}

namespace {
// A label value: backslash, quote and newline escaped (Prometheus text format).
std::string label(const std::string& v) {
  std::string out;
  for (char c : v) {
    if (c == '\\' || c == '"') out += '\\', out += c;
    else if (c == '\n') out += "\\n";
    else out += c;
  }
  return out;
}
}  // namespace

std::string ServeMetrics::text(const LoadedModel* model) const {
  std::string t;
  char buf[256];
  auto u = [&](uint64_t v) { return std::to_string(v); };
  t += "# HELP grist_serve_requests_total HTTP requests answered, by endpoint and status.\n"
       "# TYPE grist_serve_requests_total counter\n";
  for (size_t e = 0; e < kE; ++e) {
    for (size_t s = 0; s < kStatuses.size(); ++s) {
      uint64_t n = requests_[e][s].load(std::memory_order_relaxed);
      if (n == 0) continue;
      std::string code = kStatuses[s] ? std::to_string(kStatuses[s]) : "other";
      t += std::string("grist_serve_requests_total{endpoint=\"") +
           endpoint_name(static_cast<Endpoint>(e)) + "\",code=\"" + code + "\"} " + u(n) + "\n";
    }
  }
  t += "# HELP grist_serve_examples_total Examples in /v1/predict requests, by outcome.\n"
       "# TYPE grist_serve_examples_total counter\n";
  t += "grist_serve_examples_total{status=\"ok\"} " + u(examples_ok_.load()) + "\n";
  t += "grist_serve_examples_total{status=\"error\"} " + u(examples_err_.load()) + "\n";
  t += "# HELP grist_serve_request_duration_seconds Time to answer /v1/predict.\n"
       "# TYPE grist_serve_request_duration_seconds histogram\n";
  uint64_t cum = 0;
  for (size_t b = 0; b <= kLatencyBuckets.size(); ++b) {
    cum += buckets_[b].load(std::memory_order_relaxed);
    if (b < kLatencyBuckets.size()) {
      std::snprintf(buf, sizeof buf, "grist_serve_request_duration_seconds_bucket{le=\"%g\"} ",
                    kLatencyBuckets[b]);
    } else {
      std::snprintf(buf, sizeof buf, "grist_serve_request_duration_seconds_bucket{le=\"+Inf\"} ");
    }
    t += buf + u(cum) + "\n";
  }
  std::snprintf(buf, sizeof buf, "grist_serve_request_duration_seconds_sum %.9f\n",
                latency_ns_.load(std::memory_order_relaxed) / 1e9);
  t += buf;
  t += "grist_serve_request_duration_seconds_count " + u(cum) + "\n";
  t += "# HELP grist_serve_reloads_total Models loaded after the first.\n"
       "# TYPE grist_serve_reloads_total counter\n"
       "grist_serve_reloads_total " + u(reloads()) + "\n";
  t += "# HELP grist_serve_reload_failures_total New model files refused.\n"
       "# TYPE grist_serve_reload_failures_total counter\n"
       "grist_serve_reload_failures_total " + u(reload_failures()) + "\n";
  t += "# HELP grist_serve_open_connections Client connections open now.\n"
       "# TYPE grist_serve_open_connections gauge\n"
       "grist_serve_open_connections " + std::to_string(open_connections()) + "\n";
  if (model) {
    t += "# HELP grist_serve_model_info The model answering requests (value 1).\n"
         "# TYPE grist_serve_model_info gauge\n"
         "grist_serve_model_info{hash=\"" + model->hash + "\",file=\"" + label(model->path) +
         "\"} 1\n";
    std::snprintf(buf, sizeof buf,
                  "# HELP grist_serve_model_load_timestamp_seconds When the model was loaded.\n"
                  "# TYPE grist_serve_model_load_timestamp_seconds gauge\n"
                  "grist_serve_model_load_timestamp_seconds %.3f\n",
                  model->loaded_at);
    t += buf;
  }
  return t;
}

}  // namespace grist::serve
