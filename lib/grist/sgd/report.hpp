// What grist-train-sgd tells its user: the progress table (progressive
// loss at examples 1, 2, 4, 8, ...), one line per pass, and the report at
// the end. The library makes the lines; the program prints them.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "grist/sgd/examples.hpp"
#include "grist/sgd/learner.hpp"
#include "grist/sgd/model.hpp"
#include "grist/sgd/train.hpp"

namespace grist::sgd {

using LogLine = std::function<void(const std::string&)>;

// The progress table, fed the blocks of pass 1 in input order: a line
// (under a two-line header) at the examples numbered 1, 2, 4, 8, ...
// trained, held-out examples not counted.
class ProgressTable {
 public:
  ProgressTable(const ModelOptions& o, bool lines, const LogLine& log)
      : o_(o), lines_(lines), log_(log) {}

  // `r` must hold the block's per-example losses (PerExample::record)
  // for lines to be made.
  void block(const Examples& ex, const uint32_t* order, const BlockResult& r);

 private:
  void line(float label, float pred, size_t features);

  const ModelOptions& o_;
  bool lines_;
  const LogLine& log_;
  bool header_ = false;
  uint64_t count_ = 0, next_ = 1;
  double sum_ = 0, sw_ = 0, since_ = 0, since_w_ = 0;
};

// "pass P: N examples, progressive loss L[, held-out loss H]" ("training
// loss" after pass 1).
std::string pass_line(int p, const PassReport& pass);

// The report's lines after training, each starting "grist-train-sgd: ":
// counts, speed and progressive loss; what was held out and its last
// loss; after several passes, which pass the model is from ("model: from
// pass 3 of 6 (the best held-out loss L)"); why training stopped.
// `model`: the options of the model trained (with --oaa the losses are 0/1
// errors).
std::vector<std::string> report_lines(const TrainReport& rep, const TrainOptions& opts,
                                      const ModelOptions& model);

// The summary's detail: "N example updates in P pass(es)".
std::string updates_summary(const TrainReport& rep);

}  // namespace grist::sgd
