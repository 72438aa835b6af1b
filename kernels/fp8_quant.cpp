// FP8 e4m3fn quantisation, CPU reference. See fp8_quant.h for the formats and the rounding contract.
//
// Legend: M tokens, N output features, K input features, nb = ceil(K/128) (or ceil(N/128)) blocks,
// Kp = nb * 128 the padded width used only to take block maxima (zero padding cannot raise |x|'s max).
//
// The encoder works on the fp32 bit pattern: for normal e4m3 results it keeps the top 3 mantissa bits
// and rounds the dropped 20 bits to nearest even with an integer carry (which rolls into the exponent
// exactly as the format wants); for subnormal results (|x| < 2^-6) x * 2^9 is exact in fp32 and is
// rounded to an integer 0..8 with nearbyint (ties to even), 8 being the smallest normal code 0x08.
#include "kernels/fp8_quant.h"

#include <array>
#include <cfloat>
#include <cmath>
#include <cstring>

#include <ATen/Parallel.h>

#include "common/error.h"

namespace r1::kernels {
namespace {

constexpr uint32_t kF32AbsInfBits = 0x7F800000u;
constexpr uint32_t kF32Bits448 = 0x43E00000u;      // 448.0f = 1.75 * 2^8
constexpr uint32_t kF32BitsMinNormal = 0x3C800000u;  // 2^-6, the smallest normal e4m3 value
constexpr int64_t kGrain = 1 << 14;

std::array<float, 256> make_decode_table() {
  std::array<float, 256> table{};
  for (int code = 0; code < 256; ++code) {
    const int exponent = (code >> 3) & 0xF;
    const int mantissa = code & 0x7;
    float magnitude;
    if (exponent == 0xF && mantissa == 0x7) {
      magnitude = NAN;
    } else if (exponent == 0) {
      magnitude = std::ldexp(static_cast<float>(mantissa), -9);  // subnormal: m * 2^-9
    } else {
      magnitude = std::ldexp(1.0f + mantissa / 8.0f, exponent - 7);
    }
    table[code] = (code & 0x80) ? -magnitude : magnitude;
  }
  return table;
}

const std::array<float, 256>& decode_table() {
  static const std::array<float, 256> table = make_decode_table();
  return table;
}

int64_t ceil_blocks(int64_t n) { return (n + kFp8Block - 1) / kFp8Block; }

void check_float_2d(const at::Tensor& x, const char* op, const char* what) {
  R1_CHECK(x.defined(), op, ": ", what, " is undefined");
  R1_CHECK(x.dim() == 2, op, ": ", what, " must be 2-D, got ", x.dim(), "-D ", x.sizes());
  R1_CHECK(at::isFloatingType(x.scalar_type()), op, ": ", what, " must be floating point, got ", x.scalar_type());
}

void check_out_dtype(at::ScalarType out, const char* op) {
  R1_CHECK(at::isFloatingType(out), op, ": output dtype must be floating point, got ", out);
}

// Block scale from the block's absolute maximum: max(amax / 448, FLT_MIN). NaN stays NaN.
at::Tensor scale_from_amax(const at::Tensor& amax) {
  return (amax / kFp8E4m3Max).clamp_min(FLT_MIN);
}

// codes[r, c] = encode(x[r, c] / scale[r / row_block, c / 128]). x: [R, C] fp32 contiguous;
// row_block is 1 for activations (per token) and 128 for weights.
at::Tensor encode_scaled(const at::Tensor& x, const at::Tensor& scale, int64_t row_block) {
  const int64_t R = x.size(0), C = x.size(1), nb = scale.size(1);
  at::Tensor codes = at::empty({R, C}, x.options().dtype(at::kByte));  // [R, C]
  const float* in = x.data_ptr<float>();
  const float* s = scale.data_ptr<float>();
  uint8_t* out = codes.data_ptr<uint8_t>();
  at::parallel_for(0, R, 1, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      const float* srow = s + (r / row_block) * nb;
      for (int64_t c = 0; c < C; ++c) out[r * C + c] = fp8_e4m3_encode(in[r * C + c] / srow[c / kFp8Block]);
    }
  });
  return codes;
}

// out[r, c] = decode(codes[r, c]) * scale[r / row_block, c / 128] in fp32, then cast to `dtype`.
at::Tensor decode_scaled(const at::Tensor& codes_in, const at::Tensor& scale_in, int64_t row_block,
                         at::ScalarType dtype) {
  const at::Tensor codes = codes_in.to(at::kCPU).contiguous();   // [R, C]
  const at::Tensor scale = scale_in.to(at::kCPU).contiguous();   // [ceil(R / row_block), nb]
  const int64_t R = codes.size(0), C = codes.size(1), nb = scale.size(1);
  at::Tensor values = at::empty({R, C}, codes.options().dtype(at::kFloat));  // [R, C]
  const uint8_t* in = codes.data_ptr<uint8_t>();
  const float* s = scale.data_ptr<float>();
  const float* table = decode_table().data();
  float* out = values.data_ptr<float>();
  at::parallel_for(0, R, 1, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      const float* srow = s + (r / row_block) * nb;
      for (int64_t c = 0; c < C; ++c) out[r * C + c] = table[in[r * C + c]] * srow[c / kFp8Block];
    }
  });
  return dtype == at::kFloat ? values : values.to(dtype);
}

at::Tensor checked_scale(const Fp8Blocks& q, std::vector<int64_t> expected, const char* op) {
  R1_CHECK(q.scale.defined(), op, ": scale is undefined");
  R1_CHECK(at::isFloatingType(q.scale.scalar_type()), op, ": scale must be floating point, got ",
           q.scale.scalar_type());
  R1_CHECK(q.scale.sizes() == at::IntArrayRef(expected), op, ": scale shape ", q.scale.sizes(),
           " does not match data shape ", q.data.sizes(), " (expected ", at::IntArrayRef(expected), ")");
  return q.scale.to(at::kFloat);
}

void check_codes_2d(const at::Tensor& data, const char* op) {
  R1_CHECK(data.defined(), op, ": data is undefined");
  R1_CHECK(data.scalar_type() == at::kByte, op, ": data must be uint8 e4m3 codes, got ", data.scalar_type());
  R1_CHECK(data.dim() == 2, op, ": data must be 2-D, got ", data.dim(), "-D ", data.sizes());
}

}  // namespace

uint8_t fp8_e4m3_encode(float x) {
  uint32_t bits;
  std::memcpy(&bits, &x, sizeof bits);
  const uint8_t sign = static_cast<uint8_t>((bits >> 24) & 0x80);
  const uint32_t abs_bits = bits & 0x7FFFFFFFu;
  if (abs_bits > kF32AbsInfBits) return sign | 0x7F;  // NaN keeps its sign
  if (abs_bits >= kF32Bits448) return sign | 0x7E;    // saturate (±inf included)
  if (abs_bits >= kF32BitsMinNormal) {
    uint32_t kept = abs_bits >> 20;                    // f32 exponent and top 3 mantissa bits
    const uint32_t dropped = abs_bits & 0xFFFFFu;
    if (dropped > 0x80000u || (dropped == 0x80000u && (kept & 1u))) ++kept;  // nearest, ties to even
    return sign | static_cast<uint8_t>(kept - (120u << 3));  // rebias exponent 127 → 7
  }
  float magnitude;
  std::memcpy(&magnitude, &abs_bits, sizeof magnitude);
  return sign | static_cast<uint8_t>(std::nearbyint(magnitude * 512.0f));  // subnormal: units of 2^-9
}

float fp8_e4m3_decode(uint8_t code) { return decode_table()[code]; }

at::Tensor fp8_e4m3_encode(const at::Tensor& x) {
  R1_CHECK(x.defined() && at::isFloatingType(x.scalar_type()),
           "fp8_e4m3_encode: input must be a floating tensor");
  const at::Tensor src = x.to(at::kCPU, at::kFloat).contiguous();           // [...]
  at::Tensor codes = at::empty(src.sizes(), src.options().dtype(at::kByte));  // [...]
  const float* in = src.data_ptr<float>();
  uint8_t* out = codes.data_ptr<uint8_t>();
  at::parallel_for(0, src.numel(), kGrain, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) out[i] = fp8_e4m3_encode(in[i]);
  });
  return codes;
}

at::Tensor fp8_e4m3_decode(const at::Tensor& codes) {
  R1_CHECK(codes.defined() && codes.scalar_type() == at::kByte, "fp8_e4m3_decode: codes must be uint8");
  const at::Tensor src = codes.to(at::kCPU).contiguous();                     // [...]
  at::Tensor values = at::empty(src.sizes(), src.options().dtype(at::kFloat));  // [...]
  const uint8_t* in = src.data_ptr<uint8_t>();
  float* out = values.data_ptr<float>();
  const float* table = decode_table().data();
  at::parallel_for(0, src.numel(), kGrain, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) out[i] = table[in[i]];
  });
  return values;
}

Fp8Blocks quantize_act_1x128(const at::Tensor& x) {
  check_float_2d(x, "quantize_act_1x128", "x");
  const at::Tensor xf = x.to(at::kCPU, at::kFloat).contiguous();  // [M, K]
  const int64_t M = xf.size(0), K = xf.size(1), nb = ceil_blocks(K);
  const at::Tensor padded = at::constant_pad_nd(xf.abs(), {0, nb * kFp8Block - K});  // [M, Kp]
  const at::Tensor amax = padded.view({M, nb, kFp8Block}).amax(-1);                   // [M, nb]
  const at::Tensor scale = scale_from_amax(amax).contiguous();                         // [M, nb]
  return {encode_scaled(xf, scale, 1), scale};
}

Fp8Blocks quantize_weight_128x128(const at::Tensor& w) {
  check_float_2d(w, "quantize_weight_128x128", "w");
  const at::Tensor wf = w.to(at::kCPU, at::kFloat).contiguous();  // [N, K]
  const int64_t N = wf.size(0), K = wf.size(1), nbn = ceil_blocks(N), nbk = ceil_blocks(K);
  const at::Tensor padded =
      at::constant_pad_nd(wf.abs(), {0, nbk * kFp8Block - K, 0, nbn * kFp8Block - N});  // [Np, Kp]
  const at::Tensor amax = padded.view({nbn, kFp8Block, nbk, kFp8Block}).amax({1, 3});  // [nbn, nbk]
  const at::Tensor scale = scale_from_amax(amax).contiguous();                         // [nbn, nbk]
  return {encode_scaled(wf, scale, kFp8Block), scale};
}

at::Tensor dequantize_act_1x128(const Fp8Blocks& q, at::ScalarType out) {
  const char* op = "dequantize_act_1x128";
  check_codes_2d(q.data, op);
  check_out_dtype(out, op);
  const int64_t M = q.data.size(0), K = q.data.size(1);
  const at::Tensor scale = checked_scale(q, {M, ceil_blocks(K)}, op);  // [M, nb]
  return decode_scaled(q.data, scale, 1, out);                         // [M, K]
}

at::Tensor dequantize_weight_128x128(const Fp8Blocks& q, at::ScalarType out) {
  const char* op = "dequantize_weight_128x128";
  check_codes_2d(q.data, op);
  check_out_dtype(out, op);
  const int64_t N = q.data.size(0), K = q.data.size(1);
  const at::Tensor scale = checked_scale(q, {ceil_blocks(N), ceil_blocks(K)}, op);  // [nbn, nbk]
  return decode_scaled(q.data, scale, kFp8Block, out);                               // [N, K]
}

}  // namespace r1::kernels
