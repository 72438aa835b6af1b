// `r1 bench kernels`: the CUDA kernel benchmarks of kernels/bench.h. GPU only: on a CPU build or a
// machine without a CUDA device it prints "error: r1 bench kernels runs on a CUDA GPU only: <reason>"
// and exits with status 1, so scripts never mistake a skipped benchmark for a measured one.
#include <CLI/CLI.hpp>

#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "common/error.h"
#include "kernels/bench.h"

namespace r1::cli {
namespace {

// "2112x7168" → {2112, 7168}.
std::array<int64_t, 2> parse_nk(const std::string& s) {
  const size_t x = s.find('x');
  try {
    R1_CHECK(x != std::string::npos, "");
    size_t used_n = 0, used_k = 0;
    const int64_t n = std::stoll(s.substr(0, x), &used_n), k = std::stoll(s.substr(x + 1), &used_k);
    R1_CHECK(used_n == x && used_k == s.size() - x - 1 && n > 0 && k > 0, "");
    return {n, k};
  } catch (const std::exception&) {
    fail("r1 bench kernels: --nk entries look like 2112x7168 (N x K, positive), got '", s, "'");
  }
}

}  // namespace

void add_kernel_bench_commands(CLI::App& bench) {
  auto opt = std::make_shared<kernels::KernelBenchOptions>();
  auto nk = std::make_shared<std::vector<std::string>>();
  for (const auto& v : opt->nk) nk->push_back(std::to_string(v[0]) + "x" + std::to_string(v[1]));
  CLI::App* cmd = bench.add_subcommand(
      "kernels",
      "CUDA kernel benchmarks (GPU only): FP8 block GEMM vs cuBLAS bf16 / FP8, grouped GEMM, MoE data movement, "
      "MLA decode, quantisation. Exits 1 with the reason on a CPU build or without a GPU.");
  cmd->add_option("--iters", opt->iters, "timed calls per measurement (the median is reported)");
  cmd->add_option("--warmup", opt->warmup, "untimed calls before timing");
  cmd->add_option("--sections", opt->sections, "comma-separated: ceilings, gemm, grouped, moe, mla, quant")
      ->delimiter(',');
  cmd->add_option("--ms", opt->ms, "M values (tokens) of the dense GEMM")->delimiter(',');
  cmd->add_option("--nk", *nk, "N x K weight shapes of the dense GEMM (DeepSeek-V3's by default)")->delimiter(',');
  cmd->callback([opt, nk] {
    opt->nk.clear();
    for (const std::string& s : *nk) opt->nk.push_back(parse_nk(s));
    kernels::run_kernel_bench(*opt, std::cout);
  });
}

}  // namespace r1::cli
