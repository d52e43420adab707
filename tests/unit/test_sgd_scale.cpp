// The normaliser against the order of feature scales: a feature whose first
// values are small (or tiny, or huge) must not leave a wrong or non-finite
// model, whatever the optimiser, loss and training path.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <atomic>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "grist/error.hpp"
#include "grist/sgd/examples.hpp"
#include "grist/sgd/model.hpp"
#include "grist/sgd/names.hpp"
#include "grist/sgd/train.hpp"

using namespace grist;
using namespace grist::sgd;

namespace {

std::filesystem::path scale_dir(const std::string& name) {
  const char* base = std::getenv("GRIST_TEST_TMP");
  std::filesystem::path p = std::filesystem::path(base ? base : "/tmp") /
                            ("sgd-scale-" + name + "-" + std::to_string(getpid()));
  std::filesystem::remove_all(p);
  std::filesystem::create_directories(p);
  return p;
}

// A separable problem over `dims` features, feature j of scale s_j drawn
// log-uniformly from [10^lo, 10^hi]: x_j = s_j * z_j with z_j of either
// sign in [0.2, 1], label = sign(sum v_j z_j) with a margin, so that
// w_j = v_j / s_j separates it. The examples come in a random order, and
// each feature's first occurrences are shrunk by a factor down to
// 10^-shrink: the growing scales that the normaliser must follow.
struct Problem {
  Examples ex;
  std::string svm;            // the same, as svmlight text
  std::vector<bool> shrunk;   // whether example i holds a shrunk value
};

Problem make_problem(unsigned seed, int n, int dims, double lo, double hi, double shrink) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> u(0, 1);
  std::vector<double> v(dims + 1), s(dims + 1);
  for (int j = 1; j <= dims; ++j) {
    v[j] = (u(rng) < 0.5 ? -1 : 1) * (0.5 + u(rng));
    s[j] = std::pow(10.0, lo + (hi - lo) * u(rng));
  }
  std::vector<int> seen(dims + 1, 0);
  Problem p;
  std::uniform_int_distribution<int> pick(1, dims);
  char buf[64];
  while (static_cast<int>(p.ex.size()) < n) {
    int a = pick(rng), b = pick(rng);
    if (a == b) continue;
    if (a > b) std::swap(a, b);
    double za = (u(rng) < 0.5 ? -1 : 1) * (0.2 + 0.8 * u(rng));
    double zb = (u(rng) < 0.5 ? -1 : 1) * (0.2 + 0.8 * u(rng));
    double m = v[a] * za + v[b] * zb;
    if (std::fabs(m) < 0.4) continue;
    float y = m > 0 ? 1.f : -1.f;
    p.ex.label.push_back(y);
    p.ex.weight.push_back(1);
    p.ex.holdout.push_back(0);
    p.ex.line.push_back(p.ex.size());
    std::snprintf(buf, sizeof buf, "%+d", static_cast<int>(y));
    p.svm += buf;
    p.shrunk.push_back(seen[a] < 3 || seen[b] < 3);
    for (auto [j, z] : {std::pair<int, double>{a, za}, {b, zb}}) {
      // The first three occurrences of a feature: smaller and smaller
      // (10^-shrink, then 10^(-shrink/2), ...), then its own scale.
      double g = seen[j] < 3 ? std::pow(10.0, -shrink / (1 << seen[j])) : 1.0;
      ++seen[j];
      float x = static_cast<float>(s[j] * z * g);
      std::snprintf(buf, sizeof buf, "%.9g", x);
      x = std::stof(buf);  // what the svmlight text says
      p.ex.index.push_back(static_cast<uint32_t>(j));
      p.ex.value.push_back(x);
      p.svm += " " + std::to_string(j) + ":" + buf;
    }
    p.ex.begin.push_back(static_cast<uint32_t>(p.ex.index.size()));
    p.svm += '\n';
  }
  return p;
}

// Training-set accuracy by the sign of the raw score (double): a score of
// 1e-30 is still on the right side. `all` false: over the examples at
// their features' own scales only (a shrunk example's score is mostly
// the bias, which need not be 0).
double accuracy(const Model& m, const Problem& p, bool all = true) {
  int right = 0, n = 0;
  const Examples& ex = p.ex;
  for (size_t i = 0; i < ex.size(); ++i) {
    if (!all && p.shrunk[i]) continue;
    uint32_t b = ex.begin[i];
    double s = m.score(&ex.index[b], &ex.value[b], ex.begin[i + 1] - b, 0);
    right += (s > 0) == (ex.label[i] > 0);
    ++n;
  }
  return double(right) / n;
}

// Rates at which each optimiser separates these problems in a few passes
// when no value is shrunk (sgd on squared loss diverges above about 2).
ModelOptions options(Optimizer opt, Loss loss, bool normalized) {
  ModelOptions model_opts;
  model_opts.bits = 4;
  model_opts.optimizer = opt;
  model_opts.loss = loss;
  model_opts.normalized = normalized;
  switch (opt) {
    case Optimizer::adagrad: model_opts.learning_rate = 2; break;
    case Optimizer::ftrl: model_opts.learning_rate = 0.5; break;
    case Optimizer::sgd:
      model_opts.learning_rate = !normalized            ? 1
                         : loss == Loss::squared  ? 2
                         : loss == Loss::quantile ? 4
                                                  : 8;
      break;
  }
  return model_opts;
}

auto quiet = [](const std::string&) {};

}  // namespace

TEST_CASE("growing feature scales leave a right, finite model: every optimiser and loss",
          "[test_sgd_scale]") {
  const Loss losses[] = {Loss::logistic, Loss::squared, Loss::hinge, Loss::quantile};
  struct Setup {
    Optimizer opt;
    bool normalized;
    double lo, hi, shrink;  // feature scales 10^lo..10^hi; first values down to 10^-shrink
  };
  // The normalised optimisers are scale-free: any scales, first values
  // down to 1e-12 of the feature's own (and below 1e-19 absolute). ftrl and
  // --no-normalize take values as they come: a range their rate can learn,
  // with first values down to 1e-6 of the feature's.
  const Setup setups[] = {
      {Optimizer::adagrad, true, -20, 6, 12},
      {Optimizer::sgd, true, -20, 6, 12},
      {Optimizer::ftrl, false, -0.5, 0.5, 6},
      {Optimizer::adagrad, false, -0.5, 0.5, 6},
      {Optimizer::sgd, false, -0.5, 0.5, 6},
  };
  for (const Setup& st : setups) {
    for (Loss loss : losses) {
      for (unsigned seed = 1; seed <= 6; ++seed) {
        Problem p = make_problem(seed * 7919 + static_cast<unsigned>(loss), 400, 6, st.lo, st.hi,
                                 st.shrink);
        Model m(options(st.opt, loss, st.normalized));
        for (int pass = 0; pass < 16; ++pass) train_examples(m, p.ex);
        INFO(optimizer_name(st.opt) << (st.normalized ? "" : " --no-normalize") << " "
                                    << loss_name(loss) << " seed " << seed);
        CHECK_NOTHROW(m.check_finite());
        // Near-perfect on the examples at their features' scales, and on
        // all but a few of the shrunk ones.
        CHECK(accuracy(m, p, false) >= 0.97);
        CHECK(accuracy(m, p) >= 0.95);
      }
    }
  }
}

TEST_CASE("growing feature scales: the file paths (cached passes, mini-batches, Hogwild)",
          "[test_sgd_scale]") {
  auto dir = scale_dir("paths");
  const Loss losses[] = {Loss::logistic, Loss::squared, Loss::hinge, Loss::quantile};
  for (Optimizer opt : {Optimizer::adagrad, Optimizer::sgd}) {
    for (Loss loss : losses) {
      Problem p = make_problem(100 + static_cast<unsigned>(loss) * 3 + static_cast<unsigned>(opt),
                               1500, 6, -20, 6, 12);
      std::string path = (dir / "t.svm").string();
      std::ofstream(path) << p.svm;
      struct Path {
        const char* name;
        int passes, threads;
        uint64_t batch;
        bool shuffle;
      };
      for (const Path& tp : {Path{"cached passes, shuffled", 6, 1, 1, true},
                             Path{"mini-batches of 4", 8, 1, 4, false},
                             Path{"Hogwild, 2 threads", 6, 2, 1, true}}) {
        TrainOptions train_opts;
        train_opts.inputs = {path};
        train_opts.temp_dir = dir.string();
        train_opts.block_size = 4 << 10;  // many blocks: the cache and the threads see several
        train_opts.passes = tp.passes;
        train_opts.threads = tp.threads;
        train_opts.batch_size = tp.batch;
        train_opts.shuffle = tp.shuffle;
        train_opts.progress_lines = false;
        ModelOptions model_opts = options(opt, loss, true);
        Model m(model_opts);
        train(m, train_opts, quiet);
        INFO(optimizer_name(opt) << " " << loss_name(loss) << ", " << tp.name);
        CHECK_NOTHROW(m.check_finite());
        CHECK(accuracy(m, p, false) >= 0.97);
        CHECK(accuracy(m, p) >= 0.95);
      }
    }
  }
  std::filesystem::remove_all(dir);
}

TEST_CASE("a feature whose first value is small: the weight keeps its sign", "[test_sgd_scale]") {
  // The example of the bug: -1 2:SMALL, then 100 times 1 2:1, no bias.
  for (float small : {1e-3f, 1e-20f, 1e-38f}) {
    for (Optimizer opt : {Optimizer::adagrad, Optimizer::sgd, Optimizer::ftrl}) {
      for (Loss loss : {Loss::logistic, Loss::squared, Loss::hinge, Loss::quantile}) {
        Examples ex;
        for (int i = 0; i <= 100; ++i) {
          ex.label.push_back(i == 0 ? -1.f : 1.f);
          ex.weight.push_back(1);
          ex.holdout.push_back(0);
          ex.line.push_back(i + 1);
          ex.index.push_back(2);
          ex.value.push_back(i == 0 ? small : 1.f);
          ex.begin.push_back(static_cast<uint32_t>(ex.index.size()));
        }
        ModelOptions model_opts;
        model_opts.bits = 4;
        model_opts.bias = false;
        model_opts.optimizer = opt;
        model_opts.loss = loss;
        if (opt == Optimizer::sgd) model_opts.learning_rate = 0.5;
        if (opt == Optimizer::ftrl) model_opts.learning_rate = 0.1;
        Model m(model_opts);
        train_examples(m, ex);
        INFO(optimizer_name(opt) << " " << loss_name(loss) << " first value " << small);
        CHECK(std::isfinite(m.weight(2)));
        CHECK(m.weight(2) > 0.5);
      }
    }
  }
}

TEST_CASE("rescale_slot: the weight the new scale would have learnt", "[test_sgd_scale]") {
  // adagrad: w and G in units of the old scale; sgd: w scales as 1/N^2.
  std::atomic<float> a[3] = {8.f, 4.f, 0.5f};
  rescale_slot(Optimizer::adagrad, a, 0.5f, 2.f);
  CHECK(a[0].load() == 2.f);
  CHECK(a[1].load() == 0.25f);
  std::atomic<float> s[2] = {8.f, 0.5f};
  rescale_slot(Optimizer::sgd, s, 0.5f, 2.f);
  CHECK(s[0].load() == 0.5f);
  // Down to the smallest scales, without underflow to NaN.
  std::atomic<float> t[3] = {3e19f, 1.f, 1e-19f};
  rescale_slot(Optimizer::adagrad, t, 1e-19f, 1e6f);
  CHECK(std::isfinite(t[0].load()));
  CHECK(t[0].load() >= 0);
}

TEST_CASE("a model that is not finite is never written, nor loaded", "[test_sgd_scale]") {
  ModelOptions model_opts;
  model_opts.bits = 3;
  model_opts.classes = 2;
  Model m(model_opts);
  CHECK_NOTHROW(m.check_finite());
  std::string good = m.to_bytes();
  m.state()[(5 * 2 + 1) * m.stride()].store(std::numeric_limits<float>::quiet_NaN());
  CHECK_THROWS_WITH(m.check_finite(),
                    Catch::Contains("the weight of feature (index 5, class 2) is NaN"));
  FeatureNames names(3);
  names.add(5, "spam");
  CHECK_THROWS_WITH(m.check_finite(&names), Catch::Contains("feature 'spam' (index 5, class 2)"));
  auto dir = scale_dir("finite");
  std::string file = (dir / "m.gsgd").string();
  CHECK_THROWS_WITH(m.save(file), Catch::Contains("is NaN"));
  CHECK(!std::filesystem::exists(file));
  m.state()[(5 * 2 + 1) * m.stride()].store(0);
  m.state()[(8 * 2) * m.stride()].store(std::numeric_limits<float>::infinity());
  CHECK_THROWS_WITH(m.check_finite(), Catch::Contains("the weight of the bias (class 1) is +inf"));
  m.state()[(8 * 2) * m.stride()].store(0);
  m.state()[3 * m.stride() + 1].store(-std::numeric_limits<float>::infinity());
  CHECK_THROWS_WITH(m.check_finite(),
                    Catch::Contains("the optimizer state of feature (index 1, class 2) is -inf"));
  // A file holding a NaN weight (as an older grist could write) is refused
  // on load: to_bytes() serialises without the check.
  Model n(model_opts);
  n.state()[3 * n.stride()].store(std::numeric_limits<float>::quiet_NaN());
  CHECK_THROWS_WITH(Model::from_bytes(n.to_bytes(), "old.gsgd"),
                    Catch::Contains("old.gsgd: corrupt model file (the weight of feature "
                                    "(index 1, class 2) is NaN)"));
  CHECK(Model::from_bytes(good, "m")->to_bytes() == good);
  std::filesystem::remove_all(dir);
}
