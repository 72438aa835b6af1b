// Tests for kernels/fp8_quant (CPU reference): the e4m3fn code table against the OCP FP8 spec, encoding
// against an exhaustive nearest-value search, ties to even, saturation and NaN, then the 1x128 and
// 128x128 block formats (scale shapes, ragged edges, per-block scales, round-trip error bounds).
#include <gtest/gtest.h>

#include <cfloat>
#include <cmath>
#include <limits>

#include "common/error.h"
#include "kernels/fp8_quant.h"

namespace r1::kernels {
namespace {

constexpr float kInf = std::numeric_limits<float>::infinity();

// Positive finite e4m3fn values by code 0x00..0x7E, straight from the OCP spec's definition.
double spec_value(int code) {
  const int e = (code >> 3) & 0xF, m = code & 7;
  const double magnitude = e == 0 ? m / 8.0 * std::pow(2.0, -6) : (1.0 + m / 8.0) * std::pow(2.0, e - 7);
  return (code & 0x80) ? -magnitude : magnitude;
}

// Nearest e4m3 code to x >= 0 by exhaustive search, ties to the even code, saturating at 448.
int nearest_code_brute_force(double x) {
  int best = 0;
  for (int c = 1; c <= 0x7E; ++c) {
    const double d = std::abs(spec_value(c) - x), db = std::abs(spec_value(best) - x);
    if (d < db || (d == db && c % 2 == 0)) best = c;
  }
  return best;
}

TEST(Fp8Decode, EveryCodeMatchesTheSpec) {
  for (int c = 0; c < 256; ++c) {
    const float v = fp8_e4m3_decode(static_cast<uint8_t>(c));
    if ((c & 0x7F) == 0x7F) {
      EXPECT_TRUE(std::isnan(v)) << c;
      continue;
    }
    EXPECT_EQ(static_cast<double>(v), spec_value(c)) << "code " << c;
    EXPECT_EQ(std::signbit(v), (c & 0x80) != 0) << "code " << c;
  }
  // Hand-checked landmarks (OCP 8-bit floating point specification, E4M3 table).
  EXPECT_EQ(fp8_e4m3_decode(0x01), 0.001953125f);  // 2^-9, smallest subnormal
  EXPECT_EQ(fp8_e4m3_decode(0x07), 0.013671875f);  // 7 * 2^-9, largest subnormal
  EXPECT_EQ(fp8_e4m3_decode(0x08), 0.015625f);     // 2^-6, smallest normal
  EXPECT_EQ(fp8_e4m3_decode(0x38), 1.0f);
  EXPECT_EQ(fp8_e4m3_decode(0x39), 1.125f);
  EXPECT_EQ(fp8_e4m3_decode(0x40), 2.0f);
  EXPECT_EQ(fp8_e4m3_decode(0x77), 240.0f);
  EXPECT_EQ(fp8_e4m3_decode(0x78), 256.0f);
  EXPECT_EQ(fp8_e4m3_decode(0x7D), 416.0f);
  EXPECT_EQ(fp8_e4m3_decode(0x7E), 448.0f);  // max finite
  EXPECT_EQ(fp8_e4m3_decode(0xB8), -1.0f);
  EXPECT_EQ(fp8_e4m3_decode(0xFE), -448.0f);
  EXPECT_TRUE(std::signbit(fp8_e4m3_decode(0x80)) && fp8_e4m3_decode(0x80) == 0.0f);
  // Positive codes are strictly increasing: the format is sign-magnitude.
  for (int c = 1; c <= 0x7E; ++c) EXPECT_LT(fp8_e4m3_decode(c - 1), fp8_e4m3_decode(c)) << c;
}

TEST(Fp8Encode, EveryFiniteCodeRoundTrips) {
  for (int c = 0; c < 256; ++c) {
    if ((c & 0x7F) == 0x7F) continue;
    EXPECT_EQ(fp8_e4m3_encode(fp8_e4m3_decode(static_cast<uint8_t>(c))), c) << "code " << c;
  }
}

TEST(Fp8Encode, TiesGoToTheEvenCode) {
  for (int c = 0; c < 0x7E; ++c) {
    const float lo = fp8_e4m3_decode(c), hi = fp8_e4m3_decode(c + 1);
    const float mid = (lo + hi) / 2;  // exact: at most 5 significant bits
    const int even = (c % 2 == 0) ? c : c + 1;
    EXPECT_EQ(fp8_e4m3_encode(mid), even) << "between codes " << c << " and " << c + 1;
    EXPECT_EQ(fp8_e4m3_encode(-mid), 0x80 | even);
    EXPECT_EQ(fp8_e4m3_encode(std::nextafter(mid, 0.0f)), c);
    EXPECT_EQ(fp8_e4m3_encode(std::nextafter(mid, kInf)), c + 1);
  }
  EXPECT_EQ(fp8_e4m3_encode(std::ldexp(1.0f, -10)), 0x00);  // half the smallest subnormal → 0 (even)
  EXPECT_EQ(fp8_e4m3_encode(std::ldexp(3.0f, -10)), 0x02);  // 1.5 * 2^-9 → 2 * 2^-9
  EXPECT_EQ(fp8_e4m3_encode(std::ldexp(15.0f, -10)), 0x08);  // 7.5 * 2^-9 → smallest normal
  EXPECT_EQ(fp8_e4m3_encode(1.0625f), 0x38);  // 1 + 1/16: tie between 1.0 (even) and 1.125
  EXPECT_EQ(fp8_e4m3_encode(1.1875f), 0x3A);  // tie between 1.125 and 1.25 (even)
}

TEST(Fp8Encode, SaturatesAndKeepsNan) {
  for (float x : {448.0f, 449.0f, 463.99f, 464.0f, 480.0f, 1e6f, 3.4e38f, kInf}) {
    EXPECT_EQ(fp8_e4m3_encode(x), 0x7E) << x;
    EXPECT_EQ(fp8_e4m3_encode(-x), 0xFE) << x;
  }
  EXPECT_EQ(fp8_e4m3_encode(std::nanf("")), 0x7F);
  EXPECT_EQ(fp8_e4m3_encode(-std::nanf("")), 0xFF);
  EXPECT_EQ(fp8_e4m3_encode(0.0f), 0x00);
  EXPECT_EQ(fp8_e4m3_encode(-0.0f), 0x80);
  EXPECT_EQ(fp8_e4m3_encode(1e-40f), 0x00);  // fp32 subnormal
  EXPECT_EQ(fp8_e4m3_encode(-1e-40f), 0x80);
  EXPECT_EQ(fp8_e4m3_encode(432.0f), 0x7E);   // tie between 416 (0x7D) and 448 (0x7E, even)
  EXPECT_EQ(fp8_e4m3_encode(431.99f), 0x7D);
}

TEST(Fp8Encode, MatchesExhaustiveNearestSearch) {
  at::manual_seed(1);
  // Log-uniform magnitudes across the whole range, subnormals and saturation included.
  const at::Tensor x = at::exp2(at::rand({20000}) * 22 - 12) * at::sign(at::randn({20000}));
  const at::Tensor codes = fp8_e4m3_encode(x);
  const float* xs = x.data_ptr<float>();
  const uint8_t* cs = codes.data_ptr<uint8_t>();
  for (int64_t i = 0; i < x.numel(); ++i) {
    const int expected = nearest_code_brute_force(std::abs(xs[i])) | (std::signbit(xs[i]) ? 0x80 : 0);
    ASSERT_EQ(cs[i], expected) << "x = " << xs[i];
    ASSERT_EQ(fp8_e4m3_encode(xs[i]), expected);
  }
}

TEST(Fp8Encode, TensorDtypesAndDecodeInverse) {
  const at::Tensor x = at::randn({3, 7}).to(at::kBFloat16);
  const at::Tensor codes = fp8_e4m3_encode(x);
  EXPECT_EQ(codes.scalar_type(), at::kByte);
  EXPECT_EQ(codes.sizes(), x.sizes());
  EXPECT_TRUE(at::equal(codes, fp8_e4m3_encode(x.to(at::kFloat))));
  const at::Tensor all = at::arange(0, 256, at::kInt).to(at::kByte);
  const at::Tensor values = fp8_e4m3_decode(all);
  for (int c = 0; c < 256; c += 17) {
    const float v = values[c].item<float>();
    EXPECT_TRUE(v == fp8_e4m3_decode(c) || (std::isnan(v) && std::isnan(fp8_e4m3_decode(c))));
  }
  EXPECT_THROW(fp8_e4m3_decode(at::zeros({2}, at::kInt)), Error);
  EXPECT_THROW(fp8_e4m3_encode(at::zeros({2}, at::kLong)), Error);
}

// Per-element bound of e4m3 rounding after scaling: half an ulp is 2^-4 relative for normal values;
// below 2^-6 * scale the grid is uniform with step 2^-9 * scale, so half a step absolute.
void expect_within_fp8_error(const at::Tensor& x, const at::Tensor& deq, const at::Tensor& scale_per_elem) {
  const at::Tensor err = (deq - x).abs();
  const at::Tensor bound = at::maximum(x.abs() * (1.0 / 16), scale_per_elem * std::ldexp(1.0, -10)) * (1 + 1e-5);
  EXPECT_TRUE((err <= bound).all().item<bool>()) << "worst excess " << (err - bound).max().item<float>();
}

at::Tensor expand(const at::Tensor& scale, int64_t dim, int64_t len) {
  return scale.repeat_interleave(128, dim).narrow(dim, 0, len);
}

TEST(Fp8Act, ScalesAreBlockAmaxOver448WithRaggedEdge) {
  at::manual_seed(2);
  const int64_t M = 5, K = 300;  // blocks [0,128), [128,256), [256,300)
  const at::Tensor x = at::randn({M, K}) * at::exp2(at::arange(M, at::kFloat) * 3 - 6).unsqueeze(1);  // [M, K]
  const Fp8Blocks q = quantize_act_1x128(x);
  ASSERT_EQ(q.data.sizes(), at::IntArrayRef({M, K}));
  ASSERT_EQ(q.scale.sizes(), at::IntArrayRef({M, 3}));
  EXPECT_EQ(q.data.scalar_type(), at::kByte);
  EXPECT_EQ(q.scale.scalar_type(), at::kFloat);
  for (int64_t m = 0; m < M; ++m) {
    for (int64_t b = 0; b < 3; ++b) {
      const int64_t k0 = b * 128, len = std::min<int64_t>(128, K - k0);
      const float amax = x[m].narrow(0, k0, len).abs().max().item<float>();
      EXPECT_EQ(q.scale[m][b].item<float>(), amax / 448.0f) << m << "," << b;
      // The element holding the block's amax lands on ±448.
      const int64_t arg = x[m].narrow(0, k0, len).abs().argmax().item<int64_t>();
      EXPECT_EQ(q.data[m][k0 + arg].item<uint8_t>() & 0x7F, 0x7E);
    }
  }
  const at::Tensor deq = dequantize_act_1x128(q, at::kFloat);
  expect_within_fp8_error(x, deq, expand(q.scale, 1, K));
  EXPECT_EQ(dequantize_act_1x128(q, at::kBFloat16).scalar_type(), at::kBFloat16);
}

TEST(Fp8Act, BlockBoundariesAndTinyShapes) {
  for (int64_t K : {1, 127, 128, 129, 256, 257}) {
    SCOPED_TRACE(K);
    const at::Tensor x = at::randn({3, K}).to(at::kBFloat16);
    const Fp8Blocks q = quantize_act_1x128(x);
    EXPECT_EQ(q.scale.size(1), (K + 127) / 128);
    expect_within_fp8_error(x.to(at::kFloat), dequantize_act_1x128(q, at::kFloat), expand(q.scale, 1, K));
  }
  const Fp8Blocks empty = quantize_act_1x128(at::zeros({0, 256}));
  EXPECT_EQ(empty.scale.sizes(), at::IntArrayRef({0, 2}));
  EXPECT_EQ(dequantize_act_1x128(empty, at::kFloat).sizes(), at::IntArrayRef({0, 256}));
}

TEST(Fp8Act, OutlierStaysInItsBlockAndZeroBlocksAreExact) {
  at::Tensor x = at::randn({2, 384});
  x.narrow(1, 128, 128).zero_();  // middle block all zero
  x[0][5] = 1e4f;                 // outlier in block 0 of row 0
  const Fp8Blocks q = quantize_act_1x128(x);
  EXPECT_EQ(q.scale[0][0].item<float>(), 1e4f / 448.0f);
  EXPECT_LT(q.scale[0][2].item<float>(), 0.02f);  // unaffected: randn amax / 448
  EXPECT_EQ(q.scale[0][1].item<float>(), FLT_MIN);
  EXPECT_EQ(q.data.narrow(1, 128, 128).count_nonzero().item<int64_t>(), 0);
  const at::Tensor deq = dequantize_act_1x128(q, at::kFloat);
  EXPECT_TRUE(at::equal(deq.narrow(1, 128, 128), at::zeros({2, 128})));
  EXPECT_FALSE(deq.isnan().any().item<bool>());
}

TEST(Fp8Weight, ScalesPer128x128BlockWithRaggedEdges) {
  at::manual_seed(3);
  const int64_t N = 200, K = 300;
  const at::Tensor w = at::randn({N, K}) * 0.02;
  const Fp8Blocks q = quantize_weight_128x128(w);
  ASSERT_EQ(q.scale.sizes(), at::IntArrayRef({2, 3}));
  for (int64_t i = 0; i < 2; ++i) {
    for (int64_t j = 0; j < 3; ++j) {
      const at::Tensor block = w.narrow(0, i * 128, std::min<int64_t>(128, N - i * 128))
                                   .narrow(1, j * 128, std::min<int64_t>(128, K - j * 128));
      EXPECT_EQ(q.scale[i][j].item<float>(), block.abs().max().item<float>() / 448.0f) << i << "," << j;
    }
  }
  const at::Tensor deq = dequantize_weight_128x128(q, at::kFloat);
  expect_within_fp8_error(w, deq, expand(expand(q.scale, 0, N), 1, K));
  // Relative Frobenius error of e4m3 on Gaussian data is a few percent at most.
  EXPECT_LT(((deq - w).norm() / w.norm()).item<float>(), 0.04f);
  // The codes are what encoding w / scale gives, element by element.
  EXPECT_TRUE(at::equal(q.data, fp8_e4m3_encode(w / expand(expand(q.scale, 0, N), 1, K))));
}

TEST(Fp8Weight, ExactBlockMultiplesAndBf16) {
  const at::Tensor w = at::randn({256, 128}).to(at::kBFloat16);
  const Fp8Blocks q = quantize_weight_128x128(w);
  EXPECT_EQ(q.scale.sizes(), at::IntArrayRef({2, 1}));
  const at::Tensor deq = dequantize_weight_128x128(q, at::kBFloat16);
  EXPECT_EQ(deq.scalar_type(), at::kBFloat16);
  // Dequantising a quantised tensor and quantising again reproduces the same codes and scales.
  const Fp8Blocks again = quantize_weight_128x128(dequantize_weight_128x128(q, at::kFloat));
  EXPECT_TRUE(at::equal(again.data, q.data));
  EXPECT_TRUE(at::allclose(again.scale, q.scale, 1e-6, 0));  // (448 * s) / 448 may be one ulp off s
}

TEST(Fp8Errors, BadShapesAndDtypesAreErrors) {
  EXPECT_THROW(quantize_act_1x128(at::randn({2, 3, 4})), Error);
  EXPECT_THROW(quantize_weight_128x128(at::ones({4, 4}, at::kLong)), Error);
  const Fp8Blocks q = quantize_weight_128x128(at::randn({130, 10}));
  EXPECT_THROW(dequantize_weight_128x128({q.data, at::ones({1, 1})}, at::kFloat), Error);
  EXPECT_THROW(dequantize_weight_128x128(q, at::kInt), Error);
  EXPECT_THROW(dequantize_act_1x128(q, at::kFloat), Error);  // act scales would be [130, 1]
  EXPECT_THROW(dequantize_act_1x128({q.data.to(at::kFloat), q.scale}, at::kFloat), Error);
  try {
    dequantize_weight_128x128({q.data, at::ones({3, 1})}, at::kFloat);
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("[2, 1]"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace r1::kernels
