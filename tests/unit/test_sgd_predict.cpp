// grist-predict's outputs (--output-type, --top-k, --threshold) and its
// metrics (per-class scores, confusion matrix, JSON), against hand-computed
// values.
#include <catch2/catch.hpp>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "grist/error.hpp"
#include "grist/io/block_reader.hpp"
#include "grist/json/json_write.hpp"
#include "grist/sgd/model.hpp"
#include "grist/sgd/predict.hpp"

using namespace grist;
using namespace grist::sgd;

namespace {

// A block holding `text` (whole lines), as a BlockReader gives it.
Block block_of(const std::string& text) {
  Block b;
  b.buf.resize(text.size() + kBlockPadding);
  std::memcpy(b.buf.data(), text.data(), text.size());
  std::memset(b.buf.data() + text.size(), 0, kBlockPadding);
  b.size = text.size();
  b.lines = static_cast<uint64_t>(std::count(text.begin(), text.end(), '\n'));
  b.source = std::make_shared<const std::string>("test");
  return b;
}

// A model whose score of class k for features 1:x is weight[k] * x (no bias).
std::unique_ptr<Model> model_with(ModelOptions o, const std::vector<float>& weight) {
  o.bits = 4;
  o.bias = false;
  auto m = std::make_unique<Model>(o, ModelState::weights_only);
  for (int k = 0; k < m->k(); ++k) m->state()[(1 * m->k() + k) * m->stride()].store(weight[k]);
  return m;
}

std::string scored(const Model& m, const OutputOptions& oo, const std::string& lines) {
  Parser parser(prediction_parse_options(m, std::nullopt));
  ScoredBlock out;
  score_block(m, parser, block_of(lines), false, score_options(m.options(), oo), out);
  return out.text;
}

OutputOptions oo(std::optional<OutputKind> kind, int top_k = 0,
                 std::optional<double> threshold = std::nullopt) {
  OutputOptions o;
  o.kind = kind;
  o.top_k = top_k;
  o.threshold = threshold;
  return o;
}

ModelOptions loss_model(Loss l, int classes = 0) {
  ModelOptions o;
  o.loss = l;
  o.classes = classes;
  return o;
}

}  // namespace

TEST_CASE("predict outputs: defaults, as before", "[test_sgd_predict]") {
  CHECK(default_output(loss_model(Loss::logistic)) == OutputKind::prob);
  CHECK(default_output(loss_model(Loss::hinge)) == OutputKind::score);
  CHECK(default_output(loss_model(Loss::squared)) == OutputKind::score);
  CHECK(default_output(loss_model(Loss::logistic, 3)) == OutputKind::label);
  ScoreOptions so = score_options(loss_model(Loss::logistic), {});
  CHECK(so.threshold == 0.5);
  CHECK(score_options(loss_model(Loss::hinge), {}).threshold == 0);
  CHECK(std::isnan(score_options(loss_model(Loss::squared), {}).threshold));
  CHECK(std::isnan(score_options(loss_model(Loss::logistic, 3), {}).threshold));
}

TEST_CASE("predict outputs: binary logistic", "[test_sgd_predict]") {
  auto m = model_with(loss_model(Loss::logistic), {1});
  // Scores 2, 0, -1: P = 0.880797, 0.5, 0.268941.
  const std::string in = "1 1:2\n\n-1 1:0\n0 1:-1\n";
  CHECK(scored(*m, {}, in) == "0.8807971\n\n0.5\n0.26894143\n");
  CHECK(scored(*m, oo(OutputKind::prob), in) == scored(*m, {}, in));
  CHECK(scored(*m, oo(OutputKind::score), in) == "2\n\n0\n-1\n");
  CHECK(scored(*m, oo(OutputKind::label), in) == "1\n\n1\n-1\n");
  CHECK(scored(*m, oo(OutputKind::label, 0, 0.6), in) == "1\n\n-1\n-1\n");
  CHECK(scored(*m, oo(OutputKind::label, 0, 0.0), in) == "1\n\n1\n1\n");
  CHECK(scored(*m, oo(std::nullopt, 2), in) ==
        "1 0.8807971 -1 0.11920292\n\n1 0.5 -1 0.5\n-1 0.7310586 1 0.26894143\n");
  CHECK(scored(*m, oo(OutputKind::label, 5), in) == "1 -1\n\n1 -1\n-1 1\n");
  CHECK(scored(*m, oo(std::nullopt, 1), in) == "1 0.8807971\n\n1 0.5\n-1 0.7310586\n");
  // Names, as a model trained on named labels holds them.
  ModelOptions named = loss_model(Loss::logistic);
  named.class_names = {"ham", "spam"};
  auto mn = model_with(named, {1});
  // Its labels are names (or absent), never numbers.
  const std::string in_named = "spam 1:2\n\nham 1:0\n1:-1\n";
  CHECK(scored(*mn, oo(OutputKind::label), in_named) == "spam\n\nspam\nham\n");
  CHECK(scored(*mn, oo(OutputKind::label, 0, 0.9), in_named) == "ham\n\nham\nham\n");
  CHECK(scored(*mn, oo(std::nullopt, 2), "1:2\n") == "spam 0.8807971 ham 0.11920292\n");
}

TEST_CASE("predict outputs: hinge, regression", "[test_sgd_predict]") {
  auto h = model_with(loss_model(Loss::hinge), {0.5});
  const std::string in = "1 1:2\n-1 1:-3\n1 1:1\n";
  CHECK(scored(*h, {}, in) == "1\n-1.5\n0.5\n");
  CHECK(scored(*h, oo(OutputKind::label), in) == "1\n-1\n1\n");
  CHECK(scored(*h, oo(OutputKind::label, 0, 0.75), in) == "1\n-1\n-1\n");
  CHECK(scored(*h, oo(OutputKind::label, 2), in) == "1 -1\n-1 1\n1 -1\n");
  auto q = model_with(loss_model(Loss::quantile), {0.25});
  CHECK(scored(*q, {}, "3 1:2\n") == "0.5\n");
  CHECK(scored(*q, oo(OutputKind::score), "3 1:2\n") == "0.5\n");
}

TEST_CASE("predict outputs: --oaa", "[test_sgd_predict]") {
  // Class scores for 1:1 are 1, 3, -1, 3: the best is class 1 (the first
  // of the two 3s), then 3, 0, 2.
  ModelOptions o = loss_model(Loss::logistic, 4);
  o.class_base = 1;
  auto m = model_with(o, {1, 3, -1, 3});
  const std::string in = "2 1:1\n";
  CHECK(scored(*m, {}, in) == "2\n");
  CHECK(scored(*m, oo(OutputKind::label), in) == "2\n");
  CHECK(scored(*m, oo(OutputKind::score), in) == "3\n");
  // sigmoid(1, 3, -1, 3) = .7311, .9526, .2689, .9526; sum 2.9051.
  double s1 = 1 / (1 + std::exp(-1.0)), s3 = 1 / (1 + std::exp(-3.0)), sm1 = 1 - s1;
  double sum = s1 + s3 + sm1 + s3;
  auto f = [](double v) {
    char buf[32];
    return std::string(buf, std::to_chars(buf, buf + sizeof buf, static_cast<float>(v)).ptr);
  };
  CHECK(scored(*m, oo(OutputKind::prob), in) == f(s3 / sum) + "\n");
  CHECK(scored(*m, oo(std::nullopt, 3), in) ==
        "2 " + f(s3 / sum) + " 4 " + f(s3 / sum) + " 1 " + f(s1 / sum) + "\n");
  CHECK(scored(*m, oo(std::nullopt, 9), in) == "2 " + f(s3 / sum) + " 4 " + f(s3 / sum) + " 1 " +
                                                 f(s1 / sum) + " 3 " + f(sm1 / sum) + "\n");
  CHECK(scored(*m, oo(OutputKind::label, 2), in) == "2 4\n");
  o.class_names = {"a", "b c", "d", "e"};
  auto mn = model_with(o, {1, 3, -1, 3});
  CHECK(scored(*mn, {}, "1:1\n") == "b c\n");
  CHECK(scored(*mn, oo(OutputKind::label, 2), "d 1:1\n") == "b c e\n");
  // A hinge --oaa model ranks by score, without probabilities.
  ModelOptions oh = loss_model(Loss::hinge, 3);
  oh.class_base = 0;
  auto mh = model_with(oh, {-1, 2, 1});
  CHECK(scored(*mh, oo(OutputKind::label, 3), "0 1:1\n") == "1 2 0\n");
}

TEST_CASE("predict outputs: what does not fit the model is a usage error", "[test_sgd_predict]") {
  auto err = [](Loss l, int classes, OutputOptions oo) {
    try {
      score_options(loss_model(l, classes), oo);
    } catch (const UsageError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  CHECK_THAT(err(Loss::hinge, 0, oo(OutputKind::prob)),
             Catch::Contains("--output-type prob is probabilities, which need a logistic model (this is a hinge model)"));
  CHECK_THAT(err(Loss::squared, 0, oo(OutputKind::prob)), Catch::Contains("use --output-type score"));
  CHECK_THAT(err(Loss::squared, 0, oo(OutputKind::label)),
             Catch::Contains("--output-type label needs a classifier"));
  CHECK_THAT(err(Loss::quantile, 0, oo(std::nullopt, 2)), Catch::Contains("--top-k needs classes"));
  CHECK_THAT(err(Loss::hinge, 3, oo(std::nullopt, 2)),
             Catch::Contains("--output-type label with --top-k gives the names alone"));
  CHECK_THAT(err(Loss::logistic, 3, oo(OutputKind::score, 2)), Catch::Contains("not scores"));
  CHECK_THAT(err(Loss::logistic, 3, oo(std::nullopt, 0, 0.5)),
             Catch::Contains("--threshold needs a binary model"));
  CHECK_THAT(err(Loss::squared, 0, oo(std::nullopt, 0, 0.5)),
             Catch::Contains("--threshold needs a binary model"));
  CHECK_THAT(err(Loss::logistic, 0, oo(std::nullopt, 0, 1.5)),
             Catch::Contains("--threshold 1.5: a logistic model's threshold is a probability"));
  CHECK_THAT(err(Loss::logistic, 0, oo(std::nullopt, 2, 0.5)), Catch::Contains("--threshold and --top-k"));
  CHECK(err(Loss::hinge, 0, oo(OutputKind::label, 0, -7.5)) == "no error");
  CHECK(err(Loss::logistic, 0, oo(OutputKind::score, 0, 0.9)) == "no error");
  CHECK(score_options(loss_model(Loss::logistic, 3), oo(std::nullopt, 7)).top_k == 3);
  CHECK(score_options(loss_model(Loss::hinge), oo(OutputKind::label, 7)).top_k == 2);
}

TEST_CASE("metrics: binary, per class and confusion", "[test_sgd_predict]") {
  ModelOptions o = loss_model(Loss::logistic);
  MetricInputs in;
  in.label = {1, -1, 1, -1, 1};
  in.prob = {0.9f, 0.6f, 0.4f, 0.2f, 0.7f};
  in.score = {2.2f, 0.4f, -0.4f, -1.4f, 0.8f};
  in.cls = {1, 1, 0, 0, 1};
  in.weight = {1, 1, 1, 1, 1};
  Metrics m = compute_metrics(o, in, 0.5);
  CHECK(m.labelled == 5);
  CHECK(m.weight == 5);
  CHECK(m.class_names == std::vector<std::string>{"-1", "1"});
  // rows true (-1, 1), columns predicted.
  CHECK(m.confusion == std::vector<double>{1, 1, 1, 2});
  CHECK(m.accuracy == Approx(0.6));
  CHECK(m.logloss == Approx(-(std::log(0.9) + std::log(0.4) + std::log(0.4) + std::log(0.8) +
                              std::log(0.7)) / 5).epsilon(1e-6));
  CHECK(m.auc == Approx(5.0 / 6));  // of 6 (pos, neg) pairs, only (0.4, 0.6) is out of order
  REQUIRE(m.per_class.size() == 2);
  CHECK(m.per_class[0].precision == Approx(0.5));
  CHECK(m.per_class[0].recall == Approx(0.5));
  CHECK(m.per_class[0].f1 == Approx(0.5));
  CHECK(m.per_class[0].support == 2);
  CHECK(m.per_class[1].precision == Approx(2.0 / 3));
  CHECK(m.per_class[1].recall == Approx(2.0 / 3));
  CHECK(m.per_class[1].support == 3);
  CHECK(m.macro.precision == Approx(7.0 / 12));
  CHECK(m.weighted.precision == Approx(0.6));
  CHECK(m.micro.f1 == Approx(0.6));
  CHECK(m.text() == "0 examples (5 labelled): logloss 0.503552, accuracy 0.600000, AUC 0.833333");
  CHECK(m.table() ==
        "class        precision    recall        f1   support\n"
        "-1            0.500000  0.500000  0.500000         2\n"
        "1             0.666667  0.666667  0.666667         3\n"
        "macro avg     0.583333  0.583333  0.583333         5\n"
        "weighted avg  0.600000  0.600000  0.600000         5\n"
        "micro avg     0.600000  0.600000  0.600000         5\n"
        "confusion matrix (rows: true class, columns: predicted class)\n"
        "             -1 1\n"
        "-1            1 1\n"
        "1             1 2\n");
  // Importance weights count as that many examples.
  in.weight = {2, 1, 1, 1, 1};
  m = compute_metrics(o, in, 0.5);
  CHECK(m.confusion == std::vector<double>{1, 1, 1, 3});
  CHECK(m.per_class[1].support == 4);
  CHECK(m.accuracy == Approx(4.0 / 6));
}

TEST_CASE("metrics: --oaa with names, an absent class, JSON", "[test_sgd_predict]") {
  ModelOptions o = loss_model(Loss::logistic, 4);
  o.class_names = {"a", "b\"q", "c\\d", "\xc3\xa9t\xc3\xa9"};
  MetricInputs in;
  in.label = {0, 1, 2, 2};
  in.cls = {0, 2, 2, 1};
  in.prob = {0.5f, 0.25f, 0.8f, 0.1f};  // of the true class
  in.score = {0, 0, 0, 0};
  in.weight = {1, 1, 1, 1};
  Metrics m = compute_metrics(o, in, std::nan(""));
  CHECK(m.oaa);
  CHECK(m.confusion == std::vector<double>{1, 0, 0, 0, 0, 0, 1, 0, 0, 1, 1, 0, 0, 0, 0, 0});
  CHECK(m.accuracy == 0.5);
  CHECK(std::isnan(m.auc));
  CHECK(m.logloss == Approx(-(std::log(0.5) + std::log(0.25) + std::log(0.8) + std::log(0.1)) / 4)
                         .epsilon(1e-6));
  CHECK(m.per_class[0].f1 == 1);
  CHECK(m.per_class[1].precision == 0);  // predicted once, wrongly
  CHECK(m.per_class[1].recall == 0);
  CHECK(m.per_class[2].precision == 0.5);
  CHECK(m.per_class[2].recall == 0.5);
  CHECK(std::isnan(m.per_class[3].precision));  // neither a label nor a prediction
  CHECK(m.per_class[3].support == 0);
  CHECK(m.macro.precision == Approx(0.5));  // (1 + 0 + 0.5) / 3
  CHECK(m.macro.f1 == Approx(0.5));
  CHECK(m.micro.precision == 0.5);
  // The summary keeps its --oaa form (no logloss); the table has it.
  CHECK(m.text() == "0 examples (4 labelled): accuracy 0.500000");
  CHECK(m.table().rfind("multiclass log loss ", 0) == 0);
  m.examples = 5;
  m.lines = 6;
  std::string j = m.json();
  CHECK(j.back() == '\n');
  CHECK_THAT(j, Catch::StartsWith("{\"examples\":5,\"labelled\":4,\"weight\":4,\"lines\":6,"
                                  "\"skipped\":0,\"loss\":\"logistic\",\"oaa\":true,"
                                  "\"threshold\":null,\"logloss\":"));
  CHECK_THAT(j, Catch::Contains(",\"accuracy\":0.5,\"auc\":null,\"rmse\":null,\"mae\":null,"
                                "\"quantile_loss\":null,\"classes\":[{\"name\":\"a\",\"precision\""
                                ":1,\"recall\":1,\"f1\":1,\"support\":1},{\"name\":\"b\\\"q\","));
  CHECK_THAT(j, Catch::Contains("{\"name\":\"c\\\\d\",\"precision\":0.5,"));
  CHECK_THAT(j, Catch::Contains("{\"name\":\"\xc3\xa9t\xc3\xa9\",\"precision\":null,\"recall\":"
                                "null,\"f1\":null,\"support\":0}]"));
  CHECK_THAT(j, Catch::Contains(",\"micro\":{\"precision\":0.5,\"recall\":0.5,\"f1\":0.5,"
                                "\"support\":4},\"confusion\":[[1,0,0,0],[0,0,1,0],[0,1,1,0],"
                                "[0,0,0,0]]}"));
}

TEST_CASE("metrics: regression, and no labelled example", "[test_sgd_predict]") {
  ModelOptions o = loss_model(Loss::quantile);
  o.quantile_tau = 0.25;
  MetricInputs in;
  in.label = {1, 3, 0};
  in.score = {2, 3, -2};
  in.prob = {NAN, NAN, NAN};
  in.cls = {-1, -1, -1};
  in.weight = {1, 1, 1};
  Metrics m = compute_metrics(o, in, std::nan(""));
  CHECK(m.rmse == Approx(std::sqrt(5.0 / 3)));
  CHECK(m.mae == Approx(1.0));
  // y - p: -1 (0.75 * 1), 0, 2 (0.25 * 2): 1.25 / 3.
  CHECK(m.quantile_loss == Approx(1.25 / 3));
  CHECK(m.table().empty());
  CHECK(m.class_names.empty());
  CHECK_THAT(m.json(), Catch::Contains("\"classes\":[],\"macro\":null,\"weighted\":null,"
                                       "\"micro\":null,\"confusion\":null}"));
  Metrics none = compute_metrics(loss_model(Loss::logistic), MetricInputs{}, 0.5);
  CHECK(none.table() == "no labelled examples: no metrics\n");
  CHECK(std::isnan(none.accuracy));
  CHECK_THAT(none.json(), Catch::Contains("\"labelled\":0,\"weight\":0,"));
  CHECK_THAT(none.json(), Catch::Contains("\"threshold\":0.5,\"logloss\":null,\"accuracy\":null"));
  CHECK_THAT(none.json(), Catch::Contains("{\"name\":\"-1\",\"precision\":null"));
}

TEST_CASE("json_number", "[test_sgd_predict]") {
  CHECK(json_number(0.5) == "0.5");
  CHECK(json_number(3) == "3");
  CHECK(json_number(1e-7) == "1e-07");
  CHECK(json_number(NAN) == "null");
  CHECK(json_number(INFINITY) == "null");
}
