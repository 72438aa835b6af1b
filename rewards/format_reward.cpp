// See format_reward.h.
#include "rewards/format_reward.h"

#include <string_view>
#include <vector>

#include "rewards/builtin.h"
#include "rewards/options.h"

namespace r1::rewards {
namespace {

bool blank(std::string_view s) {
  for (char c : s)
    if (c != ' ' && c != '\t' && c != '\n' && c != '\r') return false;
  return true;
}

size_t count(std::string_view text, std::string_view tag) {
  size_t n = 0;
  for (size_t pos = text.find(tag); pos != std::string_view::npos; pos = text.find(tag, pos + tag.size())) ++n;
  return n;
}

}  // namespace

const std::vector<std::pair<FormatStyle, const char*>>& enum_names(FormatStyle) {
  static const std::vector<std::pair<FormatStyle, const char*>> names = {{FormatStyle::R1Zero, "r1_zero"},
                                                                          {FormatStyle::R1, "r1"}};
  return names;
}

FormatCheck check_format(const std::string& completion, const FormatConfig& config) {
  FormatCheck out;
  std::string text = config.think_in_prompt ? "<think>" + completion : completion;
  std::string_view t = text;
  const bool zero = config.style == FormatStyle::R1Zero;
  std::vector<std::string_view> tags = {"<think>", "</think>"};
  if (zero) {
    tags.push_back("<answer>");
    tags.push_back("</answer>");
  }
  size_t once = 0;
  bool counts_ok = true;
  for (std::string_view tag : tags) {
    size_t n = count(t, tag);
    if (n == 1) ++once;
    else counts_ok = false;
  }
  out.tag_fraction = static_cast<double>(once) / static_cast<double>(tags.size());
  if (!counts_ok) {
    out.reason = "each template tag must appear exactly once";
    return out;
  }
  size_t think_open = t.find("<think>"), think_close = t.find("</think>");
  if (!blank(t.substr(0, think_open))) {
    out.reason = "text before <think>";
    return out;
  }
  if (think_close < think_open) {
    out.reason = "</think> before <think>";
    return out;
  }
  std::string_view rest = t.substr(think_close + 8);
  if (zero) {
    size_t a_open = rest.find("<answer>"), a_close = rest.find("</answer>");
    if (a_open == std::string_view::npos || a_close == std::string_view::npos || a_close < a_open) {
      out.reason = "<answer>...</answer> must follow </think>";
      return out;
    }
    if (!blank(rest.substr(0, a_open))) {
      out.reason = "text between </think> and <answer>";
      return out;
    }
    if (!blank(rest.substr(a_close + 9))) {
      out.reason = "text after </answer>";
      return out;
    }
    if (blank(rest.substr(a_open + 8, a_close - a_open - 8))) {
      out.reason = "empty answer";
      return out;
    }
  } else {
    if (t.find("<answer>") != std::string_view::npos || t.find("</answer>") != std::string_view::npos) {
      out.reason = "answer tags are not part of the r1 template";
      return out;
    }
    if (blank(rest)) {
      out.reason = "no summary after </think>";
      return out;
    }
  }
  out.ok = true;
  out.reason = zero ? "r1_zero template" : "r1 template";
  return out;
}

Score FormatReward::score(const Sample& sample) const {
  FormatCheck c = check_format(sample.completion, config_);
  if (c.ok && sample.truncated && config_.truncated_fails) {
    c.ok = false;
    c.reason = "cut at the length limit (truncated_fails)";
  }
  Score s;
  s.value = c.ok ? 1.0 : (config_.partial_credit ? c.tag_fraction : 0.0);
  s.components = {{"ok", c.ok ? 1.0 : 0.0}, {"tags", c.tag_fraction}};
  s.reason = c.reason;
  return s;
}

void register_format_reward(Registry& registry) {
  add_reward_of<FormatReward, FormatConfig>(registry, "format",
      "completion follows the R1-Zero (<think></think><answer></answer>) or R1 template, anchored");
}

}  // namespace r1::rewards
