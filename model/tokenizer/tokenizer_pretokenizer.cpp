// See tokenizer_pretokenizer.h. Each pre-tokenizer walks the current pieces and splits every piece with
// its own rule, the way the reference's PreTokenizedString::split does (a rule sees one piece at a time,
// never the whole input).
#include "model/tokenizer/tokenizer_pretokenizer.h"

#include <algorithm>

#include "common/error.h"
#include "model/tokenizer/tokenizer_steps.h"
#include "model/tokenizer/tokenizer_utf8.h"

namespace r1::model {
namespace {

// GPT-2's pre-tokenizer pattern (ByteLevel with use_regex=true).
constexpr const char* kGpt2Pattern =
    R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";

// Splits every piece at the given spans (computed per piece by find), keeping `at_start` exact.
template <class Find>
void split_pieces(std::vector<Piece>& pieces, SplitBehavior behavior, bool invert, Find find) {
  std::vector<Piece> out;
  out.reserve(pieces.size() * 2);
  for (Piece& piece : pieces) {
    std::vector<std::pair<Span, bool>> splits = matches_to_splits(find(piece.text), piece.text.size());
    if (invert)
      for (auto& s : splits) s.second = !s.second;
    for (const Span& span : apply_split_behavior(splits, behavior)) {
      if (span.second <= span.first) continue;
      out.push_back({piece.text.substr(span.first, span.second - span.first), piece.at_start && span.first == 0});
    }
  }
  pieces = std::move(out);
}

class SplitPre : public PreTokenizer {
 public:
  SplitPre(Pattern pattern, SplitBehavior behavior, bool invert)
      : pattern_(std::move(pattern)), behavior_(behavior), invert_(invert) {}
  void apply(std::vector<Piece>& pieces) const override {
    split_pieces(pieces, behavior_, invert_, [this](const std::string& s) { return pattern_.find_all(s); });
  }

 private:
  Pattern pattern_;
  SplitBehavior behavior_;
  bool invert_;
};

class ByteLevelPre : public PreTokenizer {
 public:
  ByteLevelPre(bool add_prefix_space, bool use_regex, const std::string& where) : add_prefix_space_(add_prefix_space) {
    if (use_regex) regex_ = std::make_unique<Regex>(kGpt2Pattern, where + " (GPT-2 pattern)");
  }
  void apply(std::vector<Piece>& pieces) const override {
    if (add_prefix_space_) {
      for (Piece& p : pieces)
        if (p.text.empty() || p.text[0] != ' ') p.text.insert(0, 1, ' ');
    }
    if (regex_) {
      split_pieces(pieces, SplitBehavior::kIsolated, false, [this](const std::string& s) { return regex_->find_all(s); });
    }
    for (Piece& p : pieces) p.text = to_byte_level(p.text);
  }
  bool byte_level() const override { return true; }

 private:
  bool add_prefix_space_;
  std::unique_ptr<Regex> regex_;
};

class MetaspacePre : public PreTokenizer {
 public:
  enum class Prepend { kAlways, kFirst, kNever };
  MetaspacePre(std::string replacement, Prepend prepend, bool split)
      : replacement_(std::move(replacement)), prepend_(prepend), split_(split) {}
  void apply(std::vector<Piece>& pieces) const override {
    for (Piece& p : pieces) {
      std::string replaced;
      replaced.reserve(p.text.size() + 8);
      for (char c : p.text) {
        if (c == ' ') replaced += replacement_;
        else replaced += c;
      }
      const bool starts = replaced.compare(0, replacement_.size(), replacement_) == 0;
      if (!starts && (prepend_ == Prepend::kAlways || (prepend_ == Prepend::kFirst && p.at_start))) {
        replaced.insert(0, replacement_);
      }
      p.text = std::move(replaced);
    }
    if (split_) {
      split_pieces(pieces, SplitBehavior::kMergedWithNext, false,
                   [this](const std::string& s) { return find_literal(s, replacement_); });
    }
  }

 private:
  std::string replacement_;
  Prepend prepend_;
  bool split_;
};

class SequencePre : public PreTokenizer {
 public:
  explicit SequencePre(std::vector<std::unique_ptr<PreTokenizer>> parts) : parts_(std::move(parts)) {}
  void apply(std::vector<Piece>& pieces) const override {
    for (const auto& p : parts_) p->apply(pieces);
  }
  bool byte_level() const override {
    for (const auto& p : parts_)
      if (p->byte_level()) return true;
    return false;
  }

 private:
  std::vector<std::unique_ptr<PreTokenizer>> parts_;
};

std::unique_ptr<PreTokenizer> regex_split(const std::string& pattern, SplitBehavior behavior, bool invert,
                                          const std::string& where) {
  Pattern p;
  p.regex = std::make_unique<Regex>(pattern, where);
  return std::make_unique<SplitPre>(std::move(p), behavior, invert);
}

}  // namespace

SplitBehavior parse_split_behavior(const std::string& name, const std::string& where) {
  if (name == "Removed") return SplitBehavior::kRemoved;
  if (name == "Isolated") return SplitBehavior::kIsolated;
  if (name == "MergedWithPrevious") return SplitBehavior::kMergedWithPrevious;
  if (name == "MergedWithNext") return SplitBehavior::kMergedWithNext;
  if (name == "Contiguous") return SplitBehavior::kContiguous;
  fail(where, ": unknown split behavior '", name,
       "' (expected Removed, Isolated, MergedWithPrevious, MergedWithNext or Contiguous)");
}

std::vector<Span> apply_split_behavior(const std::vector<std::pair<Span, bool>>& splits, SplitBehavior behavior) {
  std::vector<Span> out;
  out.reserve(splits.size());
  switch (behavior) {
    case SplitBehavior::kIsolated:
      for (const auto& s : splits) out.push_back(s.first);
      break;
    case SplitBehavior::kRemoved:
      for (const auto& s : splits)
        if (!s.second) out.push_back(s.first);
      break;
    case SplitBehavior::kContiguous: {
      bool previous_match = false;
      for (const auto& s : splits) {
        if (s.second == previous_match && !out.empty()) out.back().second = s.first.second;
        else out.push_back(s.first);
        previous_match = s.second;
      }
      break;
    }
    case SplitBehavior::kMergedWithPrevious: {
      bool previous_match = false;
      for (const auto& s : splits) {
        if (s.second && !previous_match && !out.empty()) out.back().second = s.first.second;
        else out.push_back(s.first);
        previous_match = s.second;
      }
      break;
    }
    case SplitBehavior::kMergedWithNext: {
      bool previous_match = false;
      for (auto it = splits.rbegin(); it != splits.rend(); ++it) {
        if (it->second && !previous_match && !out.empty()) out.back().first = it->first.first;
        else out.push_back(it->first);
        previous_match = it->second;
      }
      std::reverse(out.begin(), out.end());
      break;
    }
  }
  return out;
}

const std::array<std::string, 256>& byte_level_alphabet() {
  static const std::array<std::string, 256> table = [] {
    std::array<std::string, 256> t;
    int extra = 0;
    for (int b = 0; b < 256; ++b) {
      const bool printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
      const uint32_t cp = printable ? static_cast<uint32_t>(b) : static_cast<uint32_t>(256 + extra++);
      utf8::append(t[b], cp);
    }
    return t;
  }();
  return table;
}

int byte_level_byte(int32_t cp) {
  static const std::array<int16_t, 324> inverse = [] {
    std::array<int16_t, 324> inv;
    inv.fill(-1);
    const auto& alphabet = byte_level_alphabet();
    for (int b = 0; b < 256; ++b) {
      int32_t c;
      utf8::next(alphabet[b], 0, &c);
      inv[c] = static_cast<int16_t>(b);
    }
    return inv;
  }();
  return cp >= 0 && cp < 324 ? inverse[cp] : -1;
}

std::string to_byte_level(std::string_view bytes) {
  const auto& alphabet = byte_level_alphabet();
  std::string out;
  out.reserve(bytes.size() * 2);
  for (char c : bytes) out += alphabet[static_cast<uint8_t>(c)];
  return out;
}

std::unique_ptr<PreTokenizer> make_pre_tokenizer(const json::Value& v, const std::string& where) {
  if (v.IsNull()) return nullptr;
  R1_CHECK(v.IsObject(), where, ": expected an object or null, got ", json::type_name(v));
  const std::string type = json::get_string(v, "type", where);
  if (type == "Split") {
    Pattern pattern = read_pattern(v, where);
    const SplitBehavior behavior = parse_split_behavior(json::get_string(v, "behavior", where), where + ".behavior");
    const bool invert = json::opt_bool(v, "invert", where).value_or(false);
    return std::make_unique<SplitPre>(std::move(pattern), behavior, invert);
  }
  if (type == "ByteLevel") {
    return std::make_unique<ByteLevelPre>(json::opt_bool(v, "add_prefix_space", where).value_or(true),
                                          json::opt_bool(v, "use_regex", where).value_or(true), where);
  }
  if (type == "Digits") {
    const bool individual = json::opt_bool(v, "individual_digits", where).value_or(false);
    return regex_split(individual ? R"(\p{N})" : R"(\p{N}+)", SplitBehavior::kIsolated, false, where);
  }
  if (type == "Whitespace") return regex_split(R"(\w+|[^\w\s]+)", SplitBehavior::kIsolated, false, where);
  if (type == "WhitespaceSplit") return regex_split(R"(\s+)", SplitBehavior::kRemoved, false, where);
  if (type == "Metaspace") {
    const std::string replacement = json::opt_string(v, "replacement", where).value_or("\xE2\x96\x81");
    MetaspacePre::Prepend prepend = MetaspacePre::Prepend::kAlways;
    if (auto scheme = json::opt_string(v, "prepend_scheme", where)) {
      if (*scheme == "always") prepend = MetaspacePre::Prepend::kAlways;
      else if (*scheme == "first") prepend = MetaspacePre::Prepend::kFirst;
      else if (*scheme == "never") prepend = MetaspacePre::Prepend::kNever;
      else fail(where, ".prepend_scheme: expected always, first or never, got '", *scheme, "'");
    } else if (auto add = json::opt_bool(v, "add_prefix_space", where)) {
      prepend = *add ? MetaspacePre::Prepend::kAlways : MetaspacePre::Prepend::kNever;
    }
    return std::make_unique<MetaspacePre>(replacement, prepend, json::opt_bool(v, "split", where).value_or(true));
  }
  if (type == "Sequence") {
    return std::make_unique<SequencePre>(read_sequence<PreTokenizer>(v, "pretokenizers", where, make_pre_tokenizer));
  }
  fail(where, ": unsupported pre_tokenizer type '", type,
       "' (supported: Split, ByteLevel, Digits, Metaspace, Whitespace, WhitespaceSplit, Sequence)");
}

}  // namespace r1::model
