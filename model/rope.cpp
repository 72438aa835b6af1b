// See rope.h. Formulas follow HF's modeling_rope_utils (transformers 5): the same fp32 tensor ops in the
// same order, so the tables agree bit for bit with the reference on CPU.
#include "model/rope.h"

#include <algorithm>
#include <cmath>

#include "common/error.h"

namespace r1::model {
namespace {

// base ** (arange(0, dim, 2) / dim) in fp32: [dim/2]
at::Tensor pos_freqs(double base, int64_t dim) {
  at::Tensor exponents = at::arange(0, dim, 2, at::kLong).to(at::kFloat) / static_cast<double>(dim);  // [D/2]
  return at::pow(base, exponents);
}

double get_mscale(double scale, double mscale) {
  if (scale <= 1.0) return 1.0;
  return 0.1 * mscale * std::log(scale) + 1.0;
}

double correction_dim(double rotations, int64_t dim, double base, double max_pos) {
  return (static_cast<double>(dim) * std::log(max_pos / (rotations * 2.0 * M_PI))) / (2.0 * std::log(base));
}

}  // namespace

at::Tensor rope_inv_freq(const RopeParameters& rope, int64_t dim, int64_t max_position_embeddings,
                         double* attention_scaling) {
  *attention_scaling = 1.0;
  const double base = rope.rope_theta;
  if (rope.rope_type == "default" || rope.rope_type == "linear") {
    at::Tensor inv = at::reciprocal(pos_freqs(base, dim));  // [D/2]
    if (rope.rope_type == "linear") inv = inv / rope.factor;
    return inv;
  }
  if (rope.rope_type == "yarn") {
    const double factor = rope.factor;
    const double original = rope.original_max_position_embeddings > 0
                                ? static_cast<double>(rope.original_max_position_embeddings)
                                : static_cast<double>(max_position_embeddings);
    if (rope.attention_factor) {
      *attention_scaling = *rope.attention_factor;
    } else if (rope.mscale != 0 && rope.mscale_all_dim != 0) {
      *attention_scaling = get_mscale(factor, rope.mscale) / get_mscale(factor, rope.mscale_all_dim);
    } else {
      *attention_scaling = get_mscale(factor, 1.0);
    }
    at::Tensor freqs = pos_freqs(base, dim);           // [D/2]
    at::Tensor inv_extrapolation = at::reciprocal(freqs);
    at::Tensor inv_interpolation = at::reciprocal(freqs * factor);
    double low = correction_dim(rope.beta_fast, dim, base, original);
    double high = correction_dim(rope.beta_slow, dim, base, original);
    if (rope.truncate) {
      low = std::floor(low);
      high = std::ceil(high);
    }
    low = std::max(low, 0.0);
    high = std::min(high, static_cast<double>(dim - 1));
    if (low == high) high += 0.001;  // HF: prevent a singular ramp
    at::Tensor ramp = ((at::arange(dim / 2, at::kFloat) - low) / (high - low)).clamp(0, 1);  // [D/2]
    at::Tensor extrapolation_factor = 1 - ramp;
    return inv_interpolation * (1 - extrapolation_factor) + inv_extrapolation * extrapolation_factor;
  }
  if (rope.rope_type == "llama3") {
    at::Tensor inv = at::reciprocal(pos_freqs(base, dim));  // [D/2]
    const double factor = rope.factor;
    const double old_context = static_cast<double>(rope.original_max_position_embeddings);
    const double low_wavelen = old_context / rope.low_freq_factor;
    const double high_wavelen = old_context / rope.high_freq_factor;
    at::Tensor wavelen = 2 * M_PI / inv;
    at::Tensor inv_llama = at::where(wavelen > low_wavelen, inv / factor, inv);
    at::Tensor smooth = (old_context / wavelen - rope.low_freq_factor) / (rope.high_freq_factor - rope.low_freq_factor);
    at::Tensor smoothed = (1 - smooth) * inv_llama / factor + smooth * inv_llama;
    at::Tensor is_medium = at::logical_and(at::logical_not(wavelen < high_wavelen), at::logical_not(wavelen > low_wavelen));
    return at::where(is_medium, smoothed, inv_llama);
  }
  fail("unsupported RoPE type '", rope.rope_type, "'");
}

RotaryEmbedding RotaryEmbedding::from_config(const ModelConfig& config) {
  RotaryEmbedding r;
  r.dim = config.rope_dim();
  r.inv_freq = rope_inv_freq(config.rope, r.dim, config.max_position_embeddings, &r.attention_scaling);
  r.interleaved = config.is_mla() && config.rope_interleave;
  r.apply_in_fp32 = config.arch == Architecture::kDeepseekV2;
  return r;
}

std::pair<at::Tensor, at::Tensor> RotaryEmbedding::cos_sin(const at::Tensor& positions, at::ScalarType dtype) const {
  at::Tensor inv = inv_freq.to(positions.device());                     // [D/2]
  at::Tensor freqs = positions.to(at::kFloat).unsqueeze(-1) * inv;      // [B, S, D/2]
  at::Tensor emb = at::cat({freqs, freqs}, -1);                         // [B, S, D]
  at::Tensor cos = emb.cos();
  at::Tensor sin = emb.sin();
  if (attention_scaling != 1.0) {
    cos = cos * attention_scaling;
    sin = sin * attention_scaling;
  }
  const at::ScalarType out = apply_in_fp32 ? at::kFloat : dtype;
  return {cos.to(out), sin.to(out)};
}

at::Tensor RotaryEmbedding::apply(const at::Tensor& x_in, const at::Tensor& cos, const at::Tensor& sin) const {
  const int64_t d = x_in.size(-1);
  TORCH_CHECK(d == dim, "RotaryEmbedding::apply: last dimension ", d, " != rope dimension ", dim);
  at::Tensor x = apply_in_fp32 ? x_in.to(at::kFloat) : x_in;
  if (interleaved) {  // [x0,x1,x2,x3,..] → [x0,x2,..,x1,x3,..]
    std::vector<int64_t> pairs = x.sizes().vec();
    pairs.back() = d / 2;
    pairs.push_back(2);
    x = x.reshape(pairs).transpose(-1, -2).reshape(x.sizes());
  }
  at::Tensor x1 = x.narrow(-1, 0, d / 2);
  at::Tensor x2 = x.narrow(-1, d / 2, d / 2);
  at::Tensor rotated = at::cat({-x2, x1}, -1);  // rotate_half
  at::Tensor out = x * cos + rotated * sin;
  return apply_in_fp32 ? out.to(x_in.scalar_type()) : out;
}

}  // namespace r1::model
