// One source's prompts → kept output lines, for the rejection_sampling stage (part of the stage in
// rejection_sampling.h, not an API of its own). A batch of prompts is planned (a general source's trivial
// prompts and kept references need no generation), the rest sampled and judged in one rollout, and each
// prompt decided by rl/rejection.h's model-free rules: its candidates cut into R1's readable format, filtered,
// kept by mode within the room the quotas leave, and written as chat rows with their provenance
// (docs/rejection_sampling.md, "Output").
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "common/thread_pool.h"
#include "datasets/filters/readability_filter.h"
#include "datasets/prompt_dataset.h"
#include "rl/policy.h"
#include "rl/rejection.h"
#include "rl/rollout.h"
#include "rl/stage.h"
#include "rl/stages/rejection_sampling.h"

namespace r1::rl::rs {

enum class PromptPlan { Generate, ReferenceOnly };

struct PromptItem {
  data::PromptExample ex;
  int64_t index = 0;                     // in the source
  bool trivial = false;
  std::optional<std::string> reference;  // general sources: the row's reference response
  PromptPlan plan = PromptPlan::Generate;
  size_t rollout_index = 0;              // into the rollout's prompts (Generate)
};

class SourceRunner {
 public:
  SourceRunner(const RejectionSamplingConfig& c, const RsSourceConfig& s, size_t index, const Policy& policy,
               StageContext& ctx, ThreadPool& pool);

  // Decides a batch of prompts; appends kept lines to `out` and counts into `stats`. `room()` is the number of
  // samples still allowed (-1: no limit). Returns false when the quota was met (the source is done).
  bool run_batch(std::vector<PromptItem>& batch, SourceStats& stats, const std::function<int64_t()>& room,
                 std::vector<std::string>& out);

 private:
  void plan_general(PromptItem& item) const;
  void decide(const PromptItem& item, const Rollout& rollout, int64_t left, SourceStats& stats,
              std::vector<std::string>& out);
  Candidate generated_candidate(const PromptItem& item, const Completion& comp, int64_t j) const;
  Candidate reference_candidate(const std::string& reference) const;
  std::string line(const PromptItem& item, const json::Value* id, const Candidate& cand, const Completion* comp,
                   const char* response) const;

  const RejectionSamplingConfig& c_;
  const RsSourceConfig& s_;
  size_t index_;
  const Policy& policy_;
  StageContext& ctx_;
  ThreadPool& pool_;
  PromptRenderer renderer_;
  rewards::RewardPtr reward_;
  data::ReadabilityFilter filter_;
  std::vector<std::string> filters_passed_;
};

}  // namespace r1::rl::rs
