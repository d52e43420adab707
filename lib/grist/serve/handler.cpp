#include "grist/serve/handler.hpp"

#include <simdjson.h>
#define ZSTD_STATIC_LINKING_ONLY  // ZSTD_getFrameHeader (stable since zstd 1.3)
#include <zstd.h>

#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <new>

#include "grist/error.hpp"
#include "grist/io/block_reader.hpp"
#include "grist/io/source.hpp"
#include "grist/sgd/predict.hpp"

namespace grist::serve {

namespace {

// A zstd frame may ask for a window of up to 2^31 bytes; a request body is
// small, and a window larger than this is a way to make each request take
// memory: refused (zstd -19 uses 8 MiB).
constexpr uint64_t kMaxZstdWindow = uint64_t(8) << 20;

struct Failure {
  int status;
  std::string message;
};

Response text_response(int status, std::string body) {
  Response r;
  r.status = status;
  r.body = std::move(body);
  if (r.body.empty() || r.body.back() != '\n') r.body += '\n';
  return r;
}

bool starts_with_ci(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  for (size_t i = 0; i < prefix.size(); ++i) {
    char a = s[i], b = prefix[i];
    if (a >= 'A' && a <= 'Z') a = static_cast<char>(a - 'A' + 'a');
    if (a != b) return false;
  }
  return true;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// The media type without parameters, lower case.
std::string media_type(std::string_view ct) {
  ct = trim(ct.substr(0, ct.find(';')));
  std::string m(ct);
  for (char& c : m) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return m;
}

// Fills `block` with `bytes` as one block of whole lines (a last line
// without '\n' gets one) plus the zero padding parsers may read.
void fill_block(Block& block, std::string_view bytes) {
  size_t n = bytes.size();
  bool add_nl = n > 0 && bytes.back() != '\n';
  block.buf.resize(n + add_nl + kBlockPadding);
  if (n) std::memcpy(block.buf.data(), bytes.data(), n);
  if (add_nl) block.buf[n] = '\n';
  std::memset(block.buf.data() + n + add_nl, 0, kBlockPadding);
  block.size = n + add_nl;
  block.first_line = 1;
  block.lines = count_newlines(block.buf.data(), block.size);
}

// The body decoded as Content-Encoding says, into `block`. Throws Failure.
void decode_body(const Request& r, uint64_t max_body, Block& block) {
  std::string enc = r.content_encoding ? media_type(*r.content_encoding) : std::string();
  Compression want;
  if (enc.empty() || enc == "identity") {
    if (r.body.size() > max_body) {
      throw Failure{413, "the body is larger than the limit (--max-body " +
                             std::to_string(max_body) + " bytes)"};
    }
    fill_block(block, r.body);
    return;
  } else if (enc == "gzip" || enc == "x-gzip") {
    want = Compression::gzip;
  } else if (enc == "zstd") {
    want = Compression::zstd;
  } else {
    throw Failure{415, "Content-Encoding " + quote_input(*r.content_encoding) +
                           " is not supported (identity, gzip or zstd)"};
  }
  if (want == Compression::zstd) {
    ZSTD_frameHeader h{};
    size_t rc = ZSTD_getFrameHeader(&h, r.body.data(), r.body.size());
    if (rc == 0 && h.frameType == ZSTD_frame && h.windowSize > kMaxZstdWindow) {
      throw Failure{413, "the zstd frame needs a window of " + std::to_string(h.windowSize) +
                             " bytes; the most a request may use is " +
                             std::to_string(kMaxZstdWindow)};
    }
  }
  std::string decoded;
  try {
    auto src = Source::from_memory(std::string(r.body), "body");
    if (src->compression() != want) {
      throw Failure{400, std::string("the body is not ") + compression_name(want) +
                             " (Content-Encoding " + quote_input(*r.content_encoding) + ")"};
    }
    char buf[1 << 16];
    while (size_t n = src->read(buf, sizeof buf)) {
      if (decoded.size() + n > max_body) {
        throw Failure{413, "the decoded body is larger than the limit (--max-body " +
                               std::to_string(max_body) + " bytes)"};
      }
      decoded.append(buf, n);
    }
  } catch (const Error& e) {
    throw Failure{400, e.what()};
  }
  fill_block(block, decoded);
}

// The per-thread parser of the current model (a Parser is costly to make
// for text models: n-gram and quadratic tables).
sgd::Parser& parser_for(const LoadedModel& m) {
  struct Cached {
    uint64_t generation = 0;
    std::unique_ptr<sgd::Parser> parser;
  };
  thread_local Cached c;
  if (c.generation != m.generation || !c.parser) {
    c.parser = std::make_unique<sgd::Parser>(m.parse);
    c.generation = m.generation;
  }
  return *c.parser;
}

const std::shared_ptr<const std::string>& source_name() {
  static const auto name = std::make_shared<const std::string>("body");
  return name;
}

// The instances of {"instances": [...]} joined into lines. Throws Failure.
void json_instances(std::string_view body, Block& block, uint64_t max_body) {
  thread_local simdjson::dom::parser parser;
  // The parser keeps its buffers at the size of the largest document it
  // has seen; past 1 MiB they are given back after the request, so that a
  // large body costs memory only while it is answered.
  struct Shrink {
    ~Shrink() {
      if (parser.capacity() > (1 << 20)) parser = simdjson::dom::parser{};
    }
  } shrink;
  simdjson::dom::element doc;
  auto err = parser.parse(body.data(), body.size()).get(doc);
  if (err) throw Failure{400, std::string("the body is not JSON: ") + simdjson::error_message(err)};
  simdjson::dom::object obj;
  if (doc.get_object().get(obj)) {
    throw Failure{400, "the JSON body is not an object (expected {\"instances\": [...]})"};
  }
  simdjson::dom::array arr;
  auto field = obj["instances"];
  if (field.error() == simdjson::NO_SUCH_FIELD) {
    throw Failure{400, "the JSON body has no \"instances\" (expected {\"instances\": [...]})"};
  }
  if (field.get_array().get(arr)) {
    throw Failure{400, "\"instances\" is not an array of strings"};
  }
  std::string lines;
  size_t i = 0;
  for (simdjson::dom::element e : arr) {
    std::string_view s;
    if (e.get_string().get(s)) {
      throw Failure{400, "instances[" + std::to_string(i) + "] is not a string"};
    }
    if (s.find('\n') != std::string_view::npos) {
      throw Failure{400, "instances[" + std::to_string(i) + "] holds a newline (one example each)"};
    }
    lines.append(s);
    lines += '\n';
    if (lines.size() > max_body) {
      throw Failure{413, "the instances are larger than the limit (--max-body)"};
    }
    ++i;
  }
  fill_block(block, lines);
}

// {"predictions": [...]} from the text grist-predict writes: each line's
// first word, a number (null for a line without an example, or a score
// that is not finite).
std::string json_predictions(const std::string& text) {
  std::string out = "{\"predictions\":[";
  size_t p = 0;
  bool first = true;
  while (p < text.size()) {
    size_t nl = text.find('\n', p);
    std::string_view line(text.data() + p, nl - p);
    std::string_view word = line.substr(0, line.find(' '));
    if (!first) out += ',';
    first = false;
    bool number = !word.empty() && word.find_first_of("ni") == std::string_view::npos;
    if (number) out.append(word);
    else out += "null";
    p = nl + 1;
  }
  out += "]}\n";
  return out;
}

// {"predictions": [...]} of class names (output=label): one per line,
// null for a line without an example.
std::string json_labels(const sgd::ScoredBlock& s, uint64_t lines, const sgd::ModelOptions& mo) {
  std::string out = "{\"predictions\":[";
  size_t e = 0;
  for (uint64_t l = 1; l <= lines; ++l) {
    if (l > 1) out += ',';
    if (e < s.ex.size() && s.ex.line[e] == l) {
      out += json_string(mo.class_name(s.cls[e]));
      ++e;
    } else {
      out += "null";
    }
  }
  out += "]}\n";
  return out;
}

// The output settings of the query string. Throws Failure (400).
sgd::OutputOptions output_options(const Request& r) {
  sgd::OutputOptions o;
  bool seen[3] = {false, false, false};
  for (const auto& kv : r.query) {
    // Not a structured binding: clang 14 (the fuzz build) cannot capture one.
    const std::string &k = kv.first, &v = kv.second;
    int which = k == "output" ? 0 : k == "top_k" ? 1 : k == "threshold" ? 2 : -1;
    if (which < 0) {
      throw Failure{400, "unknown query parameter " + quote_input(k) +
                             " (output, top_k, threshold)"};
    }
    if (seen[which]) throw Failure{400, "query parameter " + k + " given twice"};
    seen[which] = true;
    auto bad = [&](const char* expected) {
      return Failure{400, "query parameter " + k + "=" + quote_input(v) + ": expected " + expected};
    };
    if (which == 0) {
      if (v == "prob") o.kind = sgd::OutputKind::prob;
      else if (v == "label") o.kind = sgd::OutputKind::label;
      else if (v == "score") o.kind = sgd::OutputKind::score;
      else throw bad("prob, label or score");
    } else if (which == 1) {
      int n = 0;
      auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
      if (v.empty() || ec != std::errc() || end != v.data() + v.size() || n < 1) {
        throw bad("a whole number, 1 or more");
      }
      o.top_k = n;
    } else {
      double t = 0;
      auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), t);
      if (v.empty() || ec != std::errc() || end != v.data() + v.size() || !std::isfinite(t)) {
        throw bad("a finite number");
      }
      o.threshold = t;
    }
  }
  return o;
}

// "2026-12-05T16:00:00Z"
std::string utc_text(double unix_seconds) {
  time_t t = static_cast<time_t>(unix_seconds);
  struct tm tm {};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string model_json(const LoadedModel& m) {
  std::string j = "{\"file\":" + json_string(m.path) + ",\"hash\":\"" + m.hash +
                  "\",\"hash_algorithm\":\"xxh3-64\",\"bytes\":" + std::to_string(m.file_bytes);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.3f", m.loaded_at);
  j += ",\"loaded_at\":" + json_string(utc_text(m.loaded_at)) + ",\"loaded_at_unix\":" + buf;
  j += ",\"format\":" + json_string(sgd::format_name(m.model->options().format));
  j += ",\"options\":{";
  std::string h = sgd::options_header(m.model->options());
  size_t p = 0;
  bool first = true;
  while (p < h.size()) {
    size_t nl = h.find('\n', p);
    if (nl == std::string::npos) nl = h.size();
    std::string_view kv(h.data() + p, nl - p);
    size_t eq = kv.find('=');
    if (eq != std::string_view::npos) {
      if (!first) j += ',';
      first = false;
      j += json_string(kv.substr(0, eq)) + ":" + json_string(kv.substr(eq + 1));
    }
    p = nl + 1;
  }
  j += "}}\n";
  return j;
}

}  // namespace

bool constant_time_equal(std::string_view a, std::string_view b) {
  unsigned char diff = a.size() != b.size();
  for (size_t i = 0; i < a.size(); ++i) {
    unsigned char y = i < b.size() ? static_cast<unsigned char>(b[i]) : 0;
    diff |= static_cast<unsigned char>(a[i]) ^ y;
  }
  return diff == 0;
}

bool Service::authorized(const Request& r) const {
  if (o_.token.empty()) return true;
  if (!r.authorization) return false;
  std::string_view a = trim(*r.authorization);
  if (!starts_with_ci(a, "bearer ")) return false;
  return constant_time_equal(o_.token, trim(a.substr(7)));
}

Response Service::handle(const Request& r) const {
  auto t0 = std::chrono::steady_clock::now();
  Response resp;
  try {
    resp = dispatch(r);
  } catch (const std::bad_alloc&) {
    resp = text_response(503, "out of memory");
  } catch (const std::exception& e) {
    resp = text_response(500, std::string("internal error: ") + e.what());
  }
  double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  metrics_.request(resp.endpoint, resp.status, s);
  return resp;
}

Response Service::dispatch(const Request& r) const {
  Endpoint e = Endpoint::other;
  bool post = false;
  if (r.path == "/v1/predict") e = Endpoint::predict, post = true;
  else if (r.path == "/healthz") e = Endpoint::healthz;
  else if (r.path == "/readyz") e = Endpoint::readyz;
  else if (r.path == "/metrics") e = Endpoint::metrics;
  else if (r.path == "/v1/model") e = Endpoint::model;
  auto model = models_.get();
  Response resp;
  if (e == Endpoint::other) {
    resp = text_response(404, "no such path (POST /v1/predict, GET /healthz /readyz /metrics /v1/model)");
  } else if (e != Endpoint::healthz && e != Endpoint::readyz && !authorized(r)) {
    resp = text_response(401, "a bearer token is required (Authorization: Bearer TOKEN)");
    resp.headers.emplace_back("WWW-Authenticate", "Bearer");
  } else if (post ? r.method != "POST" : (r.method != "GET" && r.method != "HEAD")) {
    resp = text_response(405, std::string("use ") + (post ? "POST" : "GET"));
    resp.headers.emplace_back("Allow", post ? "POST" : "GET, HEAD");
  } else if (e == Endpoint::healthz) {
    resp = text_response(200, "ok");
  } else if (e == Endpoint::readyz) {
    resp = model ? text_response(200, "ready") : text_response(503, "no model loaded");
  } else if (e == Endpoint::metrics) {
    resp.body = metrics_.text(model.get());
    resp.content_type = "text/plain; version=0.0.4; charset=utf-8";
  } else if (!model) {
    resp = text_response(503, "no model loaded");
  } else if (e == Endpoint::model) {
    resp.body = model_json(*model);
    resp.content_type = "application/json";
  } else {
    resp = predict(r, model.get());
  }
  resp.endpoint = e;
  if (model) resp.model_hash = model->hash;
  return resp;
}

// `model` is the one reference for the whole request: a reload meanwhile
// changes neither the model that answers nor the hash the response names.
Response Service::predict(const Request& r, const LoadedModel* model) const {
  bool json = r.content_type && media_type(*r.content_type) == "application/json";
  Block block;
  block.source = source_name();
  sgd::ScoredBlock scored;
  sgd::ScoreOptions so;
  try {
    try {
      so = sgd::score_options(model->model->options(), output_options(r),
                              {"output", "top_k", "threshold", "="});
    } catch (const UsageError& e) {
      throw Failure{400, e.what()};
    }
    if (json && so.top_k > 0) {
      throw Failure{400, "top_k answers are text (one line per example, as grist-predict "
                         "writes them), not JSON"};
    }
    if (json) {
      Block raw;
      decode_body(r, o_.max_body, raw);
      json_instances(std::string_view(raw.data(), raw.size), block, o_.max_body);
    } else {
      decode_body(r, o_.max_body, block);
    }
    try {
      sgd::score_block(*model->model, parser_for(*model), block, false, so, scored);
    } catch (const Error& e) {
      metrics_.examples(ExampleOutcome::refused, block.lines);
      std::string where = json ? "instances[" + std::to_string(e.line() - 1) + "]"
                               : "line " + std::to_string(e.line());
      throw Failure{400, where + ": " + e.message()};
    }
  } catch (const Failure& f) {
    Response resp = text_response(f.status, f.message);
    resp.model_hash = model->hash;
    return resp;
  }
  metrics_.examples(ExampleOutcome::scored, scored.ex.size());
  Response resp;
  if (json) {
    resp.body = so.kind == sgd::OutputKind::label
                    ? json_labels(scored, block.lines, model->model->options())
                    : json_predictions(scored.text);
    resp.content_type = "application/json";
  } else {
    resp.body = std::move(scored.text);
  }
  resp.model_hash = model->hash;
  return resp;
}

}  // namespace grist::serve
