// grist-serve's request handler, without sockets: every endpoint, the
// byte equality with grist-predict, bodies of every encoding and shape,
// authentication, and a model swapped while a request holds the old one.
#include <catch2/catch.hpp>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "grist/error.hpp"
#include "grist/io/codec.hpp"
#include "grist/io/sink.hpp"
#include "grist/serve/handler.hpp"
#include "grist/serve/model_holder.hpp"
#include "grist/serve/server.hpp"
#include "grist/sgd/model.hpp"
#include "grist/sgd/predict.hpp"

using namespace grist;
using namespace grist::serve;

namespace {

std::filesystem::path test_dir(const std::string& name) {
  const char* base = std::getenv("GRIST_TEST_TMP");
  std::filesystem::path p = std::filesystem::path(base ? base : "/tmp") /
                            ("serve-" + name + "-" + std::to_string(getpid()));
  std::filesystem::remove_all(p);
  std::filesystem::create_directories(p);
  return p;
}

std::string read_file(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// A small logistic svmlight model with weight `w` on features 1..20.
std::string write_model(const std::filesystem::path& p, float w, int classes = 0) {
  sgd::ModelOptions o;
  o.bits = 8;
  o.classes = classes;
  sgd::Model m(o, sgd::ModelState::weights_only);
  for (uint64_t i = 1; i <= 20; ++i) {
    for (int k = 0; k < m.k(); ++k) {
      m.state()[(i * m.k() + k) * m.stride()].store(w * float(i % 7) - (k == 1 ? 0.5f : 0.f));
    }
  }
  std::ofstream(p, std::ios::binary) << m.to_bytes();
  return p.string();
}

// What grist-predict writes for `lines` with the model at `model`.
std::string predicted(const std::string& model, const std::string& lines,
                      const std::filesystem::path& dir, const sgd::OutputOptions& output = {}) {
  auto in = dir / "in.txt";
  std::ofstream(in, std::ios::binary) << lines;
  auto m = sgd::Model::load(model, sgd::ModelState::weights_only);
  sgd::PredictOptions po;
  po.inputs = {in.string()};
  po.output = output;
  auto out_path = dir / "out.txt";
  auto out = Sink::open(out_path.string(), {});
  sgd::predict(*m, po, *out);
  out->commit();
  return read_file(out_path);
}

std::string compress(Compression c, const std::string& s) {
  struct Out : Encoder::Output {
    std::string bytes;
    void put(const char* p, size_t n) override { bytes.append(p, n); }
  } out;
  auto enc = make_encoder(c, kDefaultLevel, 1, "test");
  enc->write(s.data(), s.size(), out);
  enc->finish(out);
  return out.bytes;
}

struct Fixture {
  std::filesystem::path dir;
  std::string model;
  ModelHolder holder;
  ServeMetrics metrics;
  Service service;
  explicit Fixture(const std::string& name, ServiceOptions o = {})
      : dir(test_dir(name)),
        model(write_model(dir / "m.gsgd", 0.25f)),
        holder(load_model(model)),
        service(std::move(o), holder, metrics) {}
  Response post(std::string_view body, std::optional<std::string_view> ct = std::nullopt,
                std::optional<std::string_view> ce = std::nullopt) {
    Request r;
    r.method = "POST";
    r.path = "/v1/predict";
    r.content_type = ct;
    r.content_encoding = ce;
    r.body = body;
    return service.handle(r);
  }
  Response get(std::string_view path) {
    Request r;
    r.method = "GET";
    r.path = path;
    return service.handle(r);
  }
};

const char* kLines = "1 1:1 2:0.5\n-1 3:2 7:1\n\n# a comment\n-1 4:1 5:1 20:3\n1 1:0.25";

}  // namespace

TEST_CASE("predict answers grist-predict's bytes, plain, gzip and zstd", "[test_serve]") {
  Fixture f("bytes");
  std::string want = predicted(f.model, kLines, f.dir);
  REQUIRE(!want.empty());
  Response r = f.post(kLines);
  CHECK(r.status == 200);
  CHECK(r.body == want);
  CHECK(r.model_hash == f.holder.get()->hash);
  CHECK(r.model_hash.size() == 16);
  std::string gz = compress(Compression::gzip, kLines);
  CHECK(f.post(gz, std::nullopt, "gzip").body == want);
  CHECK(f.post(compress(Compression::zstd, kLines), std::nullopt, "zstd").body == want);
  // The encoding must be what the header says.
  CHECK(f.post(gz, std::nullopt, "zstd").status == 400);
  CHECK(f.post(kLines, std::nullopt, "br").status == 415);
  // A corrupt or truncated stream.
  CHECK(f.post(gz.substr(0, gz.size() / 2), std::nullopt, "gzip").status == 400);
  // Empty body: no lines, no output (as grist-predict).
  Response e = f.post("");
  CHECK(e.status == 200);
  CHECK(e.body.empty());
}

TEST_CASE("an oaa model's classes and a bad line naming its number", "[test_serve]") {
  Fixture f("oaa");
  auto path = write_model(f.dir / "oaa.gsgd", 0.5f, 3);
  f.holder.set(load_model(path));
  std::string lines = "1 1:1\n2 2:1 3:1\n3 5:1\n";
  CHECK(f.post(lines).body == predicted(path, lines, f.dir));
  Response bad = f.post("1 1:1\n1 2:1\nnot-a-label 3:1\n");
  CHECK(bad.status == 400);
  CHECK(bad.body.rfind("line 3: ", 0) == 0);
  CHECK(bad.model_hash == f.holder.get()->hash);
}

TEST_CASE("JSON instances give JSON predictions; every wrong shape is a 400", "[test_serve]") {
  Fixture f("json");
  Response r = f.post(R"({"instances": ["1 1:1 2:0.5", "", "1 4:1"]})", "application/json");
  CHECK(r.status == 200);
  CHECK(r.content_type == "application/json");
  std::string lines = predicted(f.model, "1 1:1 2:0.5\n\n1 4:1\n", f.dir);
  std::string a = lines.substr(0, lines.find('\n'));
  std::string c = lines.substr(lines.rfind('\n', lines.size() - 2) + 1);
  c.pop_back();
  CHECK(r.body == "{\"predictions\":[" + a + ",null," + c + "]}\n");
  CHECK(f.post(R"({"instances": []})", "application/json; charset=utf-8").body ==
        "{\"predictions\":[]}\n");
  for (const char* body :
       {"", "null", "[]", "{}", "5", "\"x\"", R"({"instances": 5})", R"({"instances": "x"})",
        R"({"instances": [1]})", R"({"instances": [["1 1:1"]]})", R"({"instances": [null]})",
        R"({"instances": ["1 1:1\n1 2:1"]})", R"({"instances": ["1 1:1")", "{\"instances\": [\"\xff\"]}",
        R"({"instances": ["bad 1:1"]})"}) {
    INFO(body);
    Response b = f.post(body, "application/json");
    CHECK(b.status == 400);
    CHECK(!b.body.empty());
  }
  CHECK(f.post(R"({"instances": ["1 1:1", "x 1:1"]})", "application/json").body.rfind(
            "instances[1]: ", 0) == 0);
  std::string deep(100000, '[');
  CHECK(f.post(deep, "application/json").status == 400);
}

TEST_CASE("limits: a body larger than --max-body, before or after decoding", "[test_serve]") {
  ServiceOptions o;
  o.max_body = 1000;
  Fixture f("limits", o);
  std::string big;
  while (big.size() < 5000) big += "1 1:1\n";
  CHECK(f.post(big).status == 413);
  std::string gz = compress(Compression::gzip, big);
  REQUIRE(gz.size() < 1000);
  CHECK(f.post(gz, std::nullopt, "gzip").status == 413);
  CHECK(f.post(big.substr(0, 600)).status == 200);
}

TEST_CASE("other endpoints, methods and paths", "[test_serve]") {
  Fixture f("endpoints");
  CHECK(f.get("/healthz").status == 200);
  CHECK(f.get("/readyz").status == 200);
  Response m = f.get("/metrics");
  CHECK(m.status == 200);
  CHECK(m.body.find("grist_serve_model_info{hash=\"" + f.holder.get()->hash) != std::string::npos);
  Response info = f.get("/v1/model");
  CHECK(info.status == 200);
  CHECK(info.body.find("\"hash\":\"" + f.holder.get()->hash + "\"") != std::string::npos);
  CHECK(info.body.find("\"format\":\"svmlight\"") != std::string::npos);
  CHECK(f.get("/").status == 404);
  CHECK(f.get("/../etc/passwd").status == 404);
  CHECK(f.get("/v1/predict").status == 405);
  Request r;
  r.method = "DELETE";
  r.path = "/metrics";
  Response d = f.service.handle(r);
  CHECK(d.status == 405);
  CHECK(d.model_hash == f.holder.get()->hash);
  f.holder.set(nullptr);
  CHECK(f.get("/readyz").status == 503);
  CHECK(f.get("/healthz").status == 200);
  CHECK(f.post("1 1:1").status == 503);
  CHECK(f.get("/metrics").body.find("grist_serve_requests_total{endpoint=\"/v1/predict\",code=\"200\"}") ==
        std::string::npos);
  CHECK(f.get("/metrics").body.find("grist_serve_requests_total{endpoint=\"/readyz\",code=\"503\"} 1") !=
        std::string::npos);
}

TEST_CASE("a bearer token guards all but the probes", "[test_serve]") {
  ServiceOptions o;
  o.token = "s3cret-token";
  Fixture f("auth", o);
  CHECK(f.post("1 1:1").status == 401);
  CHECK(f.get("/metrics").status == 401);
  CHECK(f.get("/v1/model").status == 401);
  CHECK(f.get("/nope").status == 404);
  CHECK(f.get("/healthz").status == 200);
  CHECK(f.get("/readyz").status == 200);
  Request r;
  r.method = "POST";
  r.path = "/v1/predict";
  r.body = "1 1:1";
  for (const char* a : {"Bearer s3cret-toke", "Bearer s3cret-tokenx", "Basic s3cret-token",
                        "s3cret-token", "Bearer", ""}) {
    r.authorization = a;
    Response resp = f.service.handle(r);
    CHECK(resp.status == 401);
    CHECK(resp.body.find("s3cret") == std::string::npos);
  }
  r.authorization = "Bearer s3cret-token";
  CHECK(f.service.handle(r).status == 200);
  r.authorization = "bearer  s3cret-token ";
  CHECK(f.service.handle(r).status == 200);
  CHECK(constant_time_equal("abc", "abc"));
  CHECK(!constant_time_equal("abc", "abd"));
  CHECK(!constant_time_equal("abc", "ab"));
  CHECK(!constant_time_equal("", "a"));
}

TEST_CASE("a request keeps the model it started with; a bad file is refused", "[test_serve]") {
  Fixture f("swap");
  auto old = f.holder.get();
  auto other = write_model(f.dir / "b.gsgd", -0.25f);
  f.holder.set(load_model(other));
  CHECK(old->model->weight(1) == 0.25f);  // still usable by whoever holds it
  CHECK(f.holder.get()->hash != old->hash);
  CHECK(f.post(kLines).body == predicted(other, kLines, f.dir));
  std::ofstream(f.dir / "bad.gsgd") << "GRISTSGD garbage";
  CHECK_THROWS_AS(load_model((f.dir / "bad.gsgd").string()), grist::Error);
  CHECK_THROWS_AS(load_model((f.dir / "none.gsgd").string()), grist::Error);
  CHECK_THROWS_AS(load_model(f.dir.string()), grist::Error);
}

TEST_CASE("json_string and is_loopback", "[test_serve]") {
  CHECK(json_string("a\"b\\c\n\x01") == "\"a\\\"b\\\\c\\u000a\\u0001\"");
  CHECK(json_string("\xc3\xa9") == "\"\xc3\xa9\"");
  CHECK(json_string("\xff") == "\"\xef\xbf\xbd\"");
  CHECK(json_string("\xed\xa0\x80") == "\"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\"");
  CHECK(is_loopback("127.0.0.1"));
  CHECK(is_loopback("127.1.2.3"));
  CHECK(is_loopback("::1"));
  CHECK(!is_loopback("0.0.0.0"));
  CHECK(!is_loopback("::"));
  CHECK(!is_loopback("192.168.1.1"));
  CHECK_THROWS_AS(is_loopback("localhost"), grist::UsageError);
}

TEST_CASE("query parameters: grist-predict's outputs, byte for byte", "[test_serve]") {
  Fixture f("query");
  auto post = [&](std::vector<std::pair<std::string, std::string>> query, std::string_view body,
                  std::optional<std::string_view> ct = std::nullopt) {
    Request r;
    r.method = "POST";
    r.path = "/v1/predict";
    r.content_type = ct;
    r.body = body;
    r.query = std::move(query);
    return f.service.handle(r);
  };
  auto oo = [](std::optional<sgd::OutputKind> kind, int top_k = 0,
               std::optional<double> threshold = std::nullopt) {
    sgd::OutputOptions o;
    o.kind = kind;
    o.top_k = top_k;
    o.threshold = threshold;
    return o;
  };
  CHECK(post({}, kLines).body == predicted(f.model, kLines, f.dir));
  CHECK(post({{"output", "prob"}}, kLines).body == predicted(f.model, kLines, f.dir));
  std::string label = predicted(f.model, kLines, f.dir, oo(sgd::OutputKind::label, 0, 0.7));
  CHECK(label != predicted(f.model, kLines, f.dir, oo(sgd::OutputKind::label)));
  CHECK(post({{"output", "label"}, {"threshold", "0.7"}}, kLines).body == label);
  CHECK(post({{"output", "score"}}, kLines).body ==
        predicted(f.model, kLines, f.dir, oo(sgd::OutputKind::score)));
  CHECK(post({{"top_k", "2"}}, kLines).body ==
        predicted(f.model, kLines, f.dir, oo(std::nullopt, 2)));
  auto oaa = write_model(f.dir / "oaa.gsgd", 0.5f, 3);
  f.holder.set(load_model(oaa));
  std::string lines = "1 1:1\n2 2:1 3:1\n\n3 5:1\n";
  CHECK(post({{"top_k", "3"}}, lines).body == predicted(oaa, lines, f.dir, oo(std::nullopt, 3)));
  CHECK(post({{"output", "label"}, {"top_k", "2"}}, lines).body ==
        predicted(oaa, lines, f.dir, oo(sgd::OutputKind::label, 2)));
  CHECK(post({{"output", "prob"}}, lines).body ==
        predicted(oaa, lines, f.dir, oo(sgd::OutputKind::prob)));
  // JSON: labels are strings; numbers as before.
  Response j = post({{"output", "label"}}, R"({"instances": ["1 1:1", "", "3 5:1"]})",
                    "application/json");
  CHECK(j.status == 200);
  std::string want = predicted(oaa, "1 1:1\n\n3 5:1\n", f.dir);
  CHECK(j.body == "{\"predictions\":[\"" + want.substr(0, 1) + "\",null,\"" +
                      want.substr(want.size() - 2, 1) + "\"]}\n");
  // What does not fit the model, or is not a setting, is a 400 naming it.
  auto status = [&](std::vector<std::pair<std::string, std::string>> q, const char* says,
                    std::optional<std::string_view> ct = std::nullopt) {
    Response r = post(std::move(q), ct ? R"({"instances": ["1 1:1"]})" : "1 1:1\n", ct);
    INFO(r.body);
    CHECK(r.body.find(says) != std::string::npos);
    return r.status;
  };
  CHECK(status({{"threshold", "0.5"}}, "threshold needs a binary model") == 400);
  CHECK(status({{"top_k", "2"}, {"output", "score"}}, "top_k writes classes") == 400);
  CHECK(status({{"top_k", "2"}}, "not JSON", "application/json") == 400);
  CHECK(status({{"output", "probability"}}, "expected prob, label or score") == 400);
  CHECK(status({{"top_k", "0"}}, "expected a whole number") == 400);
  CHECK(status({{"top_k", "2x"}}, "expected a whole number") == 400);
  CHECK(status({{"threshold", "nan"}}, "expected a finite number") == 400);
  CHECK(status({{"output", "label"}, {"output", "prob"}}, "given twice") == 400);
  CHECK(status({{"k", "2"}}, "unknown query parameter") == 400);
  f.holder.set(load_model(f.model));
  CHECK(status({{"threshold", "2"}}, "threshold=2: a logistic model's threshold") == 400);
  CHECK(status({{"output", "score"}, {"threshold", "0.2"}}, "") == 200);
}
