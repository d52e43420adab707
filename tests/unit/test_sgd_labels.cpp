// Classes by name (grist/sgd/labels.hpp, LabelKind::named), the fastText
// format with its several labels per example, and unlabelled prediction
// input in every format.
#include <zstd.h>

#include <catch2/catch.hpp>

#include <cmath>
#include <filesystem>
#include <memory>
#include <string>

#include "grist/error.hpp"
#include "grist/sgd/example_cache.hpp"
#include "grist/sgd/examples.hpp"
#include "grist/sgd/labels.hpp"
#include "grist/sgd/learner.hpp"
#include "grist/sgd/model.hpp"
#include "grist/sgd/train_command.hpp"
#include "support/sgd_parse.hpp"
#include "support/temp_dir.hpp"

using namespace grist;
using namespace grist::sgd;

namespace {

using grist_test::parse;
using grist_test::parse_error;

ParseOptions named(std::vector<std::string> names, int classes) {
  ParseOptions po;
  po.labels = LabelKind::named;
  po.class_names = std::move(names);
  po.classes = classes;
  return po;
}

using Labels = std::set<std::string, std::less<>>;

}  // namespace

TEST_CASE("named labels: binary and one against all", "[test_sgd_labels]") {
  SECTION("binary: the first name negative, the second positive") {
    auto ex = parse(Format::text, "ham\thello\nspam\tbuy now\n", named({"ham", "spam"}, 0));
    CHECK(ex.label == std::vector<float>{-1, 1});
  }
  SECTION("one against all: class numbers in name order") {
    auto po = named({"b", "a", "c"}, 3);
    auto ex = parse(Format::text, "a\tx\nc\ty\nb\tz\n", po);
    CHECK(ex.label == std::vector<float>{1, 2, 0});
    ex = parse(Format::svmlight, "c 1:1\n", po);  // any format's label field
    CHECK(ex.label == std::vector<float>{2});
    ex = parse(Format::vw, "a |f x\n", po);
    CHECK(ex.label == std::vector<float>{1});
  }
  SECTION("an unknown label says which classes there are, and the hint") {
    auto po = named({"ham", "spam"}, 0);
    po.label_hint = "; add it to --classes";
    CHECK(parse_error(Format::text, "eggs\thello\n", po) ==
          "label 'eggs' is not one of the 2 classes 'ham', 'spam'; add it to --classes");
  }
  SECTION("numeric kinds: the hint follows the message") {
    ParseOptions po;
    po.label_hint = "; HINT";
    CHECK(parse_error(Format::text, "spam\thello\n", po) == "bad label 'spam': not -1/+1 or 0/1; HINT");
    CHECK(parse_error(Format::svmlight, "2 1:1\n", po) ==
          "label '2' is not binary (use -1/+1 or 0/1); HINT");
    po.labels = LabelKind::multiclass;
    po.classes = 3;
    CHECK(parse_error(Format::text, "x\thello\n", po) == "bad label 'x': not a class number 1..3; HINT");
    po.labels = LabelKind::real;
    CHECK(parse_error(Format::text, "x\thello\n", po) == "bad label 'x'");
  }
}

TEST_CASE("fasttext format", "[test_sgd_labels]") {
  SECTION("its words are text's") {
    auto ft = parse(Format::fasttext, "__label__1 Hello, world  again\n");
    auto tx = parse(Format::text, "1\tHello, world  again\n");
    CHECK(ft.label == tx.label);
    CHECK(ft.index == tx.index);
    CHECK(ft.value == tx.value);
    ParseOptions po;
    po.ngrams = 2;
    CHECK(parse(Format::fasttext, "__label__-1 a b c\n", po).index ==
          parse(Format::text, "-1\ta b c\n", po).index);
    CHECK(ft.more_end == std::vector<uint32_t>{0});
  }
  SECTION("several labels: the first in label, the others in more_labels") {
    auto po = named({"a", "b", "c"}, 3);
    auto ex = parse(Format::fasttext, "__label__c __label__a x y\n__label__b z\n\t__label__a\t__label__b __label__c w\n", po);
    CHECK(ex.label == std::vector<float>{2, 1, 0});
    CHECK(ex.more_end == std::vector<uint32_t>{1, 1, 3});
    CHECK(ex.more_labels == std::vector<float>{0, 1, 2});
    CHECK(ex.has_class(0, 0));
    CHECK(ex.has_class(0, 2));
    CHECK_FALSE(ex.has_class(0, 1));
    CHECK(ex.has_class(2, 1));
    CHECK(ex.begin == std::vector<uint32_t>{0, 2, 3, 4});
    // a label in the middle of the text is a word
    ex = parse(Format::fasttext, "__label__a x __label__b\n", po);
    CHECK(ex.more_end == std::vector<uint32_t>{0});
    CHECK(ex.features() == 2);
  }
  SECTION("errors") {
    auto po = named({"a", "b"}, 0);
    CHECK_THAT(parse_error(Format::fasttext, "__label__a __label__b x\n", po),
               Catch::StartsWith("several labels ('b' is the second): only a one-against-all"));
    CHECK_THAT(parse_error(Format::fasttext, "__label__ x\n", po), Catch::StartsWith("empty label"));
    CHECK(parse_error(Format::fasttext, "hello world\n", po) ==
          "no label (fastText format is __label__NAME TEXT)");
    // a failed line leaves nothing behind
    Parser parser([&] { auto p = named({"a", "b", "c"}, 3); p.format = Format::fasttext; return p; }());
    Examples ex;
    parser.parse_line("__label__a __label__b x", ex, 1);
    CHECK_THROWS(parser.parse_line("__label__c __label__a __label__zz y", ex, 2));
    CHECK(ex.size() == 1);
    CHECK(ex.more_end == std::vector<uint32_t>{1});
    CHECK(ex.more_labels == std::vector<float>{1});
  }
  SECTION("sniffed from a first line starting __label__") {
    CHECK(sniff_format("\n  __label__x hello | world\t!\n") == Format::fasttext);
    CHECK(sniff_format("x\t__label__y\n") == Format::text);
    CHECK(parse_format_name("fasttext") == Format::fasttext);
    CHECK(std::string(format_name(Format::fasttext)) == "fasttext");
    CHECK(format_reads_as(Format::fasttext, Format::text));
    CHECK(format_reads_as(Format::text, Format::fasttext));
    CHECK_FALSE(format_reads_as(Format::fasttext, Format::svmlight));
  }
}

TEST_CASE("unlabelled prediction input in every format", "[test_sgd_labels]") {
  ParseOptions po;
  po.require_label = false;
  SECTION("svmlight: a first token with ':' is a feature") {
    auto ex = parse(Format::svmlight, "3:1 5:2\n1 3:1 5:2\n", po);
    REQUIRE(ex.size() == 2);
    CHECK(std::isnan(ex.label[0]));
    CHECK(ex.label[1] == 1);
    CHECK(ex.index == std::vector<uint32_t>{3, 5, 3, 5});
    CHECK_THAT(parse_error(Format::svmlight, "3:1 5:2\n"), Catch::StartsWith("bad label '3:1'"));
  }
  SECTION("text: a line without a tab is all text") {
    auto ex = parse(Format::text, "hello world\n1\thello world\n", po);
    CHECK(std::isnan(ex.label[0]));
    CHECK(ex.label[1] == 1);
    CHECK(ex.begin == std::vector<uint32_t>{0, 2, 4});
    CHECK(ex.index[0] == ex.index[2]);
    CHECK(parse_error(Format::text, "hello world\n") ==
          "no tab after the label (text format is LABEL<TAB>TEXT)");
    // unless it is another format's example
    CHECK(parse_error(Format::text, "1 3:1 5:1\n", po) ==
          "no tab: an unlabelled line of text, but it reads as a svmlight example");
    CHECK(parse_error(Format::text, "3:1\n", po) ==
          "no tab: an unlabelled line of text, but it reads as a svmlight example");
    CHECK(parse_error(Format::text, "1 |f a b\n", po) ==
          "no tab: an unlabelled line of text, but it reads as a vw example");
    CHECK(parse(Format::text, "a | b\nat 10:30\n42\n", po).size() == 3);
  }
  SECTION("fasttext: no leading __label__") {
    auto ex = parse(Format::fasttext, "hello world\n__label__1 hello world\n", po);
    CHECK(std::isnan(ex.label[0]));
    CHECK(ex.label[1] == 1);
    CHECK(ex.index[0] == ex.index[2]);
    CHECK(parse_error(Format::fasttext, "1\thello\n", po) ==
          "no __label__: an unlabelled line of text, but it reads as a text example");
  }
  SECTION("vw, as before") {
    auto ex = parse(Format::vw, "|f a\n", po);
    CHECK(std::isnan(ex.label[0]));
  }
  SECTION("named models too") {
    auto p = named({"a", "b", "c"}, 3);
    p.require_label = false;
    auto ex = parse(Format::fasttext, "x y\n__label__b z\n", p);
    CHECK(std::isnan(ex.label[0]));
    CHECK(ex.label[1] == 1);
  }
}

TEST_CASE("label fields, their order, and --classes", "[test_sgd_labels]") {
  std::vector<std::string_view> l;
  line_labels(Format::text, "  spam \tbuy now\r", l);
  line_labels(Format::text, "no tab here", l);
  line_labels(Format::fasttext, "__label__a\t__label__b text __label__c\r", l);
  line_labels(Format::fasttext, "__label__ x", l);
  line_labels(Format::svmlight, "# comment", l);
  line_labels(Format::svmlight, "2 1:1", l);
  line_labels(Format::vw, "3|f x", l);
  CHECK(l == std::vector<std::string_view>{"spam", "a", "b", "2", "3"});

  CHECK_FALSE(needs_names(Labels{"-1", "1"}));
  CHECK_FALSE(needs_names(Labels{"0", "1", "+1", "1.0"}));
  CHECK(needs_names(Labels{"1", "2"}));
  CHECK(needs_names(Labels{"0", "yes"}));

  auto cs = order_classes(Labels{"10", "9", "-2"}, false);
  CHECK(cs.names == std::vector<std::string>{"-2", "9", "10"});
  CHECK(cs.classes == 3);
  cs = order_classes(Labels{"spam", "ham"}, false);
  CHECK(cs.names == std::vector<std::string>{"ham", "spam"});
  CHECK(cs.classes == 0);
  cs = order_classes(Labels{"b", "10", "B"}, false);  // not all numbers: bytes
  CHECK(cs.names == std::vector<std::string>{"10", "B", "b"});
  CHECK(order_classes(Labels{"x", "y"}, true).classes == 2);  // several labels a line: OAA
  CHECK_THROWS_WITH(order_classes(Labels{"spam"}, false),
                    Catch::StartsWith("the input has one class only ('spam')") &&
                        Catch::Contains("--classes spam,OTHER"));
  CHECK_THROWS_WITH(order_classes(Labels{"0.5", "2"}, false),
                    Catch::StartsWith("label '0.5' is a number but not a class: for numbers to "
                                      "predict give --loss squared"));
  CHECK_THROWS_AS(order_classes(Labels{}, false), UsageError);

  cs = parse_class_list("spam,ham");
  CHECK(cs.names == std::vector<std::string>{"spam", "ham"});
  CHECK(cs.classes == 0);
  CHECK(parse_class_list("a,b,c").classes == 3);
  CHECK_THROWS_WITH(parse_class_list("a"), Catch::Contains("two or more"));
  CHECK_THROWS_WITH(parse_class_list("a,,b"), Catch::Contains("empty class name"));
  CHECK_THROWS_WITH(parse_class_list("a,b,a"), Catch::Contains("'a' is given twice"));
  CHECK_THROWS_WITH(parse_class_list("a,b\tc"), Catch::Contains("tab"));
}

TEST_CASE("label scan of text and fasttext files", "[test_sgd_labels]") {
  auto dir = grist_test::fresh_dir("sgd-labels", "scan");
  auto txt = grist_test::write_file(dir / "a.tsv", "b\tx\na\ty\n\nc\tz\nb\tw\n");
  auto ft = grist_test::write_file(dir / "b.ft", "__label__x __label__y hi\nplain line\n");
  auto svm = grist_test::write_file(dir / "c.svm", "1 1:1\n2 2:1\n");
  auto s = scan_labels({txt}, std::nullopt);
  REQUIRE(s);
  CHECK(s->format == Format::text);
  CHECK(s->labels == Labels{"a", "b", "c"});
  CHECK_FALSE(s->multi);
  s = scan_labels({ft}, std::nullopt);
  REQUIRE(s);
  CHECK(s->format == Format::fasttext);
  CHECK(s->labels == Labels{"x", "y"});
  CHECK(s->multi);
  CHECK_FALSE(scan_labels({svm}, std::nullopt));             // not text
  CHECK_FALSE(scan_labels({svm}, Format::svmlight));
  s = scan_labels({txt, txt}, Format::text);
  REQUIRE(s);
  CHECK(s->labels.size() == 3);
  auto empty = grist_test::write_file(dir / "e.tsv", "");
  CHECK_FALSE(scan_labels({empty}, std::nullopt));
  CHECK_THROWS_AS(scan_labels({(dir / "missing").string()}, std::nullopt), Error);
}

TEST_CASE("the example cache keeps several labels", "[test_sgd_labels]") {
  std::unique_ptr<ZSTD_CCtx, size_t (*)(ZSTD_CCtx*)> c{ZSTD_createCCtx(), ZSTD_freeCCtx};
  std::unique_ptr<ZSTD_DCtx, size_t (*)(ZSTD_DCtx*)> d{ZSTD_createDCtx(), ZSTD_freeDCtx};
  std::string raw, chunk;
  auto po = named({"a", "b", "c"}, 3);
  Examples ex = parse(Format::fasttext, "__label__a __label__c x\n__label__b y z\n", po);
  encode_examples(ex, chunk, c.get(), raw);
  Examples out;
  decode_examples(chunk, out, uint64_t(1) << 20, d.get(), raw);
  CHECK(out.label == ex.label);
  CHECK(out.more_end == ex.more_end);
  CHECK(out.more_labels == ex.more_labels);
  CHECK(out.index == ex.index);
  // Without more labels the chunk is as before: no more_end comes back.
  ex = parse(Format::fasttext, "__label__a x\n", po);
  encode_examples(ex, chunk, c.get(), raw);
  CHECK(raw.size() == 8 + 13 + 4 + 8);
  decode_examples(chunk, out, uint64_t(1) << 20, d.get(), raw);
  CHECK(out.more_end.empty());
  // A more_end that does not end at the count, or decreases, is corrupt.
  ex = parse(Format::fasttext, "__label__a __label__c x\n__label__b __label__a y\n", po);
  encode_examples(ex, chunk, c.get(), raw);
  const std::string good = raw;
  auto zstd = [](const std::string& r) {
    std::string o(ZSTD_compressBound(r.size()), '\0');
    o.resize(ZSTD_compress(o.data(), o.size(), r.data(), r.size(), 1));
    return o;
  };
  auto corrupt = [&](const std::string& r) {
    try {
      decode_examples(zstd(r), out, uint64_t(1) << 20, d.get(), raw);
    } catch (const Error&) {
      return true;
    }
    return false;
  };
  CHECK_FALSE(corrupt(good));
  const size_t at = good.size() - 4 * 2 - 4 * 2;  // more_end[0]
  std::string r = good;
  r[at] = 3;  // more_end {3, 2}
  CHECK(corrupt(r));
  r = good;
  r[at + 4] = 1;  // ends at 1 of 2
  CHECK(corrupt(r));
  CHECK(corrupt(good.substr(0, good.size() - 4)));
  CHECK(corrupt(good + std::string(4, '\0')));
}

TEST_CASE("one against all with several labels learns each", "[test_sgd_labels]") {
  ModelOptions mo;
  mo.bits = 12;
  mo.classes = 3;
  mo.class_names = {"a", "b", "c"};
  mo.format = Format::fasttext;
  Model m(mo);
  std::string text;
  for (int i = 0; i < 200; ++i) text += "__label__a __label__b x\n__label__c y\n";
  auto ex = parse(Format::fasttext, text, m.options().parse_options());
  double loss = train_examples(m, ex);
  CHECK(loss < 0.1);  // right when the top class is either label
  Examples one = parse(Format::fasttext, "x\n", [&] {
    auto p = m.options().parse_options();
    p.require_label = false;
    return p;
  }());
  double sa = m.score(one.index.data(), one.value.data(), one.features(), 0);
  double sb = m.score(one.index.data(), one.value.data(), one.features(), 1);
  double sc = m.score(one.index.data(), one.value.data(), one.features(), 2);
  CHECK(sa > 0);
  CHECK(sb > 0);
  CHECK(sc < 0);
}

TEST_CASE("train command: classes found, given, or fixed by -i", "[test_sgd_labels]") {
  auto dir = grist_test::fresh_dir("sgd-labels", "command");
  std::string text;
  for (int i = 0; i < 50; ++i) text += "spam\tbuy pills\nham\tsee you at noon\neggs\tbreakfast\n";
  auto three = grist_test::write_file(dir / "three.tsv", text);
  auto binary = grist_test::write_file(dir / "bin.tsv", "1\ta\n0\tb\n");
  auto quiet = [](const std::string&) {};
  SECTION("found: byte order, one against all, saved and loaded") {
    TrainArgs a;
    a.inputs = {three};
    a.final_model = (dir / "m.gsgd").string();
    a.quiet = true;
    TrainCommand cmd(a);
    cmd.run(quiet);
    CHECK(cmd.model_options().classes == 3);
    CHECK(cmd.model_options().class_names == std::vector<std::string>{"eggs", "ham", "spam"});
    auto m = Model::load(a.final_model);
    CHECK(m->options().class_names == cmd.model_options().class_names);
    CHECK(m->options().format == Format::text);
  }
  SECTION("0/1 stays numeric: no names") {
    TrainArgs a;
    a.inputs = {binary};
    a.quiet = true;
    TrainCommand cmd(a);
    cmd.run(quiet);
    CHECK(cmd.model_options().classes == 0);
    CHECK(cmd.model_options().class_names.empty());
  }
  SECTION("--classes: the order given; two are binary") {
    TrainArgs a;
    a.inputs = {three};
    a.classes = "spam,ham,eggs";
    a.given = {"--classes"};
    TrainSetup s = resolve(a);
    CHECK(s.model.classes == 3);
    CHECK(s.model.class_names == std::vector<std::string>{"spam", "ham", "eggs"});
    a.classes = "ham,spam";
    s = resolve(a);
    CHECK(s.model.classes == 0);
    a.classes = "a,b,c";
    a.model.classes = 2;
    a.given = {"--classes", "--oaa"};
    CHECK_THROWS_WITH(resolve(a), "--oaa 2 differs from the 3 classes of --classes");
    a.model.classes = 0;
    a.loss = "squared";
    a.given = {"--classes", "--loss"};
    CHECK_THROWS_WITH(resolve(a), Catch::StartsWith("--classes names the classes of --loss logistic"));
    // a label not among them says so
    a = TrainArgs{};
    a.inputs = {three};
    a.quiet = true;
    a.classes = "spam,ham";
    a.given = {"--classes"};
    TrainCommand cmd(a);
    CHECK_THROWS_WITH(cmd.run(quiet), Catch::Contains("three.tsv:3: label 'eggs' is not one of the 2 "
                                                      "classes 'spam', 'ham'; add it to --classes"));
  }
  SECTION("--classes with -i is refused") {
    TrainArgs a;
    a.inputs = {three};
    a.final_model = (dir / "m2.gsgd").string();
    a.quiet = true;
    TrainCommand(a).run(quiet);
    TrainArgs b;
    b.inputs = {three};
    b.initial_model = a.final_model;
    b.classes = "a,b";
    b.given = {"--classes"};
    CHECK_THROWS_WITH(TrainCommand(b).run(quiet), "--classes is fixed by the model given with -i");
  }
}
