// `r1 run RECIPE [--set key.path=value ...] [--output DIR] [--resume] [--quiet]`: runs a recipe's stages
// (see rl/pipeline.h and recipes/).
#include <CLI/CLI.hpp>

#include <cstdio>

#include "cli/commands.h"
#include "common/error.h"
#include "common/fs.h"
#include "common/interrupt.h"
#include "rl/pipeline.h"

namespace r1::cli {

void add_run_commands(CLI::App& app) {
  std::string types;
  for (const auto& [name, description] : rl::stage_types()) types += "\n  " + name + ": " + description;
  CLI::App* cmd = app.add_subcommand(
      "run", "Run a recipe (a JSON list of stages) into a run directory: metrics.jsonl, samples.jsonl, "
             "checkpoints, the resolved recipe, and report.html at the end (see r1 report).\nStage types:" + types);
  auto recipe = std::make_shared<std::string>();
  auto options = std::make_shared<rl::RunOptions>();
  auto help_stage = std::make_shared<std::string>();
  cmd->add_option("recipe", *recipe, "recipe file, e.g. recipes/tiny_r1_zero.json")->check(CLI::ExistingFile);
  cmd->add_option("--help-stage", *help_stage,
                  "print every key of a stage type (name, type, default, help) and exit, e.g. --help-stage grpo");
  cmd->add_option("--set", options->overrides,
                  "override a recipe value: key.path=value (repeatable; arrays by index or stage name, e.g. "
                  "stages.zero.grpo.beta=0.01)");
  cmd->add_option("--output", options->output_dir, "run directory (default: the recipe's output_dir)");
  cmd->add_flag("--resume", options->resume,
                "continue an interrupted run: completed stages are skipped, the current one resumes from its "
                "latest checkpoint");
  cmd->add_flag("--quiet", options->quiet, "no progress bars");
  cmd->add_flag("--check", options->check_only,
                "only parse and validate the recipe (every stage's keys, values, rewards, templates and stage: "
                "references), print OK or the first error, and run nothing");
  cmd->callback([recipe, options, help_stage] {
    if (!help_stage->empty()) {
      std::fputs(rl::stage_help(*help_stage).c_str(), stdout);
      return;
    }
    if (recipe->empty()) throw Error("r1 run: a recipe file is required (or --help-stage TYPE)");
    install_interrupt_handlers();  // Ctrl-C / SIGTERM: checkpoint the step in flight, then stop
    std::string dir = rl::run_recipe(*recipe, *options);
    if (options->check_only) return;
    std::printf("run directory: %s\n", dir.c_str());
    const std::string report = path_join(dir, "report.html");  // written by run_recipe (rl/report/report.h)
    if (path_exists(report)) std::printf("report: %s\n", report.c_str());
  });
}

}  // namespace r1::cli
