// See math_lexer.h.
#include "rewards/math/math_lexer.h"

namespace r1::rewards::math {
namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

// Three digits at s[i..i+3) not followed by a fourth digit.
bool digit_group(std::string_view s, size_t i) {
  return i + 3 <= s.size() && is_digit(s[i]) && is_digit(s[i + 1]) && is_digit(s[i + 2]) &&
         (i + 3 == s.size() || !is_digit(s[i + 3]));
}

// In a bracket or list context ("(100,200)", "1,234" after a comma) commas separate items: a
// thousands group there would merge two answers into one number.
bool list_context(std::string_view s, size_t start) {
  size_t k = start;
  while (k > 0 && is_space(s[k - 1])) --k;
  if (k == 0) return false;
  char p = s[k - 1];
  if (p == '(' || p == '[' || p == ',' || p == ';') return true;
  return p == '{' && k >= 2 && s[k - 2] == '\\';
}

size_t scan_number(std::string_view s, size_t i) {
  const size_t start = i;
  while (i < s.size() && is_digit(s[i])) ++i;
  const size_t first_run = i - start;
  if (first_run >= 1 && first_run <= 3) {
    if (!list_context(s, start) && i < s.size() && s[i] == ',' && digit_group(s, i + 1)) {
      while (i < s.size() && s[i] == ',' && digit_group(s, i + 1)) i += 4;
    } else {
      // "7 425 000": single spaces between groups of three.
      while (i + 1 < s.size() && s[i] == ' ' && digit_group(s, i + 1) &&
             !(i + 4 < s.size() && s[i + 4] == '/'))
        i += 4;
    }
  }
  if (i + 1 < s.size() && s[i] == '.' && is_digit(s[i + 1])) {
    ++i;
    while (i < s.size() && is_digit(s[i])) ++i;
  }
  if (i + 1 < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    size_t j = i + 1;
    if (j < s.size() && (s[j] == '+' || s[j] == '-')) ++j;
    if (j < s.size() && is_digit(s[j])) {
      while (j < s.size() && is_digit(s[j])) ++j;
      // "2e3" is scientific only when no letter follows (else it is 2 e 3x ...).
      if (j == s.size() || !is_alpha(s[j])) i = j;
    }
  }
  return i;
}

// Index of the brace matching s[open] == '{', or npos.
size_t matching_brace(std::string_view s, size_t open) {
  int depth = 0;
  for (size_t k = open; k < s.size(); ++k) {
    if (s[k] == '\\') {
      ++k;
      continue;
    }
    if (s[k] == '{') ++depth;
    if (s[k] == '}' && --depth == 0) return k;
  }
  return std::string_view::npos;
}

std::string_view trim(std::string_view v) {
  while (!v.empty() && is_space(v.front())) v.remove_prefix(1);
  while (!v.empty() && is_space(v.back())) v.remove_suffix(1);
  return v;
}

}  // namespace

bool tokenize(std::string_view s, size_t max_tokens, std::vector<Token>& out) {
  out.clear();
  bool space = false;
  size_t i = 0;
  while (i < s.size()) {
    if (out.size() >= max_tokens) return false;
    char c = s[i];
    if (is_space(c)) {
      space = true;
      ++i;
      continue;
    }
    Token t;
    t.space_before = space;
    space = false;
    size_t start = i;
    if (is_digit(c) || (c == '.' && i + 1 < s.size() && is_digit(s[i + 1]))) {
      if (c == '.') {  // ".5"
        ++i;
        while (i < s.size() && is_digit(s[i])) ++i;
      } else {
        i = scan_number(s, i);
      }
      t.type = Tok::Number;
      t.text = s.substr(start, i - start);
    } else if (is_alpha(c)) {
      while (i < s.size() && is_alpha(s[i])) ++i;
      t.type = i - start == 1 ? Tok::Letter : Tok::Word;
      t.text = s.substr(start, i - start);
    } else if (static_cast<unsigned char>(c) >= 0x80) {
      while (i < s.size() && static_cast<unsigned char>(s[i]) >= 0x80) ++i;
      t.type = Tok::Word;
      t.text = s.substr(start, i - start);
    } else if (c == '\\') {
      if (i + 1 >= s.size()) {
        ++i;
        continue;
      }
      char d = s[i + 1];
      if (d == '\\') {
        t.type = Tok::RowSep;
        t.text = s.substr(i, 2);
        i += 2;
      } else if (d == '{' || d == '}') {
        t.type = d == '{' ? Tok::Open : Tok::Close;
        t.text = s.substr(i, 2);
        i += 2;
      } else if (is_alpha(d)) {
        size_t j = i + 1;
        while (j < s.size() && is_alpha(s[j])) ++j;
        std::string_view name = s.substr(i + 1, j - i - 1);
        i = j;
        bool group_command = name == "text" || name == "operatorname" || name == "begin" || name == "end";
        if (!group_command) {
          t.type = Tok::Command;
          t.text = name;
        } else {
          while (i < s.size() && is_space(s[i])) ++i;
          if (i >= s.size() || s[i] != '{') continue;  // "\text" without a group: ignore it
          size_t close = matching_brace(s, i);
          if (close == std::string_view::npos) return false;
          std::string_view content = trim(s.substr(i + 1, close - i - 1));
          i = close + 1;
          if (name == "text") {
            if (content.empty()) continue;
            t.type = Tok::Text;
          } else if (name == "operatorname") {
            while (!content.empty() && content.back() == '*') content.remove_suffix(1);
            if (content.empty()) continue;
            t.type = Tok::Word;
          } else {
            t.type = name == "begin" ? Tok::EnvBegin : Tok::EnvEnd;
            if (name == "begin" && content == "array") {  // skip the column spec {cc}
              while (i < s.size() && is_space(s[i])) ++i;
              if (i < s.size() && s[i] == '{') {
                size_t spec_close = matching_brace(s, i);
                if (spec_close == std::string_view::npos) return false;
                i = spec_close + 1;
              }
            }
          }
          t.text = content;
        }
      } else {
        t.type = Tok::Op;
        t.text = s.substr(i + 1, 1);
        i += 2;
      }
    } else if (c == '&') {
      t.type = Tok::ColSep;
      t.text = s.substr(i, 1);
      ++i;
    } else if (c == '(' || c == '[' || c == '{') {
      t.type = Tok::Open;
      t.text = s.substr(i, 1);
      ++i;
    } else if (c == ')' || c == ']' || c == '}') {
      t.type = Tok::Close;
      t.text = s.substr(i, 1);
      ++i;
    } else if ((c == '<' || c == '>' || c == '!' || c == '=') && i + 1 < s.size() && s[i + 1] == '=') {
      t.type = Tok::Op;
      t.text = s.substr(i, 2);
      i += 2;
    } else if (c == '*' && i + 1 < s.size() && s[i + 1] == '*') {
      t.type = Tok::Op;
      t.text = "^";
      i += 2;
    } else {
      t.type = Tok::Op;
      t.text = s.substr(i, 1);
      ++i;
    }
    out.push_back(t);
  }
  Token eof;
  eof.space_before = space;
  out.push_back(eof);
  return true;
}

}  // namespace r1::rewards::math
