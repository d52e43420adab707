// grist-serve's request handler: any body, under any method, path,
// Content-Type and Content-Encoding, gives a response with a known status,
// the model's hash and a non-empty body for errors; never a crash, a hang
// or a read outside the body. A 200 for lines has one output line per
// input line; a 200 for JSON is {"predictions":[...]} of valid UTF-8.
#include <array>
#include <string>
#include <string_view>

#include "fuzz_util.hpp"
#include "grist/serve/handler.hpp"
#include "grist/sgd/predict.hpp"

using namespace grist;
using namespace grist::serve;

namespace {

std::shared_ptr<const LoadedModel> make_model(sgd::Format f, int classes) {
  sgd::ModelOptions o;
  o.bits = 10;
  o.format = f;
  o.classes = classes;
  o.ngrams = f == sgd::Format::text ? 2 : 1;
  auto m = std::make_shared<LoadedModel>();
  m->model = std::make_unique<sgd::Model>(o, sgd::ModelState::weights_only);
  for (uint64_t s = 0; s < m->model->slots(); s += 3) {
    m->model->state()[s * m->model->stride()].store(float(s % 11) * 0.1f - 0.5f);
  }
  m->parse = sgd::prediction_parse_options(*m->model, std::nullopt);
  m->hash = "0123456789abcdef";
  m->path = "fuzz.gsgd";
  m->generation = 1000 + static_cast<uint64_t>(f) * 10 + classes;
  return m;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  static const std::array<std::shared_ptr<const LoadedModel>, 4> models = {
      make_model(sgd::Format::svmlight, 0), make_model(sgd::Format::vw, 0),
      make_model(sgd::Format::text, 0), make_model(sgd::Format::svmlight, 3)};
  static ModelHolder holder;
  static ServeMetrics metrics;
  static Service service(ServiceOptions{"", 1 << 16}, holder, metrics);
  static Service guarded(ServiceOptions{"tok", 1 << 16}, holder, metrics);

  const uint8_t sel = data[0], sel2 = data[1];
  holder.set(models[sel % 4]);
  static const char* const kPaths[] = {"/v1/predict", "/v1/predict", "/v1/predict", "/healthz",
                                       "/readyz", "/metrics", "/v1/model", "/x"};
  static const char* const kTypes[] = {nullptr, "application/json", "text/plain",
                                       "APPLICATION/JSON; charset=utf-8"};
  static const char* const kEncodings[] = {nullptr, "gzip", "zstd", "identity", "br"};
  Request r;
  r.method = (sel >> 2) % 8 == 0 ? "GET" : "POST";
  r.path = kPaths[(sel >> 2) % 8 == 0 ? 3 + (sel >> 5) % 5 : (sel >> 5) % 3];
  if (const char* t = kTypes[sel2 % 4]) r.content_type = t;
  if (const char* e = kEncodings[(sel2 >> 2) % 5]) r.content_encoding = e;
  if ((sel2 >> 5) % 4 == 1) r.authorization = "Bearer tok";
  // The body is a copy of exactly its bytes: ASan sees any read past it.
  std::string body(reinterpret_cast<const char*>(data) + 2, size - 2);
  r.body = body;
  const Service& svc = (sel2 >> 5) % 4 >= 2 ? guarded : service;
  Response resp = svc.handle(r);

  bool known = false;
  for (int s : kStatuses) known |= s == resp.status && s != 0;
  FUZZ_CHECK(known);
  FUZZ_CHECK(resp.model_hash == "0123456789abcdef");
  if (resp.status != 200) {
    FUZZ_CHECK(!resp.body.empty() && resp.body.back() == '\n');
    return 0;
  }
  if (r.path != "/v1/predict") return 0;
  if (resp.content_type == "application/json") {
    FUZZ_CHECK(resp.body.rfind("{\"predictions\":[", 0) == 0);
    FUZZ_CHECK(grist_fuzz::valid_utf8(resp.body));
  } else if (!r.content_encoding || *r.content_encoding == "identity") {
    size_t in_lines = 0;
    for (char c : body) in_lines += c == '\n';
    if (!body.empty() && body.back() != '\n') ++in_lines;
    size_t out_lines = 0;
    for (char c : resp.body) out_lines += c == '\n';
    FUZZ_CHECK(in_lines == out_lines);
  }
  return 0;
}
