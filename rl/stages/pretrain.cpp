// See pretrain.h.
#include "rl/stages/pretrain.h"

#include <cstdio>

#include "datasets/sft_dataset.h"

namespace r1::rl {

std::vector<Sequence> pretrain_sequences(const PretrainConfig& c, const model::Tokenizer& tok, const std::string& path,
                                         std::optional<int64_t> eos) {
  size_t skipped = 0;
  std::vector<std::string> texts = data::load_text_jsonl(path, c.text_key, c.train.skip_bad_lines, &skipped);
  if (skipped) std::fprintf(stderr, "warning: %s: skipped %zu malformed lines\n", path.c_str(), skipped);
  std::vector<Sequence> out;
  out.reserve(texts.size());
  for (const auto& text : texts) {
    Sequence s;
    s.ids = tok.encode(text, /*add_special_tokens=*/true);
    if (c.add_eos && eos) s.ids.push_back(*eos);
    s.train.assign(s.ids.size(), 1);
    out.push_back(std::move(s));
  }
  return out;
}

namespace {

std::string run_pretrain(const PretrainConfig& c, StageContext& ctx) {
  Policy policy = load_policy(c.train.model, ctx, ctx.spec.where);
  std::vector<Sequence> sequences =
      pretrain_sequences(c, *policy.tokenizer, ctx.resolve_ref(c.train.data), lm_eos_id(policy));
  return train_causal_lm(c.train, std::move(policy), sequences, ctx);
}

}  // namespace

std::unique_ptr<Stage> make_pretrain_stage(const StageSpec& spec) {
  return std::make_unique<ConfiguredStage<PretrainConfig>>(spec, run_pretrain);
}

}  // namespace r1::rl
