// MoE routing, gather, un-permutation, SwiGLU quantisation and the FP8 grouped GEMMs: the CPU references
// against straightforward formulas (run everywhere), the CUDA paths against the references (skipped
// without a GPU).
//
// Tolerances: routing, gather and masked/contiguous layouts are integer or copy operations and must
// match exactly. unpermute sums k <= 8 fp32 products: 1e-6 relative. Grouped GEMM: as fp8_gemm_test.cpp
// (fp32 output 1e-3 relative, bf16 output = the kernel's fp32 output rounded). The end-to-end
// MoE reference vs a per-token fp64 loop that quantises the SwiGLU output the same way: 1e-3 (the
// pipeline's fp32 GEMM output differs from fp64 by ~1e-7, which flips an FP8 code only when a value
// sits on a rounding boundary). Without that mirrored quantisation the gap would be the e4m3 error
// itself, ~2.5% (3 mantissa bits), which a loose bound would hide bugs behind.
#include <gtest/gtest.h>

#include <set>
#include <vector>

#include "common/error.h"
#include "kernel_test_util.h"
#include "kernels/moe.h"
#include "kernels/moe_gemm.h"

namespace r1::kernels {
namespace {

using testing::rel_error;

// Random routing: k distinct experts per token, drawn from a skewed distribution so that some experts
// get many tokens and some get none; optionally some slots not routed (-1).
at::Tensor random_topk(int64_t T, int64_t k, int64_t E, at::Generator& gen, double drop = 0.0) {
  const at::Tensor weights = at::exp(at::randn({E}, gen, at::kFloat) * 2.0);                 // [E]
  const at::Tensor w = weights.masked_fill(at::arange(E).remainder(5).eq(3), 0);             // experts 3, 8, ... get nothing
  at::Tensor ids = at::multinomial(w.expand({T, E}).contiguous(), k, /*replacement=*/false, gen);  // [T, k]
  if (drop > 0) ids.masked_fill_(at::rand({T, k}, gen).lt(drop), -1);
  return ids.to(at::kInt);
}

// Checks the routing invariants against the ids: each routed pair once, at a row that names it, rows of
// one expert in pair order, segments aligned, counts right.
void expect_valid_contiguous(const MoeRouting& r, const at::Tensor& ids, int64_t E, int64_t align) {
  const int64_t T = ids.size(0), k = ids.size(1);
  const at::Tensor id = ids.to(at::kLong), dest = r.dest_row.to(at::kLong);
  const at::Tensor tok = r.row_token.to(at::kLong), ex = r.row_expert.to(at::kLong);
  const at::Tensor off = r.expert_offsets.to(at::kLong), cnt = r.expert_counts.to(at::kLong);
  ASSERT_EQ(tok.size(0), moe_contiguous_rows(T, k, E, align));
  std::vector<int64_t> expected_count(E, 0);
  std::vector<int64_t> last_pair(E, -1);
  std::set<int64_t> used_rows;
  for (int64_t t = 0; t < T; ++t) {
    for (int64_t j = 0; j < k; ++j) {
      const int64_t e = id[t][j].item<int64_t>(), row = dest[t][j].item<int64_t>();
      if (e < 0) {
        EXPECT_EQ(row, -1);
        continue;
      }
      ++expected_count[e];
      ASSERT_GE(row, 0);
      EXPECT_TRUE(used_rows.insert(row).second) << "row " << row << " used twice";
      EXPECT_EQ(tok[row].item<int64_t>(), t);
      EXPECT_EQ(ex[row].item<int64_t>(), e);
      EXPECT_GE(row, off[e].item<int64_t>());
      EXPECT_LT(row, off[e].item<int64_t>() + cnt[e].item<int64_t>());
      EXPECT_GT(row, last_pair[e]) << "rows of expert " << e << " are not in token order";
      last_pair[e] = row;
    }
  }
  for (int64_t e = 0; e < E; ++e) {
    EXPECT_EQ(cnt[e].item<int64_t>(), expected_count[e]) << "expert " << e;
    EXPECT_EQ(off[e].item<int64_t>() % align, 0) << "expert " << e;
    EXPECT_LE(off[e].item<int64_t>() + cnt[e].item<int64_t>(), off[e + 1].item<int64_t>());
  }
  EXPECT_EQ(static_cast<int64_t>(used_rows.size()), tok.ge(0).sum().item<int64_t>());  // no stray rows
}

TEST(MoeReference, ContiguousRoutingInvariants) {
  at::Generator gen = testing::make_gen(21);
  for (int64_t align : {1, 4, 128}) {
    const at::Tensor ids = random_topk(50, 4, 16, gen, 0.1);
    const MoeRouting r = moe_route_reference(ids, 16, align);
    expect_valid_contiguous(r, ids, 16, align);
    EXPECT_EQ(r.expert_counts[3].item<int>(), 0);  // an expert with no tokens
  }
}

TEST(MoeReference, MaskedRoutingDropsPastCapacity) {
  at::Generator gen = testing::make_gen(22);
  const int64_t T = 40, k = 3, E = 8, max_m = 9;
  const at::Tensor ids = random_topk(T, k, E, gen);
  const MoeRouting r = moe_route_masked_reference(ids, E, max_m);
  ASSERT_EQ(r.row_token.size(0), E * max_m);
  const at::Tensor id = ids.to(at::kLong), dest = r.dest_row.to(at::kLong);
  std::vector<int64_t> seen(E, 0);
  for (int64_t p = 0; p < T * k; ++p) {
    const int64_t e = id.view(-1)[p].item<int64_t>(), row = dest.view(-1)[p].item<int64_t>();
    if (seen[e] < max_m) {
      EXPECT_EQ(row, e * max_m + seen[e]) << "pair " << p;
      EXPECT_EQ(r.row_token[row].item<int>(), p / k);
    } else {
      EXPECT_EQ(row, -1) << "pair " << p << " should be dropped";
    }
    ++seen[e];
  }
  for (int64_t e = 0; e < E; ++e) EXPECT_EQ(r.expert_counts[e].item<int64_t>(), std::min(seen[e], max_m));
  // max_m = T never drops.
  const MoeRouting full = moe_route_masked_reference(ids, E, T);
  EXPECT_TRUE(full.dest_row.ge(0).all().item<bool>());
}

TEST(MoeReference, RejectsBadIds) {
  const at::Tensor ids = at::tensor({0, 1, 7, 2}, at::kInt).view({2, 2});
  EXPECT_THROW(moe_route_reference(ids, 4, 128), Error);
  EXPECT_THROW(moe_route_reference(ids.to(at::kFloat), 8, 128), Error);
  EXPECT_THROW(moe_route_reference(ids, 8, 0), Error);
}

TEST(MoeReference, GatherThenUnpermuteRoundTrip) {
  // unpermute(gather(x), w) = x * Σ_j w[t, j] over routed slots: a round trip through both layouts.
  at::Generator gen = testing::make_gen(23);
  const int64_t T = 37, k = 4, E = 12, D = 48;
  const at::Tensor x = at::randn({T, D}, gen, at::kFloat);
  const at::Tensor ids = random_topk(T, k, E, gen, 0.15);
  const at::Tensor w = at::rand({T, k}, gen, at::kFloat);
  const at::Tensor routed_w = w.masked_fill(ids.lt(0), 0).sum(1, true);  // [T, 1]
  for (const MoeRouting& r : {moe_route_reference(ids, E, 8), moe_route_masked_reference(ids, E, T)}) {
    const at::Tensor xp = moe_gather_reference(x, r);  // [P, D]
    EXPECT_TRUE(xp.index_select(0, r.row_token.lt(0).nonzero().view(-1)).eq(0).all().item<bool>());
    const at::Tensor back = moe_unpermute_reference(xp, r.dest_row, w, at::kFloat);
    EXPECT_LT(rel_error(back, x * routed_w), 1e-6);
  }
}

TEST(MoeReference, GatherWorksOnCodesAndScales) {
  at::Generator gen = testing::make_gen(24);
  const Fp8Blocks xq = testing::random_act(10, 256, gen);
  const MoeRouting r = moe_route_reference(random_topk(10, 2, 4, gen), 4, 128);
  const at::Tensor codes = moe_gather_reference(xq.data, r), scales = moe_gather_reference(xq.scale, r);
  EXPECT_EQ(codes.scalar_type(), at::kByte);
  for (int64_t row = 0; row < r.row_token.size(0); ++row) {
    const int t = r.row_token[row].item<int>();
    if (t < 0) continue;
    EXPECT_TRUE(at::equal(codes[row], xq.data[t]));
    EXPECT_TRUE(at::equal(scales[row], xq.scale[t]));
  }
}

TEST(MoeReference, SwigluQuantMatchesFormula) {
  at::Generator gen = testing::make_gen(25);
  const at::Tensor x = at::randn({6, 2 * 320}, gen, at::kFloat) * 3;
  const Fp8Blocks q = swiglu_quant_reference(x);
  ASSERT_EQ(q.data.sizes(), (at::IntArrayRef{6, 320}));
  ASSERT_EQ(q.scale.sizes(), (at::IntArrayRef{6, 3}));
  const at::Tensor g = x.narrow(1, 0, 320).to(at::kDouble), u = x.narrow(1, 320, 320).to(at::kDouble);
  const at::Tensor h = g * at::sigmoid(g) * u;  // [6, 320]
  // e4m3 rounding: at most 2^-4 relative per element, plus the subnormal floor 2^-10 * scale.
  const at::Tensor deq = dequantize_act_1x128(q, at::kFloat).to(at::kDouble);
  const at::Tensor scale = q.scale.repeat_interleave(128, 1).narrow(1, 0, 320).to(at::kDouble);
  EXPECT_TRUE((deq - h).abs().le(h.abs() * 0.0625 + scale * 0.001 + 1e-12).all().item<bool>());
}

// ---- grouped GEMM references ----

TEST(MoeGemmReference, ContiguousMatchesPerExpertDenseGemm) {
  at::Generator gen = testing::make_gen(26);
  const int64_t T = 45, k = 3, E = 6, N = 160, K = 272;
  const MoeRouting r = moe_route_reference(random_topk(T, k, E, gen), E, 128);
  const Fp8Blocks x = testing::random_act(T, K, gen);
  const Fp8Blocks a{moe_gather_reference(x.data, r), moe_gather_reference(x.scale, r)};
  std::vector<at::Tensor> wd, ws;
  for (int64_t e = 0; e < E; ++e) {
    const Fp8Blocks w = testing::random_weight(N, K, gen);
    wd.push_back(w.data);
    ws.push_back(w.scale);
  }
  const Fp8Blocks b{at::stack(wd), at::stack(ws)};
  const at::Tensor c = fp8_grouped_gemm_contiguous_reference(a, b, r.row_expert, at::kFloat);  // [P, N]
  for (int64_t row = 0; row < c.size(0); ++row) {
    const int e = r.row_expert[row].item<int>();
    if (e < 0) {
      EXPECT_TRUE(c[row].eq(0).all().item<bool>());
      continue;
    }
    const Fp8Blocks xr{x.data.narrow(0, r.row_token[row].item<int>(), 1), x.scale.narrow(0, r.row_token[row].item<int>(), 1)};
    EXPECT_TRUE(at::allclose(c[row], fp8_gemm_reference(xr, {wd[e], ws[e]}, at::kFloat)[0], 1e-5, 1e-6));
  }
  // A layout that mixes experts inside a 128-row tile is refused.
  const MoeRouting unaligned = moe_route_reference(random_topk(T, k, E, gen), E, 1);
  const Fp8Blocks au{moe_gather_reference(x.data, unaligned), moe_gather_reference(x.scale, unaligned)};
  EXPECT_THROW(fp8_grouped_gemm_contiguous_reference(au, b, unaligned.row_expert, at::kFloat), Error);
}

TEST(MoeGemmReference, MaskedMatchesPerExpertDenseGemmAndLeavesOtherRows) {
  at::Generator gen = testing::make_gen(27);
  const int64_t E = 4, max_m = 20, N = 130, K = 256;
  const Fp8Blocks a3 = testing::random_act(E * max_m, K, gen);
  const Fp8Blocks a{a3.data.view({E, max_m, K}), a3.scale.view({E, max_m, 2})};
  const Fp8Blocks w = testing::random_weight(E * N, K, gen);
  const Fp8Blocks b{w.data.view({E, N, K}), testing::random_weight(N, K, gen).scale.unsqueeze(0).repeat({E, 1, 1})};
  const at::Tensor masked_m = at::tensor({0, 5, 20, 13}, at::kInt);
  at::Tensor out = testing::poisoned({E, max_m, N}, at::kFloat, at::Device(at::kCPU));
  fp8_grouped_gemm_masked_reference(a, b, masked_m, at::kFloat, out);
  for (int64_t e = 0; e < E; ++e) {
    const int64_t m = masked_m[e].item<int64_t>();
    if (m > 0) {
      const at::Tensor dense = fp8_gemm_reference({a.data[e].narrow(0, 0, m), a.scale[e].narrow(0, 0, m)},
                                                  {b.data[e], b.scale[e]}, at::kFloat);
      EXPECT_TRUE(at::equal(out[e].narrow(0, 0, m), dense)) << "expert " << e;
    }
    EXPECT_TRUE(at::isnan(out[e].narrow(0, m, max_m - m)).all().item<bool>()) << "expert " << e;
  }
  EXPECT_THROW(fp8_grouped_gemm_masked_reference(a, b, at::tensor({0, 5, 21, 1}, at::kInt), at::kFloat), Error);
}

TEST(MoeReference, PipelineMatchesPerTokenLoop) {
  // route → gather FP8 → gate/up GEMM → swiglu_quant → down GEMM → unpermute, against a per-token fp64
  // loop over the dequantised weights. Both layouts.
  at::Generator gen = testing::make_gen(28);
  const int64_t T = 24, k = 4, E = 8, D = 256, I = 256;
  const at::Tensor x = at::randn({T, D}, gen, at::kFloat);
  const at::Tensor ids = random_topk(T, k, E, gen);
  const at::Tensor w = at::softmax(at::randn({T, k}, gen, at::kFloat), 1);
  std::vector<Fp8Blocks> gate_up, down;
  std::vector<at::Tensor> gud, gus, dd, ds;
  for (int64_t e = 0; e < E; ++e) {
    gate_up.push_back(testing::random_weight(2 * I, D, gen));
    down.push_back(testing::random_weight(D, I, gen));
    gud.push_back(gate_up.back().data), gus.push_back(gate_up.back().scale);
    dd.push_back(down.back().data), ds.push_back(down.back().scale);
  }
  const Fp8Blocks w1{at::stack(gud), at::stack(gus)}, w2{at::stack(dd), at::stack(ds)};
  const Fp8Blocks xq = quantize_act_1x128(x);

  // Oracle: per token, per routed expert, fp64 on the dequantised quantities.
  const at::Tensor xd = dequantize_act_1x128(xq, at::kFloat).to(at::kDouble);
  std::vector<at::Tensor> w1d, w2d;  // dequantised fp64 weights per expert
  for (int64_t e = 0; e < E; ++e) {
    w1d.push_back(dequantize_weight_128x128(gate_up[e], at::kFloat).to(at::kDouble));  // [2I, D]
    w2d.push_back(dequantize_weight_128x128(down[e], at::kFloat).to(at::kDouble));     // [D, I]
  }
  at::Tensor expected = at::zeros({T, D}, at::kDouble);
  for (int64_t t = 0; t < T; ++t) {
    for (int64_t j = 0; j < k; ++j) {
      const int64_t e = ids[t][j].item<int64_t>();
      const at::Tensor h = at::matmul(w1d[e], xd[t]);  // [2I]
      const at::Tensor act_exact = at::silu(h.narrow(0, 0, I)) * h.narrow(0, I, I);  // [I]
      const at::Tensor act = dequantize_act_1x128(quantize_act_1x128(act_exact.unsqueeze(0).to(at::kFloat)), at::kFloat)
                                 .to(at::kDouble)[0];  // the pipeline's FP8 re-quantisation, mirrored
      expected[t] += w[t][j].item<double>() * at::matmul(w2d[e], act);
    }
  }

  {  // contiguous
    const MoeRouting r = moe_route_reference(ids, E, 128);
    const Fp8Blocks a{moe_gather_reference(xq.data, r), moe_gather_reference(xq.scale, r)};
    const at::Tensor h = fp8_grouped_gemm_contiguous_reference(a, w1, r.row_expert, at::kFloat);
    const at::Tensor y = fp8_grouped_gemm_contiguous_reference(swiglu_quant_reference(h), w2, r.row_expert, at::kFloat);
    EXPECT_LT(rel_error(moe_unpermute_reference(y, r.dest_row, w, at::kFloat), expected), 1e-3);
  }
  {  // masked
    const MoeRouting r = moe_route_masked_reference(ids, E, T);
    const Fp8Blocks a{moe_gather_reference(xq.data, r).view({E, T, D}), moe_gather_reference(xq.scale, r).view({E, T, 2})};
    const at::Tensor h = fp8_grouped_gemm_masked_reference(a, w1, r.expert_counts, at::kFloat);  // [E, T, 2I]
    const Fp8Blocks hq = swiglu_quant_reference(h.view({E * T, 2 * I}));
    const Fp8Blocks hq3{hq.data.view({E, T, I}), hq.scale.view({E, T, 2})};
    const at::Tensor y = fp8_grouped_gemm_masked_reference(hq3, w2, r.expert_counts, at::kFloat);
    EXPECT_LT(rel_error(moe_unpermute_reference(y.view({E * T, D}), r.dest_row, w, at::kFloat), expected), 1e-3);
  }
}

// ---- CUDA parity ----

TEST(MoeCuda, RoutingMatchesReferenceExactly) {
  R1_REQUIRE_CUDA();
  at::Generator gen = testing::make_gen(40);
  const at::Device cuda(at::kCUDA);
  for (auto [T, k, E] : {std::tuple<int64_t, int64_t, int64_t>{1, 1, 1}, {7, 2, 16}, {300, 8, 256}, {4096, 8, 256}}) {
    const at::Tensor ids = random_topk(T, k, E, gen, 0.05);
    for (int64_t align : {1, 128}) {
      const MoeRouting ref = moe_route_reference(ids, E, align), got = moe_route(ids.to(cuda), E, align);
      EXPECT_TRUE(at::equal(got.row_token.cpu(), ref.row_token)) << T << "x" << k << " align " << align;
      EXPECT_TRUE(at::equal(got.row_expert.cpu(), ref.row_expert));
      EXPECT_TRUE(at::equal(got.expert_counts.cpu(), ref.expert_counts));
      EXPECT_TRUE(at::equal(got.expert_offsets.cpu(), ref.expert_offsets));
      EXPECT_TRUE(at::equal(got.dest_row.cpu(), ref.dest_row));
    }
    for (int64_t max_m : {int64_t{1}, T / 4 + 1, T}) {
      const MoeRouting ref = moe_route_masked_reference(ids, E, max_m), got = moe_route_masked(ids.to(cuda), E, max_m);
      EXPECT_TRUE(at::equal(got.row_token.cpu(), ref.row_token)) << "masked " << max_m;
      EXPECT_TRUE(at::equal(got.expert_counts.cpu(), ref.expert_counts));
      EXPECT_TRUE(at::equal(got.dest_row.cpu(), ref.dest_row));
    }
  }
}

TEST(MoeCuda, GatherUnpermuteSwigluMatchReference) {
  R1_REQUIRE_CUDA();
  at::Generator gen = testing::make_gen(41);
  const at::Device cuda(at::kCUDA);
  const int64_t T = 333, k = 6, E = 64;
  const at::Tensor ids = random_topk(T, k, E, gen, 0.05);
  const MoeRouting r = moe_route(ids.to(cuda), E, 128);
  const MoeRouting rc = moe_route_reference(ids, E, 128);
  for (int64_t D : {7168, 100, 1}) {  // 16-byte rows and odd widths
    const at::Tensor x = at::randn({T, D}, gen, at::kFloat).to(at::kBFloat16);
    const int64_t P = rc.row_token.size(0);
    EXPECT_TRUE(at::equal(moe_gather(x.to(cuda), r, testing::poisoned({P, D}, at::kBFloat16, cuda)).cpu(),
                          moe_gather_reference(x, rc))) << D;
    const Fp8Blocks xq = testing::random_act(T, D, gen);
    EXPECT_TRUE(at::equal(moe_gather(xq.data.to(cuda), r).cpu(), moe_gather_reference(xq.data, rc)));
    EXPECT_TRUE(at::equal(moe_gather(xq.scale.to(cuda), r).cpu(), moe_gather_reference(xq.scale, rc)));
    const at::Tensor y = at::randn({rc.row_token.size(0), D}, gen, at::kFloat);
    const at::Tensor w = at::rand({T, k}, gen, at::kFloat);
    for (at::ScalarType dt : {at::kFloat, at::kBFloat16}) {
      const at::Tensor yd = y.to(dt);
      const at::Tensor ref = moe_unpermute_reference(yd, rc.dest_row, w, at::kFloat);
      const at::Tensor f32 =
          moe_unpermute(yd.to(cuda), r.dest_row, w.to(cuda), at::kFloat, testing::poisoned({T, D}, at::kFloat, cuda));
      EXPECT_LT(rel_error(f32, ref), 1e-6);
      const at::Tensor bf = moe_unpermute(yd.to(cuda), r.dest_row, w.to(cuda), at::kBFloat16,
                                          testing::poisoned({T, D}, at::kBFloat16, cuda));
      EXPECT_TRUE(at::equal(bf.cpu(), f32.cpu().to(at::kBFloat16)));
    }
  }
  for (int64_t I : {2048, 256, 200}) {
    const at::Tensor h = (at::randn({500, 2 * I}, gen, at::kFloat) * 4).to(at::kBFloat16);
    const Fp8Blocks ref = swiglu_quant_reference(h), got = swiglu_quant(h.to(cuda));
    // expf on the GPU and exp on the CPU may differ by an ulp, which can flip a code at a rounding
    // boundary (~1e-6 of codes): compare the dequantised values, and demand near-total code equality.
    const double same = got.data.cpu().eq(ref.data).to(at::kDouble).mean().item<double>();
    EXPECT_GT(same, 0.9999) << I;
    EXPECT_LT(rel_error(got.scale, ref.scale), 1e-6) << I;
    EXPECT_LT(rel_error(dequantize_act_1x128({got.data.cpu(), got.scale.cpu()}, at::kFloat),
                        dequantize_act_1x128(ref, at::kFloat)), 1e-3) << I;
  }
}

struct GroupedCase {
  int64_t T, k, E, N, K;
};

TEST(MoeCuda, ContiguousGroupedGemmMatchesReference) {
  R1_REQUIRE_CUDA();
  at::Generator gen = testing::make_gen(42);
  const at::Device cuda(at::kCUDA);
  for (const GroupedCase& c : {GroupedCase{64, 8, 16, 512, 256}, {300, 6, 32, 384, 2048}, {5, 2, 8, 200, 144}}) {
    const MoeRouting r = moe_route_reference(random_topk(c.T, c.k, c.E, gen), c.E, 128);
    const Fp8Blocks x = testing::random_act(c.T, c.K, gen);
    const Fp8Blocks a{moe_gather_reference(x.data, r), moe_gather_reference(x.scale, r)};
    const Fp8Blocks w3 = testing::random_weight(c.E * c.N, c.K, gen);
    std::vector<at::Tensor> scales;
    for (int64_t e = 0; e < c.E; ++e) scales.push_back(testing::random_weight(c.N, c.K, gen).scale);
    const Fp8Blocks b{w3.data.view({c.E, c.N, c.K}), at::stack(scales)};
    const at::Tensor ref = fp8_grouped_gemm_contiguous_reference(a, b, r.row_expert, at::kFloat);
    const at::Tensor real_rows = r.row_expert.ge(0).nonzero().view(-1);
    const at::Tensor pad_rows = r.row_expert.lt(0).nonzero().view(-1);
    for (Fp8GemmPath path : {Fp8GemmPath::kTensorCore, Fp8GemmPath::kSimple}) {
      const std::string what = str_cat("T=", c.T, " E=", c.E, " N=", c.N, " K=", c.K, " path ", int(path));
      at::Tensor f32 = testing::poisoned({r.row_token.size(0), c.N}, at::kFloat, cuda);
      at::Tensor bf = testing::poisoned({r.row_token.size(0), c.N}, at::kBFloat16, cuda);
      const Fp8Blocks ad = testing::to_device(a, cuda), bd = testing::to_device(b, cuda);
      fp8_grouped_gemm_contiguous(ad, bd, r.row_expert.to(cuda), {at::kFloat, path}, f32);
      fp8_grouped_gemm_contiguous(ad, bd, r.row_expert.to(cuda), {at::kBFloat16, path}, bf);
      const at::Tensor got = f32.cpu(), got_bf = bf.cpu();
      EXPECT_LT(rel_error(got.index_select(0, real_rows), ref.index_select(0, real_rows)), 1e-3) << what;
      // bf16 output = the same fp32 totals rounded (see fp8_gemm_test.cpp for why not an ulp bound).
      EXPECT_TRUE(at::equal(got_bf.index_select(0, real_rows), got.index_select(0, real_rows).to(at::kBFloat16))) << what;
      EXPECT_TRUE(at::isnan(got.index_select(0, pad_rows)).all().item<bool>()) << what << ": padding rows written";
      EXPECT_TRUE(at::isnan(got_bf.index_select(0, pad_rows)).all().item<bool>()) << what << ": padding rows written";
    }
  }
}

TEST(MoeCuda, MaskedGroupedGemmMatchesReference) {
  R1_REQUIRE_CUDA();
  at::Generator gen = testing::make_gen(43);
  const at::Device cuda(at::kCUDA);
  for (const GroupedCase& c : {GroupedCase{0, 0, 8, 512, 512}, {0, 0, 32, 4096, 256}, {0, 0, 5, 200, 144}}) {
    for (int64_t max_m : {64, 130}) {
      const Fp8Blocks a2 = testing::random_act(c.E * max_m, c.K, gen);
      const int64_t kb = (c.K + 127) / 128;
      const Fp8Blocks a{a2.data.view({c.E, max_m, c.K}), a2.scale.view({c.E, max_m, kb})};
      const Fp8Blocks w3 = testing::random_weight(c.E * c.N, c.K, gen);
      std::vector<at::Tensor> scales;
      for (int64_t e = 0; e < c.E; ++e) scales.push_back(testing::random_weight(c.N, c.K, gen).scale);
      const Fp8Blocks b{w3.data.view({c.E, c.N, c.K}), at::stack(scales)};
      at::Tensor masked_m = at::randint(0, max_m + 1, {c.E}, gen, at::kInt);
      masked_m[0] = 0;
      masked_m[c.E - 1] = static_cast<int>(max_m);
      const at::Tensor ref = fp8_grouped_gemm_masked_reference(a, b, masked_m, at::kFloat);
      for (Fp8GemmPath path : {Fp8GemmPath::kTensorCore, Fp8GemmPath::kSimple}) {
        at::Tensor out = testing::poisoned({c.E, max_m, c.N}, at::kFloat, cuda);
        fp8_grouped_gemm_masked(testing::to_device(a, cuda), testing::to_device(b, cuda), masked_m.to(cuda),
                                {at::kFloat, path}, out);
        const at::Tensor got = out.cpu();
        for (int64_t e = 0; e < c.E; ++e) {
          const int64_t m = masked_m[e].item<int64_t>();
          if (m > 0) {
            EXPECT_LT(rel_error(got[e].narrow(0, 0, m), ref[e].narrow(0, 0, m)), 1e-3) << "expert " << e << " m " << m;
          }
          EXPECT_TRUE(at::isnan(got[e].narrow(0, m, max_m - m)).all().item<bool>()) << "expert " << e << " rows past m";
        }
      }
    }
  }
}

}  // namespace
}  // namespace r1::kernels
