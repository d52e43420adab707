// grist-merge: the reducer of a MapReduce job — a k-way merge of sorted
// files or partition directories, checking the order, reducing equal keys.
#include <filesystem>
#include <string>
#include <vector>

#include "grist/cli/app.hpp"
#include "grist/cli/man_files.hpp"
#include "grist/error.hpp"
#include "grist/io/preflight.hpp"
#include "grist/io/sink.hpp"
#include "grist/record/memsize.hpp"
#include "grist/sort/partition_dir.hpp"
#include "grist/sort/merge_inputs.hpp"
#include "grist/sort/run.hpp"

namespace {

struct Options {
  std::vector<std::string> inputs;
  std::string reduce;
  bool numeric = false;
  bool single = false;
  int64_t partition = -1;
};

void set_man(grist::cli::ManText& m) {
  m.synopsis = "[OPTION]... [FILE|DIR]...";
  m.description =
      "Merges inputs sorted by key (the bytes before the first TAB, compared bytewise as "
      "LC_ALL=C sort does; grist-shuffle-sort and grist-count write such files) into one "
      "sorted output, like sort -m. Equal keys come out in input order (the inputs' order "
      "on the command line, then each input's own), so the merge is stable. The order of "
      "every input is checked as it is read: a key smaller than the one before it is an "
      "error naming the file and the line. Inputs may be plain, gzip, zstd, bzip2 or xz; "
      "'-' is standard input.\n\n"
      "--reduce OP reduces the lines of each key to one (a MapReduce reducer): sum adds the "
      "values as unsigned 64-bit integers (a value that is not one is an error naming the "
      "file and line; a sum that passes 2^64-1 is an error naming the key, the line where "
      "it passes and the key's first line, found by reading the inputs again: from "
      "standard input, only the key); count writes key TAB the number of lines; min and "
      "max keep the line with the smallest or largest value, bytewise or, with --numeric, "
      "as numbers: finite decimal numbers (sign, point and exponent allowed, compared as "
      "doubles), any other value (nan, inf, infinity, 1e999, 1e-999, text) being an error "
      "naming its file and line whatever the order of the lines; first and last keep the "
      "first or last line in input order.\n\n"
      "The inputs may instead all be partition directories (made by grist-shuffle-sort -p, "
      "grist-count -p or grist-merge): they must be complete (_SUCCESS) and have the same "
      "number of partitions. Partition i of every directory is merged into partition i of "
      "the partition directory -o DIR (which must not exist or be empty), partitions in "
      "parallel (-j at once), with a _manifest.json and _SUCCESS. With --single they are "
      "merged into one stream sorted by key instead (-o FILE or standard output). Files "
      "and directories cannot be mixed. --partition P merges only partition P of the "
      "directories (one reduce task of a job spread over machines): into a directory whose "
      "other parts are empty, or with --single into one stream.\n\n"
      "Every directory is checked against its _manifest.json, which records each part's "
      "records, size on disk, decompressed size and XXH3-64 checksum of the decompressed "
      "bytes: a missing _SUCCESS or manifest, a manifest without checksums (made by an older "
      "grist), a missing part, a part the manifest does not list, or a part whose size "
      "differs is refused before anything is written; records and checksum are checked as "
      "each part is read, and a difference is an error naming the part. The output (-o) is "
      "then not written; on standard output, what was written before the error stays. "
      "Part files given as plain FILEs are read without these checks (their zstd frame "
      "checksums still hold).\n\n"
      "At most 64 inputs (fewer with a small -S: an open input costs up to 4 MiB, its read "
      "buffer and the 2 MiB window of a zstd input) are merged at once; more are merged in "
      "several passes through zstd-compressed temporary files in -T DIR. Partitions merged "
      "at once cost about 16 MiB each (their inputs and output part): -j is capped at one "
      "per 16 MiB of -S.\n\n" +
      grist::cli::compression_paragraph(grist::cli::kManInputs, grist::cli::Window::within_memory) +
      " Partition directories hold zstd parts.\n\n"
      "Exit status: 0 on success, 1 on a runtime or data error (an unsorted input, a bad "
      "value, an incomplete or damaged directory), 2 on a usage error.";
  m.description += std::string("\n\n") + grist::cli::kManFilesAndSignals;
  m.notes =
      "grist-merge reading standard input ('-') merges what it holds when it ends: it "
      "cannot tell a producer that failed from one that finished.\n\n" +
      grist::cli::pipefail_notes();
  m.examples =
      "$ grist-merge --reduce sum counts-*.tsv.zst -o total.tsv\n"
      "Add up the counts of several sorted count files.\n"
      "$ grist-merge --reduce sum shards/* -o totals/\n"
      "The reduce step: partition i of every shard into partition i of totals/.\n"
      "$ grist-merge --single shards/* | head\n"
      "All partitions of all shards as one stream sorted by key.\n"
      "$ grist-merge --reduce sum --partition 3 shards/* -o reduce-3\n"
      "Reduce task 3 of a job run on several machines: partition 3 of every shard.";
  m.see_also = "grist-shuffle-sort(1), grist-count(1), sort(1)";
}

// Usage errors: options that do not go together.
void check_options(const Options& o, const grist::cli::Common& c) {
  if (o.numeric && o.reduce != "min" && o.reduce != "max") {
    throw grist::UsageError("--numeric goes with --reduce min or max");
  }
}

// Whether the inputs are partition directories (else files); a mix, or a
// directory that is not a partition directory, is an error.
bool inputs_are_directories(const Options& o) {
  std::string a_dir, a_file;  // one of each, for messages
  std::error_code ec;
  for (const auto& p : o.inputs) {
    if (p != "-" && !std::filesystem::exists(p, ec)) continue;  // check_run_files says so
    bool dir = p != "-" && std::filesystem::is_directory(p, ec);
    if (dir && !grist::is_partition_directory(p)) {
      throw grist::Error(p, "is a directory but not a partition directory (no _SUCCESS)");
    }
    (dir ? a_dir : a_file) = p;
  }
  if (!a_dir.empty() && !a_file.empty()) {
    throw grist::UsageError("cannot mix files (" + grist::escape_bytes(a_file, SIZE_MAX) +
                            ") and partition directories (" +
                            grist::escape_bytes(a_dir, SIZE_MAX) + ")");
  }
  if (o.partition >= 0 && a_dir.empty()) {
    throw grist::UsageError("--partition goes with partition directories");
  }
  if (o.single && a_dir.empty()) {
    throw grist::UsageError("--single goes with partition directories");
  }
  return !a_dir.empty();
}

// The raw bytes of the inputs (the part files of directories), for
// progress; 0 if unknown (standard input).
uint64_t input_size(const Options& o, bool dirs) {
  std::error_code ec;
  std::vector<std::string> sized = o.inputs;
  if (dirs) {
    sized.clear();
    for (const auto& d : o.inputs) {
      for (const auto& e : std::filesystem::directory_iterator(d, ec)) {
        if (e.path().filename().string().rfind("part-", 0) == 0) sized.push_back(e.path());
      }
    }
  }
  uint64_t total = 0;
  for (const auto& f : sized) {
    std::error_code size_ec;
    uintmax_t n = f == "-" ? uintmax_t(-1) : std::filesystem::file_size(f, size_ec);
    if (size_ec || n == uintmax_t(-1)) return 0;
    total += n;
  }
  return total;
}

int merge(grist::cli::Tool& tool, const Options& o, bool dirs,
          const grist::MergeInputsOptions& merge_options) {
  const grist::cli::Common& c = tool.common();
  grist::MergeInputsStats st;
  const uint64_t total = input_size(o, dirs);
  const uint64_t base = grist::merge_input_bytes();
  grist::cli::Progress progress(
      tool, "merging " + std::to_string(o.inputs.size()) + (dirs ? " directories" : " inputs"),
      [&] { return grist::merge_input_bytes() - base; }, [&] { return total; });
  if (dirs && !o.single) {
    if (c.output.empty() || c.output == "-") {
      throw grist::UsageError("merging partition directories writes a partition directory: "
                              "give -o DIR (or --single for one stream)");
    }
    grist::merge_partition_directories(o.inputs, c.output, merge_options, st);
  } else {
    auto out = grist::Sink::open(c.output, merge_options.sink);
    if (dirs) {
      grist::merge_partition_directories(o.inputs, merge_options, *out, st);
    } else {
      grist::merge_sorted_files(o.inputs, merge_options, *out, st);
    }
    progress.stop();
    out->commit();
  }
  tool.summary(st.records_in, st.bytes_in,
               std::to_string(st.records_out) + " written" +
                   (st.partitions ? ", " + std::to_string(st.partitions) + " partitions" : "") +
                   ", " + std::to_string(st.intermediate_runs) + " intermediate runs");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  grist::cli::Tool tool("grist-merge",
                        "Merge sorted key<TAB>value files or partition directories, "
                        "reducing equal keys");
  Options o;
  CLI::App& app = tool.app();
  app.add_option("INPUT", o.inputs, "Sorted input files or partition directories")
      ->type_name("FILE");
  app.add_option("--reduce", o.reduce, "Reduce equal keys (sum count min max first last)")
      ->type_name("OP")
      ->check(CLI::IsMember({"sum", "count", "min", "max", "first", "last"}));
  app.add_flag("--numeric", o.numeric, "--reduce min/max compare values as numbers");
  app.add_flag("--single", o.single, "Merge partition directories into one stream");
  app.add_option("--partition", o.partition,
                 "Merge only partition P of the directories")
      ->type_name("P")
      ->check(CLI::Range(int64_t(0), int64_t(99999)));
  set_man(tool.man());

  return tool.run(argc, argv, [&] {
    const grist::cli::Common& c = tool.common();
    tool.require_memory(grist::cli::kMinMemory);
    check_options(o, c);
    const bool dirs = inputs_are_directories(o);
    grist::RunFiles files;
    files.add_inputs("INPUT", o.inputs);
    files.input_dirs = true;
    if (dirs && !o.single) {
      files.add_output_dir("-o", c.output);
    } else {
      files.add_output("-o", c.output);
    }
    files.temp_dir = c.temp_dir;
    grist::check_run_files(files);
    grist::MergeInputsOptions merge_options;
    if (!o.reduce.empty()) merge_options.reduce = {grist::parse_reduction(o.reduce), o.numeric};
    merge_options.temp_dir = c.temp_dir;
    merge_options.memory = c.memory;  // the fan-in and the partitions at once follow
    merge_options.threads = c.threads;
    merge_options.sink = c.sink_options();
    merge_options.tool = tool.name();
    merge_options.only_partition = o.partition;
    return merge(tool, o, dirs, merge_options);
  });
}
