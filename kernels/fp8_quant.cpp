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

// Scales expanded along dim to `len` elements, block by block: [.., nb, ..] → [.., len, ..].
at::Tensor expand_blocks(const at::Tensor& scale, int64_t dim, int64_t len) {
  return scale.repeat_interleave(kFp8Block, dim).narrow(dim, 0, len);
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
  const at::Tensor scale = scale_from_amax(amax);                                      // [M, nb]
  const at::Tensor scaled = xf / expand_blocks(scale, 1, K);                           // [M, K]
  return {fp8_e4m3_encode(scaled), scale.contiguous()};
}

Fp8Blocks quantize_weight_128x128(const at::Tensor& w) {
  check_float_2d(w, "quantize_weight_128x128", "w");
  const at::Tensor wf = w.to(at::kCPU, at::kFloat).contiguous();  // [N, K]
  const int64_t N = wf.size(0), K = wf.size(1), nbn = ceil_blocks(N), nbk = ceil_blocks(K);
  const at::Tensor padded =
      at::constant_pad_nd(wf.abs(), {0, nbk * kFp8Block - K, 0, nbn * kFp8Block - N});  // [Np, Kp]
  const at::Tensor amax = padded.view({nbn, kFp8Block, nbk, kFp8Block}).amax({1, 3});  // [nbn, nbk]
  const at::Tensor scale = scale_from_amax(amax);                                      // [nbn, nbk]
  const at::Tensor expanded = expand_blocks(expand_blocks(scale, 0, N), 1, K);         // [N, K]
  return {fp8_e4m3_encode(wf / expanded), scale.contiguous()};
}

at::Tensor dequantize_act_1x128(const Fp8Blocks& q, at::ScalarType out) {
  const char* op = "dequantize_act_1x128";
  check_codes_2d(q.data, op);
  check_out_dtype(out, op);
  const int64_t M = q.data.size(0), K = q.data.size(1);
  const at::Tensor scale = checked_scale(q, {M, ceil_blocks(K)}, op).to(at::kCPU);  // [M, nb]
  return (fp8_e4m3_decode(q.data) * expand_blocks(scale, 1, K)).to(out);          // [M, K]
}

at::Tensor dequantize_weight_128x128(const Fp8Blocks& q, at::ScalarType out) {
  const char* op = "dequantize_weight_128x128";
  check_codes_2d(q.data, op);
  check_out_dtype(out, op);
  const int64_t N = q.data.size(0), K = q.data.size(1);
  const at::Tensor scale = checked_scale(q, {ceil_blocks(N), ceil_blocks(K)}, op).to(at::kCPU);  // [nbn, nbk]
  const at::Tensor expanded = expand_blocks(expand_blocks(scale, 0, N), 1, K);                  // [N, K]
  return (fp8_e4m3_decode(q.data) * expanded).to(out);                                         // [N, K]
}

}  // namespace r1::kernels
