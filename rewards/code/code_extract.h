// Finding the program in a model's completion: the last fenced code block of the requested language.
//
// Fences follow CommonMark: a line of at least three backticks or tildes (indented by at most three
// spaces), an info string whose first word is the language tag, and a closing line of the same character
// at least as long. An unclosed last block runs to the end of the text (a completion cut at the length
// limit keeps its code). Tags match case-insensitively against the language's name and aliases of the
// sandbox's table ("python", "py", "python3"; "cpp", "c++", ...).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace r1::rewards {

struct CodeBlock {
  std::string tag;   // lower-cased first word of the info string ("" when none)
  std::string code;  // the lines between the fences, each ending in '\n'
  bool closed = true;
};

// Every fenced block, in order.
std::vector<CodeBlock> fenced_blocks(std::string_view text);

struct ExtractOptions {
  std::string language = "python";
  std::string mode = "auto";  // auto | block | whole (see CodeRewardOptions::extract)
  bool after_think = true;
};

// The code to run, or nullopt (with *why) when there is none.
std::optional<std::string> extract_code(std::string_view completion, const ExtractOptions& options, std::string* why);

}  // namespace r1::rewards
