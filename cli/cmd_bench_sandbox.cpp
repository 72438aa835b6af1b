// Placeholder registration: the subcommands of this file are being written (see commands.h).
#include <CLI/CLI.hpp>

#include "cli/commands.h"

namespace r1::cli {

void add_sandbox_bench_commands(CLI::App& app) { (void)app; }

}  // namespace r1::cli
