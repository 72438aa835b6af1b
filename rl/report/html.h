// Small HTML helpers for the run report (rl/report/report.h): escaping of every text that comes from a run
// directory (it may hold anything a model wrote), and number formatting shared by the tables and charts.
#pragma once

#include <string>
#include <string_view>

namespace r1::rl::report {

// Escapes & < > " ' for HTML text and attribute values (and SVG, which is XML). Control characters other
// than tab, newline and carriage return are replaced by U+FFFD so that no byte of a run can break the page.
std::string html_escape(std::string_view text);

// At most max_chars bytes of text (cut at a UTF-8 character boundary), with "… (N more characters)" when cut.
std::string clip_text(std::string_view text, size_t max_chars);

// A number for a table cell: integers without decimals, others with 4 significant digits; non-finite as "n/a".
std::string format_number(double v);

// A fraction as a percentage with one decimal ("81.0%"); non-finite as "n/a".
std::string format_percent(double v);

}  // namespace r1::rl::report
