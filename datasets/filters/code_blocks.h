// Code blocks inside a chain of thought, for the code_block filter.
//
// Fenced code: a ``` anywhere in the text, or a line opening with ~~~ (after up to 3 spaces).
// Indented code: a run of at least `min_indented_lines` non-blank lines, each indented by 4 or more
// columns (a tab reaches the next multiple of 4), blank lines inside the run allowed; lines that are list
// items ("- ", "* ", "+ ", "• ", "1. ", "1) ") and runs that continue a list item (the last non-indented
// line before them is one) are Markdown list content, not code.
// Display math is never code: $$...$$, \[...\] and \begin{...}...\end{...} are blanked out first, so an
// indented aligned equation inside them does not count. Only the text passed in is looked at: the caller
// passes the CoT, so code in the answer after </think> does not count.
#pragma once

#include <string>
#include <string_view>

namespace r1::data {

struct CodeBlockFound {
  bool fenced = false;
  bool indented = false;
  bool any() const { return fenced || indented; }
};

CodeBlockFound find_code_blocks(std::string_view cot, size_t min_indented_lines);

// The text with display math replaced by spaces (newlines kept), as find_code_blocks sees it.
std::string blank_display_math(std::string_view text);

}  // namespace r1::data
