// MLA paged decode attention: the CPU reference against naive softmax attention over an unpaged cache
// (runs everywhere), the CUDA kernel against the reference (skipped without a GPU).
//
// Tolerances: reference vs the naive fp64 formula: 1e-5 relative (fp32 sums over <= 1000 tokens). CUDA
// vs reference: fp32 output < 1e-3 relative (the bound; the kernel's scores are exact bf16
// products summed in fp32, and p is split into two bf16 halves for the PV product, so ~1e-6 is
// expected: a CPU emulation gave 1.2e-6, and 7.3e-4 with p in plain bf16), lse within 1e-4 absolute; bf16 output = the kernel's fp32 output rounded (same fp32 values,
// only the store differs).
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "common/error.h"
#include "kernel_test_util.h"
#include "kernels/mla_decode.h"

namespace r1::kernels {
namespace {

using testing::rel_error;

constexpr int64_t kR = 512, kDr = 64, kD = kR + kDr;
const double kV3Scale = 1.0 / std::sqrt(192.0);  // 192^-0.5 (mscale = 1)

// A random paged cache and block table: each sequence's pages are scattered over the cache in random
// order, with unused blocks in between. Returns the cache and, per sequence, its tokens unpaged.
struct PagedCase {
  at::Tensor cache;        // [NB, 64, D]
  at::Tensor block_table;  // int32 [B, max_blocks]
  at::Tensor seq_lens;     // int32 [B]
  std::vector<at::Tensor> tokens;  // per sequence [L, D]
};

PagedCase make_paged(const std::vector<int64_t>& lens, at::ScalarType dtype, at::Generator& gen, int64_t D = kD) {
  int64_t max_blocks = 1, total = 0;
  for (int64_t L : lens) {
    max_blocks = std::max(max_blocks, (L + 63) / 64);
    total += (L + 63) / 64;
  }
  const int64_t NB = total * 2 + 3;
  PagedCase c;
  c.cache = at::randn({NB, 64, D}, gen, at::kFloat).to(dtype);  // unused rows hold random values too
  const at::Tensor perm = at::randperm(NB, gen, at::kLong);
  c.block_table = at::full({static_cast<int64_t>(lens.size()), max_blocks}, -1, at::kInt);  // -1 past the end
  c.seq_lens = at::tensor(std::vector<int>(lens.begin(), lens.end()), at::kInt);
  int64_t next = 0;
  for (size_t b = 0; b < lens.size(); ++b) {
    const int64_t used = (lens[b] + 63) / 64;
    std::vector<at::Tensor> pages;
    for (int64_t i = 0; i < used; ++i) {
      const int64_t block = perm[next++].item<int64_t>();
      c.block_table[b][i] = static_cast<int>(block);
      pages.push_back(c.cache[block]);
    }
    c.tokens.push_back(used ? at::cat(pages).narrow(0, 0, lens[b]) : at::empty({0, D}, c.cache.options()));
  }
  return c;
}

// Naive softmax attention in fp64 over one sequence's unpaged tokens. Returns out [H, R] and lse [H].
std::pair<at::Tensor, at::Tensor> naive(const at::Tensor& q, const at::Tensor& tokens, double scale, int64_t R) {
  const at::Tensor qd = q.to(at::kDouble), kd = tokens.to(at::kDouble);  // [H, D], [L, D]
  const at::Tensor s = at::matmul(qd, kd.t()) * scale;                    // [H, L]
  const at::Tensor m = std::get<0>(s.max(1, true));
  const at::Tensor e = at::exp(s - m);
  const at::Tensor l = e.sum(1, true);
  return {at::matmul(e / l, kd.narrow(1, 0, R)), (at::log(l) + m).squeeze(1)};
}

TEST(MlaDecodeReference, MatchesNaiveAttentionOverUnpagedCache) {
  at::Generator gen = testing::make_gen(31);
  const std::vector<int64_t> lens = {1, 63, 64, 65, 200, 0, 129};
  const int64_t H = 16;
  const PagedCase c = make_paged(lens, at::kFloat, gen);
  const at::Tensor q = at::randn({static_cast<int64_t>(lens.size()), H, kD}, gen, at::kFloat);
  const MlaDecodeResult r = mla_decode_reference(q, c.cache, c.block_table, c.seq_lens, {kV3Scale});
  ASSERT_EQ(r.out.sizes(), (at::IntArrayRef{7, H, kR}));
  ASSERT_EQ(r.lse.sizes(), (at::IntArrayRef{7, H}));
  for (size_t b = 0; b < lens.size(); ++b) {
    if (lens[b] == 0) {
      EXPECT_TRUE(r.out[b].eq(0).all().item<bool>());
      EXPECT_TRUE(at::isinf(r.lse[b]).all().item<bool>() && r.lse[b].lt(0).all().item<bool>());
      continue;
    }
    const auto [out, lse] = naive(q[b], c.tokens[b], kV3Scale, kR);
    EXPECT_LT(rel_error(r.out[b], out), 1e-5) << "sequence " << b << " length " << lens[b];
    EXPECT_LT((r.lse[b].to(at::kDouble) - lse).abs().max().item<double>(), 1e-4) << "sequence " << b;
  }
}

TEST(MlaDecodeReference, ScaleIsUsedAsGiven) {
  // A different scale must change the result: guards against a kernel or reference that ignores the
  // argument and uses 1/sqrt(576).
  at::Generator gen = testing::make_gen(32);
  const PagedCase c = make_paged({100}, at::kFloat, gen);
  const at::Tensor q = at::randn({1, 4, kD}, gen, at::kFloat);
  const at::Tensor a = mla_decode_reference(q, c.cache, c.block_table, c.seq_lens, {kV3Scale}).out;
  const at::Tensor b = mla_decode_reference(q, c.cache, c.block_table, c.seq_lens, {1.0 / std::sqrt(576.0)}).out;
  EXPECT_GT(rel_error(a, b), 1e-3);
  const auto [expected, lse] = naive(q[0], c.tokens[0], 1.0 / std::sqrt(576.0), kR);
  EXPECT_LT(rel_error(b[0], expected), 1e-5);
}

TEST(MlaDecodeReference, OtherWidthsAndBf16) {
  at::Generator gen = testing::make_gen(33);
  const PagedCase c = make_paged({70, 3}, at::kBFloat16, gen, /*D=*/160);
  const at::Tensor q = at::randn({2, 3, 160}, gen, at::kFloat).to(at::kBFloat16);
  MlaDecodeOptions opt{0.1};
  opt.kv_lora_rank = 128;
  opt.out_dtype = at::kBFloat16;
  const MlaDecodeResult r = mla_decode_reference(q, c.cache, c.block_table, c.seq_lens, opt);
  EXPECT_EQ(r.out.scalar_type(), at::kBFloat16);
  for (int64_t b = 0; b < 2; ++b) {
    const auto [out, lse] = naive(q[b], c.tokens[b], 0.1, 128);
    EXPECT_EQ(testing::bf16_ulp_violations(r.out[b], out, 1, 1e-6), 0);
  }
}

TEST(MlaDecodeReference, RejectsBadInputs) {
  at::Generator gen = testing::make_gen(34);
  const PagedCase c = make_paged({70}, at::kFloat, gen);
  const at::Tensor q = at::randn({1, 2, kD}, gen, at::kFloat);
  EXPECT_THROW(mla_decode_reference(q, c.cache, c.block_table, c.seq_lens, {0.0}), Error);  // no scale
  EXPECT_THROW(mla_decode_reference(q, c.cache, c.block_table, at::tensor({200}, at::kInt), {kV3Scale}), Error);
  at::Tensor bad_table = c.block_table.clone();
  bad_table[0][1] = 100000;
  EXPECT_THROW(mla_decode_reference(q, c.cache, bad_table, c.seq_lens, {kV3Scale}), Error);
  EXPECT_THROW(mla_decode_reference(q.narrow(2, 0, 500), c.cache, c.block_table, c.seq_lens, {kV3Scale}), Error);
  EXPECT_THROW(mla_decode_reference(q, c.cache.narrow(1, 0, 32), c.block_table, c.seq_lens, {kV3Scale}), Error);
}

TEST(MlaDecodeReference, Fp8CacheRoundTripAndMeaning) {
  at::Generator gen = testing::make_gen(35);
  const PagedCase c = make_paged({150, 40}, at::kBFloat16, gen);
  const MlaFp8Cache f = mla_fp8_cache_quantize(c.cache, kR);
  ASSERT_EQ(f.latent.sizes(), (at::IntArrayRef{c.cache.size(0), 64, kR}));
  ASSERT_EQ(f.scale.sizes(), (at::IntArrayRef{c.cache.size(0), 64, 4}));
  const at::Tensor back = mla_fp8_cache_dequantize(f);
  EXPECT_TRUE(at::equal(back.narrow(2, kR, kDr), c.cache.narrow(2, kR, kDr)));    // rope stays bf16, exact
  EXPECT_LT(rel_error(back.narrow(2, 0, kR), c.cache.narrow(2, 0, kR)), 0.05);    // e4m3: ~3% per value
  const at::Tensor q = at::randn({2, 8, kD}, gen, at::kFloat).to(at::kBFloat16);
  const MlaDecodeResult a = mla_decode_fp8_reference(q, f, c.block_table, c.seq_lens, {kV3Scale});
  const MlaDecodeResult b = mla_decode_reference(q, back, c.block_table, c.seq_lens, {kV3Scale});
  EXPECT_TRUE(at::equal(a.out, b.out));
}

// ---- CUDA parity ----

void expect_cuda_parity(const std::vector<int64_t>& lens, int64_t H, int64_t splits, bool fp8, uint64_t seed) {
  at::Generator gen = testing::make_gen(seed);
  const PagedCase c = make_paged(lens, at::kBFloat16, gen);
  const at::Tensor q = at::randn({static_cast<int64_t>(lens.size()), H, kD}, gen, at::kFloat).to(at::kBFloat16);
  const at::Device cuda(at::kCUDA);
  MlaDecodeOptions opt{kV3Scale * 1.3};  // an mscale^2-like factor
  opt.num_splits = splits;
  const MlaFp8Cache f = mla_fp8_cache_quantize(c.cache, kR);
  const MlaDecodeResult ref = fp8 ? mla_decode_fp8_reference(q, f, c.block_table, c.seq_lens, opt)
                                  : mla_decode_reference(q, c.cache, c.block_table, c.seq_lens, opt);
  const MlaFp8Cache fd{f.latent.to(cuda), f.scale.to(cuda), f.rope.to(cuda)};
  at::Tensor f32_out;
  for (at::ScalarType dt : {at::kFloat, at::kBFloat16}) {
    opt.out_dtype = dt;
    // Outputs poisoned with NaN first, so an element the kernel never writes fails the comparison.
    const int64_t B = static_cast<int64_t>(lens.size());
    const at::Tensor out = testing::poisoned({B, H, kR}, dt, cuda), lse = testing::poisoned({B, H}, at::kFloat, cuda);
    const MlaDecodeResult got =
        fp8 ? mla_decode_fp8(q.to(cuda), fd, c.block_table.to(cuda), c.seq_lens.to(cuda), opt, out, lse)
            : mla_decode(q.to(cuda), c.cache.to(cuda), c.block_table.to(cuda), c.seq_lens.to(cuda), opt, out, lse);
    const std::string what = str_cat("B=", lens.size(), " H=", H, " splits=", splits, " fp8=", fp8, " ", dt);
    ASSERT_EQ(got.out.scalar_type(), dt) << what;
    if (dt == at::kFloat) {
      EXPECT_LT(rel_error(got.out, ref.out), 1e-3) << what;
      f32_out = got.out.cpu();
    } else {
      EXPECT_TRUE(at::equal(got.out.cpu(), f32_out.to(at::kBFloat16))) << what;
    }
    const at::Tensor finite = at::isfinite(ref.lse);
    EXPECT_TRUE(at::equal(at::isfinite(got.lse.cpu()), finite)) << what;
    EXPECT_LT((got.lse.cpu() - ref.lse).masked_fill(finite.logical_not(), 0).abs().max().item<float>(), 1e-4) << what;
  }
}

TEST(MlaDecodeCuda, MatchesReferenceOnRaggedLengths) {
  R1_REQUIRE_CUDA();
  expect_cuda_parity({1, 63, 64, 65, 0, 700}, 16, 0, false, 50);
  expect_cuda_parity({1, 63, 64, 65, 0, 700}, 16, 1, false, 51);
  expect_cuda_parity({129, 5}, 128, 0, false, 52);
  expect_cuda_parity({33, 256, 1000}, 20, 3, false, 53);  // heads not a multiple of 16
}

TEST(MlaDecodeCuda, LongContextSplits) {
  R1_REQUIRE_CUDA();
  expect_cuda_parity({4096, 8191, 300}, 16, 0, false, 54);
  expect_cuda_parity({4096}, 128, 7, false, 55);
}

TEST(MlaDecodeCuda, Fp8CacheMatchesReference) {
  R1_REQUIRE_CUDA();
  expect_cuda_parity({1, 64, 65, 2000, 0}, 16, 0, true, 56);
  expect_cuda_parity({300}, 128, 2, true, 57);
}

}  // namespace
}  // namespace r1::kernels
