// See prompt_template.h.
#include "datasets/prompt_template.h"

#include "common/error.h"

namespace r1::data {
namespace {

// DeepSeek-R1 paper, Table 1 ("Template for DeepSeek-R1-Zero"); "prompt" is replaced by the question.
constexpr const char* kR1Zero =
    "A conversation between User and Assistant. The user asks a question, and the Assistant solves it. The "
    "assistant first thinks about the reasoning process in the mind and then provides the user with the answer. "
    "The reasoning process and answer are enclosed within <think> </think> and <answer> </answer> tags, "
    "respectively, i.e., <think> reasoning process here </think> <answer> answer here </answer>. User: {prompt}. "
    "Assistant:";

}  // namespace

std::string resolve_prompt_template(const std::string& name_or_text, const std::string& where) {
  if (name_or_text == "r1_zero") return kR1Zero;
  if (name_or_text == "r1_zero_think") return std::string(kR1Zero) + " <think>";
  if (name_or_text == "short_think") return "User: {prompt}\nAssistant: <think>";
  if (name_or_text == "plain") return "{prompt}";
  R1_CHECK(name_or_text.find("{prompt}") != std::string::npos, where, ": unknown prompt template '", name_or_text,
           "' (built-in: r1_zero, r1_zero_think, short_think, plain; or a text containing {prompt})");
  return name_or_text;
}

std::string apply_prompt_template(const std::string& template_text, const std::string& question) {
  static const std::string kSlot = "{prompt}";
  std::string out;
  size_t pos = 0;
  for (size_t hit; (hit = template_text.find(kSlot, pos)) != std::string::npos; pos = hit + kSlot.size()) {
    out.append(template_text, pos, hit - pos);
    out += question;
  }
  out.append(template_text, pos, std::string::npos);
  return out;
}

}  // namespace r1::data
