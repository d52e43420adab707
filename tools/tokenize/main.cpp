// grist-tokenize: text, JSON lines or TSV in; one token per line out.
#include <atomic>
#include <cstdint>
#include <string>
#include <tuple>
#include <vector>

#include "grist/cli/app.hpp"
#include "grist/cli/man_files.hpp"
#include "grist/error.hpp"
#include "grist/io/block_reader.hpp"
#include "grist/io/preflight.hpp"
#include "grist/io/sink.hpp"
#include "grist/text/ngrams.hpp"
#include "grist/text/stopwords.hpp"
#include "grist/text/tokenize_stream.hpp"

namespace {

struct Options {
  std::vector<std::string> inputs;
  std::string json_field;
  size_t column = 0;
  std::string mode = "word";
  bool lower = false;
  std::string ngrams = "1";
  size_t min_length = 1;
  size_t max_length = SIZE_MAX;
  std::string stopwords;
  bool pairs = false;
  grist::OnError on_error = grist::OnError::skip;
};

void add_options(CLI::App& app, Options& o);
grist::TokenizeStreamOptions stream_options(const Options& o, bool json);
int tokenize(const grist::cli::Tool& tool, const Options& o,
             grist::TokenizeStreamOptions stream_opts);
void describe(grist::cli::ManText& man);

}  // namespace

int main(int argc, char** argv) {
  grist::cli::CommonSet set;
  set.memory = false;
  set.temp_dir = false;
  grist::cli::Tool tool("grist-tokenize",
                        "Split text, a JSON field or a TSV column into tokens, one per line",
                        set);
  Options o;
  add_options(tool.app(), o);
  describe(tool.man());
  return tool.run(argc, argv, [&] {
    bool json = !o.json_field.empty() || tool.app().count("--json-field");
    return tokenize(tool, o, stream_options(o, json));
  });
}

namespace {

void add_options(CLI::App& app, Options& o) {
  app.add_option("FILE", o.inputs, "Input files (default or '-': stdin)")
      ->type_name("FILE");
  auto* json = app.add_option("--json-field", o.json_field,
                              "JSON lines: tokenize the string at PATH (a.b.c)")
                   ->type_name("PATH");
  grist::cli::add_number(app, "--column", o.column, "Read TSV lines; tokenize column N (from 1)",
                         {.min = 1})
      ->type_name("N")
      ->excludes(json);
  app.add_option("--mode", o.mode, "Tokens: word (Unicode words) or whitespace")
      ->type_name("MODE")
      ->check(CLI::IsMember({"word", "whitespace"}));
  app.add_flag("--lower", o.lower, "Case-fold tokens (Unicode NFKC_Casefold)");
  auto* ngrams = app.add_option("--ngrams", o.ngrams, "Write word n-grams of N (or N-M) tokens")
                     ->type_name("N[-M]");
  ngrams->check(grist::cli::value_validator(
      ngrams->get_name(), "ngrams", "0", "17", "N or N-M with 1 <= N <= M <= 16",
      [](const std::string& v) { return grist::parse_ngram_range(v).first > 0; }));
  grist::cli::add_number(app, "--min-length", o.min_length,
                         "Drop tokens shorter than N code points")
      ->type_name("N");
  grist::cli::add_number(app, "--max-length", o.max_length,
                         "Drop tokens longer than N code points", {.min = 1})
      ->type_name("N");
  app.add_option("--stopwords", o.stopwords, "Drop the words listed in FILE")->type_name("FILE");
  app.add_flag("--pairs", o.pairs, "Write 'token<TAB>1' lines (a Hadoop mapper)");
  grist::cli::add_on_error(app, o.on_error, "Record without text: skip (default) or fail");
}

// The library's options from the command line's; `json`: --json-field given.
grist::TokenizeStreamOptions stream_options(const Options& o, bool json) {
  grist::TokenizeStreamOptions stream_opts;
  grist::TokenizerOptions& tok = stream_opts.tokenizer;
  tok.mode = o.mode == "word" ? grist::TokenMode::word : grist::TokenMode::whitespace;
  tok.lower = o.lower;
  tok.min_length = o.min_length;
  tok.max_length = o.max_length;
  if (o.min_length > o.max_length) throw grist::UsageError("--min-length is above --max-length");
  if (json) {
    stream_opts.format = grist::RecordFormat::json;
    stream_opts.json_field = o.json_field;
  } else if (o.column > 0) {
    stream_opts.format = grist::RecordFormat::column;
    stream_opts.column = o.column;
  }
  std::tie(stream_opts.ngram_min, stream_opts.ngram_max) = grist::parse_ngram_range(o.ngrams);
  stream_opts.pairs = o.pairs;
  stream_opts.on_error = o.on_error;
  return stream_opts;
}

int tokenize(const grist::cli::Tool& tool, const Options& o,
             grist::TokenizeStreamOptions stream_opts) {
  const grist::cli::Common& c = tool.common();
  // Before any work: a missing input fails before the files before it
  // are read, and no output is begun.
  grist::RunFiles files;
  files.add_inputs("FILE", o.inputs);
  if (!o.stopwords.empty()) files.add_input("--stopwords", o.stopwords);
  files.add_output("-o", c.output);
  grist::check_run_files(files);
  grist::StopWords stopwords;
  if (!o.stopwords.empty()) {
    stopwords = grist::StopWords::load(
        o.stopwords, o.lower ? grist::Folding::case_folded : grist::Folding::as_given);
    stream_opts.stopwords = &stopwords;
  }

  grist::BlockReader reader(o.inputs, grist::kTokenizeBlockSize);
  auto sink = grist::Sink::open(c.output, c.sink_options(c.threads));
  std::atomic<uint64_t> raw{0};
  grist::cli::Progress progress(
      tool, "reading", [&] { return raw.load(std::memory_order_relaxed); },
      [&] { return reader.raw_size_total(); });
  grist::TokenizeStats st = grist::tokenize_stream(reader, *sink, stream_opts, c.threads, &raw);
  sink->commit();
  progress.stop();

  const grist::SkippedLines& skipped = st.skipped;
  if (skipped.count > 0) {
    tool.warn("skipped " + std::to_string(skipped.count) + " of " + std::to_string(st.records) +
              " records without text (first: " + skipped.first + ")");
  }
  tool.summary(st.records, st.bytes,
               std::to_string(st.tokens) + " tokens, " + std::to_string(st.invalid_bytes) +
                   " invalid UTF-8 bytes, " + std::to_string(skipped.count) + " skipped records");
  return 0;
}

void describe(grist::cli::ManText& man) {
  man.synopsis = "[OPTION]... [FILE]...";
  man.description =
      "Reads records from each FILE, or from standard input, and writes their tokens, one per "
      "line, in input order. Inputs may be plain or compressed (recognised by their first "
      "bytes). A record is a line of text; with --json-field, the string value at a dotted "
      "PATH of a JSON line (escapes decoded); with --column, one column of a TSV line. A JSON "
      "line that is invalid, lacks the field or holds another type there, and a TSV line "
      "without the column, is skipped and counted in a warning at the end; with "
      "--on-error fail it is an error naming the file and line. Blank JSON lines are ignored.\n"
      "\n"
      "In word mode (the default) a token is a word of Unicode UAX #29 word segmentation, as "
      "ICU's word break iterator finds it, that contains a letter or a number: \"don't\", "
      "\"3.14\", \"naïve\" and \"東京\" are tokens; spaces and punctuation are not. Pure ASCII "
      "text takes a fast path that gives the same tokens. In whitespace mode a token is a run "
      "of bytes between ASCII whitespace. --lower applies Unicode case folding "
      "(NFKC_Casefold). Invalid UTF-8 bytes separate tokens and are counted in the -v "
      "summary. --min-length and --max-length count code points after folding.\n"
      "\n"
      "--stopwords drops the words of FILE (split at whitespace, folded like the tokens "
      "with --lower) before n-grams are formed. --ngrams N writes the runs of N consecutive "
      "tokens of each record joined by one space; N-M writes every size from N to M, by "
      "start position, then size. --pairs appends a TAB and 1 to each line, the input "
      "grist-count and Hadoop Streaming reducers expect.\n"
      "\n"
      "The output is the same whatever -j: blocks of input are tokenized in parallel and "
      "written in order.\n"
      "\n" +
      grist::cli::compression_paragraph(grist::cli::kManInputs, grist::cli::Window::any);
  man.description += std::string("\n\n") + grist::cli::kManFilesAndSignals;
  man.notes =
      "grist-tokenize is the producer of most pipelines: when it fails (a truncated or "
      "corrupt input, exit 1), the program reading its output sees only an end of input.\n\n" +
      grist::cli::pipefail_notes();
  man.examples =
      "$ set -o pipefail\n"
      "$ grist-tokenize --json-field text --lower corpus/*.jsonl.zst | grist-count --top 50\n"
      "The 50 most frequent words of a JSON lines corpus (pipefail: see NOTES).\n"
      "$ set -o pipefail\n"
      "$ grist-tokenize books.txt.gz | grist-count -S 2G -o counts.tsv.zst\n"
      "Count every word of a compressed text file.\n"
      "$ grist-tokenize --lower --ngrams 2 --stopwords stop.txt notes.txt\n"
      "Word bigrams, stopwords removed first.\n"
      "$ grist-tokenize --column 3 --mode whitespace data.tsv\n"
      "Tokens of the third column of a TSV file, split at whitespace.\n"
      "$ hadoop jar hadoop-streaming.jar -mapper 'grist-tokenize --pairs' -combiner "
      "grist-count -reducer grist-count -input in -output out\n"
      "A Hadoop Streaming word count with grist as mapper, combiner and reducer.";
  man.see_also = "grist-count(1), grist-train-sgd(1), tr(1), jq(1)";
}

}  // namespace
