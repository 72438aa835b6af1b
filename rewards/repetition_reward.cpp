// The "repetition" reward: n-gram repetition penalty (Yeo et al. 2025; open-r1's
// repetition_penalty_reward), score = max_penalty * (1 - distinct n-grams / all n-grams), in
// [max_penalty, 0]. Completions shorter than one n-gram score 0.
//
// Words are text_words.h words, lower-cased, so CJK text (one word per character) is penalised for
// repeated character n-grams instead of counting as one giant whitespace "word" — a departure from the
// whitespace split of the reference implementation, which never penalises Chinese loops.
#include <string>
#include <unordered_set>

#include "common/error.h"
#include "rewards/builtin.h"
#include "rewards/options.h"
#include "rewards/text_words.h"

namespace r1::rewards {
namespace {

enum class RepetitionScope { All, Think };
const std::vector<std::pair<RepetitionScope, const char*>>& enum_names(RepetitionScope) {
  static const std::vector<std::pair<RepetitionScope, const char*>> names = {{RepetitionScope::All, "all"},
                                                                              {RepetitionScope::Think, "think"}};
  return names;
}

struct RepetitionConfig {
  int64_t ngram_size = 3;
  double max_penalty = -1.0;
  RepetitionScope scope = RepetitionScope::All;

  template <class V>
  void visit(V& v) {
    v("ngram_size", ngram_size, "n, in [1, 64]");
    v("max_penalty", max_penalty, "score of a completion that repeats one n-gram forever (<= 0)");
    v("scope", scope, "all: the whole completion | think: the chain of thought");
  }
  void validate(const std::string& where) const {
    R1_CHECK(ngram_size >= 1 && ngram_size <= 64, where, ": option 'ngram_size' must be in [1, 64], got ", ngram_size);
    R1_CHECK(max_penalty <= 0, where, ": option 'max_penalty' must be <= 0, got ", max_penalty);
  }
};

class RepetitionReward : public Reward {
 public:
  explicit RepetitionReward(const RepetitionConfig& c)
      : n_(static_cast<size_t>(c.ngram_size)), max_penalty_(c.max_penalty), scope_(c.scope) {}
  std::string name() const override { return "repetition"; }

  Score score(const Sample& sample) const override {
    std::string_view text = scope_ == RepetitionScope::Think ? chain_of_thought(sample.completion) : sample.completion;
    std::vector<Word> words;
    split_words(text, words);
    std::vector<std::string> lowered;
    lowered.reserve(words.size());
    for (const Word& w : words) {
      std::string s(w.text);
      for (char& c : s)
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
      lowered.push_back(std::move(s));
    }
    Score s;
    if (lowered.size() < n_) {
      s.components = {{"distinct", 1.0}};
      s.reason = "shorter than one n-gram";
      return s;
    }
    std::unordered_set<std::string> distinct;
    size_t total = lowered.size() - n_ + 1;
    std::string key;
    for (size_t i = 0; i < total; ++i) {
      key.clear();
      for (size_t k = 0; k < n_; ++k) {
        key += lowered[i + k];
        key += '\x1f';
      }
      distinct.insert(key);
    }
    double ratio = static_cast<double>(distinct.size()) / static_cast<double>(total);
    s.value = max_penalty_ * (1.0 - ratio);
    s.components = {{"distinct", ratio}};
    s.reason = std::to_string(distinct.size()) + "/" + std::to_string(total) + " distinct " + std::to_string(n_) + "-grams";
    return s;
  }

 private:
  size_t n_;
  double max_penalty_;
  RepetitionScope scope_;
};

}  // namespace

void register_repetition_reward(Registry& registry) {
  RewardInfo info;
  info.name = "repetition";
  info.description = "n-gram repetition penalty: max_penalty * (1 - distinct/all n-grams)";
  add_reward<RepetitionConfig>(registry, info, [](const RepetitionConfig& c, const std::string&) {
    return std::make_shared<RepetitionReward>(c);
  });
}

}  // namespace r1::rewards
