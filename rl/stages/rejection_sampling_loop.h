// The rejection_sampling stage's sampling loop (part of the stage in rejection_sampling.h, not an API of its
// own): every source not yet done, in order, streamed in batches of prompts through SourceRunner; the kept
// lines collected until a commit (every shard_prompts prompts, at a source's end, and on SIGINT/SIGTERM,
// which then stops the stage) writes them as a shard, a metrics line and progress.json; the source and kind
// quotas (the room a batch may still fill); the progress bar.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/progress.h"
#include "common/thread_pool.h"
#include "datasets/prompt_stream.h"
#include "rl/policy.h"
#include "rl/rejection.h"
#include "rl/run_dir.h"
#include "rl/stage.h"
#include "rl/stages/rejection_sampling.h"
#include "rl/stages/rejection_sampling_progress.h"
#include "rl/stages/rejection_sampling_source.h"

namespace r1::rl::rs {

class SamplingLoop {
 public:
  SamplingLoop(const RejectionSamplingConfig& c, const MixPlan& plan, Progress& p, StageContext& ctx);
  void run();
  // Seconds since this session started.
  double session_s() const { return seconds_since(t0_); }

 private:
  void run_source(size_t si);
  // Samples a source may still keep: the rest of its own quota and of its kind's (-1: no limit).
  int64_t room_of(const RsSourceConfig& s, const SourceStats& stats, int64_t kind_quota) const;
  int64_t kept_of_kind(SourceKind kind) const;
  // The next batch_prompts prompts of the stream (fewer at its end), each with its index in the source.
  std::vector<PromptItem> read_batch(data::PromptStream& stream) const;
  void show_progress();
  // Order matters for a kill at any moment: the shard, then the metrics line, then progress.json, which makes
  // both part of the state. A shard or metrics line written after the last progress.json is dropped on resume
  // and written again.
  void commit(size_t shard_source, size_t next_source, const data::PromptStream::Position& pos);
  Metrics commit_metrics(size_t shard_source, double session) const;

  const RejectionSamplingConfig& c_;
  const MixPlan& plan_;
  Progress& p_;
  StageContext& ctx_;
  const std::string progress_path_;
  Policy policy_;
  ThreadPool pool_;
  ProgressBar bar_;
  const int64_t kept_at_start_, samples_at_start_;
  SteadyClock::time_point t0_;
  std::vector<std::string> pending_;  // the kept lines of the shard being filled
  int64_t pending_prompts_ = 0;
};

}  // namespace r1::rl::rs
