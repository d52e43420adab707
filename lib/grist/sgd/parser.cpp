#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>
#include <stdexcept>
#include <unordered_map>

#include "grist/error.hpp"
#include "grist/sgd/examples.hpp"
#include "grist/sgd/hash.hpp"
#include "grist/sgd/names.hpp"

#if __has_include("grist/text/tokenizer.hpp")
#include "grist/text/tokenizer.hpp"
#define GRIST_SGD_HAVE_TOKENIZER 1
#endif

namespace grist::sgd {

void Examples::clear() {
  label.clear();
  weight.clear();
  holdout.clear();
  begin.assign(1, 0);
  index.clear();
  value.clear();
  line.clear();
  tags.clear();
  tag_end.clear();
  more_labels.clear();
  more_end.clear();
}

namespace {

[[noreturn]] void bad(const std::string& msg) { throw std::invalid_argument(msg); }

inline bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r'; }

std::string quote(std::string_view s) { return quote_input(s, 40); }

// A finite float; accepts a leading '+', which std::from_chars does not.
inline bool parse_float(const char* b, const char* e, float& out) {
  if (e - b == 1 && *b >= '0' && *b <= '9') {  // the common "1"
    out = static_cast<float>(*b - '0');
    return true;
  }
  if (b < e && *b == '+') ++b;
  if (b == e) return false;
  auto r = std::from_chars(b, e, out);
  return r.ec == std::errc() && r.ptr == e && std::isfinite(out);
}

// Unlabelled text or fastText input takes a whole line as text: unless the
// line is an example of another format, which a model of words would
// score with other weights. Returns that format's name, or null. svmlight:
// a number or INDEX:VALUE, then only INDEX:VALUE (or qid:N), one at least;
// VW: nothing or a number before the first '|'; text (for fasttext): one
// token, then a tab; fasttext (for text): a first word __label__X.
const char* other_format(std::string_view line, Format self) {
  auto is_num = [](std::string_view t) {
    float v;
    return parse_float(t.data(), t.data() + t.size(), v);
  };
  auto is_feat = [&](std::string_view t) {
    size_t c = t.find(':');
    if (c == std::string_view::npos || c == 0) return false;
    if (t.substr(0, c) == "qid") return true;
    return t.substr(0, c).find_first_not_of("0123456789") == std::string_view::npos &&
           is_num(t.substr(c + 1));
  };
  // One walk over the tokens, no copies (this runs on every unlabelled
  // line grist-predict and grist-serve score).
  std::string_view first;
  size_t tokens = 0;
  bool feats = true;  // every token INDEX:VALUE, but a first that may be a number
  for (size_t i = 0; i < line.size();) {
    while (i < line.size() && is_space(line[i])) ++i;
    size_t j = i;
    while (j < line.size() && !is_space(line[j])) ++j;
    if (j == i) break;
    std::string_view t = line.substr(i, j - i);
    if (tokens++ == 0) first = t;
    if (feats) feats = is_feat(t) || (tokens == 1 && is_num(t));
    i = j;
  }
  if (tokens == 0) return nullptr;
  if (self == Format::text && first.starts_with("__label__")) return "fasttext";
  if (size_t bar = line.find('|'); bar != std::string_view::npos) {
    std::string_view head = line.substr(0, bar);
    size_t f = head.find_first_not_of(" \t\r");
    if (f == std::string_view::npos) return "vw";
    size_t e = head.find_first_of(" \t\r", f);
    if (is_num(head.substr(f, e == std::string_view::npos ? head.size() - f : e - f))) return "vw";
  }
  if (feats && (tokens >= 2 || is_feat(first))) return "svmlight";
  size_t tab = line.find('\t');
  if (self == Format::fasttext && tab != std::string_view::npos &&
      line.substr(0, tab).find_first_of(" \r") == std::string_view::npos) {
    return "text";
  }
  return nullptr;
}

}  // namespace

struct Parser::Impl {
  ParseOptions o;
  uint64_t mask;
  struct Feat {
    char ns;
    uint64_t h;
    float v;
    std::string_view nsname, name;  // for feature names
  };
  std::vector<Feat> feats;       // VW with -q: the example's features
  std::vector<std::string_view> tokens;
  std::string gram;
  std::vector<uint32_t> scratch;
  FeatureNames* names;
  std::string name_buf;
#ifdef GRIST_SGD_HAVE_TOKENIZER
  std::unique_ptr<grist::Tokenizer> tok;
#endif
  // LabelKind::named: name -> class (views of o.class_names).
  std::unordered_map<std::string_view, int> class_of;
  std::vector<float> extra;  // fasttext: the labels after the first

  // -q: the pairs with a ':' expand per example; the others are fixed.
  bool wildcard = false;
  std::vector<std::pair<char, char>> pairs;  // of this example
  std::vector<uint32_t> by_ns;               // feats positions grouped by namespace letter
  std::vector<uint32_t> group_begin;         // by_ns range of letter c: [group_begin[c], group_begin[c + 1])

  explicit Impl(const ParseOptions& opts)
      : o(opts), mask((uint64_t(1) << opts.bits) - 1), names(opts.names) {
    check_quadratic(o.quadratic);
    for (const auto& q : o.quadratic) wildcard |= q[0] == ':' || q[1] == ':';
    if (!wildcard) {
      for (const auto& q : o.quadratic) add_pair(q[0], q[1]);
    }
#ifdef GRIST_SGD_HAVE_TOKENIZER
    if (o.format == Format::text || o.format == Format::fasttext) {
      tok = std::make_unique<grist::Tokenizer>(grist::TokenizerOptions{});
    }
#endif
    if (o.labels == LabelKind::named) {
      if (o.classes > 0 ? o.class_names.size() != size_t(o.classes) : o.class_names.size() != 2) {
        throw std::logic_error("ParseOptions: class_names do not match classes");
      }
      for (size_t k = 0; k < o.class_names.size(); ++k) class_of.emplace(o.class_names[k], int(k));
    }
  }

  std::string class_list() const {
    std::string s;
    for (size_t k = 0; k < o.class_names.size(); ++k) {
      if (k == 8 && o.class_names.size() > 10) {
        s += ", ... (" + std::to_string(o.class_names.size() - 8) + " more)";
        break;
      }
      s += (k ? ", " : "") + quote(o.class_names[k]);
    }
    return s;
  }

  float named_label(std::string_view t) {
    auto it = class_of.find(t);
    if (it == class_of.end()) {
      bad("label " + quote(t) + " is not one of the " + std::to_string(o.class_names.size()) +
          " classes " + class_list() + o.label_hint);
    }
    if (o.classes > 0) return static_cast<float>(it->second);
    return it->second == 0 ? -1.f : 1.f;
  }

  float check_label(std::string_view t) {
    if (o.labels == LabelKind::named) return named_label(t);
    float v;
    if (!parse_float(t.data(), t.data() + t.size(), v)) {
      bad("bad label " + quote(t) +
          (o.labels == LabelKind::binary ? ": not -1/+1 or 0/1"
           : o.labels == LabelKind::multiclass
               ? ": not a class number " + std::to_string(o.class_base) + ".." +
                     std::to_string(o.class_base + o.classes - 1)
               : std::string()) +
          (o.labels == LabelKind::real ? std::string() : o.label_hint));
    }
    switch (o.labels) {
      case LabelKind::binary:
        if (v == 1) return 1;
        if (v == -1 || v == 0) return -1;
        bad("label " + quote(t) + " is not binary (use -1/+1 or 0/1)" + o.label_hint);
      case LabelKind::real:
        return v;
      case LabelKind::multiclass: {
        float c = v - o.class_base;
        if (c != std::floor(c) || c < 0 || c >= o.classes) {
          bad("class label " + quote(t) + " out of range " + std::to_string(o.class_base) + ".." +
              std::to_string(o.class_base + o.classes - 1) + o.label_hint);
        }
        return c;
      }
      case LabelKind::named: break;
    }
    return v;
  }

  void start(Examples& out, float label, float weight, uint64_t line_no) {
    out.label.push_back(label);
    out.weight.push_back(weight);
    out.holdout.push_back(0);
    out.line.push_back(line_no);
  }
  void end(Examples& out) { out.begin.push_back(static_cast<uint32_t>(out.index.size())); }
  void add(Examples& out, uint64_t h, float v) {
    if (v == 0) return;
    out.index.push_back(static_cast<uint32_t>(h & mask));
    out.value.push_back(v);
  }
  // add() that also names the feature; `name()` builds the name, called
  // only for an index not named yet.
  template <class Name>
  void add_named(Examples& out, uint64_t h, float v, Name&& name) {
    if (v == 0) return;
    uint32_t i = static_cast<uint32_t>(h & mask);
    out.index.push_back(i);
    out.value.push_back(v);
    if (names && !names->has(i)) names->add(i, name());
  }
  // "NS^NAME", or NAME in the unnamed namespace.
  std::string_view vw_name(std::string_view ns, std::string_view name) {
    if (ns.empty()) return name;
    name_buf.assign(ns);
    name_buf += '^';
    name_buf.append(name);
    return name_buf;
  }
  // Leaves `out` as it was before the failed example.
  void rollback(Examples& out, size_t n_before, size_t f_before, size_t t_before,
                size_t m_before) {
    out.label.resize(n_before);
    out.weight.resize(n_before);
    out.holdout.resize(n_before);
    out.line.resize(n_before);
    out.begin.resize(n_before + 1);
    out.index.resize(f_before);
    out.value.resize(f_before);
    // Tags exist for VW input only (tag_end stays empty for the others).
    if (out.tag_end.size() > n_before) out.tag_end.resize(n_before);
    if (out.tags.size() > t_before) out.tags.resize(t_before);
    if (out.more_end.size() > n_before) out.more_end.resize(n_before);
    if (out.more_labels.size() > m_before) out.more_labels.resize(m_before);
  }

  bool svmlight(const char* p, const char* e, Examples& out, uint64_t line_no) {
    while (p < e && is_space(*p)) ++p;
    if (p == e || *p == '#') return false;
    const char* t = p;
    while (p < e && !is_space(*p)) ++p;
    std::string_view first(t, p - t);
    if (!o.require_label && first.find(':') != std::string_view::npos) {
      p = t;  // no label: the first token is a feature
      start(out, std::numeric_limits<float>::quiet_NaN(), 1, line_no);
    } else {
      start(out, check_label(first), 1, line_no);
    }
    for (;;) {
      while (p < e && is_space(*p)) ++p;
      if (p == e || *p == '#') break;
      t = p;
      uint64_t idx = 0;
      int digits = 0;
      while (p < e && static_cast<unsigned>(*p - '0') <= 9) {
        idx = idx * 10 + (*p - '0');
        ++p;
        ++digits;
      }
      if (p < e && *p == ':' && digits > 0 && digits <= 19) {
        const char* v = ++p;
        while (p < e && !is_space(*p)) ++p;
        float val;
        if (!parse_float(v, p, val)) bad("bad feature value in " + quote({t, size_t(p - t)}));
        add_named(out, idx, val, [&] { return std::string_view(t, v - 1 - t); });
        continue;
      }
      while (p < e && !is_space(*p)) ++p;
      std::string_view tok(t, p - t);
      if (tok.substr(0, 4) == "qid:") continue;
      bad("expected INDEX:VALUE, got " + quote(tok));
    }
    end(out);
    return true;
  }

  // One function of ~90 lines, longer than the house's ~80: a VW line's
  // grammar (header, then namespaces and their features) in one pass over
  // the bytes, the parser's hot loop; in pieces it would hand half a dozen
  // cursors and states between them.
  bool vw(const char* p, const char* e, Examples& out, uint64_t line_no) {
    const char* s = p;
    while (s < e && is_space(*s)) ++s;
    if (s == e) return false;
    const char* bar = static_cast<const char*>(std::memchr(p, '|', e - p));
    if (!bar) bad("no '|' before the features (not a Vowpal Wabbit example)");
    // Header: [label [importance]] ['tag]
    std::string_view head(p, bar - p);
    std::string_view tag;
    float label = std::numeric_limits<float>::quiet_NaN(), weight = 1;
    int numbers = 0;
    size_t i = 0;
    while (i < head.size()) {
      while (i < head.size() && is_space(head[i])) ++i;
      if (i == head.size()) break;
      size_t j = i;
      while (j < head.size() && !is_space(head[j])) ++j;
      std::string_view t = head.substr(i, j - i);
      bool last_touching = j == head.size();
      if (t[0] == '\'' || (last_touching && numbers > 0) ||
          (last_touching && numbers == 0 && !std::isdigit(static_cast<unsigned char>(t[0])) &&
           t[0] != '-' && t[0] != '+' && t[0] != '.')) {
        tag = t[0] == '\'' ? t.substr(1) : t;
      } else if (numbers == 0) {
        label = check_label(t);
        ++numbers;
      } else if (numbers == 1) {
        if (!parse_float(t.data(), t.data() + t.size(), weight) || weight < 0) {
          bad("bad importance weight " + quote(t));
        }
        ++numbers;
      } else {
        bad("unexpected " + quote(t) + " before '|' (label, importance, tag expected)");
      }
      i = j;
    }
    if (numbers == 0 && o.require_label) bad("no label");
    start(out, label, weight, line_no);
    if (o.keep_tags) {
      out.tags.append(tag);
      out.tag_end.push_back(static_cast<uint32_t>(out.tags.size()));
    }
    const bool quad = !o.quadratic.empty();
    if (quad) feats.clear();
    p = bar;
    while (p < e) {  // at '|'
      ++p;
      const char* n = p;
      while (p < e && !is_space(*p) && *p != ':' && *p != '|') ++p;
      std::string_view ns(n, p - n);
      float scale = 1;
      if (p < e && *p == ':') {
        const char* v = ++p;
        while (p < e && !is_space(*p) && *p != '|') ++p;
        if (!parse_float(v, p, scale)) bad("bad namespace weight in " + quote({n, size_t(p - n)}));
      }
      uint64_t seed = namespace_seed(ns);
      char nsc = ns.empty() ? ' ' : ns[0];
      for (;;) {
        while (p < e && is_space(*p)) ++p;
        if (p == e || *p == '|') break;
        const char* f = p;
        const char* colon = nullptr;
        while (p < e && !is_space(*p) && *p != '|') {
          if (*p == ':' && !colon) colon = p;
          ++p;
        }
        float val = 1;
        std::string_view name(f, (colon ? colon : p) - f);
        if (colon) {
          if (!parse_float(colon + 1, p, val)) bad("bad feature value in " + quote({f, size_t(p - f)}));
        }
        if (name.empty()) bad("empty feature name in " + quote({f, size_t(p - f)}));
        uint64_t h = feature_hash(name, seed);
        val *= scale;
        if (!std::isfinite(val)) {
          bad("feature value times namespace weight is out of range in " +
              quote({f, size_t(p - f)}));
        }
        add_named(out, h, val, [&] { return vw_name(ns, name); });
        if (quad) feats.push_back({nsc, h, val, ns, name});
      }
    }
    if (quad) cross(out);
    end(out);
    return true;
  }

  // Adds the pair unless it, or the reverse, is there.
  void add_pair(char a, char b) {
    for (const auto& [x, y] : pairs) {
      if ((x == a && y == b) || (x == b && y == a)) return;
    }
    pairs.emplace_back(a, b);
  }

  // The quadratic features of the example in feats.
  void cross(Examples& out) {
    // Group the features by namespace letter, each group in input order, so
    // that a pair costs the product of its groups, not feats^2.
    group_begin.assign(257, 0);
    for (const auto& f : feats) ++group_begin[static_cast<unsigned char>(f.ns) + 1];
    for (int c = 0; c < 256; ++c) group_begin[c + 1] += group_begin[c];
    by_ns.resize(feats.size());
    {
      std::vector<uint32_t>& next = scratch;
      next.assign(group_begin.begin(), group_begin.end() - 1);
      for (uint32_t i = 0; i < feats.size(); ++i) {
        by_ns[next[static_cast<unsigned char>(feats[i].ns)]++] = i;
      }
    }
    auto present = [&](unsigned char c) { return group_begin[c + 1] > group_begin[c]; };
    if (wildcard) {
      pairs.clear();
      for (const auto& q : o.quadratic) {
        const char a = q[0], b = q[1];
        if (a != ':' && b != ':') {
          add_pair(a, b);
        } else if (a == ':' && b == ':') {
          for (int x = 0; x < 256; ++x) {
            if (!present(x)) continue;
            for (int y = x; y < 256; ++y) {
              if (present(y)) add_pair(static_cast<char>(x), static_cast<char>(y));
            }
          }
        } else {
          const unsigned char n = static_cast<unsigned char>(a == ':' ? b : a);
          if (!present(n)) continue;
          for (int x = 0; x < 256; ++x) {
            if (present(x)) add_pair(static_cast<char>(std::min<int>(n, x)), static_cast<char>(std::max<int>(n, x)));
          }
        }
      }
    }
    for (const auto& [qa, qb] : pairs) {
      const unsigned char ca = static_cast<unsigned char>(qa), cb = static_cast<unsigned char>(qb);
      for (uint32_t ia = group_begin[ca]; ia < group_begin[ca + 1]; ++ia) {
        const Feat& fa = feats[by_ns[ia]];
        for (uint32_t ib = ca == cb ? ia + 1 : group_begin[cb]; ib < group_begin[cb + 1]; ++ib) {
          const Feat& fb = feats[by_ns[ib]];
          float v = fa.v * fb.v;
          if (!std::isfinite(v)) {
            bad("quadratic feature " + quote(vw_name(fa.nsname, fa.name)) + "*" +
                quote(vw_name(fb.nsname, fb.name)) + ": value out of range");
          }
          add_named(out, quadratic_hash(fa.h, fb.h), v, [&] {
            std::string q(vw_name(fa.nsname, fa.name));
            q += '*';
            q.append(vw_name(fb.nsname, fb.name));
            name_buf = std::move(q);
            return std::string_view(name_buf);
          });
        }
      }
    }
  }

  bool text(const char* p, const char* e, Examples& out, uint64_t line_no) {
    const char* tab = static_cast<const char*>(std::memchr(p, '\t', e - p));
    if (!tab) {
      const char* s = p;
      while (s < e && is_space(*s)) ++s;
      if (s == e) return false;
      if (o.require_label) bad("no tab after the label (text format is LABEL<TAB>TEXT)");
      if (const char* f = other_format({p, size_t(e - p)}, Format::text)) {
        bad(std::string("no tab: an unlabelled line of text, but it reads as a ") + f + " example");
      }
      start(out, std::numeric_limits<float>::quiet_NaN(), 1, line_no);  // all text
      words(out, {p, size_t(e - p)});
      return true;
    }
    const char* l = p;
    const char* le = tab;
    while (l < le && is_space(*l)) ++l;
    while (le > l && is_space(le[-1])) --le;
    if (l == le) bad("no label before the tab");
    start(out, check_label({l, size_t(le - l)}), 1, line_no);
    words(out, {tab + 1, size_t(e - tab - 1)});
    return true;
  }

  // fastText: "__label__A [__label__B ...] TEXT"; the labels are the
  // leading tokens that start with __label__, the rest is text.
  bool fasttext(const char* p, const char* e, Examples& out, uint64_t line_no) {
    static constexpr std::string_view kPrefix = "__label__";
    const char* s = p;
    while (s < e && is_space(*s)) ++s;
    if (s == e) return false;
    extra.clear();
    float first = std::numeric_limits<float>::quiet_NaN();
    int labels = 0;
    for (;;) {
      while (s < e && is_space(*s)) ++s;
      if (size_t(e - s) < kPrefix.size() || std::memcmp(s, kPrefix.data(), kPrefix.size()) != 0) break;
      const char* t = s + kPrefix.size();
      const char* te = t;
      while (te < e && !is_space(*te)) ++te;
      if (te == t) bad("empty label: " + quote({s, size_t(te - s)}));
      float v = check_label({t, size_t(te - t)});
      if (labels++ == 0) {
        first = v;
      } else {
        if (o.labels != LabelKind::multiclass && !(o.labels == LabelKind::named && o.classes > 0)) {
          bad("several labels (" + quote({t, size_t(te - t)}) + " is the second): only a " +
              "one-against-all model takes more than one" + o.label_hint);
        }
        extra.push_back(v);
      }
      s = te;
    }
    if (labels == 0 && o.require_label) bad("no label (fastText format is __label__NAME TEXT)");
    if (labels == 0) {
      if (const char* f = other_format({p, size_t(e - p)}, Format::fasttext)) {
        bad(std::string("no __label__: an unlabelled line of text, but it reads as a ") + f +
            " example");
      }
    }
    start(out, first, 1, line_no);
    out.more_labels.insert(out.more_labels.end(), extra.begin(), extra.end());
    out.more_end.push_back(static_cast<uint32_t>(out.more_labels.size()));
    words(out, {s, size_t(e - s)});
    return true;
  }

  // The words (and n-grams) of `body` as features, then the example's end.
  void words(Examples& out, std::string_view body) {
    tokens.clear();
#ifdef GRIST_SGD_HAVE_TOKENIZER
    tok->tokenize(body, tokens);
#else
    for (size_t i = 0; i < body.size();) {  // ASCII whitespace until the tokenizer lands
      while (i < body.size() && (is_space(body[i]) || body[i] == '\n')) ++i;
      size_t j = i;
      while (j < body.size() && !is_space(body[j])) ++j;
      if (j > i) tokens.push_back(body.substr(i, j - i));
      i = j;
    }
#endif
    for (size_t i = 0; i < tokens.size(); ++i) {
      add_named(out, feature_hash(tokens[i], 0), 1, [&] { return tokens[i]; });
      for (int n = 2; n <= o.ngrams && i + n <= tokens.size(); ++n) {
        gram.assign(tokens[i]);
        for (int k = 1; k < n; ++k) {
          gram += ' ';
          gram.append(tokens[i + k]);
        }
        add_named(out, XXH3_64bits(gram.data(), gram.size()), 1, [&] { return std::string_view(gram); });
      }
    }
    end(out);
  }

  bool line(std::string_view s, Examples& out, uint64_t line_no) {
    const char* p = s.data();
    const char* e = p + s.size();
    if (e > p && e[-1] == '\r') --e;
    switch (o.format) {
      case Format::svmlight: return svmlight(p, e, out, line_no);
      case Format::vw: return vw(p, e, out, line_no);
      case Format::text: return text(p, e, out, line_no);
      case Format::fasttext: return fasttext(p, e, out, line_no);
    }
    return false;
  }
};

Parser::Parser(const ParseOptions& opts) : impl_(std::make_unique<Impl>(opts)) {}
Parser::~Parser() = default;

bool Parser::parse_line(std::string_view line, Examples& out, uint64_t line_no) {
  size_t n = out.size(), f = out.index.size(), t = out.tags.size(), m = out.more_labels.size();
  try {
    return impl_->line(line, out, line_no);
  } catch (...) {
    impl_->rollback(out, n, f, t, m);
    throw;
  }
}

void Parser::parse_block(const Block& b, Examples& out, SkippedLines* skip, LineShare share) {
  uint64_t line_no = b.first_line;
  for_each_line(b, [&](std::string_view line) {
    try {
      if (share.keeps(line_no)) parse_line(line, out, line_no);
    } catch (const std::invalid_argument& e) {
      if (!skip) throw Error(*b.source, line_no, e.what());
      skip->add_lazily([&] {
        return escape_bytes(*b.source, SIZE_MAX) + ":" + std::to_string(line_no) + ": " +
               e.what();
      });
    }
    ++line_no;
  });
}

}  // namespace grist::sgd
