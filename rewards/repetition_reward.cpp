// The "repetition" reward: n-gram repetition penalty (Yeo et al. 2025; open-r1's
// repetition_penalty_reward), score = max_penalty * (1 - distinct n-grams / all n-grams), in
// [max_penalty, 0]. Completions shorter than one n-gram score 0.
//
// Words are text_words.h words, lower-cased, so CJK text (one word per character) is penalised for
// repeated character n-grams instead of counting as one giant whitespace "word" — a departure from the
// whitespace split of the reference implementation, which never penalises Chinese loops.
#include <string>

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
    Score s;
    const NgramCounts counts = count_ngrams(words, n_);
    if (counts.total == 0) {
      s.components = {{"distinct", 1.0}};
      s.reason = "shorter than one n-gram";
      return s;
    }
    double ratio = static_cast<double>(counts.distinct) / static_cast<double>(counts.total);
    s.value = max_penalty_ * (1.0 - ratio);
    s.components = {{"distinct", ratio}};
    s.reason = std::to_string(counts.distinct) + "/" + std::to_string(counts.total) + " distinct " + std::to_string(n_) + "-grams";
    return s;
  }

 private:
  size_t n_;
  double max_penalty_;
  RepetitionScope scope_;
};

}  // namespace

void register_repetition_reward(Registry& registry) {
  add_reward_of<RepetitionReward, RepetitionConfig>(registry, "repetition",
      "n-gram repetition penalty: max_penalty * (1 - distinct/all n-grams)");
}

}  // namespace r1::rewards
