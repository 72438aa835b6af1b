// The reward interface: every reward (built-in, C++ plugin, external process, reward model) takes a
// Sample and returns a Score — a scalar plus named components and a short reason for logs.
//
// A Sample carries the prompt, the completion text and a read-only view of the dataset row it came from
// (gold `answer`, `tests`, `target_lang`, `numbers`/`target`, ...). Rewards read the fields they need and
// report a missing or malformed field as r1::Error naming the field (a dataset problem, not a zero score).
// It also carries the trainer step it was generated at, which reward-term schedules read.
// Rewards must be thread-safe for concurrent score() calls: batches are scored on a thread pool.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "common/json.h"

namespace r1 {
class ThreadPool;
}

namespace r1::rewards {

struct Sample {
  std::string prompt;
  std::string completion;
  // The dataset row (a JSON object) this sample came from; may be null when a reward needs no fields.
  // Not owned: the caller keeps it alive for the duration of scoring.
  const json::Value* row = nullptr;
  int64_t completion_tokens = -1;  // generated token count, -1 when unknown (length rewards need it)
  bool truncated = false;          // generation stopped at the max-length limit, not at EOS / stop string
  // The trainer step the sample was generated at (0-based: the number of steps completed before it), so that
  // a composite can switch parts on and off and schedule their weights (composite.h, PartSchedule). -1 =
  // unknown or outside training (`r1 reward score`, evaluate, rejection sampling): every part is active at
  // its base weight.
  int64_t step = -1;
};

struct Score {
  double value = 0.0;
  // Named parts, logged per component (a composite lists each child's value here, unweighted).
  std::vector<std::pair<std::string, double>> components;
  std::string reason;  // short, for samples.jsonl and debugging ("boxed 42 == gold 42")
};

class Reward {
 public:
  virtual ~Reward() = default;
  virtual std::string name() const = 0;
  virtual Score score(const Sample& sample) const = 0;
  // Scores a batch; the default runs score() on the pool (or serially when pool is null). Rewards that
  // batch naturally (a reward model, an external process) override it.
  virtual std::vector<Score> score_batch(const std::vector<Sample>& samples, ThreadPool* pool) const;
};

using RewardPtr = std::shared_ptr<const Reward>;

}  // namespace r1::rewards
