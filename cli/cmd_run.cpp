// `r1 run RECIPE [--set key.path=value ...] [--output DIR] [--resume] [--quiet] [--nproc-per-node N]`: runs a
// recipe's stages (see rl/pipeline.h and recipes/).
//
// Processes: --nproc-per-node N > 1 makes this process a launcher (dist/launcher.h) that starts N copies of the
// same command line (without the flag) as the ranks of one job and stays beside them. A process whose
// environment says it is a rank (WORLD_SIZE > 1: r1's launcher, torchrun, SLURM, Kubernetes) joins the job
// (dist/world.h) and runs the recipe as that rank.
#include <CLI/CLI.hpp>

#include <cstdio>

#include <algorithm>
#include <csignal>
#include <cstdlib>
#include <memory>
#include <thread>

#include "cli/commands.h"
#include "common/error.h"
#include "dist/launcher.h"
#include "dist/world.h"
#include "common/fs.h"
#include "common/interrupt.h"
#include "rl/pipeline.h"

namespace r1::cli {
namespace {

struct JobOptions {
  int nproc_per_node = 1;
  int dist_timeout_s = 600;
};

// The command line every rank runs: this one without --nproc-per-node (options as parsed, so quoting survives).
std::vector<std::string> rank_command(const std::string& recipe, const rl::RunOptions& o, const JobOptions& job) {
  std::vector<std::string> argv = {"/proc/self/exe", "run", recipe};
  for (const auto& s : o.overrides) argv.insert(argv.end(), {"--set", s});
  if (!o.output_dir.empty()) argv.insert(argv.end(), {"--output", o.output_dir});
  if (o.resume) argv.push_back("--resume");
  if (o.quiet) argv.push_back("--quiet");
  argv.insert(argv.end(), {"--dist-timeout", std::to_string(job.dist_timeout_s)});
  return argv;
}

// Starts the ranks and waits for them; a failed rank becomes this process's error.
void launch_ranks(const std::string& recipe, const rl::RunOptions& o, const JobOptions& job) {
  R1_CHECK(std::getenv("WORLD_SIZE") == nullptr || std::string(std::getenv("WORLD_SIZE")) == "1",
           "r1 run: --nproc-per-node inside a job that is already launched (WORLD_SIZE=", std::getenv("WORLD_SIZE"),
           "): let one launcher start the ranks");
  rl::resolve_recipe(recipe, o);  // a bad recipe fails here, once, before any rank starts
  dist::LaunchOptions lo;
  lo.nproc = job.nproc_per_node;
  // As torchrun does: ranks sharing a machine share its cores, unless the user said otherwise.
  if (std::getenv("OMP_NUM_THREADS") == nullptr) {
    const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
    const std::string threads = std::to_string(std::max(1u, cores / static_cast<unsigned>(lo.nproc)));
    ::setenv("OMP_NUM_THREADS", threads.c_str(), 1);
    std::fprintf(stderr, "r1 run: OMP_NUM_THREADS=%s per rank (%u cores / %d ranks; set it to choose)\n",
                 threads.c_str(), cores, lo.nproc);
  }
  ::setenv("R1_LAUNCHER", "1", 1);  // the ranks' "continue with" line says --nproc-per-node
  std::fprintf(stderr, "r1 run: starting %d ranks on this machine\n", lo.nproc);
  const dist::LaunchResult r = dist::launch_local(rank_command(recipe, o, job), lo);
  if (r.status == 0) return;
  if (r.failed_rank >= 0) {
    fail("r1 run: ", r.message, "; the other ranks were stopped. Its own error, if it printed one, is above; "
         "continue the run with --resume");
  }
  throw Interrupted(r.message.empty() ? "r1 run: the job was interrupted" : r.message,
                    r.status > 128 ? r.status - 128 : SIGINT);
}

}  // namespace

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
  auto job = std::make_shared<JobOptions>();
  cmd->add_option("--nproc-per-node", job->nproc_per_node,
                  "start N processes on this machine as the ranks of one data-parallel job (pretrain, sft, grpo, "
                  "reward_model and distill split every step over them, rejection_sampling and evaluate sample and "
                  "score in shares; other stages run on rank 0); multi-node jobs are started by torchrun, SLURM or "
                  "Kubernetes with RANK, WORLD_SIZE, MASTER_ADDR, MASTER_PORT (docs/scaling.md)")
      ->check(CLI::Range(1, 1024));
  cmd->add_option("--dist-timeout", job->dist_timeout_s,
                  "seconds a rank waits in a collective (or for the others to join) before the job fails naming it")
      ->check(CLI::Range(1, 86400));
  cmd->add_flag("--check", options->check_only,
                "only parse and validate the recipe (every stage's keys, values, rewards, templates and stage: "
                "references), print OK or the first error, and run nothing");
  cmd->callback([recipe, options, help_stage, job] {
    if (!help_stage->empty()) {
      std::fputs(rl::stage_help(*help_stage).c_str(), stdout);
      return;
    }
    if (recipe->empty()) throw Error("r1 run: a recipe file is required (or --help-stage TYPE)");
    if (job->nproc_per_node > 1 && !options->check_only) {
      launch_ranks(*recipe, *options, *job);
      return;
    }
    install_interrupt_handlers();  // Ctrl-C / SIGTERM: checkpoint the step in flight, then stop
    const dist::World world = dist::World::join(dist::launch_env_from_environment(),
                                                std::chrono::seconds(job->dist_timeout_s));
    options->world = &world;
    std::string dir = rl::run_recipe(*recipe, *options);
    if (options->check_only || !world.is_main()) return;
    std::printf("run directory: %s\n", dir.c_str());
    const std::string report = path_join(dir, "report.html");  // written by run_recipe (rl/report/report.h)
    if (path_exists(report)) std::printf("report: %s\n", report.c_str());
  });
}

}  // namespace r1::cli
