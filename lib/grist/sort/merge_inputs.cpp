#include "grist/sort/merge_inputs.hpp"

#include <sys/stat.h>
#include <tbb/parallel_for.h>
#include <tbb/task_arena.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <optional>

#include "grist/error.hpp"
#include "grist/io/test_hook.hpp"
#include "grist/record/record.hpp"
#include "grist/sort/merge.hpp"
#include "grist/sort/partition_dir.hpp"
#include "grist/sort/run.hpp"

namespace grist {
// ---- SortedLineReader

SortedLineReader::SortedLineReader(std::unique_ptr<Source> source, ValueCheck check,
                                   size_t block_size)
    : reader_(std::move(source), block_size), check_(check) {}

SortedLineReader::~SortedLineReader() {
  if (total_records) *total_records += records_;
  if (total_bytes) *total_bytes += reader_.bytes_read();
}

namespace {

// compare_keys(a, b) > 0, inline for short keys.
inline bool keys_descend(std::string_view a, std::string_view b) {
  size_t n = a.size() < b.size() ? a.size() : b.size();
  if (n > 16) return compare_keys(a, b) > 0;
  for (size_t i = 0; i < n; ++i) {
    if (a[i] != b[i]) {
      return static_cast<unsigned char>(a[i]) > static_cast<unsigned char>(b[i]);
    }
  }
  return a.size() > b.size();
}

}  // namespace

bool SortedLineReader::next(Record& r) {
  if (p_ == end_) {
    // The previous key lives in the block about to be overwritten.
    if (have_prev_) {
      prev_.assign(prev_view_);
      prev_view_ = prev_;
    }
    bool more = reader_.next(block_);
    add_merge_input_bytes(reader_.raw_bytes_read() - raw_counted_);
    raw_counted_ = reader_.raw_bytes_read();
    if (!more) return false;
    p_ = block_.data();
    end_ = p_ + block_.size;
    line_ = block_.first_line;
  } else {
    ++line_;
  }
  const char* q = static_cast<const char*>(std::memchr(p_, '\n', end_ - p_));
  const char* tab = static_cast<const char*>(std::memchr(p_, '\t', q - p_));
  std::string_view line(p_, q - p_);
  p_ = q + 1;
  size_t klen = tab ? static_cast<size_t>(tab - line.data()) : line.size();
  r.key = line.substr(0, klen);
  r.value = line.substr(klen);
  if (have_prev_ && keys_descend(prev_view_, r.key)) {
    throw Error(*block_.source, line_,
                "disorder: " + quote_key(r.key) + " after " + quote_key(prev_view_) +
                    " (inputs must be sorted by key, as LC_ALL=C sort -t$'\\t' -k1,1 sorts)");
  }
  prev_view_ = r.key;
  have_prev_ = true;
  if (check_ != ValueCheck::none) {
    if (const char* what = value_error(check_, rest_value(r.value))) {
      throw Error(*block_.source, line_, what + quote_key(rest_value(r.value)));
    }
  }
  ++records_;
  return true;
}

// ---- naming the line of an overflow

SumOverflowFinder::SumOverflowFinder(const SumOverflow& e, SumInput how)
    : key_(e.key()),
      what_(std::string(how == SumInput::counts ? "the count of key " : "the sum of key ") +
            quote_key(e.key()) + " overflows 64 bits"),
      how_(how) {}

bool SumOverflowFinder::feed(const std::string& file, uint64_t line, const char* p, size_t n) {
  if (found_) return true;
  const char* end = p + n;
  for (; p < end; ++line) {
    const char* nl = static_cast<const char*>(std::memchr(p, '\n', end - p));
    if (!nl) nl = end;
    const std::string_view text(p, nl - p);
    p = nl + 1;
    const KeyValue kv = split_key_value(text);
    if (kv.key != key_) continue;
    std::optional<uint64_t> v;
    if (kv.has_tab) {
      v = parse_u64(kv.value);
    } else if (how_ == SumInput::counts) {
      v = 1;
    }
    if (!v) continue;  // refused or skipped when it was read
    if (first_.empty()) first_ = file + ":" + std::to_string(line);
    if (!add_u64(sum_, *v)) {
      found_ = true;
      file_ = file;
      line_ = line;
      return true;
    }
  }
  return false;
}

Error SumOverflowFinder::error() const {
  if (!found_) return Error(what_);
  return Error(file_, line_, what_ + " (its values from " + first_ +
                                 " to here add up to more than 18446744073709551615)");
}

Error locate_sum_overflow(const std::vector<std::string>& paths_arg, const SumOverflow& e,
                          SumInput how) {
  const std::vector<std::string>& paths = paths_arg;
  SumOverflowFinder finder(e, how);
  const std::string unknown =
      " (its line is not known: the input cannot be read a second time to find it)";
  if (paths.empty()) return Error(finder.error().message() + unknown);  // an open Source
  for (const auto& p : paths) {
    struct stat st;
    if (p == "-" || ::stat(p.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) {
      return Error(display_name(p), finder.error().message() + unknown);
    }
  }
  try {
    BlockReader reader(paths, 1 << 20);
    Block b;
    while (reader.next(b)) {
      if (finder.feed(*b.source, b.first_line, b.data(), b.size)) break;
    }
  } catch (const Error&) {
    // Reading again failed: the error of the sum is the one to report.
  }
  return finder.error();
}

namespace {

class LocatingStream : public RecordStream {
 public:
  LocatingStream(std::unique_ptr<RecordStream> in, std::vector<std::string> paths, SumInput how)
      : in_(std::move(in)), paths_(std::move(paths)), how_(how) {}
  bool next(Record& r) override {
    try {
      return in_->next(r);
    } catch (const SumOverflow& e) {
      throw locate_sum_overflow(paths_, e, how_);
    }
  }

 private:
  std::unique_ptr<RecordStream> in_;
  std::vector<std::string> paths_;
  SumInput how_;
};

}  // namespace

std::unique_ptr<RecordStream> locate_sum_overflows(std::unique_ptr<RecordStream> in,
                                                   std::vector<std::string> paths, SumInput how) {
  return std::make_unique<LocatingStream>(std::move(in), std::move(paths), how);
}

// ---- merging

namespace {

class EmptyStream : public RecordStream {
 public:
  bool next(Record&) override { return false; }
};

}  // namespace

int partitions_at_once(const MergeInputsOptions& o) {
  const uint64_t threads = static_cast<uint64_t>(std::max(1, o.threads));
  if (!o.memory) return static_cast<int>(threads);
  return static_cast<int>(std::clamp<uint64_t>(o.memory / kPartitionCost, 1, threads));
}

size_t merge_inputs_fan_in(const MergeInputsOptions& o, int merges) {
  if (o.fan_in) return std::max<size_t>(2, o.fan_in / static_cast<size_t>(std::max(1, merges)));
  return merge_fan_in(o.memory ? o.memory : UINT64_MAX, kFileInputCost, merges);
}

std::unique_ptr<RecordStream> merge_streams_reduced(std::vector<StreamOpener> openers,
                                                    const MergeInputsOptions& o,
                                                    uint64_t* intermediate_runs) {
  auto open = [&](size_t from, size_t to) {
    std::vector<std::unique_ptr<RecordStream>> in;
    for (size_t j = from; j < to; ++j) in.push_back(openers[j]());
    return in;
  };
  const size_t fan_in = merge_inputs_fan_in(o);
  test_stop_point("merge");
  std::unique_ptr<RecordStream> merged;
  if (openers.empty()) {
    merged = std::make_unique<EmptyStream>();
  } else if (openers.size() <= fan_in) {
    auto inputs = open(0, openers.size());
    if (inputs.size() == 1) {
      merged = std::move(inputs[0]);
    } else {
      merged = std::make_unique<KWayMerger>(std::move(inputs));
    }
  } else {
    // First pass: consecutive groups into runs (so equal keys keep input
    // order); merge_runs does the further passes. No reduction before the
    // final stream: `count` must see every record once.
    std::vector<Run> runs;
    for (size_t i = 0; i < openers.size(); i += fan_in) {
      KWayMerger m(open(i, std::min(openers.size(), i + fan_in)));
      RunWriter w(o.temp_dir);
      Record r;
      while (m.next(r)) w.add(r);
      runs.push_back(w.finish());
      if (intermediate_runs) ++*intermediate_runs;
    }
    MergeOptions merge_options;
    merge_options.temp_dir = o.temp_dir;
    merge_options.fan_in = fan_in;
    MergeStats ms;
    merged = merge_runs(std::move(runs), merge_options, &ms);
    if (intermediate_runs) *intermediate_runs += ms.intermediate_runs;
  }
  if (auto c = make_reducer(o.reduce)) {
    merged = std::make_unique<CombiningStream>(std::move(merged), std::move(c));
  }
  return merged;
}

namespace {

template <class Out>
uint64_t write_lines(RecordStream& in, Out& out) {
  uint64_t n = 0;
  Record r;
  while (in.next(r)) {
    // Merged and in-memory records keep key and value side by side: one copy.
    if (r.key.data() + r.key.size() == r.value.data()) {
      out.write(r.key.data(), r.key.size() + r.value.size());
    } else {
      out.write(r.key);
      out.write(r.value);
    }
    out.put('\n');
    ++n;
  }
  return n;
}

}  // namespace

uint64_t write_line_records(RecordStream& in, Sink& out) { return write_lines(in, out); }
uint64_t write_line_records(RecordStream& in, PartSink& out) { return write_lines(in, out); }

namespace {

struct Counters {
  std::atomic<uint64_t> records{0}, bytes{0};
};

using SourceOpener = std::function<std::unique_ptr<Source>()>;

std::vector<StreamOpener> openers_for(std::vector<SourceOpener> sources,
                                      const MergeInputsOptions& o, Counters& c) {
  std::vector<StreamOpener> in;
  const ValueCheck check = value_check_for(o.reduce);
  for (auto& open : sources) {
    in.push_back([open = std::move(open), check, &c]() -> std::unique_ptr<RecordStream> {
      auto r = std::make_unique<SortedLineReader>(open(), check);
      r->total_records = &c.records;
      r->total_bytes = &c.bytes;
      return r;
    });
  }
  return in;
}

std::vector<SourceOpener> file_sources(const std::vector<std::string>& paths) {
  std::vector<SourceOpener> v;
  for (const auto& p : paths) v.push_back([p] { return Source::open(p); });
  return v;
}

// Partition p of every directory, verified as it is read.
std::vector<SourceOpener> part_sources(const std::vector<PartitionDirectory>& ds, uint32_t p) {
  std::vector<SourceOpener> v;
  for (const auto& d : ds) {
    const PartInfo& part = d.parts[p];
    v.push_back([&part] { return open_part(part); });
  }
  return v;
}

}  // namespace

void merge_sorted_files(const std::vector<std::string>& paths, const MergeInputsOptions& o,
                        Sink& out, MergeInputsStats& stats) {
  std::vector<std::string> ps = paths.empty() ? std::vector<std::string>{"-"} : paths;
  Counters c;
  auto s = locate_sum_overflows(
      merge_streams_reduced(openers_for(file_sources(ps), o, c), o, &stats.intermediate_runs),
      ps, SumInput::values);
  stats.records_out += write_line_records(*s, out);
  s.reset();
  stats.records_in += c.records;
  stats.bytes_in += c.bytes;
}

namespace {

std::vector<PartitionDirectory> open_directories(const std::vector<std::string>& dirs,
                                                 const MergeInputsOptions& o) {
  if (dirs.empty()) throw UsageError("no partition directories to merge");
  std::vector<PartitionDirectory> ds;
  for (const auto& d : dirs) {
    ds.push_back(open_partition_directory(d));
    if (ds.back().partitions != ds.front().partitions) {
      throw Error(d, "has " + std::to_string(ds.back().partitions) + " partitions but " +
                         ds.front().dir + " has " + std::to_string(ds.front().partitions) +
                         ": only directories with the same partition count merge");
    }
  }
  if (o.only_partition >= static_cast<int64_t>(ds.front().partitions)) {
    throw UsageError("--partition " + std::to_string(o.only_partition) + " is beyond the " +
                     std::to_string(ds.front().partitions) + " partitions (0 to " +
                     std::to_string(ds.front().partitions - 1) + ") of " + ds.front().dir);
  }
  return ds;
}

bool wanted(const MergeInputsOptions& o, uint32_t p) {
  return o.only_partition < 0 || o.only_partition == p;
}

}  // namespace

void merge_partition_directories(const std::vector<std::string>& dirs,
                                 const MergeInputsOptions& o, Sink& out,
                                 MergeInputsStats& stats) {
  std::vector<PartitionDirectory> ds = open_directories(dirs, o);
  std::vector<SourceOpener> sources;
  std::vector<std::string> paths;
  for (const auto& d : ds) {
    for (uint32_t p = 0; p < d.partitions; ++p) {
      if (!wanted(o, p)) continue;
      const PartInfo& part = d.parts[p];
      sources.push_back([&part] { return open_part(part); });
      paths.push_back(part.path);
    }
  }
  Counters c;
  auto s = locate_sum_overflows(
      merge_streams_reduced(openers_for(std::move(sources), o, c), o, &stats.intermediate_runs),
      std::move(paths), SumInput::values);
  stats.records_out += write_line_records(*s, out);
  s.reset();
  stats.records_in += c.records;
  stats.bytes_in += c.bytes;
}

void merge_partition_directories(const std::vector<std::string>& dirs,
                                 const std::string& out_dir_arg, const MergeInputsOptions& o,
                                 MergeInputsStats& stats) {
  std::vector<PartitionDirectory> ds = open_directories(dirs, o);
  const uint32_t n = ds.front().partitions;
  std::string out_dir = out_dir_arg;
  while (out_dir.size() > 1 && out_dir.back() == '/') out_dir.pop_back();

  PartitionWriter writer(out_dir, n, o.tool, o.sink);
  std::vector<uint64_t> inter(n);
  Counters c;
  // A few partitions at once, not as many as TBB has threads: each costs
  // its inputs and its output part, which -S must cover; the fan-in budget
  // is shared by them.
  const int at_once = partitions_at_once(o);
  MergeInputsOptions part_options = o;
  part_options.fan_in = merge_inputs_fan_in(o, at_once);
  tbb::task_arena arena(at_once);
  arena.execute([&] {
    tbb::parallel_for(uint32_t(0), n, [&](uint32_t p) {
      if (!wanted(o, p)) {
        writer.write_part(p, [](PartSink&) { return uint64_t(0); });
        return;
      }
      std::vector<std::string> paths;
      for (const auto& d : ds) paths.push_back(d.parts[p].path);
      auto s = locate_sum_overflows(
          merge_streams_reduced(openers_for(part_sources(ds, p), part_options, c), part_options,
                                &inter[p]),
          std::move(paths), SumInput::values);
      writer.write_part(p, [&](PartSink& sink) { return write_line_records(*s, sink); });
    });
  });
  writer.commit();
  stats.records_out += writer.records();
  for (uint32_t p = 0; p < n; ++p) stats.intermediate_runs += inter[p];
  stats.records_in += c.records;
  stats.bytes_in += c.bytes;
  stats.partitions = n;
}

}  // namespace grist
