// See tokenizer_normalizer.h. ICU works on UTF-16, so each well-formed UTF-8 run is converted, normalised
// and converted back; pure-ASCII text (invariant under every form here except Lowercase) skips ICU.
#include "model/tokenizer/tokenizer_normalizer.h"

#include <unicode/unorm2.h>
#include <unicode/ustring.h>

#include <vector>

#include "common/error.h"
#include "model/tokenizer/tokenizer_steps.h"
#include "model/tokenizer/tokenizer_utf8.h"

namespace r1::model {
namespace {

bool is_ascii(const std::string& s) {
  for (char c : s)
    if (static_cast<unsigned char>(c) >= 0x80) return false;
  return true;
}

std::u16string to_utf16(std::string_view s) {
  UErrorCode err = U_ZERO_ERROR;
  int32_t len = 0;
  u_strFromUTF8(nullptr, 0, &len, s.data(), static_cast<int32_t>(s.size()), &err);
  std::u16string out(static_cast<size_t>(len), u'\0');
  err = U_ZERO_ERROR;
  u_strFromUTF8(reinterpret_cast<UChar*>(out.data()), len, nullptr, s.data(), static_cast<int32_t>(s.size()), &err);
  R1_CHECK(U_SUCCESS(err), "unicode: UTF-8 to UTF-16 conversion failed: ", u_errorName(err));
  return out;
}

std::string to_utf8(const std::u16string& s) {
  UErrorCode err = U_ZERO_ERROR;
  int32_t len = 0;
  u_strToUTF8(nullptr, 0, &len, reinterpret_cast<const UChar*>(s.data()), static_cast<int32_t>(s.size()), &err);
  std::string out(static_cast<size_t>(len), '\0');
  err = U_ZERO_ERROR;
  u_strToUTF8(out.data(), len, nullptr, reinterpret_cast<const UChar*>(s.data()), static_cast<int32_t>(s.size()), &err);
  R1_CHECK(U_SUCCESS(err), "unicode: UTF-16 to UTF-8 conversion failed: ", u_errorName(err));
  return out;
}

// Applies fn to each well-formed run of s, copying ill-formed bytes through unchanged.
template <class Fn>
std::string map_valid_runs(const std::string& s, Fn fn) {
  if (utf8::is_valid(s)) return fn(std::string_view(s));
  std::string out;
  size_t run_start = 0, i = 0;
  while (i < s.size()) {
    int32_t cp;
    const size_t n = utf8::next(s, i, &cp);
    if (cp < 0) {
      if (run_start < i) out += fn(std::string_view(s).substr(run_start, i - run_start));
      out.append(s, i, n);
      run_start = i + n;
    }
    i += n;
  }
  if (run_start < s.size()) out += fn(std::string_view(s).substr(run_start));
  return out;
}

const UNormalizer2* icu_instance(const std::string& form) {
  UErrorCode err = U_ZERO_ERROR;
  const UNormalizer2* n = nullptr;
  if (form == "NFC") n = unorm2_getNFCInstance(&err);
  else if (form == "NFD") n = unorm2_getNFDInstance(&err);
  else if (form == "NFKC") n = unorm2_getNFKCInstance(&err);
  else if (form == "NFKD") n = unorm2_getNFKDInstance(&err);
  else fail("unicode: unknown normalisation form '", form, "'");
  R1_CHECK(U_SUCCESS(err) && n != nullptr, "unicode: ICU ", form, " normaliser unavailable: ", u_errorName(err));
  return n;
}

std::string lowercase(const std::string& s) {
  if (is_ascii(s)) {
    std::string out = s;
    for (char& c : out)
      if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    return out;
  }
  return map_valid_runs(s, [](std::string_view run) {
    const std::u16string in = to_utf16(run);
    UErrorCode err = U_ZERO_ERROR;
    const int32_t len = u_strToLower(nullptr, 0, reinterpret_cast<const UChar*>(in.data()),
                                     static_cast<int32_t>(in.size()), "", &err);
    std::u16string out(static_cast<size_t>(len), u'\0');
    err = U_ZERO_ERROR;
    u_strToLower(reinterpret_cast<UChar*>(out.data()), len, reinterpret_cast<const UChar*>(in.data()),
                 static_cast<int32_t>(in.size()), "", &err);
    R1_CHECK(U_SUCCESS(err), "unicode: lowercase failed: ", u_errorName(err));
    return to_utf8(out);
  });
}

class UnicodeForm : public Normalizer {
 public:
  explicit UnicodeForm(std::string form) : form_(std::move(form)) { icu_instance(form_); }
  void normalize(std::string& s) const override { s = unicode_normalize(s, form_); }

 private:
  std::string form_;
};

class Lowercase : public Normalizer {
 public:
  void normalize(std::string& s) const override { s = lowercase(s); }
};

// Strips Unicode White_Space (Rust's char::is_whitespace) at either end.
class Strip : public Normalizer {
 public:
  Strip(bool left, bool right) : left_(left), right_(right) {}
  void normalize(std::string& s) const override {
    size_t begin = 0, end = s.size();
    if (left_) {
      while (begin < end) {
        int32_t cp;
        const size_t n = utf8::next(s, begin, &cp);
        if (!utf8::is_white_space(cp)) break;
        begin += n;
      }
    }
    if (right_) {
      while (end > begin) {
        size_t start = end - 1;
        while (start > begin && (static_cast<uint8_t>(s[start]) & 0xC0) == 0x80 && end - start < 4) --start;
        int32_t cp;
        const size_t n = utf8::next(s, start, &cp);
        if (start + n != end || !utf8::is_white_space(cp)) break;
        end = start;
      }
    }
    s = s.substr(begin, end - begin);
  }

 private:
  bool left_, right_;
};

class Prepend : public Normalizer {
 public:
  explicit Prepend(std::string prefix) : prefix_(std::move(prefix)) {}
  void normalize(std::string& s) const override {
    if (!s.empty()) s.insert(0, prefix_);  // the reference prepends only to non-empty text
  }

 private:
  std::string prefix_;
};

class Replace : public Normalizer {
 public:
  Replace(Pattern pattern, std::string content) : pattern_(std::move(pattern)), content_(std::move(content)) {}
  void normalize(std::string& s) const override { replace_matches(s, pattern_, content_); }

 private:
  Pattern pattern_;
  std::string content_;
};

class Sequence : public Normalizer {
 public:
  explicit Sequence(std::vector<std::unique_ptr<Normalizer>> parts) : parts_(std::move(parts)) {}
  void normalize(std::string& s) const override {
    for (const auto& p : parts_) p->normalize(s);
  }

 private:
  std::vector<std::unique_ptr<Normalizer>> parts_;
};

}  // namespace

std::string unicode_normalize(const std::string& s, const std::string& form) {
  const UNormalizer2* n = icu_instance(form);
  if (is_ascii(s)) return s;
  return map_valid_runs(s, [n](std::string_view run) {
    const std::u16string in = to_utf16(run);
    UErrorCode err = U_ZERO_ERROR;
    const int32_t len = unorm2_normalize(n, reinterpret_cast<const UChar*>(in.data()),
                                         static_cast<int32_t>(in.size()), nullptr, 0, &err);
    std::u16string out(static_cast<size_t>(len), u'\0');
    err = U_ZERO_ERROR;
    unorm2_normalize(n, reinterpret_cast<const UChar*>(in.data()), static_cast<int32_t>(in.size()),
                     reinterpret_cast<UChar*>(out.data()), len, &err);
    R1_CHECK(U_SUCCESS(err), "unicode: normalisation failed: ", u_errorName(err));
    return to_utf8(out);
  });
}

std::unique_ptr<Normalizer> make_normalizer(const json::Value& v, const std::string& where) {
  if (v.IsNull()) return nullptr;
  R1_CHECK(v.IsObject(), where, ": expected an object or null, got ", json::type_name(v));
  const std::string type = json::get_string(v, "type", where);
  if (type == "NFC" || type == "NFD" || type == "NFKC" || type == "NFKD") return std::make_unique<UnicodeForm>(type);
  if (type == "Lowercase") return std::make_unique<Lowercase>();
  if (type == "Strip") {
    return std::make_unique<Strip>(json::opt_bool(v, "strip_left", where).value_or(true),
                                   json::opt_bool(v, "strip_right", where).value_or(true));
  }
  if (type == "Prepend") return std::make_unique<Prepend>(json::get_string(v, "prepend", where));
  if (type == "Replace") {
    Pattern pattern = read_pattern(v, where);
    return std::make_unique<Replace>(std::move(pattern), json::get_string(v, "content", where));
  }
  if (type == "Sequence") {
    return std::make_unique<Sequence>(read_sequence<Normalizer>(v, "normalizers", where, make_normalizer));
  }
  fail(where, ": unsupported normalizer type '", type,
       "' (supported: NFC, NFD, NFKC, NFKD, Lowercase, Strip, Prepend, Replace, Sequence)");
}

}  // namespace r1::model
