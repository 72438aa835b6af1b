// A completion cut into its chain of thought and its answer, the parts the readability filters judge.
//
// The CoT is what the language reward reads (rewards/text_words.h chain_of_thought): the text inside
// <think>...</think>; the text before a lone </think> (the prompt opened the block); without either
// tag, the whole completion — or, with MissingThink::Answer, nothing (then the whole completion is the
// answer). The answer is the text after the first </think> that closes the CoT; a completion whose
// <think> is never closed has no answer and is `unclosed` (it was cut at the length limit).
#pragma once

#include <string_view>

#include "datasets/filters/options.h"

namespace r1::data {

struct CompletionParts {
  std::string_view cot;
  std::string_view answer;
  bool has_think = false;  // a <think> or </think> tag is present
  bool unclosed = false;   // no </think> closes the chain of thought (MissingThink::Cot counts a tagless one)
};

CompletionParts split_completion(std::string_view completion, MissingThink missing_think);

}  // namespace r1::data
