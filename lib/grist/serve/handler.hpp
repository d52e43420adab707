// grist-serve's HTTP semantics, as a pure function of a parsed request:
// the server glue (server.hpp) calls it from libmicrohttpd's threads, the
// unit tests and the fuzzer call it directly, without sockets.
//
//   POST /v1/predict   lines in the model's format (labels optional), plain,
//                      gzip or zstd (Content-Encoding): the answer is byte
//                      for byte what grist-predict writes for those lines;
//                      ?output=prob|label|score&top_k=K&threshold=T as
//                      grist-predict's --output-type, --top-k, --threshold.
//                      Content-Type: application/json with
//                      {"instances": ["line", ...]}: {"predictions": [...]},
//                      numbers, or strings with output=label (no top_k).
//   GET  /healthz      200 while the process runs.
//   GET  /readyz       200 when a model is loaded, else 503.
//   GET  /metrics      Prometheus text.
//   GET  /v1/model     the model's file, hash, load time, format and options (JSON).
//
// Every response names the model that answered it (X-Grist-Model: its
// hash), taken once per request: a reload never mixes two models in one
// answer. With a token, every path but /healthz and /readyz needs
// "Authorization: Bearer TOKEN" (compared in constant time) or gets 401.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "grist/json/json_write.hpp"
#include "grist/serve/metrics.hpp"
#include "grist/serve/model_holder.hpp"

namespace grist::serve {

inline constexpr const char* kModelHeader = "X-Grist-Model";

struct Request {
  std::string_view method;  // "GET", "POST", ...
  std::string_view path;    // without the query string
  std::optional<std::string_view> content_type, content_encoding, authorization;
  std::string_view body;
  // The query string's parameters, decoded, in order (POST /v1/predict:
  // output, top_k, threshold).
  std::vector<std::pair<std::string, std::string>> query;
};

struct Response {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
  std::string model_hash;  // for kModelHeader; empty when no model is loaded
  std::vector<std::pair<std::string, std::string>> headers;  // extra (Allow, WWW-Authenticate)
  Endpoint endpoint = Endpoint::other;
};

struct ServiceOptions {
  std::string token;                    // empty: no authentication
  uint64_t max_body = uint64_t(16) << 20;  // the most bytes of a body, after decoding
};

class Service {
 public:
  Service(ServiceOptions o, ModelHolder& models, ServeMetrics& metrics)
      : o_(std::move(o)), models_(models), metrics_(metrics) {}

  // Never throws (but std::bad_alloc): every failure is a 4xx or 5xx
  // response whose body says why in one line. Counts the request in the
  // metrics.
  Response handle(const Request& r) const;

  ModelHolder& models() const { return models_; }
  ServeMetrics& metrics() const { return metrics_; }

 private:
  Response dispatch(const Request& r) const;
  Response predict(const Request& r, const LoadedModel* model) const;
  bool authorized(const Request& r) const;

  ServiceOptions o_;
  ModelHolder& models_;
  ServeMetrics& metrics_;
};

// a == b without a branch on their bytes: the time depends on the lengths
// only (for secrets).
bool constant_time_equal(std::string_view a, std::string_view b);

// `s` as a JSON string literal (grist/json/json_write.hpp).
using grist::json_string;

}  // namespace grist::serve
