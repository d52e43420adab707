// grist-shuffle-sort: the shuffle of a MapReduce job (external sort by key,
// a partition directory, a combiner), --check, and a seeded random shuffle.
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "grist/cli/app.hpp"
#include "grist/cli/man_files.hpp"
#include "grist/error.hpp"
#include "grist/io/block_reader.hpp"
#include "grist/io/preflight.hpp"
#include "grist/io/sink.hpp"
#include "grist/record/memsize.hpp"
#include "grist/sort/check_sorted.hpp"
#include "grist/sort/external_sort.hpp"
#include "grist/sort/record_output.hpp"
#include "grist/sort/merge_inputs.hpp"
#include "grist/sort/run.hpp"
#include "grist/sort/shuffle.hpp"

namespace {

struct Options {
  std::vector<std::string> files;
  uint32_t partitions = 0;  // 0: one sorted stream, not a directory
  std::string combine;
  bool numeric = false;
  std::string by = "key";
  bool check = false;
  bool random = false;
  uint64_t seed = 0;
};

void set_man(grist::cli::ManText& m) {
  m.synopsis = "[OPTION]... [FILE]...";
  m.description =
      "Sorts the key TAB value lines of the FILEs (or standard input) by key: the bytes "
      "before the first TAB (a line without a TAB is all key), compared bytewise as "
      "LC_ALL=C sort compares them. The sort is stable: lines with equal keys keep their "
      "input order, so the output equals that of LC_ALL=C sort -s -t TAB -k1,1. With "
      "--by line the whole line is the key. Inputs may be plain, gzip, zstd, bzip2 or "
      "xz.\n\n"
      "The input is read in blocks into a batch within the -S budget (at least 1 MiB; "
      "default 1 GiB); a full batch is sorted in parallel and spilled as a zstd-compressed "
      "run to -T DIR; the runs are merged at most 64 at a time (in several passes if "
      "needed), the last merge writing straight to the output. The output bytes do not "
      "depend on -j or -S.\n\n"
      "With -p N and -o DIR the output is a partition directory (-p 1 too: one part): "
      "part-00000.zst ... "
      "(a key's part is XXH3-64 of the key, seed 0, mod N), each sorted by key, with "
      "_manifest.json (each part's records, sizes and XXH3-64 checksum, which grist-merge "
      "checks) and _SUCCESS written last; DIR must not exist or be empty. Part "
      "files hold key TAB value records: a line without a TAB gains one there.\n\n"
      "--combine OP reduces the lines of each key to one line while sorting and merging "
      "(a MapReduce combiner): sum adds the values as unsigned 64-bit integers; min and "
      "max keep the line with the smallest or largest value, compared bytewise, or as "
      "numbers with --numeric; first and last keep the first or last line in input order. "
      "With --by line only first and last are allowed (they keep one copy of each distinct "
      "line, like sort -u).\n\n"
      "Values are checked as they are read: for sum a value that is not an unsigned 64-bit "
      "integer (an empty one included), for --numeric one that is not a finite decimal "
      "number (sign, point and exponent allowed, compared as a double; nan, inf, infinity "
      "and numbers beyond a double's range such as 1e999 and 1e-999 are not) is an error "
      "naming its file and line, whatever the order of the lines. A sum that passes "
      "2^64-1 is an error naming the key, the line where it passes and the key's first "
      "line; the inputs are read again to find them, which standard input cannot be once "
      "its lines have been spilled to -T: then only the key is named.\n\n"
      "--check reads the input and exits 0 if it is sorted (equal keys in any order), "
      "else 1 with FILE:LINE: disorder: LINE on standard error, as sort -c does. It writes "
      "nothing: -o, -p, --combine, --zstd and --level are usage errors with it.\n\n"
      "--random writes the lines in a uniformly random order determined by --seed (default "
      "0): line i (from 0) gets the rank SplitMix64(mix(seed) + (i+1) * 0x9E3779B97F4A7C15) "
      "and lines are written by increasing rank. Inputs larger than -S are scattered to "
      "zstd-compressed buckets in -T DIR by the top bits of the rank, then each bucket is "
      "sorted by rank in memory, so the order is the same for every -S and -j.\n\n" +
      grist::cli::compression_paragraph(grist::cli::kManInputs, grist::cli::Window::within_memory) +
      " Partition directories hold zstd parts.\n\n"
      "Exit status: 0 on success (and a sorted input for --check), 1 on a runtime or data "
      "error (or a disorder found by --check), 2 on a usage error.";
  m.description += std::string("\n\n") + grist::cli::kManFilesAndSignals;
  m.notes =
      "grist-shuffle-sort sorts what its input holds when it ends: it cannot tell a "
      "producer that failed from one that finished.\n\n" +
      grist::cli::pipefail_notes();
  m.examples =
      "$ set -o pipefail\n"
      "$ grist-tokenize --pairs day1.txt | grist-shuffle-sort -p 16 -o shards/day1\n"
      "The shuffle of a word count: 16 sorted partitions of token TAB 1 lines (pipefail: "
      "see NOTES).\n"
      "$ grist-shuffle-sort --combine sum -S 512M -T /scratch pairs.tsv.zst -o sums.tsv\n"
      "Sort by key and add up the values of equal keys.\n"
      "$ grist-shuffle-sort --check sorted.tsv\n"
      "Exit 0 if sorted.tsv is sorted by key.\n"
      "$ grist-shuffle-sort --random --seed 7 train.tsv.zst -o train.shuffled.zst\n"
      "A reproducible random order of the lines, for SGD epochs.";
  m.see_also = "grist-merge(1), grist-count(1), grist-tokenize(1), sort(1), shuf(1)";
}

// Usage errors: options that do not go together.
void check_options(const Options& o, const grist::cli::Common& c, const CLI::App& app,
                   bool seed_given) {
  if (seed_given && !o.random) throw grist::UsageError("--seed goes with --random");
  if (o.check) {
    // --check reads and writes nothing, as sort -c: options about the
    // output would be silently ignored.
    const char* meaningless = app.count("--output")        ? "-o/--output"
                              : app.count("--partitions")  ? "-p/--partitions"
                              : !o.combine.empty()         ? "--combine"
                              : c.zstd                     ? "--zstd"
                              : app.count("--level")       ? "--level"
                                                           : nullptr;
    if (meaningless) {
      throw grist::UsageError(std::string("--check writes no output: ") + meaningless +
                              " does not go with it");
    }
  }
  const bool to_dir = o.partitions > 0;
  if (to_dir && (c.output.empty() || c.output == "-")) {
    throw grist::UsageError("--partitions needs -o DIR");
  }
  if (to_dir && o.by == "line") throw grist::UsageError("--by line does not make partitions");
  if (o.random && (to_dir || !o.combine.empty())) {
    throw grist::UsageError("--random excludes --partitions and --combine");
  }
  if (o.by == "line" && !o.combine.empty() && o.combine != "first" && o.combine != "last") {
    throw grist::UsageError("--by line allows only --combine first or last");
  }
  if (o.numeric && o.combine != "min" && o.combine != "max") {
    throw grist::UsageError("--numeric goes with --combine min or max");
  }
}

int run_shuffle(grist::cli::Tool& tool, const Options& o,
                const grist::SinkOptions& sink_options) {
  const grist::cli::Common& c = tool.common();
  grist::ShuffleOptions shuffle_options;
  shuffle_options.memory = c.memory;
  shuffle_options.temp_dir = c.temp_dir;
  shuffle_options.seed = o.seed;
  auto out = grist::Sink::open(c.output, sink_options);
  grist::BlockReader reader(o.files, grist::shuffle_block_size(shuffle_options));
  grist::ShuffleStats st;
  {
    grist::cli::Progress progress(tool, "shuffling", reader);
    grist::shuffle_lines(reader, shuffle_options, *out, st);
  }
  out->commit();
  tool.summary(st.records, st.bytes,
               std::to_string(st.levels) + " scatter levels, " + std::to_string(st.buckets) +
                   " buckets (" + grist::format_bytes(st.spill_bytes) + ")");
  return 0;
}

int run_check(grist::cli::Tool& tool, const Options& o, const grist::SortOptions& sort_options) {
  grist::BlockReader reader(o.files, grist::sort_block_size(sort_options));
  std::string where;
  uint64_t n = 0;
  if (grist::check_sorted(reader, sort_options, &where, &n)) {
    tool.summary(n, reader.bytes_read(), "sorted");
    return 0;
  }
  tool.error(where);
  return 1;
}

int run_sort(grist::cli::Tool& tool, const Options& o, const grist::SortOptions& sort_options,
             const grist::SinkOptions& sink_options) {
  const grist::cli::Common& c = tool.common();
  // The output is opened first, so that an unwritable target fails before any work.
  grist::RecordOutput out(c.output, sort_options.partitions, tool.name(), sink_options);
  grist::BlockReader reader(o.files, grist::sort_block_size(sort_options));
  grist::SortStats st;
  std::unique_ptr<grist::RecordStream> sorted;
  // Runs are read only by the merge: by its intermediate passes (inside
  // sort_line_records) and its last one (while the output is written).
  const grist::SpillMergeGauge gauge;
  {
    grist::cli::Progress progress(tool, "reading", reader);
    sorted = grist::sort_line_records(reader, sort_options, st);
  }
  auto merging =
      grist::cli::Progress::of_merge(tool, gauge, st.spills, st.spill_bytes, st.merge_passes);
  const uint64_t written = grist::write_line_records(*sorted, out);
  merging.reset();
  sorted.reset();
  out.commit();
  tool.summary(st.records, st.bytes,
               std::to_string(written) + " written, " + std::to_string(st.spills) + " spills (" +
                   grist::format_bytes(st.spill_bytes) + "), " +
                   std::to_string(st.merge_passes) + " merge passes");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  grist::cli::Tool tool("grist-shuffle-sort",
                        "Sort key<TAB>value lines by key (stable, external), or shuffle lines");
  Options o;
  CLI::App& app = tool.app();
  app.add_option("FILE", o.files, "Input files (default: stdin)")->type_name("FILE");
  grist::cli::add_number(app, "-p,--partitions", o.partitions,
                         "Write a directory of N sorted partitions to -o DIR",
                         {.min = 1, .max = 100000})
      ->type_name("N");
  app.add_option("--combine", o.combine, "Reduce equal keys: sum, min, max, first or last")
      ->type_name("OP")
      ->check(CLI::IsMember({"sum", "min", "max", "first", "last"}));
  app.add_flag("--numeric", o.numeric, "--combine min/max compare values as numbers");
  app.add_option("--by", o.by, "Sort key: key (before the first TAB) or line")
      ->type_name("KEY")
      ->check(CLI::IsMember({"key", "line"}));
  auto* check = app.add_flag("--check", o.check, "Exit 0 if the input is sorted, else 1");
  app.add_flag("--random", o.random, "Shuffle the lines randomly (see --seed)")
                     ->excludes(check);
  auto* seed =
      grist::cli::add_number(app, "--seed", o.seed, "Seed of --random (default 0)")->type_name("N");
  set_man(tool.man());

  return tool.run(argc, argv, [&] {
    const grist::cli::Common& c = tool.common();
    tool.require_memory(grist::kMinSortMemory);
    check_options(o, c, app, seed->count() > 0);
    const bool to_dir = o.partitions > 0;  // -p 1 too: a one-part directory, as grist-count writes
    grist::RunFiles files;
    files.add_inputs("FILE", o.files);
    if (to_dir) {
      files.add_output_dir("-o", c.output);
    } else if (!o.check) {
      files.add_output("-o", c.output);
    }
    if (!o.check) files.temp_dir = c.temp_dir;  // --check never spills
    grist::check_run_files(files);

    const grist::SinkOptions sink_options = c.sink_options();
    if (o.random) return run_shuffle(tool, o, sink_options);

    grist::SortOptions sort_options;
    sort_options.memory = c.memory;
    sort_options.temp_dir = c.temp_dir;
    sort_options.partitions = to_dir ? o.partitions : 0;
    sort_options.whole_line = o.by == "line";
    if (!o.combine.empty()) sort_options.combine = {grist::parse_reduction(o.combine), o.numeric};
    if (o.check) return run_check(tool, o, sort_options);
    return run_sort(tool, o, sort_options, sink_options);
  });
}
