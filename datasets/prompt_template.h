// Prompt templates for RL stages: how a dataset question becomes the text the policy continues.
//
// A template is a string with one "{prompt}" placeholder. Built-in names:
//   r1_zero        the DeepSeek-R1-Zero template (R1 paper, Table 1), verbatim; generation continues after
//                  "Assistant:"
//   r1_zero_think  the same, ending in "Assistant: <think>" so the policy starts inside its reasoning
//                  (common in open reproductions, e.g. TinyZero's countdown prompt)
//   short_think    "User: {prompt}\nAssistant: <think>" — the R1-Zero format instruction dropped, for models
//                  too small to read it
//   plain          "{prompt}"
// Anything else containing "{prompt}" is used as given. Chat models use chat templates instead
// (model/tokenizer/chat_template.h); a recipe picks one or the other.
#pragma once

#include <string>

namespace r1::data {

// Returns the template text for a built-in name, or `name_or_text` itself when it contains "{prompt}";
// throws r1::Error (naming `where`) otherwise.
std::string resolve_prompt_template(const std::string& name_or_text, const std::string& where);

// Substitutes the question into the template (every "{prompt}" occurrence).
std::string apply_prompt_template(const std::string& template_text, const std::string& question);

}  // namespace r1::data
