#include <catch2/catch.hpp>

#include <tbb/global_control.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "grist/error.hpp"
#include "grist/io/block_reader.hpp"
#include "grist/io/sink.hpp"
#include "grist/io/source.hpp"
#include "grist/text/ngrams.hpp"
#include "grist/text/stopwords.hpp"
#include "grist/text/tokenize_stream.hpp"

using namespace grist;

namespace {

std::vector<std::string_view> views(const std::vector<std::string>& v) {
  return {v.begin(), v.end()};
}

std::string ngrams(const std::vector<std::string>& toks, size_t lo, size_t hi) {
  std::string out;
  append_ngrams(views(toks), lo, hi, "|", out);
  return out;
}

// Runs the whole stream (reader, pipeline, sink) over `input`.
std::string run(const std::string& input, const TokenizeStreamOptions& o, int threads = 1,
                size_t block_size = kTokenizeBlockSize, TokenizeStats* stats = nullptr) {
  tbb::global_control cap(tbb::global_control::max_allowed_parallelism, threads);
  BlockReader reader(Source::from_memory(input, "in.txt"), block_size);
  std::string out;
  auto sink = Sink::to_string(&out, Compression::none, 0);
  TokenizeStats st = tokenize_stream(reader, *sink, o, threads);
  sink->commit();
  if (stats) *stats = st;
  return out;
}

std::string random_text(size_t n, unsigned seed) {
  std::mt19937 rng(seed);
  const std::vector<std::string> pieces = {
      "the", "The", "cat", "don't", "3.14", " ", " ", " ", "\n", ", ", ".", "Straße", "ΣΑΣ",
      "naïve", "東京", "\xff", "\xc3", "e\xcc\x81", "--", "x@y.com", "\t", "\r\n", "ﬃ"};
  std::string s;
  while (s.size() < n) s += pieces[rng() % pieces.size()];
  return s;
}

}  // namespace

TEST_CASE("n-gram ranges parse", "[test_tokenize_tool]") {
  CHECK(parse_ngram_range("1") == std::pair<size_t, size_t>{1, 1});
  CHECK(parse_ngram_range("3") == std::pair<size_t, size_t>{3, 3});
  CHECK(parse_ngram_range("1-3") == std::pair<size_t, size_t>{1, 3});
  CHECK(parse_ngram_range("16") == std::pair<size_t, size_t>{16, 16});
  for (const char* bad : {"", "0", "17", "3-2", "1-", "-2", "a", "1-2-3", " 1", "1 ", "+1"}) {
    CAPTURE(bad);
    CHECK_THROWS_AS(parse_ngram_range(bad), UsageError);
  }
}

TEST_CASE("n-grams within a record", "[test_tokenize_tool]") {
  const std::vector<std::string> abc = {"a", "b", "c"};
  CHECK(ngrams(abc, 1, 1) == "a|b|c|");
  CHECK(ngrams(abc, 2, 2) == "a b|b c|");
  CHECK(ngrams(abc, 3, 3) == "a b c|");
  CHECK(ngrams(abc, 4, 4) == "");
  CHECK(ngrams(abc, 1, 2) == "a|a b|b|b c|c|");
  CHECK(ngrams(abc, 2, 3) == "a b|a b c|b c|");
  CHECK(ngrams({}, 1, 2) == "");
  CHECK(ngrams({"only"}, 2, 2) == "");
  std::string out;
  CHECK(append_ngrams(views({"x", "yy", "zzz"}), 2, 2, "\t1\n", out) == 2);
  CHECK(out == "x yy\t1\nyy zzz\t1\n");
}

TEST_CASE("append_tokens copies tokens of any length", "[test_tokenize_tool]") {
  std::string text;
  std::vector<std::string> want;
  for (size_t n = 1; n <= 40; ++n) {
    want.push_back(std::string(n, static_cast<char>('a' + n % 26)));
    text += want.back() + " ";
  }
  std::string padded = text + std::string(64, '\0');
  std::vector<std::string_view> toks;
  size_t pos = 0;
  for (const auto& w : want) {
    toks.emplace_back(padded.data() + pos, w.size());
    pos += w.size() + 1;
  }
  std::string expect;
  for (const auto& w : want) expect += w + "\n";
  std::string out = "prefix\n";
  CHECK(append_tokens(toks, "\n", out, padded) == 40);
  CHECK(out == "prefix\n" + expect);
  for (size_t limit : {size_t(0), text.size(), text.size() + 5}) {
    std::string out2;
    append_tokens(toks, "\t1\n", out2, std::string_view(padded.data(), limit));
    std::string expect2;
    for (const auto& w : want) expect2 += w + "\t1\n";
    CHECK(out2 == expect2);
  }
}

TEST_CASE("stopwords are dropped, folded with --lower", "[test_tokenize_tool]") {
  StopWords sw;
  sw.add("the");
  sw.add("a");
  CHECK(sw.contains("the"));
  CHECK_FALSE(sw.contains("The"));
  CHECK_FALSE(sw.contains("th"));
  CHECK(sw.size() == 2);

  TokenizeStreamOptions o;
  o.stopwords = &sw;
  CHECK(run("The cat and the hat\na dog\n", o) == "The\ncat\nand\nhat\ndog\n");
  o.tokenizer.lower = true;
  CHECK(run("The cat and the hat\na dog\n", o) == "cat\nand\nhat\ndog\n");
  // Stopwords go before n-grams are formed.
  o.ngram_min = o.ngram_max = 2;
  CHECK(run("The cat and the hat\na dog\n", o) == "cat and\nand hat\n");
}

TEST_CASE("stopword files are read and folded", "[test_tokenize_tool]") {
  const char* base = std::getenv("GRIST_TEST_TMP");
  std::string dir = base ? base : "/tmp";
  std::string path = dir + "/stopwords-" + std::to_string(::getpid()) + ".txt";
  {
    auto s = Sink::open(path, {});
    s->write("The\n  AND  of\n\nStraße\n");
    s->commit();
  }
  StopWords folded = StopWords::load(path, Folding::case_folded);
  CHECK(folded.contains("the"));
  CHECK(folded.contains("and"));
  CHECK(folded.contains("of"));
  CHECK(folded.contains("strasse"));
  CHECK_FALSE(folded.contains("The"));
  CHECK(folded.size() == 4);
  StopWords plain = StopWords::load(path, Folding::as_given);
  CHECK(plain.contains("The"));
  CHECK(plain.contains("Straße"));
  CHECK_FALSE(plain.contains("the"));
  std::remove(path.c_str());
  CHECK_THROWS_AS(StopWords::load(path, Folding::as_given), Error);
}

TEST_CASE("plain lines: tokens, pairs, n-grams", "[test_tokenize_tool]") {
  TokenizeStreamOptions o;
  CHECK(run("Hello, world!\nIt's 3.14.\n", o) == "Hello\nworld\nIt's\n3.14\n");
  CHECK(run("no newline at end", o) == "no\nnewline\nat\nend\n");
  CHECK(run("", o) == "");
  CHECK(run("\n\n  \n", o) == "");
  o.pairs = true;
  CHECK(run("a b\nc\n", o) == "a\t1\nb\t1\nc\t1\n");
  o.pairs = false;
  o.ngram_min = o.ngram_max = 2;
  // n-grams never cross records.
  CHECK(run("a b c\nd e\nf\n", o) == "a b\nb c\nd e\n");
  o.tokenizer.mode = TokenMode::whitespace;
  o.ngram_min = o.ngram_max = 1;
  CHECK(run("a,b  c.\td\n", o) == "a,b\nc.\nd\n");
}

TEST_CASE("JSON lines", "[test_tokenize_tool]") {
  TokenizeStreamOptions o;
  o.format = RecordFormat::json;
  o.json_field = "meta.body";
  TokenizeStats st;
  std::string in =
      "{\"meta\": {\"body\": \"one two\\nthree\"}}\n"
      "\n"
      "{\"meta\": {\"title\": \"x\"}}\n"
      "{\"meta\": {\"body\": 5}}\n"
      "not json\n"
      "{\"meta\": {\"body\": \"caf\\u00e9\"}}\r\n";
  CHECK(run(in, o, 1, kTokenizeBlockSize, &st) == "one\ntwo\nthree\ncafé\n");
  CHECK(st.records == 6);
  CHECK(st.skipped.count == 3);
  CHECK(st.tokens == 4);
  CHECK(st.skipped.first == "in.txt:3: missing field 'meta.body'");
  o.on_error = OnError::fail;
  try {
    run(in, o);
    FAIL("no error");
  } catch (const Error& e) {
    CHECK(std::string(e.what()) == "in.txt:3: missing field 'meta.body'");
  }
  // The first bad line in input order is reported, whatever the blocks.
  std::string many;
  for (int i = 0; i < 5000; ++i) many += "{\"meta\": {\"body\": \"w\"}}\n";
  many += "{\"meta\": []}\n";
  for (int i = 0; i < 5000; ++i) many += "{\"meta\": 1}\n";
  for (int threads : {1, 2, 4}) {
    try {
      run(many, o, threads, 4096);
      FAIL("no error");
    } catch (const Error& e) {
      CHECK(e.line() == 5001);
    }
  }
}

TEST_CASE("TSV columns", "[test_tokenize_tool]") {
  TokenizeStreamOptions o;
  o.format = RecordFormat::column;
  o.column = 2;
  TokenizeStats st;
  CHECK(run("1\thello world\tx y\n2\tbye\n3\n4\t\t\n", o, 1, kTokenizeBlockSize, &st) ==
        "hello\nworld\nbye\n");
  CHECK(st.skipped.count == 1);
  CHECK(st.skipped.first == "in.txt:3: missing column 2 (the line has 1)");
  o.column = 1;
  CHECK(run("a b\tc\n", o) == "a\nb\n");
  o.column = 3;
  CHECK(run("a\tb\tc d\n", o) == "c\nd\n");
}

TEST_CASE("invalid UTF-8 is counted and splits tokens", "[test_tokenize_tool]") {
  TokenizeStreamOptions o;
  TokenizeStats st;
  CHECK(run("ab\xff" "cd \xc3 ef\n", o, 1, kTokenizeBlockSize, &st) == "ab\ncd\nef\n");
  CHECK(st.invalid_bytes == 2);
}

TEST_CASE("output does not depend on threads or block size", "[test_tokenize_tool]") {
  std::string text = random_text(300000, 7);
  for (bool lower : {false, true}) {
    for (size_t ng : {1, 2}) {
      TokenizeStreamOptions o;
      o.tokenizer.lower = lower;
      o.ngram_max = ng;
      std::string ref = run(text, o, 1);
      CHECK(!ref.empty());
      CHECK(run(text, o, 2, 1000) == ref);
      CHECK(run(text, o, 4, 4096) == ref);
    }
  }
}

TEST_CASE("many lines at once equal one line at a time", "[test_tokenize_tool]") {
  // The plain-line fast path tokenizes chunks of many lines in one call;
  // it must give the tokens of a line-by-line tokenization.
  std::string text = random_text(200000, 11);
  for (bool lower : {false, true}) {
    for (TokenMode mode : {TokenMode::word, TokenMode::whitespace}) {
      TokenizeStreamOptions o;
      o.tokenizer.lower = lower;
      o.tokenizer.mode = mode;
      std::string fast = run(text, o);
      TokenizerOptions to = o.tokenizer;
      Tokenizer tok(to);
      std::string slow;
      std::vector<std::string_view> toks;
      size_t pos = 0;
      while (pos < text.size()) {
        size_t nl = text.find('\n', pos);
        if (nl == std::string::npos) nl = text.size();
        toks.clear();
        tok.tokenize(std::string_view(text).substr(pos, nl - pos), toks);
        for (auto t : toks) slow.append(t).push_back('\n');
        pos = nl + 1;
      }
      CHECK(fast == slow);
    }
  }
}

TEST_CASE("--lower on ASCII chunks (lowered whole) equals folding token by token",
          "[test_tokenize_tool]") {
  // ASCII chunks are lowered whole before cutting; other chunks fold each
  // token. Both must give the tokens of a line-by-line tokenization, with
  // length limits and stopwords applied to the folded tokens.
  std::mt19937 rng(5);
  const std::vector<std::string> pieces = {"The", "CAT", "don't", "Don'T", "3.14", "A.B.",
                                           " ", " ", "\n", ", ", "x@Y.com", "\t", "QQQQQQQQQQ",
                                           "e.g.", "U.S.A", "--", "_Foo_", "isn'T", "\r\n"};
  std::string ascii;
  while (ascii.size() < 300000) ascii += pieces[rng() % pieces.size()];
  // a second input: ASCII chunks, then one with non-ASCII text in it
  std::string mixed = ascii + "\nStraße NAÏVE Don'T\n" + ascii.substr(0, 1000);
  StopWords sw;
  sw.add("the");
  for (const std::string* text : {&ascii, &mixed}) {
    for (TokenMode mode : {TokenMode::word, TokenMode::whitespace}) {
      for (bool limits : {false, true}) {
        TokenizeStreamOptions o;
        o.tokenizer.lower = true;
        o.tokenizer.mode = mode;
        if (limits) {
          o.tokenizer.min_length = 2;
          o.tokenizer.max_length = 5;
          o.stopwords = &sw;
        }
        Tokenizer tok(o.tokenizer);
        std::string slow;
        std::vector<std::string_view> toks;
        size_t pos = 0;
        while (pos < text->size()) {
          size_t nl = text->find('\n', pos);
          if (nl == std::string::npos) nl = text->size();
          toks.clear();
          tok.tokenize(std::string_view(*text).substr(pos, nl - pos), toks);
          for (auto t : toks) {
            if (limits && sw.contains(t)) continue;
            slow.append(t).push_back('\n');
          }
          pos = nl + 1;
        }
        CHECK(run(*text, o) == slow);
        CHECK(run(*text, o, 2, 4096) == slow);
      }
    }
  }
}
