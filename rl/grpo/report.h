// Phases 4–5 of a GRPO step: what the step reports. step metrics (the reward and each of its components
// with their std, accuracy, completion lengths, truncation and zero-variance rates, dynamic-sampling
// counts, timings, rollout throughput; with named sources per source: source/<name>/{groups,reward,accuracy})
// into the step's Metrics, and a few completions with their prompt, gold answer, reward components, finish
// reason (and source, with named sources) to samples.jsonl. A reward part that was not active at the step
// (a composite part's from_step / to_step) has no component in the scores, so its reward/<label> mean covers
// the completions it judged and is absent at steps where it judged none.
#pragma once

#include "rl/grpo/collect.h"
#include "rl/grpo/config.h"
#include "rl/run_dir.h"

namespace r1::rl {

// Adds the rollout/reward metrics of the step. Call after groups.wait_for_scores().
void add_rollout_metrics(const GrpoConfig& c, const StepGroups& groups, Metrics& m);

// Writes samples_per_log completions of the kept groups (spread over the batch) to samples.jsonl.
void log_step_samples(const GrpoConfig& c, const StepGroups& groups, const std::string& stage, int64_t step,
                      RunDir& run);

}  // namespace r1::rl
