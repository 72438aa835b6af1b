// See synthetic_arithmetic.h.
#include "rl/stages/synthetic_arithmetic.h"

#include "common/error.h"
#include "common/fs.h"
#include "datasets/arithmetic.h"

namespace r1::rl {
data::ArithmeticConfig SyntheticArithmeticConfig::problem_config() const {
  data::ArithmeticConfig config;
  config.max_digits = static_cast<int>(max_digits);
  config.add_weight = add_weight;
  config.sub_weight = sub_weight;
  config.mul_weight = mul_weight;
  config.pad_operands = pad_operands;
  return config;
}

std::string SyntheticArithmeticConfig::corpus_document(const data::ArithmeticProblem& problem, int64_t index) const {
  const data::TranscriptOptions transcript{static_cast<int>(max_framing), static_cast<int>(max_noise_words), follow_rate,
                                           static_cast<int>(tag_names)};
  int64_t total_weight = 0;
  for (int64_t w : style_weights) total_weight += w;
  // Style by a deterministic walk over the weights.
  const uint64_t h = data::stable_hash(problem.question + "#style" + std::to_string(index));
  int64_t pick = static_cast<int64_t>(h % static_cast<uint64_t>(total_weight));
  int style = 0;
  while (pick >= style_weights[style]) pick -= style_weights[style++];
  return data::arithmetic_document(problem, style, h, transcript);
}

std::string json_line(const std::vector<std::pair<std::string, std::string>>& fields) {
  json::Document doc(rapidjson::kObjectType);
  auto& a = doc.GetAllocator();
  for (const auto& [k, v] : fields) doc.AddMember(json::Value(k.c_str(), a), json::Value(v.c_str(), a), a);
  return json::dump(doc);
}

namespace {

std::string run_synthetic(const SyntheticArithmeticConfig& c, StageContext& ctx) {
  const data::ArithmeticConfig config = c.problem_config();
  const uint64_t seed = c.seed >= 0 ? static_cast<uint64_t>(c.seed) : ctx.seed;

  // The train side of the split feeds the corpus (a stream that may repeat questions when the space is
  // small) and the RL prompts (distinct questions); held-out questions are distinct and on neither.
  auto corpus_problems =
      data::arithmetic_problems(config, seed, static_cast<size_t>(c.corpus_size), false, /*distinct=*/false);
  auto train_problems = data::arithmetic_problems(config, seed ^ 0x5EEDull, static_cast<size_t>(c.train_size), false);
  auto heldout = data::arithmetic_problems(config, seed, static_cast<size_t>(c.heldout_size), true);

  std::string corpus, train, test;
  for (int64_t i = 0; i < c.corpus_size; ++i) {
    corpus += json_line({{"text", c.corpus_document(corpus_problems[i], i)}}) + "\n";
  }
  for (const auto& p : train_problems) {
    train += json_line({{"prompt", p.question}, {"answer", p.answer}}) + "\n";
  }
  for (const auto& p : heldout) test += json_line({{"prompt", p.question}, {"answer", p.answer}}) + "\n";
  write_file_atomic(path_join(ctx.dir, "corpus.jsonl"), corpus);
  write_file_atomic(path_join(ctx.dir, "train.jsonl"), train);
  write_file_atomic(path_join(ctx.dir, "heldout.jsonl"), test);
  std::fprintf(stderr, "%s: wrote %ld corpus documents, %ld RL prompts, %ld held-out prompts to %s\n",
               ctx.spec.name.c_str(), static_cast<long>(c.corpus_size), static_cast<long>(c.train_size),
               static_cast<long>(c.heldout_size), ctx.dir.c_str());
  return ctx.dir;
}

}  // namespace

void SyntheticArithmeticConfig::validate(const std::string& where) const {
  R1_CHECK(max_digits >= 1 && max_digits <= 9, where, ": max_digits must be in 1..9, got ", max_digits);
  R1_CHECK(corpus_size >= 0 && train_size >= 0 && heldout_size >= 0, where, ": sizes must be >= 0");
  R1_CHECK(style_weights.size() == static_cast<size_t>(data::kBaseCorpusStyles), where, ": style_weights needs ",
           data::kBaseCorpusStyles, " entries, got ", style_weights.size());
  int64_t total = 0;
  for (int64_t w : style_weights) {
    R1_CHECK(w >= 0, where, ": style_weights must be >= 0");
    total += w;
  }
  R1_CHECK(total > 0, where, ": style_weights must not all be 0");
  R1_CHECK(max_framing >= 0 && max_framing <= 10, where, ": max_framing must be in [0, 10]");
  R1_CHECK(max_noise_words >= 0 && max_noise_words <= 1000, where, ": max_noise_words must be in [0, 1000]");
  R1_CHECK(follow_rate > 0.0 && follow_rate <= 1.0, where, ": follow_rate must be in (0, 1]");
  R1_CHECK(tag_names == 0 || (tag_names >= 6 && tag_names <= 20), where, ": tag_names must be 0 or in [6, 20]");
}

std::unique_ptr<Stage> make_synthetic_arithmetic_stage(const StageSpec& spec) {
  return std::make_unique<ConfiguredStage<SyntheticArithmeticConfig>>(spec, run_synthetic);
}

}  // namespace r1::rl
