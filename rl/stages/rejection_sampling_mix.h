// The rejection_sampling stage's final set (part of the stage in rejection_sampling.h, not an API of its
// own): the kept samples of every shard indexed by kind (shard, offset, length: the text stays on disk), each
// kind cut to its share of the mix by a seeded random choice, the whole shuffled with a seed and copied into
// sft.jsonl; stats.json gives each source's counters and what it contributed, the kinds, and the sampling
// loop's throughput.
#pragma once

#include "common/json.h"
#include "rl/rejection.h"
#include "rl/stage.h"
#include "rl/stages/rejection_sampling.h"
#include "rl/stages/rejection_sampling_progress.h"

namespace r1::rl::rs {

// sft.jsonl (the kept samples of every kind in the stated mix, shuffled) and stats.json; returns the stats.
json::Document write_final_mix(const RejectionSamplingConfig& c, const MixPlan& plan, const Progress& p,
                               double sampling_s, StageContext& ctx);

}  // namespace r1::rl::rs
