// The "language" reward: language consistency of the chain of thought (DeepSeek-R1, section 2.3.2).
//
// score = (words of the target language's script(s)) / (all words) in the CoT — the text inside
// <think>...</think> when present, else the whole completion (scope "all" scores the whole completion, its think tags removed: markup, not words).
// Words are counted as text_words.h defines them (each CJK ideograph / kana / hangul syllable is one
// word; LaTeX, digits, punctuation and fenced code are not words). The target language comes from the
// row field `lang_key` (ISO code: en, zh, ja, ru, ...) or, when the row has none, from the dominant
// script of the prompt. Departure from the paper: consistency is judged per writing system, so an
// English CoT for a French prompt scores 1 (both Latin); the paper does not say how it tells them apart.
// A CoT with no words at all scores `empty_score` (0 by default, so that an all-LaTeX CoT cannot farm
// the reward).
#include "common/error.h"
#include "rewards/builtin.h"
#include "rewards/options.h"
#include "rewards/text_words.h"

namespace r1::rewards {
namespace {

enum class LanguageScope { Think, All };
const std::vector<std::pair<LanguageScope, const char*>>& enum_names(LanguageScope) {
  static const std::vector<std::pair<LanguageScope, const char*>> names = {{LanguageScope::Think, "think"},
                                                                            {LanguageScope::All, "all"}};
  return names;
}

struct LanguageConfig {
  std::string lang_key = "target_lang";
  std::string default_lang;
  LanguageScope scope = LanguageScope::Think;
  double empty_score = 0.0;

  template <class V>
  void visit(V& v) {
    v("lang_key", lang_key, "row field with the target language (ISO code: en, zh, ja, ru, ...)");
    v("default_lang", default_lang, "target when the row has none; \"\" detects it from the prompt");
    v("scope", scope, "think: the <think> block (else the whole completion) | all: everything but the think tags");
    v("empty_score", empty_score, "score of a chain of thought without words");
  }
  void validate(const std::string& where) const {
    R1_CHECK(default_lang.empty() || !scripts_of_language(default_lang).empty(), where,
             ": option 'default_lang': unknown language code '", default_lang,
             "' (use ISO 639-1 codes: en, zh, ja, ko, ru, ar, hi, ...)");
  }
};

// The completion with every "<think>" and "</think>" replaced by a space.
std::string without_think_tags(const std::string& text) {
  std::string out = text;
  for (const char* tag : {"</think>", "<think>"}) {
    const size_t n = std::char_traits<char>::length(tag);
    for (size_t at = 0; (at = out.find(tag, at)) != std::string::npos;) out.replace(at, n, " ");
  }
  return out;
}

class LanguageReward : public Reward {
 public:
  explicit LanguageReward(LanguageConfig c) : config_(std::move(c)) {}
  std::string name() const override { return "language"; }

  Score score(const Sample& sample) const override {
    std::string label;
    std::vector<Script> target = target_scripts(sample, label);
    std::string whole;  // scope all: the completion without its think tags, which are markup, not words
    if (config_.scope == LanguageScope::All) whole = without_think_tags(sample.completion);
    std::string_view cot = config_.scope == LanguageScope::Think ? chain_of_thought(sample.completion) : whole;
    std::string stripped;
    std::vector<Word> words;
    language_words(cot, stripped, words);
    Score s;
    const size_t hits = count_in_scripts(words, target);
    if (target.empty()) {
      s.value = config_.empty_score;
      s.reason = "no target language (row has no '" + config_.lang_key + "' and the prompt has no words)";
    } else if (words.empty()) {
      s.value = config_.empty_score;
      s.reason = "no words in the chain of thought";
    } else {
      s.value = static_cast<double>(hits) / static_cast<double>(words.size());
      s.reason = std::to_string(hits) + "/" + std::to_string(words.size()) + " words in " + label;
    }
    s.components = {{"ratio", s.value}, {"words", static_cast<double>(words.size())}};
    return s;
  }

 private:
  std::vector<Script> target_scripts(const Sample& sample, std::string& label) const {
    std::optional<std::string> lang = row_text_opt(sample, config_.lang_key, "language");
    if (!lang || lang->empty()) lang = config_.default_lang.empty() ? std::nullopt : std::optional(config_.default_lang);
    if (lang && !lang->empty()) {
      std::vector<Script> scripts = scripts_of_language(*lang);
      if (scripts.empty())
        fail("reward 'language': unknown language code '", *lang, "' in row field '", config_.lang_key,
             "' (use ISO 639-1 codes: en, zh, ja, ko, ru, ar, hi, ...)");
      label = *lang;
      return scripts;
    }
    return detect_scripts(sample.prompt, &label);
  }

  LanguageConfig config_;
};

}  // namespace

void register_language_reward(Registry& registry) {
  add_reward_of<LanguageReward, LanguageConfig>(registry, "language",
      "share of chain-of-thought words in the target language's script (R1 language consistency)");
}

}  // namespace r1::rewards
