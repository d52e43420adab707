// grist-count: exact counts of keys, within a memory budget.
#include <algorithm>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "grist/agg/counter.hpp"
#include "grist/cli/app.hpp"
#include "grist/cli/man_files.hpp"
#include "grist/error.hpp"
#include "grist/io/block_reader.hpp"
#include "grist/io/preflight.hpp"
#include "grist/io/sink.hpp"
#include "grist/record/memsize.hpp"
#include "grist/sort/record_output.hpp"
#include "grist/sort/run.hpp"

namespace {

struct Options {
  std::vector<std::string> files;
  uint64_t top = 0;
  uint64_t min_count = 0;
  uint32_t partitions = 0;
  grist::OnError on_error = grist::OnError::fail;
};

void set_man(grist::cli::ManText& m) {
  m.synopsis = "[OPTION]... [FILE]...";
  m.description =
      "Counts the lines of the FILEs (or standard input) exactly. A line is a key, which "
      "counts 1, or key TAB N, which adds the unsigned 64-bit integer N (split at the first "
      "TAB, as Hadoop Streaming does). Inputs may be plain, gzip, zstd, bzip2 or xz, "
      "recognised by their first bytes.\n\n"
      "The output is key TAB count lines sorted bytewise by key (the order of LC_ALL=C "
      "sort), or with --top the K largest counts. Since the output is valid input, counting "
      "the counts of several shards merges them: grist-count is both the combiner and the "
      "reducer of a word count.\n\n"
      "Keys are aggregated in parallel in hash tables within the -S budget (at least 1 MiB; "
      "default 1 GiB), one table per thread, each at least 256 KiB (a small budget runs "
      "fewer threads than -j). When the tables fill, they are sorted and spilled to zstd-compressed "
      "temporary files in -T DIR, which are merged at the end, at most 64 at a time. The "
      "output bytes do not depend on -j or -S. A count that would pass 2^64-1 is an "
      "error, never a wrap, naming the key and the line where it passes (found, when the "
      "key's counts meet only in the final merge, by reading the inputs again: from "
      "standard input, only the key); so is a value that is not an unsigned integer, "
      "naming its file and line, unless --on-error skip.\n\n"
      "With -p N and -o DIR the output is a partition directory: part-00000.zst ... "
      "(key's part: XXH3-64 of the key, seed 0, mod N), each sorted by key, with "
      "_manifest.json and _SUCCESS. DIR must not exist or be empty. The manifest records "
      "each part's records, sizes and XXH3-64 checksum; grist-merge checks them when it "
      "reads the directory. Parts and temporary files are zstd whatever the name of DIR.\n\n" +
      grist::cli::compression_paragraph(grist::cli::kManInputs, grist::cli::Window::within_memory);
  m.description += std::string("\n\n") + grist::cli::kManFilesAndSignals;
  m.notes =
      "grist-count counts what its input holds when it ends: it cannot tell a producer "
      "that failed from one that finished.\n\n" +
      grist::cli::pipefail_notes();
  m.examples =
      "$ set -o pipefail\n"
      "$ grist-tokenize corpus.txt.zst | grist-count -o counts.tsv.zst\n"
      "Word counts of a corpus, compressed (pipefail: see NOTES).\n"
      "$ grist-count shard1.tsv.zst shard2.tsv.zst > total.tsv\n"
      "Merge the counts of two shards.\n"
      "$ grist-count --top 20 counts.tsv.zst\n"
      "The twenty most frequent keys.\n"
      "$ grist-count -S 256M -T /scratch --min-count 5 -p 16 -o counts.d keys.txt\n"
      "Keys seen at least five times, in a 16-part partition directory.\n"
      "$ hadoop jar hadoop-streaming.jar -input in -output out -mapper 'grist-tokenize "
      "--pairs' -combiner grist-count -reducer grist-count\n"
      "A Hadoop Streaming word count with grist-count as combiner and reducer (--pairs: "
      "the mapper's lines must be key TAB value, or Hadoop hands the reducer key TAB "
      "nothing).";
  m.see_also = "grist-tokenize(1), grist-merge(1), grist-shuffle-sort(1), sort(1), uniq(1)";
}

// Usage errors: options that do not go together.
void check_options(const Options& o, const grist::cli::Common& c) {
  if (o.partitions && (c.output.empty() || c.output == "-")) {
    throw grist::UsageError("--partitions needs -o DIR");
  }
  if (o.partitions && o.top) throw grist::UsageError("--top and --partitions exclude each other");
}

int count(grist::cli::Tool& tool, const Options& o, const grist::CountOptions& count_options) {
  const grist::cli::Common& c = tool.common();
  // One zstd worker: async, and the bytes never depend on -j.
  const grist::SinkOptions sink_options = c.sink_options();
  // The output is opened first, so that an unwritable target fails before any work.
  grist::RecordOutput out(c.output, o.partitions, tool.name(), sink_options);

  grist::BlockReader reader(o.files, grist::count_block_size(count_options));
  grist::CountStats st;
  std::unique_ptr<grist::RecordStream> counts;
  // Runs are read only by the merge: by its intermediate passes (inside
  // count_records) and its last one (while the output is written).
  const grist::SpillMergeGauge gauge;
  {
    grist::cli::Progress progress(tool, "reading", reader);
    counts = grist::count_records(reader, count_options, st);
  }
  {
    auto merging =
        grist::cli::Progress::of_merge(tool, gauge, st.spills, st.spill_bytes, st.merge_passes);
    grist::write_counts(*counts, out, count_options, st);
  }
  out.commit();
  if (st.skipped.count) tool.warn(st.skipped.warning("bad line"));
  tool.summary(st.records, st.bytes,
               std::to_string(st.distinct) + " distinct keys, " + std::to_string(st.spills) +
                   " spills (" + grist::format_bytes(st.spill_bytes) + "), " +
                   std::to_string(st.merge_passes) + " merge passes, tables peak " +
                   grist::format_bytes(st.peak_table_memory));
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  grist::cli::Tool tool("grist-count",
                        "Count keys exactly: key or key<TAB>N lines in, key<TAB>count out");
  Options o;
  CLI::App& app = tool.app();
  app.add_option("FILE", o.files, "Input files (default: stdin)")->type_name("FILE");
  grist::cli::add_number(app, "--top", o.top,
                         "Write only the K largest counts (ties: key order)", {.min = 1})
      ->type_name("K");
  grist::cli::add_number(app, "--min-count", o.min_count,
                         "Write only keys counted at least N times")
      ->type_name("N");
  grist::cli::add_number(app, "-p,--partitions", o.partitions,
                         "Write a partition directory of N parts to -o DIR",
                         {.min = 1, .max = 100000})
      ->type_name("N");
  grist::cli::add_on_error(app, o.on_error, "On a bad count: fail (default) or skip and warn");
  set_man(tool.man());

  return tool.run(argc, argv, [&] {
    const grist::cli::Common& c = tool.common();
    tool.require_memory(grist::kMinCountMemory, "for its input blocks and hash tables");
    check_options(o, c);
    grist::RunFiles files;
    files.temp_dir = c.temp_dir;
    files.add_inputs("FILE", o.files);
    if (o.partitions) {
      files.add_output_dir("-o", c.output);
    } else {
      files.add_output("-o", c.output);
    }
    grist::check_run_files(files);

    grist::CountOptions count_options;
    count_options.memory = c.memory;
    count_options.threads = grist::count_threads(c.memory, c.threads);
    count_options.temp_dir = c.temp_dir;
    count_options.skip_bad_lines = o.on_error == grist::OnError::skip;
    count_options.min_count = o.min_count;
    count_options.top = o.top;
    count_options.partitions = o.partitions;
    return count(tool, o, count_options);
  });
}
