// See tokenizer_decoder.h. Each class mirrors one decoder of the reference, step for step.
#include "model/tokenizer/tokenizer_decoder.h"

#include "common/error.h"
#include "model/tokenizer/tokenizer_pretokenizer.h"
#include "model/tokenizer/tokenizer_steps.h"
#include "model/tokenizer/tokenizer_utf8.h"

namespace r1::model {
namespace {

class ByteLevelDecoder : public Decoder {
 public:
  void decode_chain(std::vector<std::string>& tokens) const override {
    std::string bytes;
    for (const std::string& t : tokens) {
      const size_t mark = bytes.size();
      bool in_alphabet = true;
      size_t i = 0;
      while (i < t.size()) {
        int32_t cp;
        const size_t n = utf8::next(t, i, &cp);
        const int b = byte_level_byte(cp);
        if (b < 0) {
          in_alphabet = false;
          break;
        }
        bytes += static_cast<char>(b);
        i += n;
      }
      if (!in_alphabet) {
        bytes.resize(mark);
        bytes += t;
      }
    }
    tokens.assign(1, utf8::to_valid(bytes));
  }
};

// "<0xAB>" → 0xAB, or -1.
int parse_byte_token(const std::string& t) {
  if (t.size() != 6 || t.compare(0, 3, "<0x") != 0 || t[5] != '>') return -1;
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
  };
  const int hi = hex(t[3]), lo = hex(t[4]);
  return hi < 0 || lo < 0 ? -1 : hi * 16 + lo;
}

class ByteFallbackDecoder : public Decoder {
 public:
  void decode_chain(std::vector<std::string>& tokens) const override {
    std::vector<std::string> out;
    std::string run;
    size_t run_tokens = 0;
    auto flush = [&] {
      if (run_tokens == 0) return;
      if (utf8::is_valid(run)) {
        out.push_back(run);
      } else {
        for (size_t k = 0; k < run_tokens; ++k) out.emplace_back("\xEF\xBF\xBD");
      }
      run.clear();
      run_tokens = 0;
    };
    for (std::string& t : tokens) {
      const int b = parse_byte_token(t);
      if (b >= 0) {
        run += static_cast<char>(b);
        ++run_tokens;
      } else {
        flush();
        out.push_back(std::move(t));
      }
    }
    flush();
    tokens = std::move(out);
  }
};

class FuseDecoder : public Decoder {
 public:
  void decode_chain(std::vector<std::string>& tokens) const override {
    std::string all;
    for (const auto& t : tokens) all += t;
    tokens.assign(1, std::move(all));
  }
};

// Removes up to `start` leading and `stop` trailing copies of one character from every token.
class StripDecoder : public Decoder {
 public:
  StripDecoder(std::string content, size_t start, size_t stop) : content_(std::move(content)), start_(start), stop_(stop) {}
  void decode_chain(std::vector<std::string>& tokens) const override {
    for (std::string& t : tokens) {
      std::vector<std::pair<size_t, size_t>> chars;  // (offset, length)
      for (size_t i = 0; i < t.size();) {
        int32_t cp;
        const size_t n = utf8::next(t, i, &cp);
        chars.emplace_back(i, n);
        i += n;
      }
      auto is_content = [&](size_t k) { return t.compare(chars[k].first, chars[k].second, content_) == 0; };
      size_t start_cut = 0;
      for (size_t k = 0; k < start_ && k < chars.size() && is_content(k); ++k) start_cut = k + 1;
      size_t stop_cut = chars.size();
      for (size_t k = 0; k < stop_ && k < chars.size(); ++k) {
        const size_t index = chars.size() - k - 1;
        if (!is_content(index)) break;
        stop_cut = index;
      }
      if (stop_cut <= start_cut) {
        t.clear();
        continue;
      }
      const size_t begin = start_cut < chars.size() ? chars[start_cut].first : t.size();
      const size_t end = stop_cut < chars.size() ? chars[stop_cut].first : t.size();
      t = t.substr(begin, end - begin);
    }
  }

 private:
  std::string content_;
  size_t start_, stop_;
};

class ReplaceDecoder : public Decoder {
 public:
  ReplaceDecoder(Pattern pattern, std::string content) : pattern_(std::move(pattern)), content_(std::move(content)) {}
  void decode_chain(std::vector<std::string>& tokens) const override {
    for (std::string& t : tokens) replace_matches(t, pattern_, content_);
  }

 private:
  Pattern pattern_;
  std::string content_;
};

// Replacement character → space; in the first token the replacement characters are dropped instead
// (unless prepend_scheme is "never"), as in the reference.
class MetaspaceDecoder : public Decoder {
 public:
  MetaspaceDecoder(std::string replacement, bool strip_first) : replacement_(std::move(replacement)), strip_first_(strip_first) {}
  void decode_chain(std::vector<std::string>& tokens) const override {
    for (size_t k = 0; k < tokens.size(); ++k) {
      std::string& t = tokens[k];
      std::string out;
      size_t i = 0;
      while (i < t.size()) {
        if (!replacement_.empty() && t.compare(i, replacement_.size(), replacement_) == 0) {
          if (!(k == 0 && strip_first_)) out += ' ';
          i += replacement_.size();
        } else {
          out += t[i++];
        }
      }
      t = std::move(out);
    }
  }

 private:
  std::string replacement_;
  bool strip_first_;
};

class SequenceDecoder : public Decoder {
 public:
  explicit SequenceDecoder(std::vector<std::unique_ptr<Decoder>> parts) : parts_(std::move(parts)) {}
  void decode_chain(std::vector<std::string>& tokens) const override {
    for (const auto& p : parts_) p->decode_chain(tokens);
  }

 private:
  std::vector<std::unique_ptr<Decoder>> parts_;
};

}  // namespace

std::unique_ptr<Decoder> make_decoder(const json::Value& v, const std::string& where) {
  if (v.IsNull()) return nullptr;
  R1_CHECK(v.IsObject(), where, ": expected an object or null, got ", json::type_name(v));
  const std::string type = json::get_string(v, "type", where);
  if (type == "ByteLevel") return std::make_unique<ByteLevelDecoder>();
  if (type == "ByteFallback") return std::make_unique<ByteFallbackDecoder>();
  if (type == "Fuse") return std::make_unique<FuseDecoder>();
  if (type == "Strip") {
    const std::string content = json::get_string(v, "content", where);
    const int64_t start = json::opt_int(v, "start", where).value_or(0);
    const int64_t stop = json::opt_int(v, "stop", where).value_or(0);
    R1_CHECK(start >= 0 && stop >= 0, where, ": start/stop must be non-negative");
    return std::make_unique<StripDecoder>(content, static_cast<size_t>(start), static_cast<size_t>(stop));
  }
  if (type == "Replace") {
    Pattern pattern = read_pattern(v, where);
    return std::make_unique<ReplaceDecoder>(std::move(pattern), json::get_string(v, "content", where));
  }
  if (type == "Metaspace") {
    const std::string replacement = json::opt_string(v, "replacement", where).value_or("\xE2\x96\x81");
    bool strip_first = true;
    if (auto scheme = json::opt_string(v, "prepend_scheme", where)) strip_first = *scheme != "never";
    else if (auto add = json::opt_bool(v, "add_prefix_space", where)) strip_first = *add;
    return std::make_unique<MetaspaceDecoder>(replacement, strip_first);
  }
  if (type == "Sequence") {
    return std::make_unique<SequenceDecoder>(read_sequence<Decoder>(v, "decoders", where, make_decoder));
  }
  fail(where, ": unsupported decoder type '", type,
       "' (supported: ByteLevel, ByteFallback, Fuse, Strip, Replace, Metaspace, Sequence)");
}

}  // namespace r1::model
