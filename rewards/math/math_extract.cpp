// See math_extract.h. Hand-written scanners instead of regexes: each is one bounded pass, and the
// searches that may fail (an unclosed "\[" or "$$") remember the failure so that a text made of
// thousands of unclosed delimiters is still scanned once, not once per delimiter.
#include "rewards/math/math_extract.h"

#include <algorithm>
#include <cstring>
#include <functional>

namespace r1::rewards::math {
namespace {

constexpr size_t npos = std::string_view::npos;

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }
bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
char to_lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

std::string_view trim(std::string_view v) {
  while (!v.empty() && is_space(v.front())) v.remove_prefix(1);
  while (!v.empty() && is_space(v.back())) v.remove_suffix(1);
  return v;
}

// Start offsets of the last `keep` case-insensitive occurrences of `needle` (lower case), in order.
std::vector<size_t> find_all_ci(std::string_view text, std::string_view needle, size_t keep) {
  std::vector<size_t> out;
  if (needle.empty() || needle.size() > text.size()) return out;
  const char first = needle[0];
  const size_t last = text.size() - needle.size();
  for (size_t i = 0; i <= last; ++i) {
    if (to_lower(text[i]) != first) continue;
    size_t k = 1;
    while (k < needle.size() && to_lower(text[i + k]) == needle[k]) ++k;
    if (k < needle.size()) continue;
    out.push_back(i);
    if (out.size() > 2 * keep) out.erase(out.begin(), out.begin() + static_cast<long>(keep));
  }
  if (out.size() > keep) out.erase(out.begin(), out.end() - static_cast<long>(keep));
  return out;
}

// ---------------------------------------------------------------- boxes

struct Box {
  size_t start = 0, content_begin = 0, content_end = 0, end = 0;
};

// Parses "\boxed{...}" / "\fbox{...}" / "\boxed 5" whose command starts at `start`.
bool box_at(std::string_view text, size_t start, size_t command_len, Box& box) {
  box.start = start;
  size_t i = start + command_len;
  while (i < text.size() && is_space(text[i])) ++i;
  if (i >= text.size()) return false;
  if (text[i] != '{') {  // "\boxed 5": one token
    if (!is_alpha(text[start + command_len]) && !is_space(text[start + command_len])) return false;
    size_t j = i;
    while (j < text.size() && !is_space(text[j]) && text[j] != '$') ++j;
    box.content_begin = i;
    box.content_end = box.end = j;
    return j > i;
  }
  box.content_begin = i + 1;
  int depth = 0;
  for (size_t k = i; k < text.size(); ++k) {
    char c = text[k];
    if (c == '\\') {
      ++k;
      continue;
    }
    if (c == '{') ++depth;
    if (c == '}' && --depth == 0) {
      box.content_end = k;
      box.end = k + 1;
      return true;
    }
  }
  box.content_end = box.end = text.size();  // unclosed (truncated output): take the rest
  return true;
}

bool has_separator(std::string_view between) {
  for (size_t i = 0; i < between.size(); ++i) {
    char c = between[i];
    if (c == ',' || c == ';') return true;
    bool boundary_left = i == 0 || !is_alpha(between[i - 1]);
    if (!boundary_left) continue;
    for (std::string_view word : {std::string_view("and"), std::string_view("or")}) {
      if (between.compare(i, word.size(), word) == 0 &&
          (i + word.size() == between.size() || !is_alpha(between[i + word.size()])))
        return true;
    }
  }
  return false;
}

// The last `keep` boxes of the text, in order. Command positions are found with memchr-speed scans
// first; only the kept ones are parsed, so a text of 100k unclosed "\boxed{" costs one pass.
std::vector<Box> find_boxes(std::string_view text, size_t keep) {
  std::vector<std::pair<size_t, size_t>> commands;  // (start, command length)
  for (size_t i = text.find('\\'); i != npos; i = text.find('\\', i + 1)) {
    size_t len = text.compare(i, 6, "\\boxed") == 0 ? 6 : text.compare(i, 5, "\\fbox") == 0 ? 5 : 0;
    if (len == 0) continue;
    commands.emplace_back(i, len);
    if (commands.size() > 2 * keep) commands.erase(commands.begin(), commands.begin() + static_cast<long>(keep));
  }
  if (commands.size() > keep) commands.erase(commands.begin(), commands.end() - static_cast<long>(keep));
  std::vector<Box> boxes;
  for (const auto& [start, len] : commands) {
    Box b;
    if (box_at(text, start, len, b)) boxes.push_back(b);
  }
  return boxes;
}

// Merges the last box with the boxes right before it (math-verify's rule: less than 10 characters
// apart, or less than 70 with a separator "," ";" "and" "or" and a different content).
bool merged_last_box(std::string_view text, const std::vector<Box>& boxes, std::string& content, size_t& end) {
  if (boxes.empty()) return false;
  const Box& last = boxes.back();
  end = last.end;
  std::vector<std::string_view> parts{trim(text.substr(last.content_begin, last.content_end - last.content_begin))};
  size_t cur_start = last.start;
  for (size_t k = boxes.size() - 1; k-- > 0;) {
    const Box& prev = boxes[k];
    if (prev.end > cur_start) break;
    std::string_view between = text.substr(prev.end, cur_start - prev.end);
    std::string_view prev_content = trim(text.substr(prev.content_begin, prev.content_end - prev.content_begin));
    bool join = between.size() < 10 || (between.size() < 70 && prev_content != parts.back() && has_separator(between));
    if (!join) break;
    if (prev_content != parts.back()) parts.push_back(prev_content);
    cur_start = prev.start;
  }
  content.clear();
  for (size_t k = parts.size(); k-- > 0;) {
    content += parts[k];
    if (k) content += ", ";
  }
  return true;
}

// ---------------------------------------------------------------- formulas

struct Span {
  size_t begin = 0, end_content = 0, end = 0;  // content [begin, end_content); `end` after the closer
};

// A formula opening exactly at `i` ("$", "$$", "\[", "\("), or false. `no_close_before` remembers, per
// delimiter kind, positions before which a closer is known to be missing.
struct FormulaScanner {
  std::string_view text;
  size_t no_display_dollar = 0, no_display_bracket = 0, no_inline_paren = 0;

  // A display formula whose two-character opener is at `i`, up to `closer` (two characters).
  bool display(size_t i, const char* closer, size_t& no_close_before, Span& s) {
    if (i < no_close_before) return false;
    const size_t close = text.find(closer, i + 2);
    if (close == npos) {
      no_close_before = text.size();
      return false;
    }
    s = {i + 2, close, close + 2};
    return true;
  }

  bool at(size_t i, Span& s) {
    size_t n = text.size();
    if (text[i] == '\\' && i + 1 < n && text[i + 1] == '[') return display(i, "\\]", no_display_bracket, s);
    if (text[i] == '\\' && i + 1 < n && text[i + 1] == '(') {
      if (i < no_inline_paren) return false;
      for (size_t j = i + 2; j + 1 < n; ++j) {
        if (text[j] == '\n') {
          no_inline_paren = j;
          return false;
        }
        if (text[j] == '\\' && text[j + 1] == ')') {
          s = {i + 2, j, j + 2};
          return true;
        }
      }
      no_inline_paren = n;
      return false;
    }
    if (text[i] != '$' || (i > 0 && text[i - 1] == '\\')) return false;
    if (i + 1 < n && text[i + 1] == '$') return display(i, "$$", no_display_dollar, s);
    if (i > 0 && is_digit(text[i - 1])) return false;  // "5$" is a price
    for (size_t j = i + 1; j < n; ++j) {
      char c = text[j];
      if (c == '\n') return false;
      if (c == '\\') {
        ++j;
        continue;
      }
      if (c == '$') {
        if (j == i + 1) return false;
        s = {i + 1, j, j + 1};
        return true;
      }
    }
    return false;
  }
};

// All formulas of the text, keeping the last `keep`.
std::vector<Span> scan_formulas(std::string_view text, size_t keep) {
  std::vector<Span> out;
  FormulaScanner scanner{text};
  for (size_t i = 0; i < text.size();) {
    char c = text[i];
    if (c != '$' && c != '\\') {
      ++i;
      continue;
    }
    Span s;
    if (scanner.at(i, s)) {
      out.push_back(s);
      if (out.size() > 2 * keep) out.erase(out.begin(), out.begin() + static_cast<long>(keep));
      i = s.end;
    } else {
      i += (c == '\\') ? 2 : 1;
    }
  }
  if (out.size() > keep) out.erase(out.begin(), out.end() - static_cast<long>(keep));
  return out;
}

// ---------------------------------------------------------------- numbers

bool number_prefix_ok(std::string_view text, size_t i) {
  if (i == 0) return true;
  char p = text[i - 1];
  // After "answer:" a number starts; after "2:" it is the minutes of a time read as a whole or not at all.
  if (p == ':') return i < 2 || !is_digit(text[i - 2]);
  if (is_space(p) || p == '=' || p == '*' || p == '$' || p == '(') return true;
  // Any non-ASCII character: currency symbols (€ £ ¥ ₹) and text without spaces ("答案是11").
  return static_cast<unsigned char>(p) >= 0x80;
}

// The end of a clock time or ratio whose first number ends at i ("12:00", "9:30 pm", "9:30 p.m.", "3:4",
// "1:2:3", "1.5:2"), or i when no colon and digit follow. Read whole so that "12:00" is not taken as its
// last number "00" (and "1:00" with it, both zero).
size_t ratio_end(std::string_view text, size_t i) {
  size_t n = text.size();
  if (!(i + 1 < n && text[i] == ':' && is_digit(text[i + 1]))) return i;
  while (i + 1 < n && text[i] == ':' && is_digit(text[i + 1])) {
    ++i;
    while (i < n && is_digit(text[i])) ++i;
    if (i + 1 < n && text[i] == '.' && is_digit(text[i + 1])) {
      ++i;
      while (i < n && is_digit(text[i])) ++i;
    }
  }
  size_t k = i < n && text[i] == ' ' ? i + 1 : i;  // "pm", "PM", "p.m." with at most one space before
  if (k < n && (to_lower(text[k]) == 'a' || to_lower(text[k]) == 'p')) {
    size_t m = k + 1;
    if (m < n && text[m] == '.') ++m;
    if (m < n && to_lower(text[m]) == 'm') {
      ++m;
      if (m < n && text[m] == '.') ++m;
      if (m == n || !is_alpha(text[m])) return m;
    }
  }
  return i;
}

// A plain-text number starting at i: "-1,234.5", "7 425 000", "2/3", "4 4/9", "50%", "3 percent", and
// clock times and ratios ("12:00 pm", "3:4"). Returns its end or npos.
size_t number_at(std::string_view text, size_t i) {
  size_t n = text.size(), start = i;
  if (!number_prefix_ok(text, start)) return npos;
  if (text[i] == '-' || text[i] == '+') ++i;
  if (i < n && text[i] == '.' && i + 1 < n && is_digit(text[i + 1])) ++i;
  if (i >= n || !is_digit(text[i])) return npos;
  size_t run = i;
  while (i < n && is_digit(text[i])) ++i;
  auto group = [&](size_t k) {
    return k + 3 <= n && is_digit(text[k]) && is_digit(text[k + 1]) && is_digit(text[k + 2]) &&
           (k + 3 == n || !is_digit(text[k + 3]));
  };
  if (i - run <= 3) {
    while (i < n && (text[i] == ',' || text[i] == ' ') && group(i + 1)) i += 4;
  }
  if (i + 1 < n && text[i] == '.' && is_digit(text[i + 1])) {
    ++i;
    while (i < n && is_digit(text[i])) ++i;
  }
  if (size_t end = ratio_end(text, i); end != i) return end;
  if (i + 1 < n && text[i] == '/' && is_digit(text[i + 1])) {  // 2/3
    ++i;
    while (i < n && is_digit(text[i])) ++i;
  } else if (i + 3 < n && text[i] == ' ' && is_digit(text[i + 1])) {  // mixed 4 4/9
    size_t k = i + 1;
    while (k < n && is_digit(text[k])) ++k;
    if (k + 1 < n && text[k] == '/' && is_digit(text[k + 1])) {
      ++k;
      while (k < n && is_digit(text[k])) ++k;
      i = k;
    }
  }
  if (i < n && text[i] == '%') {
    ++i;
  } else if (i + 8 <= n && text.compare(i, 8, " percent") == 0) {
    i += 8;
  }
  return i;
}

struct NumberSpan {
  size_t begin = 0, end = 0;
};

// The first number starting in [from, to) on the same line as `from`.
bool first_number(std::string_view text, size_t from, size_t to, NumberSpan& out) {
  to = std::min(to, text.size());
  for (size_t i = from; i < to; ++i) {
    if (text[i] == '\n') return false;
    if (!is_digit(text[i]) && text[i] != '-' && text[i] != '.') continue;
    if (i > 0 && (is_digit(text[i - 1]) || is_alpha(text[i - 1]))) continue;
    size_t e = number_at(text, i);
    if (e != npos) {
      out = {i, e};
      return true;
    }
  }
  return false;
}

// The last `keep` numbers of the text.
std::vector<NumberSpan> scan_numbers(std::string_view text, size_t keep) {
  std::vector<NumberSpan> out;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (!is_digit(c) && c != '-' && c != '.') continue;
    if (i > 0 && (is_digit(text[i - 1]) || is_alpha(text[i - 1]) || text[i - 1] == '.')) continue;
    size_t e = number_at(text, i);
    if (e == npos) continue;
    out.push_back({i, e});
    if (out.size() > 2 * keep) out.erase(out.begin(), out.begin() + static_cast<long>(keep));
    i = e - 1;
  }
  if (out.size() > keep) out.erase(out.begin(), out.end() - static_cast<long>(keep));
  return out;
}

// ---------------------------------------------------------------- candidates

// Formula content, with any boxes inside it reduced to their contents ("x = \boxed{5}" -> "5").
std::string formula_text(std::string_view content) {
  if (content.find("\\boxed") == npos && content.find("\\fbox") == npos) return std::string(content);
  std::string all;
  size_t end = 0;
  if (last_boxed(content, all, end)) return all;
  return std::string(content);
}

struct Collector {
  const ExtractOptions& options;
  std::vector<Candidate> out;

  void add(std::string text, const char* source, int priority, size_t end) {
    std::string_view t = trim(text);
    if (t.empty() || t.size() > options.max_answer_chars) return;
    for (const Candidate& c : out)
      if (c.priority == priority && c.text == t) return;
    out.push_back(Candidate{std::string(t), source, priority, end});
  }
};

// Sentence after "is" in "final answer ... is X": up to a newline, ". " or "I hope".
std::string_view sentence_after(std::string_view text, size_t i) {
  size_t n = text.size(), j = i;
  while (j < n && text[j] != '\n') {
    if (text[j] == '.' && (j + 1 == n || is_space(text[j + 1])) && !(j > i && is_digit(text[j - 1]) && j + 1 < n && is_digit(text[j + 1])))
      break;
    if (text.compare(j, 6, "I hope") == 0) break;
    ++j;
  }
  return text.substr(i, j - i);
}

// "is 5 dollars", "is -3", "is \\frac12", "is (1, 2)" but not "is correct".
bool starts_like_math(char c) {
  return is_digit(c) || c == '-' || c == '+' || c == '.' || c == '\\' || c == '(' || c == '[' || c == '{';
}

void final_answer_candidates(std::string_view text, Collector& c) {
  for (size_t pos : find_all_ci(text, "final answer", 4)) {
    size_t start = pos + 12, limit = std::min(text.size(), start + 100);
    for (size_t i = start; i + 2 <= limit; ++i) {
      if (to_lower(text[i]) == 'i' && to_lower(text[i + 1]) == 's' && i > 0 && is_space(text[i - 1]) &&
          (i + 2 == text.size() || !is_alpha(text[i + 2]))) {
        size_t k = i + 2;
        while (k < text.size() && (is_space(text[k]) || text[k] == ':' || text[k] == '*')) ++k;
        if (k >= text.size()) break;
        Span s;
        FormulaScanner scanner{text};
        if (scanner.at(k, s)) {
          c.add(formula_text(text.substr(s.begin, s.end_content - s.begin)), "final_answer", 0, s.end);
        } else if (text.compare(k, 6, "\\boxed") != 0 && starts_like_math(text[k])) {
          std::string_view sentence = sentence_after(text, k);
          c.add(std::string(sentence), "final_answer", 0, k + sentence.size());
        }
        break;
      }
    }
  }
}

void answer_word_candidates(std::string_view text, Collector& c) {
  for (size_t pos : find_all_ci(text, "answer", 8)) {
    size_t after = pos + 6;
    size_t k = after;
    while (k < text.size() && is_alpha(text[k])) ++k;  // "answers"
    bool colon = k < text.size() && text[k] == ':';
    int priority = colon ? 1 : 2;
    const char* source = colon ? "answer:" : "answer";
    // A formula starting within 50 characters.
    FormulaScanner scanner{text};
    bool found_formula = false;
    for (size_t i = k; i < std::min(text.size(), k + 50); ++i) {
      if (text[i] != '$' && text[i] != '\\') continue;
      Span s;
      if (scanner.at(i, s)) {
        c.add(formula_text(text.substr(s.begin, s.end_content - s.begin)), source, priority, s.end);
        found_formula = true;
        break;
      }
    }
    // A number: after the last "=" on the line within 100 characters, else the first within 50.
    size_t line_end = text.find('\n', k);
    size_t window = std::min({text.size(), line_end == npos ? text.size() : line_end, k + 100});
    size_t eq = npos;
    for (size_t i = k; i < window; ++i)
      if (text[i] == '=') eq = i;
    NumberSpan num;
    bool have = eq != npos ? first_number(text, eq + 1, window, num) : first_number(text, k, k + 50, num);
    (void)found_formula;
    if (have)
      c.add(std::string(text.substr(num.begin, num.end - num.begin)), source, priority, num.end);
  }
}

void boxed_candidates(std::string_view text, Collector& c) {
  std::vector<Box> boxes = find_boxes(text, 12);
  std::string content;
  size_t end = 0;
  if (merged_last_box(text, boxes, content, end)) c.add(content, "boxed", 0, end);
  // Earlier boxes as lower-ranked alternatives when the last one does not parse (empty, truncated).
  for (size_t k = boxes.size() - std::min<size_t>(boxes.size(), 3); k + 1 < boxes.size(); ++k)
    c.add(std::string(text.substr(boxes[k].content_begin, boxes[k].content_end - boxes[k].content_begin)), "boxed", 0,
          boxes[k].end);
}

void gsm8k_candidates(std::string_view text, Collector& c) {
  size_t pos = text.rfind("####");
  if (pos == npos) return;
  size_t start = pos + 4, end = text.find('\n', start);
  if (end == npos) end = text.size();
  c.add(std::string(text.substr(start, end - start)), "####", 0, end);
}

// No English words: every run of 2+ letters is a \command ("x^2 - 1", "\frac{10}{9}"; not "We find x").
// Words inside \text{...}, \begin{...} and similar groups are part of the LaTeX, not prose.
bool looks_like_math(std::string_view text) {
  for (size_t i = 0; i < text.size();) {
    if (!is_alpha(text[i])) {
      ++i;
      continue;
    }
    size_t j = i;
    while (j < text.size() && is_alpha(text[j])) ++j;
    bool command = i > 0 && text[i - 1] == '\\';
    if (j - i >= 2 && !command) return false;
    if (command && j < text.size() && text[j] == '{') {
      std::string_view name = text.substr(i, j - i);
      if (name.rfind("text", 0) == 0 || name.rfind("math", 0) == 0 || name == "mbox" || name == "begin" ||
          name == "end" || name == "operatorname" || name == "emph") {
        size_t close = text.find('}', j);
        j = close == npos ? text.size() : close + 1;
      }
    }
    i = j;
  }
  return true;
}

// The last bare "\frac{a}{b}" (optionally negative) written outside any formula delimiters.
void bare_fraction_candidate(std::string_view text, Collector& c) {
  size_t pos = text.rfind("\\frac");
  if (pos == npos) return;
  size_t i = pos + 5;
  for (int arg = 0; arg < 2; ++arg) {
    while (i < text.size() && is_space(text[i])) ++i;
    if (i >= text.size() || text[i] != '{') return;
    int depth = 0;
    size_t k = i;
    for (; k < text.size() && k < i + 200; ++k) {
      if (text[k] == '{') ++depth;
      if (text[k] == '}' && --depth == 0) break;
    }
    if (k >= text.size() || text[k] != '}') return;
    i = k + 1;
  }
  size_t begin = (pos > 0 && text[pos - 1] == '-') ? pos - 1 : pos;
  c.add(std::string(text.substr(begin, i - begin)), "formula", 3, i);
}

void fallback_candidates(std::string_view text, Collector& c) {
  for (const Span& s : scan_formulas(text, 8))
    c.add(formula_text(text.substr(s.begin, s.end_content - s.begin)), "formula", 3, s.end);
  for (const NumberSpan& n : scan_numbers(text, 8))
    c.add(std::string(text.substr(n.begin, n.end - n.begin)), "number", 3, n.end);
  bare_fraction_candidate(text, c);
  // A short text with nothing anchored may be the answer itself ("x^2 - 1", "\frac{10}{9}").
  if (trim(text).size() <= 200 && looks_like_math(text)) c.add(std::string(text), "text", 3, text.size() + 1);
  // Last resort for a short prediction that is only words ("Evelyn", "no solution"): the whole of it.
  else if (trim(text).size() <= 100 && trim(text).find('\n') == npos) c.add(std::string(text), "text", 4, 0);
}

// Candidates of one stage: 0 = boxes, "####", "final answer is"; 1 = "answer:" / "answer"; 2 = fallback.
std::vector<Candidate> stage_candidates(std::string_view text, const ExtractOptions& options, int stage) {
  Collector c{options, {}};
  if (stage == 0) {
    boxed_candidates(text, c);
    gsm8k_candidates(text, c);
    final_answer_candidates(text, c);
  } else if (stage == 1) {
    answer_word_candidates(text, c);
  } else if (options.fallback) {
    fallback_candidates(text, c);
  }
  std::stable_sort(c.out.begin(), c.out.end(), [](const Candidate& a, const Candidate& b) {
    if (a.priority != b.priority) return a.priority < b.priority;
    return a.end > b.end;
  });
  return c.out;
}

// Calls fn on the candidates of `text`, stage by stage, until fn returns true. Returns whether any
// candidate was produced; `seen` counts them against max_candidates.
bool visit_region(std::string_view text, const ExtractOptions& options, const std::function<bool(const Candidate&)>& fn,
                  size_t& seen, bool& stopped, const Candidate* first = nullptr) {
  bool any = false;
  for (int stage = 0; stage < 3 && !stopped; ++stage) {
    std::vector<Candidate> cands = stage_candidates(text, options, stage);
    if (stage == 0 && first != nullptr) {  // the whole <answer> block, right after an anchored answer
      std::vector<Candidate> merged;
      merged.reserve(cands.size() + 1);
      for (size_t k = 0; k < cands.size(); ++k) {
        if (k == 1) merged.push_back(*first);
        merged.push_back(std::move(cands[k]));
      }
      if (cands.size() < 2) merged.push_back(*first);
      cands.swap(merged);
    }
    for (const Candidate& cand : cands) {
      any = true;
      if (seen++ >= options.max_candidates || fn(cand)) {
        stopped = true;
        break;
      }
    }
  }
  return any;
}

}  // namespace

bool last_boxed(std::string_view text, std::string& content, size_t& end) {
  return merged_last_box(text, find_boxes(text, 12), content, end);
}

void for_each_candidate(std::string_view completion, const ExtractOptions& options,
                        const std::function<bool(const Candidate&)>& fn) {
  size_t seen = 0;
  bool stopped = false;
  if (options.answer_tags) {
    size_t open = completion.rfind("<answer>");
    if (open != npos) {
      size_t begin = open + 8;
      size_t close = completion.find("</answer>", begin);
      std::string_view inside = completion.substr(begin, close == npos ? npos : close - begin);
      ExtractOptions inner = options;
      inner.answer_tags = false;
      inner.after_think = false;
      std::string_view whole = trim(inside);
      Candidate all{std::string(whole), "answer_tag", 0, inside.size() + 1};
      bool use_whole = !whole.empty() && whole.size() <= options.max_answer_chars && looks_like_math(whole);
      visit_region(inside, inner, fn, seen, stopped, use_whole ? &all : nullptr);
      return;
    }
  }
  if (options.require_answer_tags) return;
  if (options.after_think) {
    size_t think = completion.rfind("</think>");
    if (think != npos && visit_region(completion.substr(think + 8), options, fn, seen, stopped)) return;
  }
  visit_region(completion, options, fn, seen, stopped);
}

std::vector<Candidate> extract_candidates(std::string_view completion, const ExtractOptions& options) {
  std::vector<Candidate> out;
  for_each_candidate(completion, options, [&](const Candidate& c) {
    out.push_back(c);
    return false;
  });
  return out;
}

std::vector<Candidate> gold_candidates(std::string_view gold, const ExtractOptions& options) {
  std::vector<Candidate> out;
  std::string_view g = trim(gold);
  size_t hashes = g.rfind("####");
  if (hashes != npos) {
    size_t end = g.find('\n', hashes);
    std::string_view tail = trim(g.substr(hashes + 4, end == npos ? npos : end - hashes - 4));
    if (!tail.empty()) out.push_back(Candidate{std::string(tail), "####", 0, 0});
    return out;
  }
  std::string boxed;
  size_t end = 0;
  if (last_boxed(g, boxed, end)) {
    out.push_back(Candidate{boxed, "boxed", 0, end});
    return out;
  }
  size_t open = g.rfind("<answer>");
  if (open != npos) {
    size_t close = g.find("</answer>", open + 8);
    out.push_back(Candidate{std::string(trim(g.substr(open + 8, close == npos ? npos : close - open - 8))), "answer_tag", 0, 0});
    return out;
  }
  // A bare answer, possibly wrapped in one formula: "$\frac{1}{2}$", "\(x^2\)".
  std::string_view bare = g;
  for (auto [l, r] : {std::pair<std::string_view, std::string_view>{"$$", "$$"}, {"$", "$"}, {"\\[", "\\]"}, {"\\(", "\\)"}}) {
    if (bare.size() >= l.size() + r.size() && bare.substr(0, l.size()) == l && bare.substr(bare.size() - r.size()) == r &&
        bare.substr(l.size(), bare.size() - l.size() - r.size()).find(l) == npos) {
      bare = trim(bare.substr(l.size(), bare.size() - l.size() - r.size()));
      break;
    }
  }
  if (!bare.empty() && bare.size() <= options.max_answer_chars) out.push_back(Candidate{std::string(bare), "gold", 0, 0});
  return out;
}

}  // namespace r1::rewards::math
