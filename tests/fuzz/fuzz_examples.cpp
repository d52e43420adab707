// The example parsers of grist-train-sgd and grist-predict (svmlight, VW
// text, label\ttext): any block either parses into consistent flat arrays
// (features masked to 2^bits, begin[] increasing, one label per example) or
// throws grist::Error naming the input and line; with an error log every
// bad line is counted instead. Never a crash. With small tables the
// parser also names the features (--readable-model): every feature of a
// parsed example then has a name or was refused by the bounded arena.
#include <cmath>
#include <memory>
#include <string>

#include "fuzz_util.hpp"
#include "grist/error.hpp"
#include "grist/sgd/examples.hpp"
#include "grist/sgd/names.hpp"

namespace {

void check(const grist::sgd::Examples& ex, const grist::sgd::ParseOptions& po) {
  if (po.names) {
    for (uint32_t idx : ex.index) {
      FUZZ_CHECK(po.names->has(idx));
      FUZZ_CHECK(po.names->name(idx).size() <= grist::sgd::FeatureNames::kMaxName);
    }
    FUZZ_CHECK(po.names->arena_bytes() <= 4096);
  }
  size_t n = ex.size();
  FUZZ_CHECK(ex.begin.size() == n + 1);
  FUZZ_CHECK(ex.weight.size() == n && ex.holdout.size() == n && ex.line.size() == n);
  FUZZ_CHECK(ex.index.size() == ex.value.size());
  FUZZ_CHECK(ex.begin.back() == ex.index.size());
  for (size_t i = 0; i < n; ++i) FUZZ_CHECK(ex.begin[i] <= ex.begin[i + 1]);
  for (uint32_t idx : ex.index) FUZZ_CHECK(idx < (uint64_t(1) << po.bits));
  for (size_t i = 0; i < n; ++i) {
    float l = ex.label[i];
    if (po.require_label) FUZZ_CHECK(std::isfinite(l));
    if (po.labels == grist::sgd::LabelKind::binary && std::isfinite(l)) {
      FUZZ_CHECK(l == 1 || l == -1);
    }
    if (po.labels == grist::sgd::LabelKind::multiclass && std::isfinite(l)) {
      FUZZ_CHECK(l >= 0 && l < po.classes && l == std::floor(l));
    }
    if (po.labels == grist::sgd::LabelKind::named && std::isfinite(l)) {
      FUZZ_CHECK(po.classes ? (l >= 0 && l < po.classes && l == std::floor(l)) : (l == 1 || l == -1));
    }
  }
  // Several labels: fastText only, one entry per example.
  if (po.format == grist::sgd::Format::fasttext) {
    FUZZ_CHECK(ex.more_end.size() == n);
    if (n) FUZZ_CHECK(ex.more_end.back() == ex.more_labels.size());
    for (size_t i = 1; i < n; ++i) FUZZ_CHECK(ex.more_end[i - 1] <= ex.more_end[i]);
  } else {
    FUZZ_CHECK(ex.more_end.empty() && ex.more_labels.empty());
  }
  // Tags exist in VW only (predict prints them).
  if (po.keep_tags && po.format == grist::sgd::Format::vw) {
    FUZZ_CHECK(ex.tag_end.size() == n);
    if (n) FUZZ_CHECK(ex.tag_end.back() == ex.tags.size());
  } else {
    FUZZ_CHECK(ex.tag_end.empty() && ex.tags.empty());
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  const uint8_t k = data[0], k2 = data[1];
  grist::sgd::ParseOptions po;
  po.format = static_cast<grist::sgd::Format>(k % 4);
  po.bits = 1 + (k >> 2) % 24;
  po.ngrams = 1 + (k2 & 3);
  po.labels = static_cast<grist::sgd::LabelKind>((k2 >> 2) % 4);
  if (po.labels == grist::sgd::LabelKind::multiclass) {
    po.classes = 2 + (k2 >> 4) % 5;
    po.class_base = (k2 & 0x40) ? 0 : 1;
  }
  if (po.labels == grist::sgd::LabelKind::named) {  // binary, or one against all
    po.class_names = {"a", "1", "-1"};
    po.classes = (k2 & 0x40) ? 3 : 0;
    if (!po.classes) po.class_names.pop_back();
  }
  po.require_label = !(k2 & 0x80);
  po.keep_tags = (k & 0x80);
  if (k & 0x40) {
    // Fixed pairs, or ':' expanding to the namespaces of each example.
    if (po.bits & 1) {
      po.quadratic = {"ab", "aa"};
    } else {
      po.quadratic = {"::", "ba", "a:"};
    }
  }
  std::string bytes(reinterpret_cast<const char*>(data) + 2, size - 2);

  for (int skip = 0; skip < 2; ++skip) {
    try {
      // Names where the table is small (2^16 indices at most), in an arena
      // small enough to fill.
      std::unique_ptr<grist::sgd::FeatureNames> names;
      if (po.bits <= 16) names = std::make_unique<grist::sgd::FeatureNames>(po.bits, 4096);
      po.names = names.get();
      grist::sgd::Parser parser(po);
      auto reader = grist_fuzz::block_reader(bytes, 64);
      grist::Block b;
      grist::sgd::Examples ex;
      grist::SkippedLines log;
      while (reader.next(b)) {
        try {
          parser.parse_block(b, ex, skip ? &log : nullptr);
        } catch (const grist::Error& e) {
          FUZZ_CHECK(!skip);
          FUZZ_CHECK(e.line() >= b.first_line && e.line() < b.first_line + b.lines);
          throw;
        }
        check(ex, po);
      }
      if (skip && log.count) FUZZ_CHECK(!log.first.empty());
    } catch (const grist::Error&) {
    }
  }
  // The format sniffer takes any head.
  (void)grist::sgd::sniff_format(bytes);
  return 0;
}
