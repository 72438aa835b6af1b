// r1_bench_kernels: `r1 bench kernels` for the kernels-only build (kernels/standalone), where the full
// CLI (CLI11 and every other subsystem) is not built. Same options, parsed by hand:
//   r1_bench_kernels [--iters N] [--warmup N] [--sections a,b] [--ms 64,128] [--nk 2112x7168,...]
#include <cstdio>
#include <exception>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "common/error.h"
#include "kernels/bench.h"

namespace {

std::vector<std::string> split(const std::string& s) {
  std::vector<std::string> parts;
  std::stringstream in(s);
  for (std::string part; std::getline(in, part, ',');)
    if (!part.empty()) parts.push_back(part);
  return parts;
}

int64_t to_int(const std::string& s, const std::string& flag) {
  size_t used = 0;
  int64_t v = 0;
  try {
    v = std::stoll(s, &used);
  } catch (const std::exception&) {
  }
  R1_CHECK(used == s.size() && !s.empty(), "r1_bench_kernels: ", flag, " wants an integer, got '", s, "'");
  return v;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    r1::kernels::KernelBenchOptions opt;
    for (int i = 1; i < argc; ++i) {
      const std::string flag = argv[i];
      if (flag == "--help" || flag == "-h") {
        std::puts("r1_bench_kernels [--iters N] [--warmup N] [--sections ceilings,gemm,grouped,moe,mla,quant] "
                  "[--ms 64,128,4096] [--nk 2112x7168,...]");
        return 0;
      }
      R1_CHECK(i + 1 < argc, "r1_bench_kernels: ", flag, " needs a value");
      const std::string value = argv[++i];
      if (flag == "--iters") {
        opt.iters = static_cast<int>(to_int(value, flag));
      } else if (flag == "--warmup") {
        opt.warmup = static_cast<int>(to_int(value, flag));
      } else if (flag == "--sections") {
        opt.sections = split(value);
      } else if (flag == "--ms") {
        opt.ms.clear();
        for (const std::string& m : split(value)) opt.ms.push_back(to_int(m, flag));
      } else if (flag == "--nk") {
        opt.nk.clear();
        for (const std::string& nk : split(value)) {
          const size_t x = nk.find('x');
          R1_CHECK(x != std::string::npos, "r1_bench_kernels: --nk entries look like 2112x7168, got '", nk, "'");
          opt.nk.push_back({to_int(nk.substr(0, x), flag), to_int(nk.substr(x + 1), flag)});
        }
      } else {
        r1::fail("r1_bench_kernels: unknown option ", flag, " (see --help)");
      }
    }
    r1::kernels::run_kernel_bench(opt, std::cout);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
  return 0;
}
