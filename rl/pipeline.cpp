// See pipeline.h.
#include "rl/pipeline.h"

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <map>

#include "common/error.h"
#include "common/fs.h"
#include "common/interrupt.h"
#include "common/seed.h"
#include "dist/world.h"
#include "rl/report/report.h"
#include "rl/stage.h"
#include "rl/stages/distill.h"
#include "rl/stages/reward_model.h"
#include "rl/run_rewards.h"
#include "rl/stages/evaluate.h"
#include "rl/stages/grpo.h"
#include "rl/stages/pretrain.h"
#include "rl/stages/rejection_sampling.h"
#include "rl/stages/sft.h"
#include "rl/stages/synthetic_arithmetic.h"
#include "rl/stages/synthetic_r1.h"
#include "rl/stages/train_tokenizer.h"

namespace r1::rl {
namespace {

struct StageType {
  const char* name;
  const char* description;
  StageFactory factory;
  std::vector<ConfigField> (*fields)();  // every key with its default and help (r1 run --help-stage)
  bool checkpoints = false;  // resumes mid-stage from its checkpoints (else it starts again on --resume)
};

template <class Config>
std::vector<ConfigField> fields_of() {
  return ConfigLister::list(Config{});
}

const std::vector<StageType>& stage_table() {
  static const std::vector<StageType> table = {
      {"synthetic_arithmetic", "write the tiny pipeline's arithmetic corpus, RL prompts and held-out set",
       make_synthetic_arithmetic_stage, fields_of<SyntheticArithmeticConfig>},
      {"synthetic_r1", "write the full tiny R1 world: bilingual arithmetic, cold-start rows, general prompts, preference pairs",
       make_synthetic_r1_stage, fields_of<SyntheticR1Config>},
      {"train_tokenizer", "train a byte-level BPE tokenizer.json on text JSONL", make_train_tokenizer_stage,
       fields_of<TrainTokenizerConfig>},
      {"pretrain", "causal-LM training on text JSONL (every token a target)", make_pretrain_stage,
       fields_of<PretrainConfig>, true},
      {"sft", "supervised fine-tuning on chat JSONL (loss on assistant tokens only)", make_sft_stage,
       fields_of<SftConfig>, true},
      {"grpo", "GRPO reinforcement learning: R1-Zero / reasoning RL, or all-scenario RL with several prompt sources, each with "
       "its own reward (rule rewards, reward models) and step range", make_grpo_stage,
       fields_of<GrpoConfig>, true},
      {"evaluate", "accuracy / format rate / language consistency / reward (and a reward model's score on general prompts) of one or more models on held-out prompts",
       make_evaluate_stage, fields_of<EvalConfig>},
      {"rejection_sampling",
       "SFT data from a policy: sample, keep the correct, filter for readability, mix kinds (R1 section 2.3.3)",
       make_rejection_sampling_stage, fields_of<RejectionSamplingConfig>, true},
      {"distill",
       "distil a teacher into a student: SFT on the teacher's text re-tokenised for the student (R1), optionally "
       "forward-KL to its logits or on-policy reverse KL",
       make_distill_stage, fields_of<DistillConfig>, true},
      {"reward_model",
       "train a reward model (pairwise preferences or pointwise labels) into an HF sequence-classification directory",
       make_reward_model_stage, fields_of<RewardModelConfig>, true},
  };
  return table;
}

}  // namespace

std::string StageContext::resolve_ref(const std::string& ref) const {
  static const std::string kPrefix = "stage:";
  if (ref.rfind(kPrefix, 0) != 0) return ref;
  std::string rest = ref.substr(kPrefix.size());
  size_t slash = rest.find('/');
  std::string stage = rest.substr(0, slash);
  bool known = false;
  for (const auto& s : recipe.stages) known |= s.name == stage;
  R1_CHECK(known, spec.where, ": '", ref, "' names no stage of this recipe");
  R1_CHECK(run.stage_completed(stage), spec.where, ": '", ref, "' refers to stage '", stage,
           "', which has not completed (stages run in recipe order)");
  std::string out = run.stage_output(stage);
  return slash == std::string::npos ? out : path_join(out, rest.substr(slash + 1));
}

std::string stage_help(const std::string& type) {
  for (const auto& t : stage_table()) {
    if (type != t.name) continue;
    std::string out = str_cat("stage type '", t.name, "': ", t.description, "\n",
                              "keys besides \"name\" and \"type\" (key (type, default): help); nested objects as "
                              "dotted names:\n");
    for (const ConfigField& f : t.fields()) {
      out += str_cat("  ", f.key, " (", f.type, ", default ", f.default_json, ")", f.help.empty() ? "" : ": ",
                     f.help, "\n");
    }
    return out;
  }
  std::string known;
  for (const auto& t : stage_table()) known += (known.empty() ? "" : ", ") + std::string(t.name);
  fail("--help-stage: unknown stage type '", type, "' (known: ", known, ")");
}

std::vector<std::pair<std::string, std::string>> stage_types() {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& t : stage_table()) out.emplace_back(t.name, t.description);
  return out;
}

namespace {

void run_stages(const Recipe& recipe, const std::vector<std::unique_ptr<Stage>>& stages,
                const std::vector<const StageType*>& types, RunDir& run, const RunOptions& options,
                const dist::World& world);

// Every "stage:NAME[/file]" string in a stage's resolved config must name a stage that runs before it.
void check_stage_refs(const json::Value& v, const Recipe& recipe, size_t index) {
  if (v.IsObject()) {
    for (auto it = v.MemberBegin(); it != v.MemberEnd(); ++it) check_stage_refs(it->value, recipe, index);
  } else if (v.IsArray()) {
    for (const auto& e : v.GetArray()) check_stage_refs(e, recipe, index);
  } else if (v.IsString()) {
    const std::string ref(v.GetString(), v.GetStringLength());
    if (ref.rfind("stage:", 0) != 0) return;
    const std::string name = ref.substr(6, ref.find('/', 6) == std::string::npos ? std::string::npos : ref.find('/', 6) - 6);
    const StageSpec& spec = recipe.stages[index];
    for (size_t i = 0; i < recipe.stages.size(); ++i) {
      if (recipe.stages[i].name != name) continue;
      R1_CHECK(i < index, spec.where, ": '", ref, "' refers to stage '", name,
               "', which has not completed before this stage (stages run in recipe order)");
      return;
    }
    fail(spec.where, ": '", ref, "' names no stage of this recipe");
  }
}

// Builds every stage of the recipe (reading and validating its keys) and checks its stage: references.
void parse_stages(const Recipe& recipe, std::vector<std::unique_ptr<Stage>>& stages,
                  std::vector<const StageType*>& types) {
  ensure_rl_rewards();  // reward specs naming reward_model are read below
  for (size_t i = 0; i < recipe.stages.size(); ++i) {
    const StageSpec& spec = recipe.stages[i];
    const StageType* type = nullptr;
    for (const auto& t : stage_table()) {
      if (spec.type == t.name) type = &t;
    }
    if (type == nullptr) {
      std::string known;
      for (const auto& t : stage_table()) known += (known.empty() ? "" : ", ") + std::string(t.name);
      fail(spec.where, ": unknown stage type '", spec.type, "' (known: ", known, ")");
    }
    stages.push_back(type->factory(spec));
    types.push_back(type);
    check_stage_refs(stages.back()->resolved_config(), recipe, i);
  }
}

// A recipe that parses alone but not with its --set overrides: names the first override that breaks it.
[[noreturn]] void blame_override(const std::string& recipe_path, const std::vector<std::string>& overrides,
                                 const Error& error) {
  auto parses = [&](size_t n) {
    try {
      std::vector<std::unique_ptr<Stage>> stages;
      std::vector<const StageType*> types;
      parse_stages(load_recipe(recipe_path, std::vector<std::string>(overrides.begin(), overrides.begin() + n)),
                   stages, types);
      return true;
    } catch (const Error&) {
      return false;
    }
  };
  if (!parses(0)) throw error;  // the recipe itself is wrong
  for (size_t n = 1; n <= overrides.size(); ++n) {
    if (parses(n)) continue;
    std::string message = error.what();
    const std::string prefix = recipe_path + ": ";
    if (message.rfind(prefix, 0) == 0) message = message.substr(prefix.size());
    fail("--set '", overrides[n - 1], "': ", message);
  }
  throw error;
}

// The text of recipe.resolved.json: the recipe after --set with every stage's fields resolved (defaults
// included, reward specs in normal form).
std::string resolved_recipe_text(const Recipe& recipe, const std::string& recipe_path,
                                 const std::vector<std::unique_ptr<Stage>>& stages) {
  json::Document resolved(rapidjson::kObjectType);
  auto& a = resolved.GetAllocator();
  resolved.AddMember("name", json::Value(recipe.name.c_str(), a), a);
  resolved.AddMember("seed", json::Value(recipe.seed), a);
  resolved.AddMember("output_dir", json::Value(recipe.output_dir.c_str(), a), a);
  resolved.AddMember("source", json::Value(recipe_path.c_str(), a), a);
  json::Value list(rapidjson::kArrayType);
  for (const auto& s : stages) {
    json::Document d = s->resolved_config();
    list.PushBack(json::Value(d, a), a);
  }
  resolved.AddMember("stages", list, a);
  return json::dump(resolved, true) + "\n";
}

// Writes recipe.resolved.json. A resumed run whose resolved recipe changed keeps the previous one beside it,
// with a warning.
void write_resolved_recipe(const Recipe& recipe, const std::string& recipe_path,
                           const std::vector<std::unique_ptr<Stage>>& stages, RunDir& run, bool resume) {
  const std::string resolved_text = resolved_recipe_text(recipe, recipe_path, stages);
  const std::string resolved_path = run.path("recipe.resolved.json");
  if (resume && path_exists(resolved_path)) {
    std::string previous = read_file(resolved_path);
    if (previous != resolved_text) {
      std::fprintf(stderr,
                   "warning: the resolved recipe differs from the one this run started with; the previous one is "
                   "kept as recipe.resolved.prev.json\n");
      write_file_atomic(run.path("recipe.resolved.prev.json"), previous);
    }
  }
  write_file_atomic(resolved_path, resolved_text);
}

// Writes RUN_DIR/report.html (rl/report/report.h) after the last stage, or after a failed or interrupted
// one (then saying so on stderr). A report that cannot be written is a warning: it never replaces the
// run's own outcome.
void write_report_quietly(const std::string& root, bool partial) {
  try {
    const std::string path = report::write_report(root);
    if (partial) std::fprintf(stderr, "report of the run so far: %s\n", path.c_str());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "warning: the run report was not written: %s\n", e.what());
  }
}

// What rank 0 published under `key` (rl/pipeline.h). An interrupt that ended rank 0 while this rank waited is
// an interrupt here too, not an error.
std::string await_rank0(const dist::World& world, const std::string& key) {
  try {
    return world.await(key);
  } catch (const Error&) {
    if (interrupt_requested()) {
      throw Interrupted("stopped while waiting for rank 0", interrupt_signal() != 0 ? interrupt_signal() : SIGINT);
    }
    throw;
  }
}

}  // namespace

std::string resolve_recipe(const std::string& recipe_path, const RunOptions& options) {
  Recipe recipe = load_recipe(recipe_path, options.overrides);
  if (!options.output_dir.empty()) recipe.output_dir = options.output_dir;
  std::vector<std::unique_ptr<Stage>> stages;
  std::vector<const StageType*> types;
  try {
    parse_stages(recipe, stages, types);
  } catch (const Error& e) {
    if (options.overrides.empty()) throw;
    blame_override(recipe_path, options.overrides, e);
  }
  return resolved_recipe_text(recipe, recipe_path, stages);
}

std::string run_recipe(const std::string& recipe_path, const RunOptions& options) {
  Recipe recipe = load_recipe(recipe_path, options.overrides);
  if (!options.output_dir.empty()) recipe.output_dir = options.output_dir;

  // Parse and check every stage first: a bad key, reward option, template or reference in the last stage
  // fails now, before the first stage runs and before the run directory exists.
  std::vector<std::unique_ptr<Stage>> stages;
  std::vector<const StageType*> types;
  try {
    parse_stages(recipe, stages, types);
  } catch (const Error& e) {
    if (options.overrides.empty()) throw;
    blame_override(recipe_path, options.overrides, e);
  }
  if (options.check_only) {
    std::string names;
    for (const auto& spec : recipe.stages) names += (names.empty() ? "" : ", ") + spec.name + " (" + spec.type + ")";
    std::printf("recipe OK: %s: %zu stages: %s\n", recipe_path.c_str(), stages.size(), names.c_str());
    return "";
  }

  const dist::World single;
  const dist::World& world = options.world ? *options.world : single;
  // Rank 0 creates the run directory (or refuses an existing run) before the others open it.
  std::unique_ptr<RunDir> run_dir;
  if (world.is_main()) {
    run_dir = std::make_unique<RunDir>(recipe.output_dir, options.resume);
    write_resolved_recipe(recipe, recipe_path, stages, *run_dir, options.resume);
    world.publish("run/ready", run_dir->root());
  } else {
    await_rank0(world, "run/ready");
    run_dir = std::make_unique<RunDir>(recipe.output_dir, options.resume, /*writer=*/false);
  }
  RunDir& run = *run_dir;

  try {
    run_stages(recipe, stages, types, run, options, world);
  } catch (const Interrupted& e) {
    if (run.writer()) write_report_quietly(run.root(), true);
    std::string command = "r1 run " + recipe_path + " --output " + run.root() + " --resume";
    for (const auto& o : options.overrides) command += " --set '" + o + "'";
    if (world.size() > 1) {
      // r1's launcher says so in R1_LAUNCHER; a job started by torchrun / SLURM is started again the same way.
      command = std::getenv("R1_LAUNCHER") != nullptr
                    ? str_cat(command, " --nproc-per-node ", world.size())
                    : str_cat("start the ", world.size(), " ranks again as before, each running: ", command);
    }
    throw Interrupted(str_cat(e.what(), "\ncontinue with: ", command), e.signal());
  } catch (...) {
    if (run.writer()) write_report_quietly(run.root(), true);
    throw;
  }
  if (run.writer()) write_report_quietly(run.root(), false);
  return run.root();
}

namespace {

// Runs stage i on this rank (every rank for a data-parallel type, rank 0 alone otherwise) and returns its output;
// ranks that do not run it wait for rank 0's.
std::string run_stage_on_ranks(const Recipe& recipe, Stage& stage, size_t i, RunDir& run, const RunOptions& options,
                               const dist::World& world) {
  const StageSpec& spec = recipe.stages[i];
  const dist::World single;
  const bool runs_here = stage.data_parallel() || world.is_main();
  std::string output;
  if (runs_here) {
    StageContext ctx{recipe, spec, run, run.stage_dir(spec.name), stage_seed(recipe.seed, i), options.resume,
                     options.quiet || !world.is_main(), stage.data_parallel() ? world : single};
    output = stage.run(ctx);
  }
  // Rank 0 has written the stage's output (final model, data files) when it announces it.
  const std::string key = str_cat("stage/", i, "/output");
  if (world.is_main()) {
    world.publish(key, output);
  } else if (world.size() > 1) {
    output = await_rank0(world, key);
  }
  return output;
}

void run_stages(const Recipe& recipe, const std::vector<std::unique_ptr<Stage>>& stages,
                const std::vector<const StageType*>& types, RunDir& run, const RunOptions& options,
                const dist::World& world) {
  const bool talk = world.is_main();  // one rank prints the stage lines
  for (size_t i = 0; i < stages.size(); ++i) {
    const StageSpec& spec = recipe.stages[i];
    if (run.stage_completed(spec.name)) {
      if (talk) {
        std::fprintf(stderr, "[%zu/%zu] %s (%s): already complete, skipped\n", i + 1, stages.size(),
                     spec.name.c_str(), spec.type.c_str());
      }
      continue;
    }
    // Every rank stops here or none does: an interrupt that reached one rank is everybody's.
    if (world.max(interrupt_requested() ? 1.0 : 0.0) > 0) {
      throw Interrupted(str_cat("stopped before stage '", spec.name, "'; completed stages are kept"),
                        interrupt_signal() != 0 ? interrupt_signal() : SIGINT);
    }
    const bool restarts = options.resume && !types[i]->checkpoints;
    if (talk) {
      const std::string where = world.size() == 1            ? ""
                                : stages[i]->data_parallel() ? str_cat(": data-parallel on ", world.size(), " ranks")
                                                             : ": on rank 0 (the other ranks wait)";
      std::fprintf(stderr, "[%zu/%zu] %s (%s)%s%s\n", i + 1, stages.size(), spec.name.c_str(), spec.type.c_str(),
                   restarts ? ": starts again (a stage of this type keeps no checkpoints)" : "", where.c_str());
    }
    run.mark_completed(spec.name, run_stage_on_ranks(recipe, *stages[i], i, run, options, world));
  }
  world.barrier();  // rank 0 hosts the store: it stays until every rank has read the last announcement
}

}  // namespace

}  // namespace r1::rl
