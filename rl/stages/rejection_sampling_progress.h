// The rejection_sampling stage's state on disk (part of the stage in rejection_sampling.h, not an API of its
// own): progress.json — the source in progress, the byte position of its next prompt, every source's
// counters, the source of each shard written — and the shards/shard-NNNNNN.jsonl files it counts. A commit
// writes a shard, then progress.json, each atomically; --resume reads progress.json back and removes a shard
// written after it, so a kill at any moment loses at most one shard's prompts (run again, they write the
// same lines) and never counts a sample twice.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "common/json.h"
#include "datasets/prompt_stream.h"
#include "rl/rejection.h"
#include "rl/stage.h"
#include "rl/stages/rejection_sampling.h"

namespace r1::rl::rs {

// progress.json: what --resume continues from.
struct Progress {
  size_t source = 0;                     // the source in progress (sources before it are done)
  data::PromptStream::Position position; // of that source: where its next prompt starts
  int64_t commits = 0;                   // commits made (the metrics step)
  std::vector<int64_t> shard_sources;    // per shard written: its source
  std::vector<SourceStats> stats;        // per source
  double elapsed_s = 0;                  // wall time of earlier sessions
  std::vector<std::string> names;        // the sources' names, in order: whom the counters belong to

  // Every source's counters summed (the ones the metrics and the bar show).
  SourceStats totals() const;
  json::Document to_json() const;
  // Reads progress.json back; an error when it was written for other sources than `names` (renamed,
  // reordered, added or removed since), whose positions and counters it would credit to the wrong ones.
  static Progress from_json(const json::Value& v, const std::vector<std::string>& names, const std::string& where);
};

// shards/shard-NNNNNN.jsonl in the stage directory `dir`.
std::string shard_path(const std::string& dir, size_t index);

// A clean start, or --resume: progress.json read back, a shard written after it (killed in between) removed
// (its prompts run again and write it again), and the metrics lines logged after it forgotten.
Progress start_or_resume(const RejectionSamplingConfig& c, StageContext& ctx);

}  // namespace r1::rl::rs
