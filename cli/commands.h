// Registration of the `r1` subcommands. Each cli/cmd_*.cpp file defines one add_*_commands function that
// adds its subcommands (with --help text and defaults) to the app and installs their callbacks. Long-
// running callbacks may throw r1::Error for bad input; main() prints it as "error: ..." and exits 1.
#pragma once

namespace CLI {
class App;
}

namespace r1::cli {

void add_model_commands(CLI::App& app);      // info, logits, generate            (cmd_model.cpp)
void add_tokenizer_commands(CLI::App& app);  // tokenize, detokenize              (cmd_tokenize.cpp)
void add_tokenizer_train_commands(CLI::App& app);  // tokenizer train           (cmd_tokenizer_train.cpp)
void add_reward_commands(CLI::App& app);     // reward list | score               (cmd_reward.cpp)
void add_sandbox_commands(CLI::App& app);    // sandbox run                       (cmd_sandbox.cpp)
void add_run_commands(CLI::App& app);        // run RECIPE                        (cmd_run.cpp)
void add_data_commands(CLI::App& app);       // data filter                       (cmd_data.cpp)
void add_report_commands(CLI::App& app);     // report RUN_DIR                    (cmd_report.cpp)
// Benchmarks hang under `r1 bench <name>`; each file adds its own child to the "bench" subcommand.
void add_bench_commands(CLI::App& bench);    // bench model | grpo | ...          (cmd_bench.cpp)
void add_kernel_bench_commands(CLI::App& bench);   // bench kernels              (cmd_bench_kernels.cpp)
void add_reward_bench_commands(CLI::App& bench);   // bench math                 (cmd_bench_rewards.cpp)
void add_sandbox_bench_commands(CLI::App& bench);  // bench sandbox              (cmd_bench_sandbox.cpp)
void add_tokenizer_bench_commands(CLI::App& bench);  // bench tokenizer        (cmd_bench_tokenizer.cpp)
void add_grpo_bench_commands(CLI::App& bench);   // bench grpo                 (cmd_bench_grpo.cpp)
void add_rollout_bench_commands(CLI::App& bench);  // bench rollout            (cmd_bench_rollout.cpp)
void add_rejection_bench_commands(CLI::App& bench);  // bench rejection        (cmd_bench_rejection.cpp)
void add_reward_model_bench_commands(CLI::App& bench);  // bench reward_model (cmd_bench_reward_model.cpp)
void add_data_parallel_bench_commands(CLI::App& bench);  // bench data_parallel (cmd_bench_data_parallel.cpp)

}  // namespace r1::cli
