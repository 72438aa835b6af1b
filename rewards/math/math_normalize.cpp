// See math_normalize.h. A table of command rewrites plus a table of UTF-8 sequences; both are looked
// up by exact name, so the pass is linear in the input.
#include "rewards/math/math_normalize.h"

#include <gmpxx.h>

#include <cctype>
#include <cstring>

namespace r1::rewards::math {
namespace {

bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

struct Rewrite {
  const char* name;
  const char* replacement;  // nullptr: drop the command and its first braced argument
};

// Commands (without the backslash) and what they become. "" drops the command.
const Rewrite kCommands[] = {
    {"left", ""}, {"right", ""}, {"middle", ""}, {"big", ""}, {"Big", ""}, {"bigg", ""}, {"Bigg", ""},
    {"bigl", ""}, {"bigr", ""}, {"Bigl", ""}, {"Bigr", ""}, {"biggl", ""}, {"biggr", ""}, {"Biggl", ""},
    {"Biggr", ""}, {"displaystyle", ""}, {"textstyle", ""}, {"scriptstyle", ""}, {"limits", ""},
    {"nolimits", ""}, {"nonumber", ""}, {"notag", ""}, {"ldots", " "}, {"dots", " "}, {"cdots", " "},
    {"dotsc", " "}, {"dotsb", " "}, {"vdots", " "}, {"ddots", " "}, {"quad", " "}, {"qquad", " "},
    {"enspace", " "}, {"thinspace", " "}, {"medspace", " "}, {"thickspace", " "}, {"negthinspace", ""},
    {"circ", ""}, {"degree", ""}, {"dfrac", "\\frac"}, {"tfrac", "\\frac"}, {"cfrac", "\\frac"},
    {"dbinom", "\\binom"}, {"tbinom", "\\binom"}, {"mbox", "\\text"}, {"textbf", "\\text"},
    {"textrm", "\\text"}, {"textit", "\\text"}, {"textnormal", "\\text"}, {"textsf", "\\text"},
    {"texttt", "\\text"}, {"textup", "\\text"}, {"mathrm", "\\text"}, {"mathit", "\\text"},
    {"mathsf", "\\text"}, {"mathtt", "\\text"}, {"emph", "\\text"}, {"hbox", "\\text"},
    {"lbrace", "\\{"}, {"rbrace", "\\}"}, {"lbrack", "["}, {"rbrack", "]"}, {"lvert", "|"}, {"rvert", "|"},
    {"vert", "|"}, {"lVert", "|"}, {"rVert", "|"}, {"lt", "<"}, {"gt", ">"}, {"leqslant", "\\le"},
    {"geqslant", "\\ge"}, {"leq", "\\le"}, {"geq", "\\ge"}, {"neq", "\\ne"}, {"dollar", ""},
    {"hspace", nullptr}, {"vspace", nullptr}, {"phantom", nullptr}, {"hphantom", nullptr},
    {"vphantom", nullptr}, {"label", nullptr}, {"tag", nullptr}, {"boxed", ""}, {"fbox", ""},
    {"framebox", ""},
};

const char* find_command(std::string_view name, bool& drop_arg) {
  for (const Rewrite& r : kCommands) {
    if (name == r.name) {
      drop_arg = r.replacement == nullptr;
      return r.replacement ? r.replacement : "";
    }
  }
  return nullptr;
}

struct Utf8Rewrite {
  const char* bytes;
  const char* replacement;
};

const Utf8Rewrite kUtf8[] = {
    {"\xE2\x88\x92", "-"},         // − minus
    {"\xE2\x80\x93", "-"},         // – en dash
    {"\xC3\x97", "\\times "},      // ×
    {"\xC3\xB7", "\\div "},        // ÷
    {"\xC2\xB7", "\\cdot "},       // ·
    {"\xE2\x8B\x85", "\\cdot "},   // ⋅
    {"\xE2\x88\x99", "\\cdot "},   // ∙
    {"\xE2\x89\xA4", "\\le "},     // ≤
    {"\xE2\x89\xA5", "\\ge "},     // ≥
    {"\xE2\x89\xA0", "\\ne "},     // ≠
    {"\xE2\x89\x88", "\\approx "}, // ≈
    {"\xCF\x80", "\\pi "},         // π
    {"\xE2\x88\x9E", "\\infty "},  // ∞
    {"\xE2\x88\x9A", "\\sqrt"},    // √
    {"\xC2\xB0", ""},              // ° degree
    {"\xC2\xB1", "\\pm "},         // ±
    {"\xE2\x88\x93", "\\mp "},     // ∓
    {"\xE2\x88\x88", "\\in "},     // ∈
    {"\xE2\x88\xAA", "\\cup "},    // ∪
    {"\xE2\x88\xA9", "\\cap "},    // ∩
    {"\xE2\x88\x85", "\\emptyset "},  // ∅
    {"\xE2\x84\x9D", "\\mathbb{R}"},  // ℝ
    {"\xE2\x80\xA6", " "},         // … ellipsis
    {"\xC2\xA0", " "},             // no-break space
    {"\xE2\x80\x89", " "},         // thin space
    {"\xE2\x80\xAF", " "},         // narrow no-break space
    {"\xE2\x80\x8B", ""},          // zero-width space
    {"\xEF\xBC\x8C", ","},         // fullwidth comma
    {"\xEF\xBC\x9A", ":"},         // fullwidth colon
    {"\xEF\xBC\x88", "("},         // fullwidth (
    {"\xEF\xBC\x89", ")"},         // fullwidth )
    {"\xEF\xBC\x8E", "."},         // fullwidth full stop
    {"\xE3\x80\x82", "."},         // ideographic full stop
    {"\xC2\xB2", "^2"},            // ²
    {"\xC2\xB3", "^3"},            // ³
    {"\xC2\xB9", "^1"},            // ¹
    {"\xE2\x80\xB2", "'"},         // ′ prime
    {"\xE2\x88\xA0", ""},          // ∠
};

// Skips a braced group starting at text[i] == '{'; returns the index after its closing brace.
size_t skip_group(std::string_view text, size_t i) {
  int depth = 0;
  for (; i < text.size(); ++i) {
    if (text[i] == '\\') {
      ++i;
      continue;
    }
    if (text[i] == '{') ++depth;
    if (text[i] == '}' && --depth == 0) return i + 1;
  }
  return text.size();
}

// Drops trailing blanks and sentence punctuation (". , ; :") but not a closing bracket or a percent.
void trim_tail(std::string& s) {
  while (!s.empty()) {
    char c = s.back();
    if (is_space(c) || c == '.' || c == ',' || c == ';' || c == ':') {
      // Keep "\," "\;" etc. only as commands; a lone trailing "\" is dropped with them.
      s.pop_back();
    } else if (c == '\\') {
      s.pop_back();
    } else {
      break;
    }
  }
  size_t start = 0;
  while (start < s.size() && (is_space(s[start]) || s[start] == ':')) ++start;
  if (start) s.erase(0, start);
}

// Repeating decimals "0.\overline{3}", "1.2\overline{36}" become exact fractions "\frac{1}{3}": with I the
// integer digits, F the fixed fraction digits (n of them) and R the repeating ones (r of them), the value
// is (IFR - IF) / (10^n (10^r - 1)).
std::string repeating_decimals(const std::string& s) {
  static const std::string kOver = "\\overline{";
  size_t pos = s.find(kOver);
  if (pos == std::string::npos) return s;
  std::string out;
  size_t copied = 0;
  for (; pos != std::string::npos; pos = s.find(kOver, pos + kOver.size())) {
    size_t close = s.find('}', pos + kOver.size());
    if (close == std::string::npos) break;
    std::string repeat = s.substr(pos + kOver.size(), close - pos - kOver.size());
    if (repeat.empty() || repeat.size() > 50 || repeat.find_first_not_of("0123456789") != std::string::npos) continue;
    size_t f = pos;
    while (f > copied && std::isdigit(static_cast<unsigned char>(s[f - 1]))) --f;
    if (f == copied || s[f - 1] != '.') continue;
    size_t dot = f - 1, i = dot;
    while (i > copied && std::isdigit(static_cast<unsigned char>(s[i - 1]))) --i;
    std::string whole = s.substr(i, dot - i), fixed = s.substr(f, pos - f);
    if (whole.size() + fixed.size() > 50) continue;
    mpz_class with_repeat(whole + fixed + repeat == "" ? "0" : whole + fixed + repeat, 10);
    mpz_class without(whole + fixed == "" ? "0" : whole + fixed, 10);
    mpz_class pow_fixed, pow_repeat;
    mpz_ui_pow_ui(pow_fixed.get_mpz_t(), 10, fixed.size());
    mpz_ui_pow_ui(pow_repeat.get_mpz_t(), 10, repeat.size());
    mpq_class value(with_repeat - without, pow_fixed * (pow_repeat - 1));
    value.canonicalize();
    out.append(s, copied, i - copied);
    out += "\\frac{" + value.get_num().get_str() + "}{" + value.get_den().get_str() + "}";
    copied = close + 1;
  }
  out.append(s, copied, std::string::npos);
  return out;
}

// "9:30 p.m." -> "9:30 pm": the dotted halves of the day after a number become one word, which the
// parser keeps with a clock time (the dots would otherwise break "p.m" into p, ".", m).
std::string day_halves(const std::string& s) {
  if (s.find(".m") == std::string::npos && s.find(".M") == std::string::npos) return s;
  std::string out;
  out.reserve(s.size());
  auto after_number = [&out] {  // only asked at an "a.m" / "p.m", so the backward scan stays linear
    size_t k = out.size();
    while (k > 0 && out[k - 1] == ' ') --k;
    return k > 0 && std::isdigit(static_cast<unsigned char>(out[k - 1]));
  };
  for (size_t i = 0; i < s.size(); ++i) {
    char c = static_cast<char>(s[i] | 0x20);
    bool dotted = (c == 'a' || c == 'p') && i + 2 < s.size() && s[i + 1] == '.' && (s[i + 2] | 0x20) == 'm' &&
                  (i + 3 == s.size() || !is_alpha(s[i + 3]));
    if (!dotted || !after_number()) {
      out += s[i];
      continue;
    }
    out += c;
    out += 'm';
    i += 2;
    if (i + 1 < s.size() && s[i + 1] == '.') ++i;
  }
  return out;
}

// "\text{5}", "\textbf{0.5}", "\text{-3}", "\text{12:00}": a number or time typed as text is the number
// (words stay text).
std::string unwrap_numeric_text(const std::string& s) {
  static const std::string kText = "\\text{";
  if (s.find(kText) == std::string::npos) return s;
  std::string out;
  size_t i = 0;
  while (i < s.size()) {
    size_t pos = s.find(kText, i);
    if (pos == std::string::npos) break;
    size_t close = s.find('}', pos + kText.size());
    if (close == std::string::npos) break;
    std::string_view content(s.data() + pos + kText.size(), close - pos - kText.size());
    bool numeric = content.find_first_of("0123456789") != std::string_view::npos &&
                   content.find_first_not_of("0123456789.,+- /%:") == std::string_view::npos;
    out.append(s, i, pos - i);
    if (numeric) {
      out.append(content);
    } else {
      out.append(s, pos, close + 1 - pos);
    }
    i = close + 1;
  }
  out.append(s, i, std::string::npos);
  return out;
}

bool has_matrix(std::string_view text) {
  return text.find("matrix") != std::string_view::npos || text.find("array") != std::string_view::npos;
}

}  // namespace

std::string normalize_answer(std::string_view text) {
  std::string out;
  out.reserve(text.size() + 8);
  const bool fix_double_backslash = !has_matrix(text);
  size_t i = 0;
  while (i < text.size()) {
    char c = text[i];
    if (c == '\\') {
      // "\\frac" written with a doubled backslash (an escaping artefact) is "\frac" outside matrices.
      if (fix_double_backslash && i + 2 < text.size() && text[i + 1] == '\\' && is_alpha(text[i + 2])) {
        ++i;
        continue;
      }
      if (i + 1 >= text.size()) break;
      char d = text[i + 1];
      if (!is_alpha(d)) {
        switch (d) {
          case ',': case ';': case ':': case ' ': case '>': case '\t': case '\n':
            out += ' ';
            i += 2;
            continue;
          case '!':
            i += 2;
            // "12,\! 000" is a thousands separator: glue the groups.
            if (out.size() >= 2 && out.back() == ',' && out[out.size() - 2] >= '0' && out[out.size() - 2] <= '9')
              while (i < text.size() && is_space(text[i])) ++i;
            continue;
          case '$':
            i += 2;
            continue;
          case '%':
            out += '%';
            i += 2;
            continue;
          case '|':
            out += '|';
            i += 2;
            continue;
          default:
            out += c;
            out += d;
            i += 2;
            continue;
        }
      }
      size_t j = i + 1;
      while (j < text.size() && is_alpha(text[j])) ++j;
      std::string_view name = text.substr(i + 1, j - i - 1);
      bool drop_arg = false;
      const char* rep = find_command(name, drop_arg);
      if (rep == nullptr) {
        out.append(text.substr(i, j - i));
        i = j;
        continue;
      }
      out += rep;
      i = j;
      // "\left." and "\right." are invisible delimiters.
      if ((name == "left" || name == "right") && i < text.size() && text[i] == '.') ++i;
      if (drop_arg) {
        while (i < text.size() && is_space(text[i])) ++i;
        if (i < text.size() && text[i] == '{') i = skip_group(text, i);
      }
      // A degree mark "^\circ" / "^{\circ}" leaves a dangling "^" or "^{}": removed below.
      continue;
    }
    if (c == '$') {  // math delimiters and currency
      ++i;
      continue;
    }
    if (c == '~') {
      out += ' ';
      ++i;
      continue;
    }
    if (c == '{' && i + 2 < text.size() && text[i + 1] == ',' && text[i + 2] == '}') {  // 14{,}916
      out += ',';
      i += 3;
      continue;
    }
    if (static_cast<unsigned char>(c) >= 0x80) {
      bool done = false;
      for (const Utf8Rewrite& r : kUtf8) {
        size_t len = std::strlen(r.bytes);
        if (text.compare(i, len, r.bytes) == 0) {
          out += r.replacement;
          i += len;
          done = true;
          break;
        }
      }
      if (done) continue;
    }
    out += c;
    ++i;
  }
  // Remove degree remnants "^{}" and a "^" left with nothing after it ("90^" from "90^\circ").
  std::string cleaned;
  cleaned.reserve(out.size());
  for (size_t k = 0; k < out.size(); ++k) {
    if (out[k] == '^') {
      size_t m = k + 1;
      while (m < out.size() && is_space(out[m])) ++m;
      if (m + 1 < out.size() && out[m] == '{' && out[m + 1] == '}') {
        k = m + 1;
        continue;
      }
      if (m >= out.size() || out[m] == ')' || out[m] == ']' || out[m] == ',' || out[m] == '}' ||
          out[m] == '=' || out[m] == '.') {
        continue;
      }
    }
    cleaned += out[k];
  }
  cleaned = day_halves(cleaned);
  trim_tail(cleaned);
  return unwrap_numeric_text(repeating_decimals(cleaned));
}

}  // namespace r1::rewards::math
