// grist-count: exact counts of keys, within a memory budget.
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "grist/agg/counter.hpp"
#include "grist/cli/app.hpp"
#include "grist/error.hpp"
#include "grist/io/block_reader.hpp"
#include "grist/io/sink.hpp"
#include "grist/record/memsize.hpp"
#include "grist/sort/partition_dir.hpp"

namespace {

struct Options {
  std::vector<std::string> files;
  uint64_t top = 0;
  uint64_t min_count = 0;
  uint32_t partitions = 0;
  std::string on_error = "fail";
};

void set_man(grist::cli::ManText& m) {
  m.synopsis = "[OPTION]... [FILE]...";
  m.description =
      "Counts the lines of the FILEs (or standard input) exactly. A line is a key, which "
      "counts 1, or key TAB N, which adds the unsigned 64-bit integer N (split at the first "
      "TAB, as Hadoop Streaming does). Inputs may be plain, gzip or zstd, recognised by "
      "their first bytes.\n\n"
      "The output is key TAB count lines sorted bytewise by key (the order of LC_ALL=C "
      "sort), or with --top the K largest counts. Since the output is valid input, counting "
      "the counts of several shards merges them: grist-count is both the combiner and the "
      "reducer of a word count.\n\n"
      "Keys are aggregated in parallel in hash tables within the -S budget (at least 1 MiB; "
      "default 1 GiB). When the tables fill, they are sorted and spilled to zstd-compressed "
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
      "reads the directory.";
  m.examples =
      "$ grist-tokenize corpus.txt.zst | grist-count -o counts.tsv.zst\n"
      "Word counts of a corpus, compressed.\n"
      "$ grist-count shard1.tsv.zst shard2.tsv.zst > total.tsv\n"
      "Merge the counts of two shards.\n"
      "$ grist-count --top 20 counts.tsv.zst\n"
      "The twenty most frequent keys.\n"
      "$ grist-count -S 256M -T /scratch --min-count 5 -p 16 -o counts.d keys.txt\n"
      "Keys seen at least five times, in a 16-part partition directory.\n"
      "$ hadoop jar hadoop-streaming.jar -input in -output out -mapper grist-tokenize "
      "-combiner grist-count -reducer grist-count\n"
      "A Hadoop Streaming word count with grist-count as combiner and reducer.";
  m.see_also = "grist-tokenize(1), grist-merge(1), grist-shuffle-sort(1), sort(1), uniq(1)";
}

}  // namespace

int main(int argc, char** argv) {
  grist::cli::Tool tool("grist-count",
                        "Count keys exactly: key or key<TAB>N lines in, key<TAB>count out");
  Options o;
  CLI::App& app = tool.app();
  app.add_option("FILE", o.files, "Input files (default: stdin)")->type_name("FILE");
  app.add_option("--top", o.top, "Write only the K largest counts (ties: key order)")
      ->type_name("K");
  app.add_option("--min-count", o.min_count, "Write only keys counted at least N times")
      ->type_name("N");
  app.add_option("-p,--partitions", o.partitions,
                 "Write a partition directory of N parts to -o DIR")
      ->type_name("N")
      ->check(CLI::Range(1, 100000));
  app.add_option("--on-error", o.on_error,
                 "On a bad count: fail (default) or skip and warn")
      ->type_name("ACTION")
      ->check(CLI::IsMember({"fail", "skip"}));
  set_man(tool.man());

  return tool.run(argc, argv, [&] {
    const grist::cli::Common& c = tool.common();
    if (c.memory < grist::kMinCountMemory) {
      throw grist::UsageError("-S " + c.memory_text + " is too small: grist-count needs at least " +
                              grist::format_bytes(grist::kMinCountMemory) +
                              " for its input blocks and hash tables");
    }
    if (o.partitions && (c.output.empty() || c.output == "-")) {
      throw grist::UsageError("--partitions needs -o DIR");
    }
    if (o.partitions && o.top) throw grist::UsageError("--top and --partitions exclude each other");

    grist::CountOptions co;
    co.memory = c.memory;
    co.threads = c.threads;
    co.temp_dir = c.temp_dir;
    co.skip_bad_lines = o.on_error == "skip";
    co.min_count = o.min_count;
    co.top = o.top;
    co.partitions = o.partitions;

    grist::SinkOptions so;
    so.force_zstd = c.zstd;
    so.level = c.level;
    so.threads = 1;  // one zstd worker: async, and the bytes never depend on -j
    // The output is opened first, so that an unwritable target fails before any work.
    std::unique_ptr<grist::PartitionWriter> dir;
    std::unique_ptr<grist::Sink> out;
    if (o.partitions) {
      dir = std::make_unique<grist::PartitionWriter>(c.output, o.partitions, tool.name(), so);
    } else {
      out = grist::Sink::open(c.output, so);
    }

    grist::BlockReader reader(o.files, grist::count_block_size(co));
    grist::CountStats st;
    std::unique_ptr<grist::RecordStream> counts;
    {
      grist::cli::Progress progress(
          c.progress, [&] { return reader.raw_bytes_read(); },
          [&] { return reader.raw_size_total(); });
      counts = grist::count_records(reader, co, st);
    }
    if (dir) {
      grist::write_counts(*counts, *dir, co, st);
      dir->commit();
    } else {
      grist::write_counts(*counts, *out, co, st);
      out->commit();
    }
    if (st.bad_lines) {
      tool.warn("skipped " + std::to_string(st.bad_lines) + " bad line" +
                (st.bad_lines == 1 ? "" : "s") + " (first: " + st.first_bad + ")");
    }
    tool.summary(st.records, st.bytes,
                 std::to_string(st.distinct) + " distinct keys, " + std::to_string(st.spills) +
                     " spills (" + grist::format_bytes(st.spill_bytes) + "), " +
                     std::to_string(st.merge_passes) + " merge passes, tables peak " +
                     grist::format_bytes(st.peak_table_memory));
    return 0;
  });
}
