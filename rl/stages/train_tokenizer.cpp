// See train_tokenizer.h.
#include "rl/stages/train_tokenizer.h"

#include <chrono>
#include <cstdio>

#include "common/error.h"
#include "common/fs.h"
#include "common/progress.h"
#include "model/tokenizer/tokenizer_train.h"

namespace r1::rl {
namespace {

model::BpeTrainerOptions trainer_options(const TrainTokenizerConfig& c) {
  model::BpeTrainerOptions o;
  o.vocab_size = c.vocab_size;
  o.special_tokens = c.special_tokens;
  o.split_digits = c.split_digits;
  o.min_frequency = c.min_frequency;
  return o;
}

std::string run_train_tokenizer(const TrainTokenizerConfig& c, StageContext& ctx) {
  const auto start = std::chrono::steady_clock::now();
  model::BpeTrainer trainer(trainer_options(c));
  for (const std::string& ref : c.data) {
    const std::string path = ctx.resolve_ref(ref);
    R1_CHECK(path_exists(path), ctx.spec.where, ": key 'data': '", ref, "' (", path, ") does not exist");
    model::add_jsonl_texts(trainer, path, c.text_key);
  }
  for (const std::string& text : c.extra_texts) trainer.add_text(text, c.extra_texts_weight);

  ProgressBar bar(ctx.spec.name + " merges", static_cast<size_t>(c.vocab_size - 256 - c.special_tokens.size()), ctx.quiet);
  const model::BpeTrainResult r = trainer.train([&](int64_t done, int64_t) { bar.update(static_cast<size_t>(done)); });
  bar.finish();

  model::TokenizerConfig config;
  if (!c.bos_token.empty()) config.bos_token = c.bos_token;
  if (!c.eos_token.empty()) config.eos_token = c.eos_token;
  if (!c.pad_token.empty()) config.pad_token = c.pad_token;
  model::save_trained_tokenizer(ctx.dir, r.tokenizer_json, config);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::fprintf(stderr, "%s: %ld texts (%.1f MB) → %ld tokens (%zu merges, %ld distinct words) in %.1f s; wrote %s\n",
               ctx.spec.name.c_str(), static_cast<long>(trainer.texts_added()),
               static_cast<double>(trainer.bytes_added()) / 1e6, static_cast<long>(r.vocab_size), r.merges.size(),
               static_cast<long>(r.words), seconds, path_join(ctx.dir, "tokenizer.json").c_str());
  return ctx.dir;
}

}  // namespace

void TrainTokenizerConfig::validate(const std::string& where) const {
  R1_CHECK(!data.empty() || !extra_texts.empty(), where, ": key 'data': give at least one JSONL file (or extra_texts)");
  R1_CHECK(!text_key.empty(), where, ": key 'text_key' must not be empty");
  const int64_t fixed = 256 + static_cast<int64_t>(special_tokens.size());
  R1_CHECK(vocab_size >= fixed, where, ": key 'vocab_size': ", vocab_size, " is smaller than the 256 byte tokens + ",
           special_tokens.size(), " special_tokens (", fixed, ")");
  R1_CHECK(extra_texts_weight >= 1, where, ": key 'extra_texts_weight' must be >= 1, got ", extra_texts_weight);
  R1_CHECK(min_frequency >= 1, where, ": key 'min_frequency' must be >= 1, got ", min_frequency);
  for (const auto& [key, token] : {std::pair<const char*, const std::string&>{"bos_token", bos_token},
                                   {"eos_token", eos_token}, {"pad_token", pad_token}}) {
    if (token.empty()) continue;
    bool listed = false;
    for (const auto& s : special_tokens) listed |= s == token;
    R1_CHECK(listed, where, ": key '", key, "': '", token, "' is not one of special_tokens");
  }
  try {
    model::BpeTrainer check(trainer_options(*this));  // empty / repeated / single-byte specials
  } catch (const Error& e) {
    fail(where, ": ", e.what());
  }
}

std::unique_ptr<Stage> make_train_tokenizer_stage(const StageSpec& spec) {
  return std::make_unique<ConfiguredStage<TrainTokenizerConfig>>(spec, run_train_tokenizer);
}

}  // namespace r1::rl
