// The stage interface of the pipeline runner. A stage type (pretrain, sft, grpo, evaluate, ...) is a
// config struct with visit() (see config_io.h) plus a run function. The pipeline parses every stage of a
// recipe before running any (so a typo in the last stage fails in the first second, not after an hour),
// saves the resolved recipe, then runs the stages in order, skipping those a resumed run already completed.
//
// A stage's reward specs (RawJson fields named "reward", at any depth of the config) are read in normal form
// (rewards::Registry::normalize: every part with its weight, every option with its default), checked before
// the stage's own validate(); the stage runs that spec, and recipe.resolved.json shows it.
//
// Stages refer to earlier stages' outputs with "stage:NAME" (the output path the stage returned, e.g. its
// final model directory) or "stage:NAME/file" (a file inside it); resolve_ref() turns those into paths.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <type_traits>

#include "common/json.h"
#include "dist/world.h"
#include "common/config_io.h"
#include "rewards/registry.h"
#include "rl/recipe.h"
#include "rl/run_rewards.h"
#include "rl/run_dir.h"

namespace r1::rl {

struct StageContext {
  const Recipe& recipe;
  const StageSpec& spec;
  RunDir& run;
  std::string dir;   // this stage's directory (run/stages/<name>), created
  uint64_t seed;     // recipe seed mixed with the stage index
  bool resume;       // --resume: continue from this stage's latest checkpoint if there is one
  bool quiet;        // no progress bars
  // The processes this stage runs on (dist/world.h): the job's for a data-parallel stage (Stage::data_parallel:
  // pretrain, sft, grpo, reward_model, evaluate, rejection_sampling, distill), a single process (rank
  // 0, the only one that runs it) for any other. Rank 0 alone writes the run directory (run.writer()) and the
  // stage's checkpoints and outputs.
  const dist::World& world;

  // "stage:NAME[/rest]" → the completed stage's output (+ "/rest"); anything else is returned unchanged.
  // Throws r1::Error naming the stage when NAME is unknown or not completed yet.
  std::string resolve_ref(const std::string& ref) const;
};

class Stage {
 public:
  virtual ~Stage() = default;
  virtual json::Document resolved_config() const = 0;
  // Runs the stage; returns its output path (recorded in state.json and resolvable as "stage:NAME").
  virtual std::string run(StageContext& ctx) = 0;
  // In a job of several processes: true when every rank runs the stage, each on its share of the work (the
  // config's data_parallel(), when it has one); false when rank 0 runs it alone while the others wait.
  virtual bool data_parallel() const = 0;
};

// Rewrites every reward spec of a config (see the file comment) in normal form; errors name `where`.
class RewardSpecNormalizer {
 public:
  explicit RewardSpecNormalizer(std::string where) : where_(std::move(where)) {}

  template <class T>
  void operator()(const char* key, T& field, const char* = "") {
    if constexpr (std::is_same_v<T, RawJson>) {
      if (std::string(key) != "reward" || field.empty()) return;
      field.text = normalized_reward_spec(field.text, where_ + ": reward");
    } else if constexpr (has_visit<T>::value) {
      RewardSpecNormalizer nested(where_ + ": key '" + key + "'");
      field.visit(nested);
    }
  }

 private:
  std::string where_;
};

template <class T, class = void>
struct has_data_parallel : std::false_type {};
template <class T>
struct has_data_parallel<T, std::void_t<decltype(std::declval<const T&>().data_parallel())>> : std::true_type {};

// A stage made of a config struct and a run function.
template <class Config>
class ConfiguredStage : public Stage {
 public:
  using RunFn = std::function<std::string(const Config&, StageContext&)>;
  ConfiguredStage(const StageSpec& spec, RunFn fn) : run_fn_(std::move(fn)) {
    ConfigReader reader(*spec.config, spec.where);
    std::string ignored_name, ignored_type;
    reader("name", ignored_name);
    reader("type", ignored_type);
    config_.visit(reader);
    reader.finish();
    RewardSpecNormalizer normalizer(spec.where);
    config_.visit(normalizer);
    config_.validate(spec.where);
    type_ = spec.type;
    name_ = spec.name;
  }
  json::Document resolved_config() const override {
    json::Document doc;
    json::Document fields = ConfigWriter::to_document(config_);
    doc.SetObject();
    auto& a = doc.GetAllocator();
    doc.AddMember("name", json::Value(name_.c_str(), a), a);
    doc.AddMember("type", json::Value(type_.c_str(), a), a);
    for (auto it = fields.MemberBegin(); it != fields.MemberEnd(); ++it) {
      doc.AddMember(json::Value(it->name, a), json::Value(it->value, a), a);
    }
    return doc;
  }
  std::string run(StageContext& ctx) override { return run_fn_(config_, ctx); }
  bool data_parallel() const override {
    if constexpr (has_data_parallel<Config>::value) {
      return config_.data_parallel();
    } else {
      return false;
    }
  }
  const Config& config() const { return config_; }

 private:
  Config config_;
  RunFn run_fn_;
  std::string type_, name_;
};

using StageFactory = std::function<std::unique_ptr<Stage>(const StageSpec&)>;

}  // namespace r1::rl
