#include "grist/sort/reducers.hpp"

#include <charconv>
#include <cmath>
#include <cstring>

#include "grist/error.hpp"
#include "grist/record/record.hpp"

namespace grist {

Reduction parse_reduction(std::string_view name) {
  if (name == "none") return Reduction::none;
  if (name == "sum") return Reduction::sum;
  if (name == "count") return Reduction::count;
  if (name == "min") return Reduction::min;
  if (name == "max") return Reduction::max;
  if (name == "first") return Reduction::first;
  if (name == "last") return Reduction::last;
  throw UsageError("unknown reduction '" + std::string(name) +
                   "' (sum, count, min, max, first or last)");
}

const char* reduction_name(Reduction r) {
  switch (r) {
    case Reduction::none: return "none";
    case Reduction::sum: return "sum";
    case Reduction::count: return "count";
    case Reduction::min: return "min";
    case Reduction::max: return "max";
    case Reduction::first: return "first";
    case Reduction::last: return "last";
  }
  return "?";
}

namespace {

std::string quote_value(std::string_view v) {
  return quote_key(v);  // same escaping and truncation
}

class SumReducer : public Combiner {
 public:
  void start(std::string_view key, std::string_view rest) override { sum_ = parse(key, rest); }
  void add(std::string_view key, std::string_view rest) override {
    if (!add_u64(sum_, parse(key, rest))) throw SumOverflow(key);
  }
  std::string_view result() override {
    buf_[0] = '\t';
    char* e = format_u64(sum_, buf_ + 1);
    return {buf_, static_cast<size_t>(e - buf_)};
  }

 private:
  static uint64_t parse(std::string_view key, std::string_view rest) {
    auto v = parse_u64(rest_value(rest));
    if (!v) {
      throw Error("the value of key " + quote_key(key) +
                  " is not an unsigned 64-bit integer: " + quote_value(rest_value(rest)));
    }
    return *v;
  }
  uint64_t sum_ = 0;
  char buf_[24];
};

class CountReducer : public Combiner {
 public:
  void start(std::string_view, std::string_view) override { n_ = 1; }
  void add(std::string_view, std::string_view) override { ++n_; }
  std::string_view result() override {
    buf_[0] = '\t';
    char* e = format_u64(n_, buf_ + 1);
    return {buf_, static_cast<size_t>(e - buf_)};
  }

 private:
  uint64_t n_ = 0;
  char buf_[24];
};

class FirstLastReducer : public Combiner {
 public:
  explicit FirstLastReducer(bool last) : last_(last) {}
  void start(std::string_view, std::string_view rest) override { keep_.assign(rest); }
  void add(std::string_view, std::string_view rest) override {
    if (last_) keep_.assign(rest);
  }
  std::string_view result() override { return keep_; }

 private:
  bool last_;
  std::string keep_;
};

class MinMaxReducer : public Combiner {
 public:
  MinMaxReducer(bool max, bool numeric) : max_(max), numeric_(numeric) {}
  void start(std::string_view key, std::string_view rest) override {
    keep_.assign(rest);
    if (numeric_) num_ = number(key, rest);
  }
  void add(std::string_view key, std::string_view rest) override {
    bool better;
    if (numeric_) {
      double v = number(key, rest);
      better = max_ ? v > num_ : v < num_;
      if (better) num_ = v;
    } else {
      int c = compare_keys(rest_value(rest), rest_value(keep_));
      better = max_ ? c > 0 : c < 0;
    }
    if (better) keep_.assign(rest);
  }
  std::string_view result() override { return keep_; }

 private:
  static double number(std::string_view key, std::string_view rest) {
    double v;
    if (!parse_finite_number(rest_value(rest), v)) {
      throw Error("the value of key " + quote_key(key) +
                  " is not a finite number: " + quote_value(rest_value(rest)));
    }
    return v;
  }
  bool max_, numeric_;
  double num_ = 0;
  std::string keep_;
};

}  // namespace

bool parse_finite_number(std::string_view s, double& out) {
  if (!s.empty() && s[0] == '+') {
    s.remove_prefix(1);
    if (!s.empty() && s[0] == '-') return false;  // "+-1"
  }
  if (s.empty()) return false;
  // from_chars refuses a number beyond a double's range (1e999, 1e-999)
  // and reads "nan", "inf" and "infinity", which are not finite.
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && p == s.data() + s.size() && std::isfinite(out);
}

const char* value_error(ValueCheck check, std::string_view value) {
  double d;
  switch (check) {
    case ValueCheck::none:
      return nullptr;
    case ValueCheck::u64:
      return parse_u64(value) ? nullptr : "value is not an unsigned 64-bit integer: ";
    case ValueCheck::number:
      return parse_finite_number(value, d) ? nullptr : "value is not a finite decimal number: ";
  }
  return nullptr;
}

ValueCheck value_check_for(const ReduceSpec& spec) {
  if (spec.op == Reduction::sum) return ValueCheck::u64;
  if (spec.numeric && (spec.op == Reduction::min || spec.op == Reduction::max)) {
    return ValueCheck::number;
  }
  return ValueCheck::none;
}

std::unique_ptr<Combiner> make_reducer(const ReduceSpec& spec) {
  switch (spec.op) {
    case Reduction::none: return nullptr;
    case Reduction::sum: return std::make_unique<SumReducer>();
    case Reduction::count: return std::make_unique<CountReducer>();
    case Reduction::min: return std::make_unique<MinMaxReducer>(false, spec.numeric);
    case Reduction::max: return std::make_unique<MinMaxReducer>(true, spec.numeric);
    case Reduction::first: return std::make_unique<FirstLastReducer>(false);
    case Reduction::last: return std::make_unique<FirstLastReducer>(true);
  }
  return nullptr;
}

// ---- grist-count's combiner

namespace {

uint64_t parse_count(std::string_view key, std::string_view value) {
  auto v = parse_u64(value);
  if (!v) throw Error("count of key " + quote_key(key) + " is not an unsigned 64-bit integer: " +
                      quote_input(value, 40));
  return *v;
}

}  // namespace

void SumU64Combiner::start(std::string_view key, std::string_view value) {
  sum_ = parse_count(key, value);
}

void SumU64Combiner::add(std::string_view key, std::string_view value) {
  if (!add_u64(sum_, parse_count(key, value))) throw SumOverflow(key);
}

SumOverflow::SumOverflow(std::string_view key)
    : Error("the sum of key " + quote_key(key) + " overflows 64 bits"), key_(key) {}

std::string_view SumU64Combiner::result() {
  char* e = format_u64(sum_, buf_);
  return {buf_, static_cast<size_t>(e - buf_)};
}

}  // namespace grist
