// `r1 report RUN_DIR [--output FILE]`: writes the self-contained HTML report of a run directory (the recipe,
// each stage's charts, the evaluation table, rejection-sampling statistics, sample completions; see
// rl/report/report.h and docs/report.md) and prints its path. `r1 run` writes the same page at its end.
#include <CLI/CLI.hpp>

#include <cstdio>
#include <memory>

#include "cli/commands.h"
#include "rl/report/report.h"

namespace r1::cli {

void add_report_commands(CLI::App& app) {
  CLI::App* cmd = app.add_subcommand(
      "report", "Write one self-contained HTML page about a run directory (no network needed to view it): the "
                "recipe, per stage the curves of its metrics, the evaluation table, rejection-sampling statistics "
                "and sample completions. A killed run's torn or malformed log lines become notes on the page.");
  auto run_dir = std::make_shared<std::string>();
  auto output = std::make_shared<std::string>();
  cmd->add_option("run_dir", *run_dir, "run directory of r1 run (holds metrics.jsonl, recipe.resolved.json)")
      ->required()
      ->check(CLI::ExistingDirectory);
  cmd->add_option("--output", *output, "where to write the page (default: RUN_DIR/report.html)");
  cmd->callback([run_dir, output] {
    const std::string path = rl::report::write_report(*run_dir, *output);
    std::printf("report: %s\n", path.c_str());
  });
}

}  // namespace r1::cli
