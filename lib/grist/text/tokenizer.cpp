#include "grist/text/tokenizer.hpp"

#include "grist/error.hpp"
#include "grist/text/tokenizer_impl.hpp"

namespace grist {

namespace detail {

namespace {

// Asks ICU whether `s` is a single segment.
bool one_segment(icu::BreakIterator& bi, const char* s) {
  UErrorCode status = U_ZERO_ERROR;
  UText* ut = utext_openUTF8(nullptr, s, -1, &status);
  bi.setText(ut, status);
  bool one = U_SUCCESS(status) && bi.first() == 0 &&
             bi.next() == static_cast<int32_t>(std::strlen(s)) &&
             bi.next() == icu::BreakIterator::DONE;
  utext_close(ut);
  return one;
}

AsciiClasses make_classes() {
  AsciiClasses t{};
  for (int c = 0; c < 128; ++c) {
    unsigned char k = 0;
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) k = kLetter | kAlnum;
    if (c >= 'A' && c <= 'Z') k |= kUpper;
    if (c >= '0' && c <= '9') k = kDigit | kAlnum;
    if (c == '_') k = kUnder;
    if (c == '.' || c == '\'') k = kMidLetter | kMidNum;
    if (c == ',' || c == ';') k = kMidNum;
    if (k == 0 && c != '"' && c != ':' && c != '@') k = kCut;
    t.word[c] = k;
  }
  // '@' and ':' differ between ICU versions and tailorings: ask this ICU.
  UErrorCode status = U_ZERO_ERROR;
  std::unique_ptr<icu::BreakIterator> bi(
      icu::BreakIterator::createWordInstance(icu::Locale::getRoot(), status));
  if (U_FAILURE(status) || !bi) {
    throw Error(std::string("ICU word break iterator: ") + u_errorName(status));
  }
  if (one_segment(*bi, "a@b") && one_segment(*bi, "@1")) {
    t.word[static_cast<unsigned char>('@')] = kLetter;
    t.at = '@';
  }
  if (one_segment(*bi, "a:b")) {
    t.word[static_cast<unsigned char>(':')] = kMidLetter;
    t.colon = ':';
  }
  return t;
}

}  // namespace

const AsciiClasses& ascii_classes() {
  static const AsciiClasses classes = make_classes();
  return classes;
}

[[noreturn]] void throw_icu(const char* what, UErrorCode status) {
  throw Error(std::string("ICU ") + what + ": " + u_errorName(status));
}

}  // namespace detail

using namespace detail;

namespace {

// Where ICU writes folded text: after the `used` bytes of buf.
class ScratchSink : public icu::ByteSink {
 public:
  ScratchSink(std::string& buf, size_t& used) : buf_(buf), used_(used) {}
  void Append(const char* bytes, int32_t n) override {
    if (n <= 0) return;
    grow(buf_, used_ + n);
    std::memcpy(buf_.data() + used_, bytes, n);
    used_ += n;
  }

 private:
  std::string& buf_;
  size_t& used_;
};

}  // namespace

Tokenizer::Tokenizer(const TokenizerOptions& options)
    : options_(options), icu_(std::make_unique<Icu>()) {
  if (options_.min_length == 0) options_.min_length = 1;
  length_filter_ = options_.min_length > 1 || options_.max_length != SIZE_MAX;
  classes_ = &ascii_classes();
  UErrorCode status = U_ZERO_ERROR;
  if (options_.mode == TokenMode::word) {
    icu_->words.reset(
        icu::BreakIterator::createWordInstance(icu::Locale::getRoot(), status));
    if (U_FAILURE(status) || !icu_->words) throw_icu("word break iterator", status);
  }
  if (options_.lower) {
    icu_->fold = icu::Normalizer2::getNFKCCasefoldInstance(status);
    if (U_FAILURE(status) || !icu_->fold) throw_icu("NFKC_Casefold", status);
  }
}

Tokenizer::~Tokenizer() = default;
Tokenizer::Tokenizer(Tokenizer&&) noexcept = default;
Tokenizer& Tokenizer::operator=(Tokenizer&&) noexcept = default;

// A token from the text that may hold non-ASCII code points.
void Tokenizer::emit_unicode(const unsigned char* b, size_t n) {
  const char* p = reinterpret_cast<const char*>(b);
  if (!options_.lower) {
    emit_checked(p, n, false);
    return;
  }
  if (!options_.force_icu && n <= 64) {  // an ASCII token from ICU: fold here
    unsigned char seen = 0;
    bool upper = false;
    for (size_t i = 0; i < n; ++i) {
      seen |= b[i];
      upper |= static_cast<unsigned>(b[i] - 'A') < 26u;
    }
    if (seen < 0x80) {
      emit_ascii(b, n, upper);
      return;
    }
  }
  const icu::Normalizer2& fold = *icu_->fold;
  UErrorCode status = U_ZERO_ERROR;
  if (n <= kMaxIcuPiece &&
      fold.isNormalizedUTF8(icu::StringPiece(p, static_cast<int32_t>(n)), status)) {
    emit_checked(p, n, false);
    return;
  }
  size_t offset = scratch_used_;
  {
    ScratchSink sink(scratch_, scratch_used_);
    while (n > 0) {  // ICU takes int32_t lengths: fold 1 GiB at a time
      size_t chunk = n;
      if (chunk > kMaxIcuPiece) {
        chunk = kMaxIcuPiece;
        while ((b[chunk] & 0xC0) == 0x80) --chunk;
      }
      fold.normalizeUTF8(0, icu::StringPiece(p, static_cast<int32_t>(chunk)), sink,
                         nullptr, status);
      b += chunk;
      p += chunk;
      n -= chunk;
    }
  }
  if (U_FAILURE(status)) throw_icu("NFKC_Casefold", status);
  // Cut the folded text again at ASCII whitespace (U+00A0 -> ' ', ...).
  size_t end = scratch_used_;
  size_t i = offset;
  while (i < end) {
    while (i < end && is_ascii_space(static_cast<unsigned char>(scratch_[i]))) ++i;
    size_t start = i;
    while (i < end && !is_ascii_space(static_cast<unsigned char>(scratch_[i]))) ++i;
    if (i == start) break;
    size_t size = i - start;
    if (length_filter_) {
      size_t length = count_code_points(scratch_.data() + start, size);
      if (length < options_.min_length || length > options_.max_length) continue;
    }
    fixups_.push_back({out_->size(), start, size});
    out_->emplace_back();
  }
}

size_t Tokenizer::tokenize(std::string_view text, std::vector<std::string_view>& out) {
  out_ = &out;
  scratch_used_ = 0;
  fixups_.clear();
  const auto* b = reinterpret_cast<const unsigned char*>(text.data());
  size_t invalid;
  if (options_.mode == TokenMode::whitespace) {
    invalid = whitespace(b, text.size());
  } else if (options_.force_icu) {
    invalid = words_icu_only(b, text.size());
  } else {
    invalid = words(b, text.size());
  }
  // Folded tokens were appended to scratch_, which may have moved as it
  // grew: point them at their final place only now.
  for (const Fixup& f : fixups_) out[f.index] = {scratch_.data() + f.offset, f.size};
  out_ = nullptr;
  return invalid;
}

}  // namespace grist
