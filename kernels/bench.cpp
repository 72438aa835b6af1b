// `r1 bench kernels` (see bench.h). Legend: M tokens, N x K weight, E experts, B sequences, H heads,
// L context length. FLOPs count 2 per multiply-add; bytes count each input read once and each output
// written once (the floor a kernel can reach), so GB/s here is "useful bytes per second".
#include "kernels/bench.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <functional>

#include "common/error.h"
#include "kernels/cuda_support.h"

#if R1_WITH_CUDA
#include <ATen/cuda/CUDAContext.h>
#include <ATen/cuda/CUDAEvent.h>
#include <torch/version.h>

#include "kernels/fp8_convert.h"
#include "kernels/fp8_gemm.h"
#include "kernels/mla_decode.h"
#include "kernels/moe.h"
#include "kernels/moe_gemm.h"
#endif

namespace r1::kernels {

#if R1_WITH_CUDA
namespace {

constexpr double kRotateBytes = 256e6;  // rotate inputs over at least this many bytes (> 50 MB of L2)

// Median milliseconds of fn(i) over `iters` calls, each between two CUDA events, after `warmup` calls.
double median_ms(const std::function<void(int)>& fn, int warmup, int iters) {
  for (int i = 0; i < warmup; ++i) fn(i);
  std::vector<float> times;
  for (int i = 0; i < iters; ++i) {
    at::cuda::CUDAEvent start(cudaEventDefault), stop(cudaEventDefault);
    start.record();
    fn(warmup + i);
    stop.record();
    stop.synchronize();
    times.push_back(start.elapsed_time(stop));
  }
  std::sort(times.begin(), times.end());
  return times[times.size() / 2];
}

int copies_for(double bytes_per_set) {
  return static_cast<int>(std::clamp(std::ceil(kRotateBytes / std::max(bytes_per_set, 1.0)), 1.0, 8.0));
}

std::string fmt(const char* f, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, f, v);
  return buf;
}

struct Line {
  std::ostream& out;
  void operator()(const std::string& s) const { out << s << "\n" << std::flush; }
};

at::TensorOptions cuda_opts(at::ScalarType t) { return at::TensorOptions().dtype(t).device(at::kCUDA); }

// The targets, checked against this run's own figures and printed last (see bench.h):
//   dense FP8 GEMM at M = 4096: >= 1.1x cuBLAS FP8 with the same block scales (at::_scaled_mm);
//   dense FP8 GEMM at M <= 128 and MLA decode at L >= 4096 (H = 16): >= 80% of the measured copy bandwidth.
struct TargetRow {
  std::string target, shape, measured;
  bool met = false;
};
using Targets = std::vector<TargetRow>;

void print_targets(const Targets& targets, Line line) {
  line("== targets");
  line("| target | shape | measured | met |");
  line("|---|---|---|---|");
  int met = 0;
  for (const TargetRow& t : targets) {
    line(str_cat("| ", t.target, " | ", t.shape, " | ", t.measured, " | ", t.met ? "yes" : "no", " |"));
    met += t.met ? 1 : 0;
  }
  line(str_cat("targets met: ", met, " of ", targets.size()));
}

// ---- ceilings ----

void bench_ceilings(const KernelBenchOptions& opt, Line line, double& copy_gbs) {
  const int64_t n = int64_t{1} << 29;  // 512 MiB
  const at::Tensor src = at::rand({n / 4}, cuda_opts(at::kFloat)), dst = at::empty_like(src);
  const double ms = median_ms([&](int) { dst.copy_(src); }, opt.warmup, opt.iters);
  copy_gbs = 2.0 * n / (ms * 1e-3) / 1e9;
  line(str_cat("copy        512 MiB device-to-device: ", fmt("%.3f", ms), " ms, ", fmt("%.0f", copy_gbs),
               " GB/s (read + write)"));
  const at::Tensor a = at::randn({8192, 8192}, cuda_opts(at::kBFloat16)), b = at::randn({8192, 8192}, cuda_opts(at::kBFloat16));
  const double mm = median_ms([&](int) { at::matmul(a, b); }, opt.warmup, opt.iters);
  line(str_cat("cuBLAS bf16 8192^3: ", fmt("%.3f", mm), " ms, ", fmt("%.0f", 2.0 * 8192 * 8192 * 8192 / (mm * 1e-3) / 1e12),
               " TFLOP/s"));
}

// ---- dense GEMM ----

struct GemmSet {
  Fp8Blocks a, b;
  at::Tensor a16, b16;
};

// cuBLAS FP8 with DeepSeek block scales through at::_scaled_mm, or an explanation of why not.
std::string scaled_mm_peer(const std::vector<GemmSet>& sets, int64_t M, int64_t N, int64_t K, const KernelBenchOptions& opt,
                           double& ms_out) {
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 4)
  try {
    std::vector<std::array<at::Tensor, 4>> args;
    for (const GemmSet& s : sets) {
      const at::Tensor a8 = s.a.data.view(at::kFloat8_e4m3fn);           // [M, K]
      const at::Tensor b8 = s.b.data.view(at::kFloat8_e4m3fn).t();       // [K, N], column-major
      const at::Tensor sa = s.a.scale.t().contiguous().t();              // [M, Kb], outer-dim-major
      const at::Tensor sb = s.b.scale.t();                               // [Kb, Nb]
      args.push_back({a8, b8, sa, sb});
    }
    ms_out = median_ms(
        [&](int i) {
          const auto& x = args[i % args.size()];
          at::_scaled_mm(x[0], x[1], x[2], x[3], {}, {}, at::kBFloat16, false);
        },
        opt.warmup, opt.iters);
    return "";
  } catch (const std::exception& e) {
    std::string what = e.what();
    return "n/a (" + what.substr(0, std::min<size_t>(what.find('\n'), 90)) + ")";
  }
#else
  (void)sets, (void)M, (void)N, (void)K, (void)opt, (void)ms_out;
  return "n/a (LibTorch " TORCH_VERSION " has no _scaled_mm)";
#endif
}

void bench_gemm(const KernelBenchOptions& opt, Line line, double copy_gbs, Targets& targets) {
  line("     M      N      K | r1 fp8 ms  TFLOP/s   GB/s | cuBLAS bf16 ms TFLOP/s | cuBLAS fp8-block ms TFLOP/s | r1/fp8blk");
  for (const auto& nk : opt.nk) {
    for (int64_t M : opt.ms) {
      const int64_t N = nk[0], K = nk[1];
      const int64_t kb = (K + 127) / 128, nb = (N + 127) / 128;
      const double fp8_bytes = M * K + N * K + 4.0 * (M * kb + nb * kb) + 2.0 * M * N;
      std::vector<GemmSet> sets(copies_for(fp8_bytes + 2.0 * (M * K + N * K)));
      for (GemmSet& s : sets) {
        s.a16 = at::randn({M, K}, cuda_opts(at::kBFloat16));
        s.b16 = (at::randn({N, K}, cuda_opts(at::kFloat)) * 0.05).to(at::kBFloat16);
        s.a = quantize_act(s.a16);
        s.b = quantize_weight(s.b16);
      }
      const double flops = 2.0 * M * N * K;
      const double r1_ms = median_ms([&](int i) { fp8_gemm(sets[i % sets.size()].a, sets[i % sets.size()].b); },
                                     opt.warmup, opt.iters);
      const double bf_ms = median_ms(
          [&](int i) { at::matmul(sets[i % sets.size()].a16, sets[i % sets.size()].b16.t()); }, opt.warmup, opt.iters);
      double blk_ms = 0;
      const std::string blk_err = scaled_mm_peer(sets, M, N, K, opt, blk_ms);
      const auto tf = [&](double ms) { return flops / (ms * 1e-3) / 1e12; };
      std::string row = str_cat(fmt("%6.0f", M), " ", fmt("%6.0f", N), " ", fmt("%6.0f", K), " | ", fmt("%9.4f", r1_ms),
                                " ", fmt("%8.1f", tf(r1_ms)), " ", fmt("%6.0f", fp8_bytes / (r1_ms * 1e-3) / 1e9), " | ",
                                fmt("%14.4f", bf_ms), " ", fmt("%7.1f", tf(bf_ms)), " | ");
      if (blk_err.empty()) {
        row += str_cat(fmt("%19.4f", blk_ms), " ", fmt("%7.1f", tf(blk_ms)), " | ", fmt("%5.2fx", blk_ms / r1_ms));
      } else {
        row += blk_err;
      }
      line(row);
      const std::string shape = str_cat("gemm ", M, "x", N, "x", K);
      if (M >= 4096) {
        targets.push_back({">= 1.1x cuBLAS FP8 block-scaled", shape,
                           blk_err.empty() ? fmt("%.2fx", blk_ms / r1_ms) : "no peer: " + blk_err,
                           blk_err.empty() && blk_ms / r1_ms >= 1.1});
      } else if (M <= 128) {
        const double gbs = fp8_bytes / (r1_ms * 1e-3) / 1e9;
        targets.push_back({">= 80% of copy bandwidth", shape,
                           str_cat(fmt("%.0f%%", 100.0 * gbs / copy_gbs), " (", fmt("%.0f", gbs), " GB/s)"),
                           gbs >= 0.8 * copy_gbs});
      }
    }
  }
}

// ---- grouped GEMM ----

Fp8Blocks stack_weights(int64_t E, int64_t N, int64_t K) {
  const at::Tensor w = (at::randn({E * N, K}, cuda_opts(at::kFloat)) * 0.05).to(at::kBFloat16);  // [E*N, K]
  const Fp8Blocks q = quantize_weight(w);  // per-expert 128x128 blocks when N % 128 == 0
  R1_CHECK(N % 128 == 0, "bench: grouped N must be a multiple of 128");
  return {q.data.view({E, N, K}), q.scale.view({E, N / 128, (K + 127) / 128})};
}

void bench_grouped(const KernelBenchOptions& opt, Line line) {
  const int64_t T = 4096, k = 8, E_all = 256, E = 32;  // one expert-parallel rank of 8: 32 local experts
  line("layout      E   rows      N      K | r1 ms   TFLOP/s  GB/s | per-expert cuBLAS bf16 loop ms");
  for (const auto& nk : std::vector<std::array<int64_t, 2>>{{4096, 7168}, {7168, 2048}}) {
    const int64_t N = nk[0], K = nk[1], kb = (K + 127) / 128;
    const Fp8Blocks w = stack_weights(E, N, K);
    const at::Tensor w16 = (at::randn({E, N, K}, cuda_opts(at::kFloat)) * 0.05).to(at::kBFloat16);
    // Contiguous: T tokens routed to 8 of 256 experts; this rank keeps the 32 it owns.
    at::Tensor ids = std::get<1>(at::rand({T, E_all}, cuda_opts(at::kFloat)).topk(k, 1)).to(at::kInt);  // [T, k]
    ids = at::where(ids.lt(E), ids, at::full_like(ids, -1));
    const MoeRouting r = moe_route(ids, E, 128);
    const Fp8Blocks x = quantize_act(at::randn({T, K}, cuda_opts(at::kBFloat16)));
    const Fp8Blocks a{moe_gather(x.data, r), moe_gather(x.scale, r)};
    const at::Tensor counts = r.expert_counts.cpu();
    const int64_t rows = counts.sum().item<int64_t>();
    at::Tensor out = at::empty({a.data.size(0), N}, cuda_opts(at::kBFloat16));
    const double ms = median_ms([&](int) { fp8_grouped_gemm_contiguous(a, w, r.row_expert, {}, out); }, opt.warmup, opt.iters);
    std::vector<at::Tensor> xs;
    for (int64_t e = 0; e < E; ++e) xs.push_back(at::randn({counts[e].item<int64_t>(), K}, cuda_opts(at::kBFloat16)));
    const double loop_ms = median_ms(
        [&](int) {
          for (int64_t e = 0; e < E; ++e) at::matmul(xs[e], w16[e].t());
        },
        opt.warmup, opt.iters);
    const double flops = 2.0 * rows * N * K, bytes = E * N * K + rows * (K + 2.0 * N) + 4.0 * rows * kb;
    line(str_cat("contiguous ", fmt("%2.0f", E), " ", fmt("%6.0f", rows), " ", fmt("%6.0f", N), " ", fmt("%6.0f", K), " | ",
                 fmt("%6.3f", ms), " ", fmt("%8.1f", flops / (ms * 1e-3) / 1e12), " ", fmt("%5.0f", bytes / (ms * 1e-3) / 1e9),
                 " | ", fmt("%.3f", loop_ms)));
    // Masked decode: 32 experts, up to 64 tokens each.
    const int64_t max_m = 64;
    const Fp8Blocks am = quantize_act(at::randn({E * max_m, K}, cuda_opts(at::kBFloat16)));
    const Fp8Blocks a3{am.data.view({E, max_m, K}), am.scale.view({E, max_m, kb})};
    const at::Tensor masked_m = at::randint(0, max_m + 1, {E}, cuda_opts(at::kInt));
    const int64_t mrows = masked_m.sum().item<int64_t>();
    at::Tensor mout = at::empty({E, max_m, N}, cuda_opts(at::kBFloat16));
    const double mms = median_ms([&](int) { fp8_grouped_gemm_masked(a3, w, masked_m, {}, mout); }, opt.warmup, opt.iters);
    const double mbytes = E * N * K + mrows * (K + 2.0 * N);
    line(str_cat("masked     ", fmt("%2.0f", E), " ", fmt("%6.0f", mrows), " ", fmt("%6.0f", N), " ", fmt("%6.0f", K), " | ",
                 fmt("%6.3f", mms), " ", fmt("%8.1f", 2.0 * mrows * N * K / (mms * 1e-3) / 1e12), " ",
                 fmt("%5.0f", mbytes / (mms * 1e-3) / 1e9), " |"));
  }
}

// ---- MoE data movement ----

void bench_moe(const KernelBenchOptions& opt, Line line) {
  const int64_t T = 4096, k = 8, E = 256, D = 7168, I = 2048;
  const at::Tensor ids = std::get<1>(at::rand({T, E}, cuda_opts(at::kFloat)).topk(k, 1)).to(at::kInt);  // [T, k]
  const double route_ms = median_ms([&](int) { moe_route(ids, E, 128); }, opt.warmup, opt.iters);
  line(str_cat("moe_route        T=4096 k=8 E=256 align=128: ", fmt("%.4f", route_ms), " ms"));
  const MoeRouting r = moe_route(ids, E, 128);
  const Fp8Blocks x = quantize_act(at::randn({T, D}, cuda_opts(at::kBFloat16)));
  const int64_t P = r.row_token.size(0);
  const double gather_ms = median_ms([&](int) { moe_gather(x.data, r); }, opt.warmup, opt.iters);
  line(str_cat("moe_gather       fp8 [", T, ", ", D, "] -> [", P, ", ", D, "]: ", fmt("%.4f", gather_ms), " ms, ",
               fmt("%.0f", 2.0 * T * k * D / (gather_ms * 1e-3) / 1e9), " GB/s (routed rows)"));
  const at::Tensor h = at::randn({T * k, 2 * I}, cuda_opts(at::kBFloat16));
  const double sw_ms = median_ms([&](int) { swiglu_quant(h); }, opt.warmup, opt.iters);
  line(str_cat("swiglu_quant     [", T * k, ", ", 2 * I, "] bf16 -> fp8: ", fmt("%.4f", sw_ms), " ms, ",
               fmt("%.0f", (T * k * (4.0 * I + I + 4.0 * I / 128)) / (sw_ms * 1e-3) / 1e9), " GB/s"));
  const at::Tensor y = at::randn({P, D}, cuda_opts(at::kBFloat16));
  const at::Tensor w = at::rand({T, k}, cuda_opts(at::kFloat));
  const double un_ms = median_ms([&](int) { moe_unpermute(y, r.dest_row, w); }, opt.warmup, opt.iters);
  line(str_cat("moe_unpermute    [", P, ", ", D, "] -> [", T, ", ", D, "] bf16: ", fmt("%.4f", un_ms), " ms, ",
               fmt("%.0f", (2.0 * T * k * D + 2.0 * T * D) / (un_ms * 1e-3) / 1e9), " GB/s"));
}

// ---- MLA decode ----

MlaDecodeResult mla_naive(const at::Tensor& q, const at::Tensor& cache, const at::Tensor& table, int64_t L, double scale) {
  const int64_t B = q.size(0), blocks = (L + 63) / 64;
  const at::Tensor kv = cache.index_select(0, table.narrow(1, 0, blocks).reshape(-1).to(at::kLong))
                            .view({B, blocks * 64, 576})
                            .narrow(1, 0, L);                                   // [B, L, 576]
  const at::Tensor s = at::matmul(q, kv.transpose(1, 2)).to(at::kFloat) * scale;  // [B, H, L]
  const at::Tensor lse = at::logsumexp(s, 2);
  const at::Tensor p = at::exp(s - lse.unsqueeze(2)).to(at::kBFloat16);
  return {at::matmul(p, kv.narrow(2, 0, 512)), lse};
}

void bench_mla(const KernelBenchOptions& opt, Line line, double copy_gbs, Targets& targets) {
  const double scale = 1.0 / std::sqrt(192.0);
  line("    B    H      L cache | r1 ms    GB/s  %copy  TFLOP/s | LibTorch ops ms");
  for (int64_t B : {64, 128}) {
    for (int64_t H : {16, 128}) {
      for (int64_t L : {1024, 4096}) {
        const int64_t blocks = L / 64, NB = B * blocks;
        const at::Tensor cache = at::randn({NB, 64, 576}, cuda_opts(at::kBFloat16));
        const at::Tensor table = at::randperm(NB, cuda_opts(at::kLong)).view({B, blocks}).to(at::kInt);
        const at::Tensor lens = at::full({B}, L, cuda_opts(at::kInt));
        const at::Tensor q = at::randn({B, H, 576}, cuda_opts(at::kBFloat16));
        MlaDecodeOptions o{scale};
        const double flops = 2.0 * B * H * L * (576 + 512);
        for (bool fp8 : {false, true}) {
          MlaFp8Cache f;
          if (fp8) {
            const Fp8Blocks lq = quantize_act(cache.narrow(2, 0, 512).reshape({NB * 64, 512}));
            f = {lq.data.view({NB, 64, 512}), lq.scale.view({NB, 64, 4}), cache.narrow(2, 512, 64).contiguous()};
          }
          const double ms = median_ms(
              [&](int) { fp8 ? mla_decode_fp8(q, f, table, lens, o) : mla_decode(q, cache, table, lens, o); },
              opt.warmup, opt.iters);
          const double bytes = B * L * (fp8 ? 656.0 : 1152.0) + B * H * (1152.0 + 4.0 * 512);
          const double gbs = bytes / (ms * 1e-3) / 1e9;
          std::string row = str_cat(fmt("%5.0f", B), " ", fmt("%4.0f", H), " ", fmt("%6.0f", L), fp8 ? "  fp8 | " : " bf16 | ",
                                    fmt("%6.3f", ms), " ", fmt("%6.0f", gbs), " ", fmt("%5.0f%%", 100.0 * gbs / copy_gbs),
                                    " ", fmt("%8.1f", flops / (ms * 1e-3) / 1e12), " | ");
          if (!fp8) row += fmt("%.3f", median_ms([&](int) { mla_naive(q, cache, table, L, scale); }, opt.warmup, opt.iters));
          line(row);
          if (L >= 4096 && H == 16) {  // 16 heads: one GPU's share of 128 (memory-bound; 128 heads is compute-bound)
            targets.push_back({">= 80% of copy bandwidth", str_cat("mla B", B, " H", H, " L", L, fp8 ? " fp8" : " bf16"),
                               str_cat(fmt("%.0f%%", 100.0 * gbs / copy_gbs), " (", fmt("%.0f", gbs), " GB/s)"),
                               gbs >= 0.8 * copy_gbs});
          }
        }
      }
    }
  }
}

// ---- quantisation ----

void bench_quant(const KernelBenchOptions& opt, Line line) {
  const at::Tensor x = at::randn({4096, 7168}, cuda_opts(at::kBFloat16));
  const double act_ms = median_ms([&](int) { quantize_act(x); }, opt.warmup, opt.iters);
  line(str_cat("quantize_act     [4096, 7168] bf16: ", fmt("%.4f", act_ms), " ms, ",
               fmt("%.0f", 4096.0 * 7168 * (3 + 4.0 / 128) / (act_ms * 1e-3) / 1e9), " GB/s"));
  const at::Tensor w = at::randn({7168, 16384}, cuda_opts(at::kBFloat16));
  const double w_ms = median_ms([&](int) { quantize_weight(w); }, opt.warmup, opt.iters);
  line(str_cat("quantize_weight  [7168, 16384] bf16: ", fmt("%.4f", w_ms), " ms, ",
               fmt("%.0f", 7168.0 * 16384 * 3 / (w_ms * 1e-3) / 1e9), " GB/s (one read counted; it reads twice)"));
}

bool wanted(const KernelBenchOptions& opt, const std::string& name) {
  return std::find(opt.sections.begin(), opt.sections.end(), name) != opt.sections.end();
}

}  // namespace
#endif

void run_kernel_bench(const KernelBenchOptions& opt, std::ostream& out) {
  R1_CHECK(cuda_kernels_available(), "r1 bench kernels runs on a CUDA GPU only: ", cuda_kernels_status());
  R1_CHECK(opt.iters > 0 && opt.warmup >= 0, "r1 bench kernels: --iters must be positive and --warmup >= 0");
  for (const std::string& s : opt.sections) {
    R1_CHECK(s == "ceilings" || s == "gemm" || s == "grouped" || s == "moe" || s == "mla" || s == "quant",
             "r1 bench kernels: unknown section '", s, "' (ceilings, gemm, grouped, moe, mla, quant)");
  }
#if R1_WITH_CUDA
  const Line line{out};
  line(str_cat("r1 bench kernels on ", cuda_kernels_status(), "; LibTorch ", TORCH_VERSION, "; median of ", opt.iters,
               " after ", opt.warmup, " warm-up calls"));
  double copy_gbs = 3000;
  if (wanted(opt, "ceilings") || wanted(opt, "gemm") || wanted(opt, "mla")) {
    line("== ceilings");
    bench_ceilings(opt, line, copy_gbs);
  }
  Targets targets;
  if (wanted(opt, "gemm")) line("== gemm (dense, bf16 out)"), bench_gemm(opt, line, copy_gbs, targets);
  if (wanted(opt, "grouped")) line("== grouped gemm (bf16 out)"), bench_grouped(opt, line);
  if (wanted(opt, "moe")) line("== moe data movement"), bench_moe(opt, line);
  if (wanted(opt, "mla")) line("== mla decode (fp32 out)"), bench_mla(opt, line, copy_gbs, targets);
  if (wanted(opt, "quant")) line("== quantisation"), bench_quant(opt, line);
  if (!targets.empty()) print_targets(targets, line);
#else
  (void)out;
#endif
}

}  // namespace r1::kernels
