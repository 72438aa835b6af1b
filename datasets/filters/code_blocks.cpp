// See code_blocks.h. One pass blanks display math, one pass over the lines finds fences and indented runs.
#include "datasets/filters/code_blocks.h"

#include <cctype>

namespace r1::data {
namespace {

// Blanks text[from, to) (newlines kept).
void blank(std::string& text, size_t from, size_t to) {
  for (size_t i = from; i < to && i < text.size(); ++i)
    if (text[i] != '\n') text[i] = ' ';
}

bool is_list_item(std::string_view content) {
  if (content.size() >= 2 && (content[0] == '-' || content[0] == '*' || content[0] == '+') && content[1] == ' ')
    return true;
  if (content.rfind("\xE2\x80\xA2", 0) == 0) return true;  // •
  size_t d = 0;
  while (d < content.size() && d < 9 && std::isdigit(static_cast<unsigned char>(content[d]))) ++d;
  return d > 0 && d + 1 < content.size() && (content[d] == '.' || content[d] == ')') && content[d + 1] == ' ';
}

}  // namespace

std::string blank_display_math(std::string_view text) {
  std::string out(text);
  size_t i = 0;
  while (i < out.size()) {
    size_t end = std::string::npos;
    if (out.compare(i, 2, "$$") == 0) {
      size_t close = out.find("$$", i + 2);
      end = close == std::string::npos ? out.size() : close + 2;
    } else if (out.compare(i, 2, "\\[") == 0) {
      size_t close = out.find("\\]", i + 2);
      end = close == std::string::npos ? out.size() : close + 2;
    } else if (out.compare(i, 7, "\\begin{") == 0) {
      size_t name_end = out.find('}', i + 7);
      if (name_end != std::string::npos) {
        const std::string closing = "\\end{" + out.substr(i + 7, name_end - i - 7) + "}";
        size_t close = out.find(closing, name_end);
        end = close == std::string::npos ? out.size() : close + closing.size();
      }
    }
    if (end == std::string::npos) {
      ++i;
      continue;
    }
    blank(out, i, end);
    i = end;
  }
  return out;
}

CodeBlockFound find_code_blocks(std::string_view cot, size_t min_indented_lines) {
  CodeBlockFound found;
  const std::string text = blank_display_math(cot);
  found.fenced = text.find("```") != std::string::npos;
  size_t run = 0;               // indented lines in the current run
  bool list_context = false;    // the last non-indented, non-blank line was a list item
  bool run_in_list = false;     // the current run continues a list item
  size_t pos = 0;
  while (pos <= text.size()) {
    size_t eol = text.find('\n', pos);
    if (eol == std::string::npos) eol = text.size();
    const std::string_view line(text.data() + pos, eol - pos);
    pos = eol + 1;
    size_t columns = 0, k = 0;
    for (; k < line.size() && (line[k] == ' ' || line[k] == '\t'); ++k) columns = line[k] == '\t' ? (columns / 4 + 1) * 4 : columns + 1;
    std::string_view content = line.substr(k);
    while (!content.empty() && (content.back() == '\r' || content.back() == ' ' || content.back() == '\t'))
      content.remove_suffix(1);
    if (content.empty()) continue;  // blank lines neither break nor extend a run
    if (columns <= 3 && content.rfind("~~~", 0) == 0) found.fenced = true;
    if (columns >= 4) {
      if (run == 0) run_in_list = list_context;
      if (is_list_item(content)) continue;
      ++run;
      if (!run_in_list && run >= min_indented_lines) found.indented = true;
      continue;
    }
    run = 0;
    list_context = is_list_item(content);
  }
  return found;
}

}  // namespace r1::data
