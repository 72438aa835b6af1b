// See completion_parts.h.
#include "datasets/filters/completion_parts.h"

#include "rewards/text_words.h"

namespace r1::data {

CompletionParts split_completion(std::string_view completion, MissingThink missing_think) {
  CompletionParts p;
  const size_t open = completion.find("<think>");
  const size_t close = completion.find("</think>", open == std::string_view::npos ? 0 : open + 7);
  p.has_think = open != std::string_view::npos || completion.find("</think>") != std::string_view::npos;
  if (!p.has_think && missing_think == MissingThink::Answer) {
    p.answer = completion;
    return p;
  }
  p.cot = rewards::chain_of_thought(completion);
  if (close == std::string_view::npos) {
    p.unclosed = true;
    return p;
  }
  p.answer = completion.substr(close + 8);
  return p;
}

}  // namespace r1::data
