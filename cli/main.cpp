// The `r1` binary: one entry point for every stage of the DeepSeek-R1 pipeline. Subcommands live in
// cli/cmd_*.cpp (see commands.h). Errors from bad input arrive as r1::Error and are printed as one
// "error: ..." line (exit code 1); LibTorch errors are printed without their C++ backtrace.
#include <CLI/CLI.hpp>
#include <c10/util/Exception.h>

#include <cstdio>
#include <exception>

#include "cli/commands.h"
#include "common/error.h"
#include "common/interrupt.h"
#include "rl/run_rewards.h"

int main(int argc, char** argv) {
  CLI::App app{"r1 — DeepSeek-R1 post-training toolkit (pretraining, SFT, GRPO, evaluation; rewards, sandbox, models)"};
  app.option_defaults()->always_capture_default();
  app.require_subcommand(1);
  app.set_version_flag("--version", "r1 0.1.0");

  r1::rl::ensure_rl_rewards();  // the rewards that run a model (reward_model) for `r1 reward` and recipes
  r1::cli::add_model_commands(app);
  r1::cli::add_tokenizer_commands(app);
  r1::cli::add_tokenizer_train_commands(app);
  r1::cli::add_reward_commands(app);
  r1::cli::add_sandbox_commands(app);
  r1::cli::add_run_commands(app);
  r1::cli::add_data_commands(app);
  r1::cli::add_report_commands(app);
  CLI::App* bench = app.add_subcommand("bench", "Benchmarks (figures go to BENCHMARKS.md)");
  bench->require_subcommand(1);
  r1::cli::add_bench_commands(*bench);
  r1::cli::add_kernel_bench_commands(*bench);
  r1::cli::add_reward_bench_commands(*bench);
  r1::cli::add_sandbox_bench_commands(*bench);
  r1::cli::add_tokenizer_bench_commands(*bench);
  r1::cli::add_grpo_bench_commands(*bench);
  r1::cli::add_rollout_bench_commands(*bench);
  r1::cli::add_rejection_bench_commands(*bench);
  r1::cli::add_reward_model_bench_commands(*bench);
  r1::cli::add_data_parallel_bench_commands(*bench);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const r1::Interrupted& e) {
    std::fprintf(stderr, "r1: interrupted: %s\n", e.what());
    return 128 + e.signal();
  } catch (const r1::Error& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  } catch (const c10::Error& e) {
    std::fprintf(stderr, "error: %s\n", e.what_without_backtrace());
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
  return 0;
}
