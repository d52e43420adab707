// grist-train-sgd's policy in the library (sgd/train_command.hpp): the
// defaults, the option conflicts, what -i fixes, the distributed checks,
// and the lines of the report (sgd/report.hpp).
#include <unistd.h>

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <string>

#include "grist/error.hpp"
#include "grist/io/block_reader.hpp"
#include "grist/sgd/examples.hpp"
#include "grist/sgd/model.hpp"
#include "grist/sgd/report.hpp"
#include "grist/sgd/train_command.hpp"
#include "support/temp_dir.hpp"

using namespace grist;
using namespace grist::sgd;

namespace {

std::filesystem::path test_dir(const std::string& name) {
  return grist_test::fresh_dir("sgd-command", name);
}

using grist_test::write_file;

TrainArgs args_with(std::initializer_list<const char*> given) {
  TrainArgs a;
  for (const char* g : given) a.given.insert(g);
  return a;
}

std::string usage_error(const TrainArgs& a) {
  try {
    resolve(a);
  } catch (const UsageError& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("the learning rate defaults by optimiser", "[test_sgd_command]") {
  CHECK(default_learning_rate(Optimizer::adagrad) == 0.85);
  CHECK(default_learning_rate(Optimizer::sgd) == 0.5);
  CHECK(default_learning_rate(Optimizer::ftrl) == 0.25);
  TrainArgs a;
  for (auto [name, rate] : {std::pair{"adagrad", 0.85}, {"sgd", 0.5}, {"ftrl", 0.25}}) {
    a.optimizer = name;
    a.learning_rate = 0;
    CHECK(resolve(a).model.learning_rate == rate);
    a.learning_rate = 0.25;
    CHECK(resolve(a).model.learning_rate == 0.25);
  }
}

TEST_CASE("resolve applies the defaults of the command line", "[test_sgd_command]") {
  TrainArgs a;
  a.inputs = {"a.svm"};
  a.threads = 3;
  a.temp_dir = "/var/tmp";
  TrainSetup s = resolve(a);
  CHECK(s.model.loss == Loss::logistic);
  CHECK(s.model.optimizer == Optimizer::adagrad);
  CHECK(s.model.bias);
  CHECK(s.model.normalized);
  CHECK(s.train.batch_size == 1);
  CHECK(s.train.sniff);
  CHECK_FALSE(s.train.skip_errors);
  CHECK(s.train.threads == 3);
  CHECK(s.train.temp_dir == "/var/tmp");
  CHECK(s.train.progress_lines);
  CHECK(s.train.inputs == a.inputs);

  a.format = "vw";
  a.initial_model.clear();
  a.no_bias = a.no_normalize = a.quiet = true;
  a.on_error = OnError::skip;
  a.batch = "all";
  s = resolve(a);
  CHECK(s.model.format == Format::vw);
  CHECK_FALSE(s.train.sniff);
  CHECK_FALSE(s.model.bias);
  CHECK_FALSE(s.model.normalized);
  CHECK(s.train.skip_errors);
  CHECK_FALSE(s.train.progress_lines);
  CHECK(s.train.batch_size == 0);
  a.batch = "32";
  CHECK(resolve(a).train.batch_size == 32);
  a.format.clear();
  a.initial_model = "m.gsgd";  // -i gives the format
  CHECK_FALSE(resolve(a).train.sniff);

  // --oaa trains logistic unless --loss says otherwise.
  TrainArgs oaa;
  oaa.model.classes = 3;
  oaa.loss = "squared";
  CHECK(resolve(oaa).model.loss == Loss::logistic);
  oaa.given.insert("--loss");
  CHECK(resolve(oaa).model.loss == Loss::squared);
}

TEST_CASE("several passes hold out every 10th line unless told", "[test_sgd_command]") {
  TrainArgs a;
  CHECK(resolve(a).train.holdout_every == 0);  // one pass: none, as VW
  a.train.passes = 2;
  TrainSetup s = resolve(a);
  CHECK(s.train.holdout_every == kDefaultHoldoutEvery);
  CHECK(s.train.holdout_by_default);
  TrainArgs off = args_with({"--holdout-every"});
  off.train.passes = 2;
  s = resolve(off);
  CHECK(s.train.holdout_every == 0);
  CHECK_FALSE(s.train.holdout_by_default);
  off.train.holdout_every = 7;
  CHECK(resolve(off).train.holdout_every == 7);
}

TEST_CASE("the warnings of the arguments", "[test_sgd_command]") {
  TrainArgs a;
  auto warnings = [](const TrainArgs& x) { return train_warnings(x, resolve(x)); };
  CHECK(warnings(a) ==
        std::vector<std::string>{"no -f (or --readable-model): the model will not be saved"});
  a.final_model = "m.gsgd";
  CHECK(warnings(a).empty());
  a.final_model.clear();
  a.readable_model = "m.txt";
  CHECK(warnings(a).empty());
  a.train.shuffle = true;
  a.given.insert("--early-stop");
  auto w = warnings(a);
  REQUIRE(w.size() == 2);
  CHECK_THAT(w[0],
             Catch::StartsWith("--shuffle shuffles the cached examples of passes 2 and later"));
  CHECK_THAT(w[1], Catch::StartsWith("--early-stop compares the passes' held-out losses"));
  a.train.passes = 2;
  CHECK(warnings(a).empty());
}

TEST_CASE("resolve refuses options that conflict", "[test_sgd_command]") {
  CHECK(usage_error(args_with({"--quantile-tau"})) == "--quantile-tau needs --loss quantile");
  TrainArgs q = args_with({"--quantile-tau", "--loss"});
  q.loss = "quantile";
  CHECK(usage_error(q).empty());
  CHECK(usage_error(args_with({"--class-base"})) == "--class-base needs --oaa");

  TrainArgs quad;
  quad.model.quadratic = {"ab"};
  quad.format = "svmlight";
  CHECK(usage_error(quad) ==
        "--quadratic crosses VW namespaces: it needs --format vw, not --format svmlight");
  quad.format = "vw";
  CHECK(usage_error(quad).empty());
  quad.model.quadratic = {"abc"};
  CHECK_THAT(usage_error(quad), Catch::StartsWith("--quadratic 'abc'"));

  TrainArgs ngrams = args_with({"--ngrams"});
  ngrams.model.ngrams = 2;
  ngrams.format = "vw";
  CHECK_THAT(usage_error(ngrams), Catch::StartsWith("--ngrams makes word n-grams of text input"));
  ngrams.format = "text";
  CHECK(usage_error(ngrams).empty());

  TrainArgs hold = args_with({"--holdout-every"});
  hold.train.holdout_every = 1;
  CHECK_THAT(usage_error(hold), Catch::StartsWith("--holdout-every 1 holds out every line"));
  TrainArgs stop = args_with({"--holdout-every", "--early-stop"});
  stop.train.passes = 5;
  CHECK(usage_error(stop) ==
        "--early-stop needs held-out examples, and --holdout-every 0 holds out none");
  stop.train.holdout_every = 3;
  CHECK(usage_error(stop).empty());

  for (const char* bad : {"0", "x", "-1", ""}) {
    TrainArgs b;
    b.batch = bad;
    CHECK(usage_error(b) == "--batch-size: expected a positive number or 'all'");
  }
  TrainArgs names;
  names.loss = "nope";
  CHECK_FALSE(usage_error(names).empty());
}

TEST_CASE("--allreduce checks need no MPI", "[test_sgd_command]") {
  CHECK(usage_error(args_with({"--allreduce-every"})) == "--allreduce-every needs --allreduce");
  TrainArgs a;
  a.allreduce = true;
  const std::string no_stdin = "--allreduce reads files, not stdin: give FILE arguments";
  CHECK(usage_error(a) == no_stdin);
  a.inputs = {"a.svm", "-"};
  CHECK(usage_error(a) == no_stdin);
  a.inputs = {"a.svm", "b.svm"};
  CHECK(usage_error(a).empty());
}

TEST_CASE("a new model, or -i's and what it fixes", "[test_sgd_command]") {
  auto dir = test_dir("initial");
  TrainArgs a;
  a.model.bits = 30;
  a.model.classes = 100;
  try {
    initial_model(a, resolve(a));
    FAIL("no error");
  } catch (const UsageError& e) {
    CHECK_THAT(e.what(), Catch::StartsWith("-b 30 with --oaa 100 makes a model of "));
    CHECK_THAT(e.what(), Catch::EndsWith(": lower -b or --oaa"));
  }
  a = TrainArgs{};
  a.model.bits = 4;
  a.optimizer = "sgd";
  auto fresh = initial_model(a, resolve(a));
  CHECK(fresh->options().bits == 4);
  CHECK(fresh->stride() == 2);
  const std::string path = (dir / "m.gsgd").string();
  fresh->save(path);

  TrainArgs i;
  i.initial_model = path;
  for (const char* fixed : {"--loss", "--oaa", "--bits", "--no-bias", "--quadratic", "--ngrams"}) {
    TrainArgs f = i;
    f.given.insert(fixed);
    CHECK_THROWS_WITH(initial_model(f, resolve(f)),
                      std::string(fixed) + " is fixed by the model given with -i");
  }
  TrainArgs opt = i;
  opt.given.insert("--optimizer");  // adagrad, the default, against sgd
  CHECK_THROWS_WITH(initial_model(opt, resolve(opt)),
                    "--optimizer adagrad differs from the model's (sgd)");
  opt.optimizer = "sgd";
  CHECK(initial_model(opt, resolve(opt))->options().optimizer == Optimizer::sgd);

  // What -i lets a run change.
  TrainArgs change = i;
  change.learning_rate = 0.125;
  change.model.l2 = 0.5;
  change.no_normalize = true;
  change.format = "vw";  // an svmlight model reads VW input, and becomes a VW model
  auto m = initial_model(change, resolve(change));
  CHECK(m->options().learning_rate == 0.125);
  CHECK(m->options().l2 == 0.5);
  CHECK_FALSE(m->options().normalized);
  CHECK(m->options().format == Format::vw);
  change.format = "text";
  CHECK_THROWS_WITH(initial_model(change, resolve(change)),
                    "--format text: the model given with -i was trained on svmlight input, and "
                    "reads only that (or vw)");
  // Without --learning-rate the model's stays.
  TrainArgs keep = i;
  keep.optimizer = "sgd";
  CHECK(initial_model(keep, resolve(keep))->options().learning_rate ==
        default_learning_rate(Optimizer::sgd));
  std::filesystem::remove_all(dir);
}

TEST_CASE("TrainCommand trains and writes the model", "[test_sgd_command]") {
  auto dir = test_dir("run");
  TrainArgs a;
  a.inputs = {write_file(dir / "in.svm", "1 1:1\n-1 2:1\n1 bad\n1 1:1 3:0.5\n")};
  a.final_model = (dir / "m.gsgd").string();
  a.on_error = OnError::skip;
  a.train.passes = 2;
  a.temp_dir = dir.string();
  a.quiet = true;
  TrainCommand cmd(a);
  std::vector<std::string> logged;
  TrainReport rep = cmd.run([&](const std::string& l) { logged.push_back(l); });
  CHECK(logged.empty());  // quiet
  CHECK(cmd.rank0());
  CHECK(cmd.model_options().classes == 0);
  CHECK(cmd.model_options().format == Format::svmlight);  // sniffed
  CHECK(cmd.options().passes == 2);
  CHECK(rep.examples == 3);
  CHECK(rep.passes.size() == 2);
  CHECK(rep.skipped.count == 1);
  CHECK_THAT(rep.skipped.warning("malformed example"),
             Catch::StartsWith("skipped 1 malformed example (first: ") &&
                 Catch::Contains("in.svm:3: "));
  auto m = Model::load(a.final_model, ModelState::weights_only);
  CHECK(m->options().examples_trained == 6);
  CHECK(m->options().passes_trained == 2);
  cmd.abort_if_failed(1);  // one process: returns
  std::filesystem::remove_all(dir);
}

TEST_CASE("the report's lines", "[test_sgd_command]") {
  TrainReport rep;
  rep.examples = 10;
  rep.features = 25;
  rep.holdout_examples = 2;
  rep.seconds = 1.5;
  rep.train_seconds_pass1 = 0.5;
  rep.trained_examples = 16;
  rep.stop_reason = "all 2 passes done";
  PassReport p1;
  p1.examples = 10;
  p1.train_loss = 4, p1.train_weight = 8;
  p1.holdout_loss = 1, p1.holdout_weight = 2;
  rep.passes = {p1, p1};
  TrainOptions train_opts;
  train_opts.holdout_every = 5;
  ModelOptions model_opts;
  auto lines = report_lines(rep, train_opts, model_opts);
  REQUIRE(lines.size() == 3);
  CHECK(lines[0] ==
        "grist-train-sgd: 10 examples (25 features) in 2 passes, 1.50 s, 20 examples/s in pass "
        "1; progressive loss 0.500000");
  CHECK(lines[1] ==
        "grist-train-sgd: held out: lines 5, 10, ... of each input (20%; 2 examples), never "
        "trained on; last held-out loss 0.500000");
  CHECK(lines[2] == "grist-train-sgd: stopped: all 2 passes done");
  // Which pass the model is from, once train() has said.
  rep.model_pass = 1;
  rep.passes[1].holdout_loss = 1.5;
  train_opts.holdout_every = 10;
  train_opts.holdout_by_default = true;
  lines = report_lines(rep, train_opts, model_opts);
  REQUIRE(lines.size() == 4);
  CHECK(lines[1] ==
        "grist-train-sgd: held out: lines 10, 20, ... of each input (10%, the default with "
        "several passes; 2 examples), never trained on; last held-out loss 0.750000");
  CHECK(lines[2] == "grist-train-sgd: model: from pass 1 of 2 (the best held-out loss 0.500000)");
  rep.model_pass = 2;
  rep.passes[1].holdout_loss = 0.5;
  CHECK(report_lines(rep, train_opts, model_opts)[2] ==
        "grist-train-sgd: model: from pass 2 of 2 (the last, with the best held-out loss "
        "0.250000)");
  train_opts.holdout_every = 0;
  train_opts.passes = 2;
  CHECK(report_lines(rep, train_opts, model_opts)[1] ==
        "grist-train-sgd: held out: nothing (--holdout-every 0)");
  train_opts.passes = 1;
  rep.passes.resize(1);
  train_opts.holdout_every = 0;
  model_opts.classes = 3;  // --oaa: 0/1 errors
  lines = report_lines(rep, train_opts, model_opts);
  CHECK_THAT(lines[0], Catch::Contains("in 1 pass, ") && Catch::EndsWith("(0/1 error)"));
  CHECK(lines[1] == "grist-train-sgd: held out: nothing (--holdout-every N to hold out)");
  CHECK(updates_summary(rep) == "16 example updates in 1 pass");
  CHECK(pass_line(1, p1) == "pass 1: 10 examples, progressive loss 0.500000, held-out loss 0.500000");
  p1.holdout_weight = 0;
  CHECK(pass_line(3, p1) == "pass 3: 10 examples, training loss 0.500000");
}

TEST_CASE("a line share parses only its lines, keeping their numbers", "[test_sgd_command]") {
  auto dir = test_dir("share");
  std::string path = write_file(dir / "in.svm", "1 1:1\n-1 2:1\n1 oops\n1 3:1\n-1 4:1\n");
  for (uint64_t shard = 0; shard < 2; ++shard) {
    BlockReader reader({path});
    Block b;
    REQUIRE(reader.next(b));
    Parser parser(ParseOptions{});
    Examples ex;
    SkippedLines log;
    parser.parse_block(b, ex, &log, LineShare{2, shard});
    if (shard == 0) {  // lines 1, 3, 5
      CHECK(ex.line == std::vector<uint64_t>{1, 5});
      CHECK(log.count == 1);
      CHECK_THAT(log.first, Catch::Contains(":3: "));
    } else {  // lines 2, 4
      CHECK(ex.line == std::vector<uint64_t>{2, 4});
      CHECK(log.count == 0);
    }
  }
  std::filesystem::remove_all(dir);
}
