// The run directory of `r1 run`: everything a run leaves behind, in one place.
//
//   <output_dir>/
//     recipe.resolved.json   the recipe after --set, with every stage's fields resolved (defaults included)
//     metrics.jsonl          one line per step of every stage: {"stage", "step", "time", ...metrics}
//     samples.jsonl          a few prompts with completions and reward components per logging interval
//     tensorboard/<stage>/   TensorBoard event files (events.out.tfevents.<unix seconds>.<host>) holding every
//                            scalar of metrics.jsonl on the same steps: `tensorboard --logdir <run>/tensorboard`
//     state.json             which stages are complete and where their outputs are (for --resume)
//     stages/<name>/         per stage: checkpoints/step-000010/ (HF dir + trainer state), final/ (HF dir),
//                            and stage-specific files (generated data, evaluation reports)
// state.json is rewritten atomically after each stage completes; metrics and samples are append-only and
// flushed per line, so a run killed at any moment loses at most the step in flight; a resumed stage first
// drops the lines it logged after the checkpoint it resumes from (they are logged again).
//
// In a job of several processes (dist/world.h) one RunDir per rank opens the same directory, and only rank 0's
// writes (the "writer"): the others read state.json and skip every write, so each line and file exists once.
//
// TensorBoard, and how a resume keeps its curves straight: event files cannot be trimmed like metrics.jsonl
// (TensorBoard may be reading them), so each stage writes a new event file per process — one "session" — opened
// at its first log_metrics or at forget_steps_after, and each file starts with a SessionLog START event at the
// first step that session may log: forget_steps_after(stage, k) writes START at k + 1, a first log_metrics at
// step s writes START at s. TensorBoard's event accumulator, on a START at step s, purges every event it has
// read with step >= s, which are exactly the steps metrics.jsonl drops; the new file's name sorts after the old
// ones (tensorboard.h), so it is read after them. A fresh stage's START purges nothing. The stage name is the
// run name (evaluate's "<stage>/<model>" becomes a nested run), made path-safe by tensorboard::safe_run_dir.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "common/jsonl.h"
#include "common/tensorboard.h"

namespace r1::rl {

// Named scalar metrics in insertion order (the order they are printed and logged in).
class Metrics {
 public:
  void set(const std::string& name, double value);
  void add(const std::string& name, double value);  // accumulates (creates at 0)
  bool has(const std::string& name) const;
  double get(const std::string& name) const;  // throws when missing
  const std::vector<std::pair<std::string, double>>& items() const { return items_; }
  // The subset named, in the order named (missing names skipped): for the progress bar.
  std::vector<std::pair<std::string, double>> pick(const std::vector<std::string>& names) const;

 private:
  std::vector<std::pair<std::string, double>> items_;
  std::map<std::string, size_t> index_;
};

class RunDir {
 public:
  // Creates the directory tree (mkdir -p). With resume == false an existing run with completed stages or
  // checkpoints is an error (so a finished run is never silently overwritten): use --resume or another
  // --output.
  // `writer` false: a follower (ranks other than 0) that reads state.json but writes nothing (log_metrics,
  // log_sample, forget_steps_after do nothing; mark_completed updates only what this process knows). The
  // "already holds a run" check is the writer's.
  RunDir(const std::string& root, bool resume, bool writer = true);
  bool writer() const { return writer_; }

  const std::string& root() const { return root_; }
  std::string stage_dir(const std::string& stage) const;  // created on first call
  std::string path(const std::string& name) const;        // root/name

  // One metrics line: {"stage": .., "step": .., "time": unix seconds, ...values}.
  void log_metrics(const std::string& stage, int64_t step, const Metrics& metrics);
  void log_sample(const json::Value& sample);  // one samples.jsonl line
  // Drops the metrics and samples lines of `stage` logged after `step` (and any line torn by a kill):
  // a stage calls it when it starts at `step` (0, or the checkpoint it resumes from), so that the steps a
  // killed run logged after its last checkpoint are not logged twice.
  void forget_steps_after(const std::string& stage, int64_t step);

  bool stage_completed(const std::string& stage) const;
  std::string stage_output(const std::string& stage) const;  // "" when not completed
  void mark_completed(const std::string& stage, const std::string& output);

 private:
  void save_state() const;
  // Opens a new event file (a new session) for `stage` with a START event at `start_step`.
  tensorboard::EventFileWriter& new_tensorboard_session(const std::string& stage, int64_t start_step, double now);

  std::string root_;
  bool writer_ = true;
  std::unique_ptr<JsonlWriter> metrics_, samples_;
  std::map<std::string, std::string> completed_;  // stage → output path
  std::map<std::string, std::unique_ptr<tensorboard::EventFileWriter>> tensorboard_;  // stage → this session's file
};

}  // namespace r1::rl
