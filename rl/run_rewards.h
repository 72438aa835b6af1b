// Rewards inside the rl library: the rewards that need a model (reward_model, rl/reward_model_reward.h) are
// registered into the global registry here, and "stage:NAME" references in a stage's reward options are resolved
// to the completed stage's output before the reward is built.
#pragma once

#include "common/json.h"

namespace r1::rl {

struct StageContext;

// Registers rl's rewards into rewards::Registry::global() once per process (later calls do nothing). The pipeline,
// rl's reward building and the CLI call it before any reward spec is read.
void ensure_rl_rewards();

// A copy of a reward spec in which every option string "stage:NAME[/file]" is the path ctx resolves it to
// (rewards such as reward_model name a reward_model stage's output this way).
json::Document resolve_stage_refs_in_spec(const json::Value& spec, const StageContext& ctx);

// A reward spec's text in normal form (rewards::Registry::normalize: every part named, weighted, every option
// with its default), as recipe.resolved.json shows it; errors name `where`.
std::string normalized_reward_spec(const std::string& text, const std::string& where);

}  // namespace r1::rl
