#include <xxhash.h>
#include <zstd.h>

#include <catch2/catch.hpp>

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <sstream>
#include <string>

#include "grist/error.hpp"
#include "grist/io/sink.hpp"
#include "grist/sgd/examples.hpp"
#include "grist/sgd/hash.hpp"
#include "grist/sgd/loss.hpp"
#include "grist/sgd/model.hpp"
#include "grist/sgd/names.hpp"
#include "grist/sgd/predict.hpp"
#include "grist/sgd/train.hpp"
#include "support/sgd_parse.hpp"
#include "support/temp_dir.hpp"

using namespace grist;
using namespace grist::sgd;

namespace {

std::filesystem::path test_dir(const std::string& name) {
  return grist_test::fresh_dir("sgd", name);
}

using grist_test::write_file;

using grist_test::parse;
using grist_test::parse_error;

// A linearly separable problem in svmlight text: label = sign(w*.x).
std::string separable_svm(int n, int dims, unsigned seed, int active = 8) {
  std::mt19937 rng(seed);
  std::normal_distribution<double> g;
  std::vector<double> w(dims + 1);
  for (auto& v : w) v = g(rng);
  std::string out;
  std::uniform_int_distribution<int> pick(1, dims);
  for (int i = 0; i < n;) {
    std::map<int, double> x;
    for (int k = 0; k < active; ++k) x[pick(rng)] = std::uniform_real_distribution<>(0.1, 1)(rng);
    double m = 0;
    for (auto& [j, v] : x) m += w[j] * v;
    if (std::fabs(m) < 0.3) continue;  // a margin
    out += m > 0 ? "+1" : "-1";
    for (auto& [j, v] : x) out += " " + std::to_string(j) + ":" + std::to_string(v);
    out += '\n';
    ++i;
  }
  return out;
}

std::vector<float> scores_of(const Model& m, const Examples& ex) {
  std::vector<float> s;
  for (size_t i = 0; i < ex.size(); ++i) {
    uint32_t b = ex.begin[i];
    s.push_back(static_cast<float>(m.score(&ex.index[b], &ex.value[b], ex.begin[i + 1] - b, 0)));
  }
  return s;
}

auto quiet = [](const std::string&) {};

}  // namespace

TEST_CASE("feature hash is pinned", "[test_sgd]") {
  CHECK(namespace_seed("") == 0);
  CHECK(namespace_seed("ns") == 16583986097698451552ULL);
  CHECK(feature_hash("hello", 0) == 10760762337991515389ULL);
  CHECK(feature_hash("hello", namespace_seed("ns")) == 5303795236166518450ULL);
  CHECK(feature_hash("123", 0) == 123);
  CHECK(feature_hash("123", 1000) == 1123);
  CHECK(feature_hash("0123", 0) == 123);  // a number, as in VW
  CHECK(feature_hash("12a", 0) != 12);
  CHECK(feature_hash("12345678901234567890", 0) != 12345678901234567890ULL);  // 20 digits: a string
  CHECK(quadratic_hash(2, 3) == ((2 * 0x100000001b3ULL) ^ 3));
}

TEST_CASE("svmlight parser", "[test_sgd]") {
  Examples ex = parse(Format::svmlight, "+1 3:0.5 7:1 # comment\n0 qid:4 1:2\n\n# only a comment\n-1\n");
  REQUIRE(ex.size() == 3);
  CHECK(ex.label == std::vector<float>{1, -1, -1});
  CHECK(ex.begin == std::vector<uint32_t>{0, 2, 3, 3});
  CHECK(ex.index == std::vector<uint32_t>{3, 7, 1});
  CHECK(ex.value == std::vector<float>{0.5f, 1, 2});
  CHECK(ex.line == std::vector<uint64_t>{1, 2, 5});
  // Indices beyond 2^b wrap to their low bits.
  ParseOptions parse_opts;
  parse_opts.bits = 4;
  CHECK(parse(Format::svmlight, "1 17:1", parse_opts).index == std::vector<uint32_t>{1});
  // Real labels for squared loss; classes for --oaa.
  parse_opts = {};
  parse_opts.labels = LabelKind::real;
  CHECK(parse(Format::svmlight, "2.5 1:1", parse_opts).label == std::vector<float>{2.5f});
  parse_opts.labels = LabelKind::multiclass;
  parse_opts.classes = 3;
  parse_opts.class_base = 0;
  CHECK(parse(Format::svmlight, "2 1:1", parse_opts).label == std::vector<float>{2});
  CHECK_THAT(parse_error(Format::svmlight, "3 1:1", parse_opts),
             Catch::Contains("out of range 0..2"));
}

TEST_CASE("svmlight parser rejects malformed lines", "[test_sgd]") {
  CHECK_THAT(parse_error(Format::svmlight, "1 3:abc"), Catch::Contains("bad feature value"));
  CHECK_THAT(parse_error(Format::svmlight, "1 x"), Catch::Contains("expected INDEX:VALUE"));
  CHECK_THAT(parse_error(Format::svmlight, "1 3"), Catch::Contains("expected INDEX:VALUE"));
  CHECK_THAT(parse_error(Format::svmlight, "1 3:"), Catch::Contains("bad feature value"));
  CHECK_THAT(parse_error(Format::svmlight, "1 3:nan"), Catch::Contains("bad feature value"));
  CHECK_THAT(parse_error(Format::svmlight, "abc 1:1"), Catch::Contains("bad label"));
  CHECK_THAT(parse_error(Format::svmlight, "2 1:1"), Catch::Contains("not binary"));
  // A failed line leaves the examples as they were.
  Parser p(ParseOptions{});
  Examples ex;
  p.parse_line("1 1:1", ex);
  CHECK_THROWS(p.parse_line("1 2:1 3:x", ex));
  CHECK(ex.size() == 1);
  CHECK(ex.features() == 1);
  CHECK(ex.begin.size() == 2);
}

TEST_CASE("block parsing names file and line, or skips", "[test_sgd]") {
  auto dir = test_dir("block");
  std::string path = write_file(dir / "in.svm", "1 1:1\n-1 2:1\n1 oops\n1 3:1\n");
  BlockReader reader({path});
  Block b;
  REQUIRE(reader.next(b));
  Parser parser(ParseOptions{});
  Examples ex;
  try {
    parser.parse_block(b, ex);
    FAIL("no error");
  } catch (const Error& e) {
    CHECK(std::string(e.what()) == path + ":3: expected INDEX:VALUE, got 'oops'");
  }
  ex.clear();
  SkippedLines log;
  parser.parse_block(b, ex, &log);
  CHECK(ex.size() == 3);
  CHECK(log.count == 1);
  CHECK_THAT(log.first, Catch::Contains(":3:"));
  std::filesystem::remove_all(dir);
}

TEST_CASE("VW parser", "[test_sgd]") {
  ParseOptions parse_opts;
  parse_opts.keep_tags = true;
  Examples ex = parse(Format::vw, "1 2 'ex1|a x y:2 |b 5\n-1 |c:0.5 z:4\n0 t2| w\n", parse_opts);
  REQUIRE(ex.size() == 3);
  CHECK(ex.label == std::vector<float>{1, -1, -1});
  CHECK(ex.weight == std::vector<float>{2, 1, 1});
  CHECK(ex.tags == "ex1t2");
  CHECK(ex.tag_end == std::vector<uint32_t>{3, 3, 5});
  uint32_t mask = (1u << 20) - 1;
  uint64_t a = namespace_seed("a"), b = namespace_seed("b"), c = namespace_seed("c");
  CHECK(ex.index == std::vector<uint32_t>{uint32_t(feature_hash("x", a) & mask),
                                          uint32_t(feature_hash("y", a) & mask),
                                          uint32_t((5 + b) & mask),
                                          uint32_t(feature_hash("z", c) & mask),
                                          uint32_t(feature_hash("w", 0) & mask)});
  CHECK(ex.value == std::vector<float>{1, 2, 1, 2, 1});
  // Unlabelled examples for prediction.
  parse_opts.require_label = false;
  Examples u = parse(Format::vw, "| a b", parse_opts);
  CHECK(std::isnan(u.label[0]));
  CHECK_THAT(parse_error(Format::vw, "| a b"), Catch::Contains("no label"));
  CHECK_THAT(parse_error(Format::vw, "1 a b"), Catch::Contains("no '|'"));
  CHECK_THAT(parse_error(Format::vw, "1 |a x:zz"), Catch::Contains("bad feature value"));
  CHECK_THAT(parse_error(Format::vw, "1 -2 |a x"), Catch::Contains("bad importance"));
  CHECK_THAT(parse_error(Format::vw, "1 1 1 |a x"), Catch::Contains("unexpected"));
  CHECK_THAT(parse_error(Format::vw, "1 |a :3"), Catch::Contains("empty feature name"));
  CHECK_THAT(parse_error(Format::vw, "5 |a x"), Catch::Contains("not binary"));
}

TEST_CASE("VW quadratic features", "[test_sgd]") {
  ParseOptions parse_opts;
  parse_opts.quadratic = {"ab"};
  Examples ex = parse(Format::vw, "1 |a x:2 |b y:3 z", parse_opts);
  uint64_t a = namespace_seed("a"), b = namespace_seed("b");
  uint64_t hx = feature_hash("x", a), hy = feature_hash("y", b), hz = feature_hash("z", b);
  uint32_t mask = (1u << 20) - 1;
  REQUIRE(ex.features() == 5);
  CHECK(ex.index[3] == (quadratic_hash(hx, hy) & mask));
  CHECK(ex.index[4] == (quadratic_hash(hx, hz) & mask));
  CHECK(ex.value[3] == 6);
  CHECK(ex.value[4] == 2);
}

TEST_CASE("text parser: unigrams and n-grams", "[test_sgd]") {
  ParseOptions parse_opts;
  parse_opts.ngrams = 2;
  Examples ex = parse(Format::text, "1\tspam and eggs", parse_opts);
  uint32_t mask = (1u << 20) - 1;
  CHECK(ex.label == std::vector<float>{1});
  REQUIRE(ex.features() == 5);
  CHECK(ex.index[0] == (feature_hash("spam", 0) & mask));
  CHECK(ex.index[1] == (XXH3_64bits("spam and", 8) & mask));
  CHECK(ex.index[2] == (feature_hash("and", 0) & mask));
  CHECK_THAT(parse_error(Format::text, "1 no tab here"), Catch::Contains("no tab"));
  CHECK_THAT(parse_error(Format::text, "\tno label"), Catch::Contains("no label"));
  CHECK_THAT(parse_error(Format::text, "7\tx"), Catch::Contains("not binary"));
}

TEST_CASE("the three formats describe the same examples alike", "[test_sgd]") {
  // svmlight indices are VW numeric names in the unnamed namespace.
  Examples s = parse(Format::svmlight, "1 3:0.5 7:1\n0 2:2\n");
  Examples v = parse(Format::vw, "1 | 3:0.5 7\n0 | 2:2\n");
  CHECK(s.index == v.index);
  CHECK(s.value == v.value);
  CHECK(s.label == v.label);
  // Text tokens are VW string features in the unnamed namespace.
  Examples t = parse(Format::text, "1\thello world hello\n-1\tbye\n");
  Examples w = parse(Format::vw, "1 | hello world hello\n-1 | bye\n");
  CHECK(t.index == w.index);
  CHECK(t.value == w.value);
  CHECK(t.label == w.label);
  // ... and train the same model.
  ModelOptions model_opts;
  Model m1(model_opts), m2(model_opts);
  train_examples(m1, t);
  train_examples(m2, w);
  CHECK(m1.to_bytes() == m2.to_bytes());
}

TEST_CASE("format sniffing", "[test_sgd]") {
  CHECK(sniff_format("\n+1 1:0.5 3:1\n") == Format::svmlight);
  CHECK(sniff_format("# c\n-1 qid:3 1:1\n") == Format::svmlight);
  CHECK(sniff_format("1 |a b c\n") == Format::vw);
  CHECK(sniff_format("1\thello world\n") == Format::text);
  CHECK(!sniff_format("1\ta|b\n").has_value());
  CHECK(!sniff_format("hello world\n").has_value());
  CHECK(!sniff_format("").has_value());
}

TEST_CASE("loss derivatives match finite differences", "[test_sgd]") {
  const double h = 1e-6;
  for (Loss l : {Loss::logistic, Loss::squared, Loss::hinge, Loss::quantile}) {
    for (double tau : {0.2, 0.5, 0.9}) {
      for (double y : {-1.0, 1.0, 0.3, 2.0}) {
        for (double p : {-3.1, -0.7, 0.05, 0.42, 1.9, 12.0}) {
          if (binary_loss(l) && std::fabs(y) != 1) continue;
          if (l == Loss::hinge && std::fabs(1 - y * p) < 1e-3) continue;  // kink
          if (l == Loss::quantile && std::fabs(y - p) < 1e-3) continue;
          double fd = (loss_value(l, p + h, y, tau) - loss_value(l, p - h, y, tau)) / (2 * h);
          INFO(loss_name(l) << " p=" << p << " y=" << y << " tau=" << tau);
          CHECK(loss_derivative(l, p, y, tau) == Approx(fd).margin(1e-5));
        }
      }
    }
  }
  // Logistic loss is finite and exact far from zero.
  CHECK(loss_value(Loss::logistic, 1000, -1, 0) == Approx(1000));
  CHECK(loss_value(Loss::logistic, -1000, -1, 0) == Approx(0).margin(1e-12));
  CHECK(sigmoid(-1000) >= 0);
  CHECK(sigmoid(1000) <= 1);
}

TEST_CASE("a separable problem is separated", "[test_sgd]") {
  std::string text = separable_svm(3000, 200, 3);
  ParseOptions parse_opts;
  parse_opts.bits = 10;
  Examples ex = parse(Format::svmlight, text, parse_opts);
  for (Optimizer opt : {Optimizer::adagrad, Optimizer::sgd, Optimizer::ftrl}) {
    for (Loss loss : {Loss::logistic, Loss::hinge}) {
      ModelOptions model_opts;
      model_opts.bits = 10;
      model_opts.loss = loss;
      model_opts.optimizer = opt;
      model_opts.learning_rate = opt == Optimizer::ftrl ? 1 : (opt == Optimizer::sgd ? 2 : 0.5);
      Model m(model_opts);
      for (int pass = 0; pass < 15; ++pass) train_examples(m, ex);
      auto s = scores_of(m, ex);
      int wrong = 0;
      for (size_t i = 0; i < ex.size(); ++i) wrong += (s[i] > 0) != (ex.label[i] > 0);
      INFO(optimizer_name(opt) << " " << loss_name(loss));
      CHECK(wrong <= (opt == Optimizer::sgd ? 60 : 15));  // 2%, 0.5%
    }
  }
}

TEST_CASE("squared and quantile loss fit a linear function", "[test_sgd]") {
  std::mt19937 rng(5);
  std::uniform_real_distribution<> u(-1, 1);
  std::string text;
  for (int i = 0; i < 4000; ++i) {
    double a = u(rng), b = u(rng);
    text += std::to_string(3 * a - 2 * b + 1) + " 1:" + std::to_string(a) + " 2:" + std::to_string(b) + "\n";
  }
  ParseOptions parse_opts;
  parse_opts.labels = LabelKind::real;
  parse_opts.bits = 4;
  Examples ex = parse(Format::svmlight, text, parse_opts);
  for (Loss loss : {Loss::squared, Loss::quantile}) {
    ModelOptions model_opts;
    model_opts.bits = 4;
    model_opts.loss = loss;
    Model m(model_opts);
    for (int pass = 0; pass < 10; ++pass) train_examples(m, ex);
    INFO(loss_name(loss));
    CHECK(m.weight(1) == Approx(3).margin(0.15));
    CHECK(m.weight(2) == Approx(-2).margin(0.15));
    CHECK(m.weight(16) == Approx(1).margin(0.15));  // the bias
  }
}

TEST_CASE("one against all learns three classes", "[test_sgd]") {
  std::string text;
  std::mt19937 rng(9);
  for (int i = 0; i < 3000; ++i) {
    int c = static_cast<int>(rng() % 3) + 1;
    text += std::to_string(c) + " " + std::to_string(c * 10 + rng() % 5) + ":1 " +
            std::to_string(100 + rng() % 50) + ":1\n";
  }
  ParseOptions parse_opts;
  parse_opts.labels = LabelKind::multiclass;
  parse_opts.classes = 3;
  parse_opts.bits = 10;
  Examples ex = parse(Format::svmlight, text, parse_opts);
  ModelOptions model_opts;
  model_opts.bits = 10;
  model_opts.classes = 3;
  Model m(model_opts);
  for (int pass = 0; pass < 3; ++pass) train_examples(m, ex);
  int right = 0;
  for (size_t i = 0; i < ex.size(); ++i) {
    uint32_t b = ex.begin[i];
    int best = 0;
    double bs = -1e9;
    for (int k = 0; k < 3; ++k) {
      double s = m.score(&ex.index[b], &ex.value[b], ex.begin[i + 1] - b, k);
      if (s > bs) bs = s, best = k;
    }
    right += best == static_cast<int>(ex.label[i]);
  }
  CHECK(right == 3000);
}

TEST_CASE("train from files: -j1 is reproducible, save/load predicts identically", "[test_sgd]") {
  auto dir = test_dir("train");
  std::string path = write_file(dir / "train.svm", separable_svm(20000, 5000, 11, 20));
  TrainOptions train_opts;
  train_opts.inputs = {path};
  train_opts.block_size = 64 << 10;  // many blocks
  train_opts.temp_dir = dir.string();
  ModelOptions model_opts;
  model_opts.bits = 14;
  std::string bytes[2];
  for (auto& b : bytes) {
    Model m(model_opts);
    TrainReport rep = train(m, train_opts, quiet);
    CHECK(rep.examples == 20000);
    b = m.to_bytes();
  }
  CHECK(bytes[0] == bytes[1]);
  // Several passes, shuffled, from the cache: also reproducible.
  train_opts.passes = 3;
  train_opts.shuffle = true;
  train_opts.holdout_every = 10;
  double holdout_j1 = 0;
  for (auto& b : bytes) {
    Model m(model_opts);
    TrainReport rep = train(m, train_opts, quiet);
    holdout_j1 = rep.passes.back().holdout_loss / rep.passes.back().holdout_weight;
    CHECK(rep.passes.size() == 3);
    CHECK(rep.holdout_examples == 2000);
    CHECK(rep.passes[2].holdout_loss / rep.passes[2].holdout_weight <
          rep.passes[0].holdout_loss / rep.passes[0].holdout_weight);
    b = m.to_bytes();
  }
  CHECK(bytes[0] == bytes[1]);
  // Threads: not reproducible, but as good.
  train_opts.threads = 2;
  Model mt(model_opts);
  TrainReport rep = train(mt, train_opts, quiet);
  CHECK(rep.passes.back().holdout_loss / rep.passes.back().holdout_weight <
        holdout_j1 + 0.03);

  // Save and load: identical predictions and bytes.
  Model m(model_opts);
  train_opts.threads = 1;
  train(m, train_opts, quiet);
  std::string file = (dir / "m.gsgd").string();
  m.save(file);
  auto back = Model::load(file);
  CHECK(back->to_bytes() == m.to_bytes());
  auto pred_only = Model::load(file, ModelState::weights_only);
  ParseOptions parse_opts;
  parse_opts.bits = 14;
  Examples ex = parse(Format::svmlight, separable_svm(500, 5000, 12, 20), parse_opts);
  CHECK(scores_of(*pred_only, ex) == scores_of(m, ex));
  std::filesystem::remove_all(dir);
}

TEST_CASE("early stopping says why", "[test_sgd]") {
  auto dir = test_dir("early");
  // Pure noise: held-out loss cannot improve for long.
  std::mt19937 rng(4);
  std::string text;
  for (int i = 0; i < 3000; ++i) {
    text += (rng() & 1 ? "1" : "-1");
    for (int k = 0; k < 5; ++k) text += " " + std::to_string(1 + rng() % 2000) + ":1";
    text += '\n';
  }
  TrainOptions train_opts;
  train_opts.inputs = {write_file(dir / "noise.svm", text)};
  train_opts.temp_dir = dir.string();
  train_opts.passes = 50;
  train_opts.holdout_every = 5;
  train_opts.early_stop = 2;
  ModelOptions model_opts;
  model_opts.bits = 12;
  Model m(model_opts);
  TrainReport rep = train(m, train_opts, quiet);
  CHECK(rep.passes.size() < 50);
  CHECK_THAT(rep.stop_reason, Catch::Contains("held-out loss did not improve for 2 passes"));
  // The model is the best pass's, byte for byte a run of that many passes,
  // its history included.
  int best = 1;
  auto hloss = [&](int p) {
    return rep.passes[p - 1].holdout_loss / rep.passes[p - 1].holdout_weight;
  };
  for (int p = 2; p <= int(rep.passes.size()); ++p) {
    if (hloss(p) < hloss(best)) best = p;
  }
  CHECK(rep.model_pass == best);
  CHECK(best < int(rep.passes.size()));  // stopped after worse passes
  CHECK(m.options().passes_trained == uint64_t(best));
  CHECK(m.options().examples_trained == uint64_t(best) * 2400);
  train_opts.passes = best;
  Model again(model_opts);
  TrainReport rep2 = train(again, train_opts, quiet);
  CHECK(rep2.model_pass == best);
  CHECK(again.to_bytes() == m.to_bytes());
  std::filesystem::remove_all(dir);
}

TEST_CASE("mini-batches and full-batch gradient descent", "[test_sgd]") {
  auto dir = test_dir("batch");
  TrainOptions train_opts;
  train_opts.inputs = {write_file(dir / "t.svm", separable_svm(2000, 100, 21))};
  train_opts.temp_dir = dir.string();
  train_opts.passes = 30;
  train_opts.threads = 2;  // batches train on one thread: still reproducible
  ModelOptions model_opts;
  model_opts.bits = 8;
  for (uint64_t batch : {uint64_t(16), uint64_t(0)}) {
    train_opts.batch_size = batch;
    if (batch == 0) {  // gradient descent: a constant rate
      model_opts.optimizer = Optimizer::sgd;
      model_opts.power_t = 0;
      model_opts.learning_rate = 20;
    }
    std::string bytes[2];
    double loss[2];
    for (int i = 0; i < 2; ++i) {
      Model m(model_opts);
      TrainReport rep = train(m, train_opts, quiet);
      loss[i] = rep.passes.back().train_loss / rep.passes.back().train_weight;
      bytes[i] = m.to_bytes();
    }
    INFO("batch " << batch);
    CHECK(bytes[0] == bytes[1]);
    CHECK(loss[0] < (batch ? 0.3 : 0.45));
  }
  std::filesystem::remove_all(dir);
}

TEST_CASE("empty input and all-bad input are errors", "[test_sgd]") {
  auto dir = test_dir("empty");
  TrainOptions train_opts;
  train_opts.inputs = {write_file(dir / "empty.svm", "")};
  train_opts.temp_dir = dir.string();
  Model m(ModelOptions{});
  CHECK_THROWS_WITH(train(m, train_opts, quiet), Catch::Contains("no examples"));
  train_opts.inputs = {write_file(dir / "bad.svm", "x\ny\n")};
  train_opts.sniff = false;
  train_opts.skip_errors = true;
  CHECK_THROWS_WITH(train(m, train_opts, quiet), Catch::Contains("no valid example"));
  train_opts.skip_errors = false;
  CHECK_THROWS_WITH(train(m, train_opts, quiet), Catch::Contains("bad.svm:1: bad label"));
  std::filesystem::remove_all(dir);
}

TEST_CASE("model files: truncated, foreign, corrupt, other version refused", "[test_sgd]") {
  ModelOptions model_opts;
  model_opts.bits = 6;
  Model m(model_opts);
  ParseOptions parse_opts;
  parse_opts.bits = 6;
  train_examples(m, parse(Format::svmlight, "1 1:1 2:1\n-1 3:1\n", parse_opts));
  std::string good = m.to_bytes();
  CHECK(Model::from_bytes(good, "m")->to_bytes() == good);
  for (size_t n : {size_t(0), size_t(5), size_t(8), size_t(11), size_t(20), good.size() / 2,
                   good.size() - 9, good.size() - 1}) {
    INFO("truncated to " << n);
    CHECK_THROWS_AS(Model::from_bytes(good.substr(0, n), "m"), Error);
  }
  CHECK_THROWS_WITH(Model::from_bytes(good.substr(0, good.size() / 2), "m"), Catch::Contains("truncated"));
  CHECK_THROWS_WITH(Model::from_bytes("hello world, not a model", "m"),
                    Catch::Contains("not a grist-train-sgd model"));
  CHECK(good[8] == 1);  // no class names: still version 1, as an older grist wrote it
  std::string v3 = good;
  v3[8] = 3;
  CHECK_THROWS_WITH(Model::from_bytes(v3, "m"), Catch::Contains("version 3 is newer"));
  std::string flipped = good;
  flipped[good.size() - 12] ^= 0x40;
  CHECK_THROWS_WITH(Model::from_bytes(flipped, "m"), Catch::Contains("corrupt"));
}

TEST_CASE("model files: class names round trip as version 2", "[test_sgd]") {
  ModelOptions o;
  o.bits = 4;
  CHECK(o.class_name(0) == "-1");
  CHECK(o.class_name(1) == "1");
  o.class_names = {"ham", "spam eggs"};
  Model binary(o);
  std::string bytes = binary.to_bytes();
  CHECK(bytes[8] == 2);
  auto back = Model::from_bytes(bytes, "m");
  CHECK(back->options().class_names == o.class_names);
  CHECK(back->options().class_name(1) == "spam eggs");
  CHECK(back->to_bytes() == bytes);

  ModelOptions k3;
  k3.bits = 4;
  k3.classes = 3;
  k3.class_base = 0;
  CHECK(k3.class_name(2) == "2");
  k3.class_names = {"a", "b", "c"};
  auto m3 = Model::from_bytes(Model(k3).to_bytes(), "m");
  CHECK(m3->options().class_name(2) == "c");
  CHECK(m3->options().classes == 3);
}

TEST_CASE("metrics", "[test_sgd]") {
  CHECK(auc({1, -1, 1, -1}, {0.9f, 0.1f, 0.8f, 0.2f}) == 1.0);
  CHECK(auc({1, -1}, {0.5f, 0.5f}) == 0.5);
  CHECK(std::isnan(auc({1, 1}, {0.5f, 0.2f})));
  ModelOptions model_opts;
  MetricInputs in;
  in.label = {1, -1}, in.weight = {1, 1}, in.score = {1.4f, -0.4f}, in.prob = {0.8f, 0.4f},
  in.cls = {1, 0};
  Metrics m = compute_metrics(model_opts, in, 0.5);
  CHECK(m.logloss == Approx(-(std::log(0.8) + std::log(0.6)) / 2));
  CHECK(m.accuracy == 1.0);
  model_opts.loss = Loss::squared;
  in.label = {1, 3}, in.score = {2, 3}, in.cls = {-1, -1};
  m = compute_metrics(model_opts, in, std::nan(""));
  CHECK(m.rmse == Approx(std::sqrt(0.5)));
  CHECK(std::isnan(m.logloss));
}

TEST_CASE("feature names: the first name per index, bounded", "[test_sgd]") {
  FeatureNames n(4, 64);
  CHECK(n.size() == 16);
  CHECK_FALSE(n.has(3));
  CHECK(n.name(3).empty());
  n.add(3, "first");
  n.add(3, "second");  // a collision keeps the first
  CHECK(n.has(3));
  CHECK(n.name(3) == "first");
  // Names are cut at 255 bytes, never inside a UTF-8 sequence.
  FeatureNames big(4);
  std::string longname(254, 'x');
  longname += "\xc3\xa9\xc3\xa9";  // 254 + two 2-byte code points
  big.add(1, longname);
  CHECK(big.name(1) == std::string(254, 'x'));
  big.add(2, std::string(300, 'y'));
  CHECK(big.name(2) == std::string(255, 'y'));
  // The arena is bounded: once full, new indices stay unnamed.
  n.add(4, std::string(40, 'a'));  // 6 + 41 bytes
  n.add(5, std::string(40, 'b'));  // would pass 64
  CHECK(n.name(4) == std::string(40, 'a'));
  CHECK(n.has(5));
  CHECK(n.name(5).empty());
  CHECK(n.named() == 2);
  CHECK(n.dropped() == 1);
  CHECK(n.arena_bytes() <= 64);
}

TEST_CASE("feature names: what each format records", "[test_sgd]") {
  uint32_t mask = (1u << 20) - 1;
  FeatureNames names(20);
  ParseOptions parse_opts;
  parse_opts.names = &names;
  parse(Format::svmlight, "1 3:0.5 1048579:1 9:0\n", parse_opts);
  CHECK(names.name(3) == "3");  // 1048579 = 3 mod 2^20: the first keeps it
  CHECK_FALSE(names.has(9));    // zero values are no features
  parse_opts.quadratic = {"ab"};
  parse(Format::vw, "1 |a x:2 |b y |c z\n-1 | w\n", parse_opts);
  uint64_t a = namespace_seed("a"), b = namespace_seed("b"), c = namespace_seed("c");
  CHECK(names.name(feature_hash("x", a) & mask) == "a^x");
  CHECK(names.name(feature_hash("z", c) & mask) == "c^z");
  CHECK(names.name(feature_hash("w", 0) & mask) == "w");
  CHECK(names.name(quadratic_hash(feature_hash("x", a), feature_hash("y", b)) & mask) == "a^x*b^y");
  parse_opts.quadratic.clear();
  parse_opts.ngrams = 3;
  parse(Format::text, "1\tSpam and eggs\n", parse_opts);
  CHECK(names.name(feature_hash("Spam", 0) & mask) == "Spam");
  CHECK(names.name(XXH3_64bits("Spam and", 8) & mask) == "Spam and");
  CHECK(names.name(XXH3_64bits("Spam and eggs", 13) & mask) == "Spam and eggs");
}

TEST_CASE("readable model with feature names", "[test_sgd]") {
  auto dir = test_dir("names");
  std::string path = write_file(dir / "t.tsv",
                                "1\tcheap pills now\n-1\tmeeting at noon\n1\tcheap watches\n"
                                "-1\tnoon lunch meeting\n");
  ModelOptions model_opts;
  model_opts.bits = 18;
  model_opts.ngrams = 2;
  auto dump = [&](const FeatureNames* names, const Model& m) {
    std::string file = (dir / "r.txt").string();
    auto out = Sink::open(file, SinkOptions{});
    m.write_readable(*out, names);
    out->commit();
    std::ifstream in(file);
    return std::string(std::istreambuf_iterator<char>(in), {});
  };
  std::string text[2];
  for (auto& t : text) {
    FeatureNames names(model_opts.bits);
    TrainOptions train_opts;
    train_opts.inputs = {path};
    train_opts.temp_dir = dir.string();
    train_opts.names = &names;
    Model m(model_opts);
    train(m, train_opts, quiet);
    t = dump(&names, m);
    // Without names: the two columns of before (and the columns line).
    std::string plain = dump(nullptr, m);
    CHECK_THAT(plain, Catch::Contains("# columns=index\tweight\n"));
    CHECK_THAT(plain, Catch::Contains("\nbias\t"));
  }
  CHECK(text[0] == text[1]);  // -j1: reproducible names
  const std::string& t = text[0];
  CHECK_THAT(t, Catch::Contains("# columns=index\tweight\tname\n"));
  uint32_t cheap = feature_hash("cheap", 0) & ((1u << 18) - 1);
  uint32_t bigram = XXH3_64bits("noon lunch", 10) & ((1u << 18) - 1);
  CHECK_THAT(t, Catch::Contains("\n" + std::to_string(cheap) + "\t"));
  CHECK_THAT(t, Catch::Contains("\tcheap\n"));
  CHECK_THAT(t, Catch::Contains("\n" + std::to_string(bigram) + "\t"));
  CHECK_THAT(t, Catch::Contains("\tnoon lunch\n"));
  // Every weight line has three columns; the bias is named "bias".
  std::istringstream lines(t);
  std::string line;
  int weights = 0;
  while (std::getline(lines, line)) {
    if (line[0] == '#') continue;
    ++weights;
    CHECK(std::count(line.begin(), line.end(), '\t') == 2);
    if (line.rfind("bias\t", 0) == 0) CHECK(line.substr(line.rfind('\t')) == "\tbias");
  }
  CHECK(weights == 16);  // 8 words, 7 bigrams, the bias
  // A table of another size is refused.
  FeatureNames wrong(10);
  Model m(model_opts);
  CHECK_THROWS_AS(dump(&wrong, m), Error);
  std::filesystem::remove_all(dir);
}

TEST_CASE("sparse weights with 8-byte slot indexes (models of 2^32 slots and more) load",
          "[test_sgd]") {
  // --oaa K multiplies the slots, and past 2^32 the sparse encoding stores
  // 8-byte indexes (encoding 2). Such a model is too large for a test, so a
  // small model's sparse section (encoding 1) is rewritten as encoding 2: it
  // must load to the same model, and an index past the slots must be refused.
  ModelOptions model_opts;
  model_opts.bits = 10;
  model_opts.classes = 3;
  Model m(model_opts);
  m.state()[5 * m.stride()].store(0.5f);
  m.state()[2000 * m.stride()].store(-2.0f);
  m.state()[(m.slots() - 1) * m.stride()].store(0.25f);
  const std::string b = m.to_bytes();
  uint32_t hlen;
  std::memcpy(&hlen, b.data() + 12, 4);
  const size_t enc_at = 16 + hlen + 8;  // magic, version, H, header, slots
  REQUIRE(b[enc_at] == 1);
  uint64_t raw, comp;
  std::memcpy(&raw, b.data() + enc_at + 1, 8);
  std::memcpy(&comp, b.data() + enc_at + 9, 8);
  std::string narrow(raw, '\0');
  REQUIRE(ZSTD_decompress(narrow.data(), raw, b.data() + enc_at + 17, comp) == raw);
  REQUIRE(raw == 3 * 8);

  auto rebuild = [&](uint64_t extra_index) {
    std::string wide;
    auto put = [&](const void* p, size_t n) { wide.append(static_cast<const char*>(p), n); };
    for (size_t p = 0; p < raw; p += 8) {
      uint32_t i;
      std::memcpy(&i, narrow.data() + p, 4);
      uint64_t i64 = p + 8 == raw && extra_index ? extra_index : i;
      put(&i64, 8);
      put(narrow.data() + p + 4, 4);
    }
    std::string c(ZSTD_compressBound(wide.size()), '\0');
    c.resize(ZSTD_compress(c.data(), c.size(), wide.data(), wide.size(), 1));
    std::string out = b.substr(0, enc_at) + char(2);
    uint64_t sizes[2] = {wide.size(), c.size()};
    out.append(reinterpret_cast<const char*>(sizes), 16);
    out += c + b.substr(enc_at + 17 + comp);  // the state section and the checksum
    uint64_t sum = XXH3_64bits(out.data(), out.size() - 8);
    std::memcpy(out.data() + out.size() - 8, &sum, 8);
    return out;
  };
  auto back = Model::from_bytes(rebuild(0), "m");
  CHECK(back->to_bytes() == b);
  CHECK(back->weight(2000) == -2.0f);
  CHECK_THROWS_WITH(Model::from_bytes(rebuild(m.slots()), "m"), Catch::Contains("corrupt model"));
  CHECK_THROWS_WITH(Model::from_bytes(rebuild(uint64_t(1) << 33), "m"),
                    Catch::Contains("corrupt model"));
}
