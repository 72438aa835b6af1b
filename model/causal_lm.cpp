// See causal_lm.h. This file holds the forward paths (training, cached decoding, MTP, a sequence
// classifier's scores and HF's reading rule), the parameter bookkeeping and the expert-bias update;
// loading, saving, initialisation and to_sequence_classifier are in model_io.cpp.
#include "model/causal_lm.h"

#include <ATen/core/grad_mode.h>  // at::NoGradGuard / GradMode: not reached through ATen.h in every LibTorch 2.x

#include "common/error.h"
#include "kernels/mla_decode.h"

namespace r1::model {
namespace {

void check_ids(const at::Tensor& ids, int64_t vocab, const char* what) {
  R1_CHECK(ids.defined() && ids.dim() == 2, what, ": input_ids must be a 2-D [B, T] tensor, got ",
           ids.defined() ? ids.dim() : 0, " dims");
  R1_CHECK(ids.scalar_type() == at::kLong, what, ": input_ids must be int64, got ", ids.scalar_type());
  if (ids.numel() > 0) {
    const int64_t lo = ids.min().item<int64_t>(), hi = ids.max().item<int64_t>();
    R1_CHECK(lo >= 0 && hi < vocab, what, ": token ids must lie in [0, ", vocab, "), found ", lo < 0 ? lo : hi);
  }
}

void check_same_shape(const at::Tensor& t, const at::Tensor& ids, const char* what, const char* name) {
  R1_CHECK(t.dim() == 2 && t.size(0) == ids.size(0) && t.size(1) == ids.size(1), what, ": ", name, " has shape ",
           t.sizes(), ", expected ", ids.sizes());
}

// Where a paged MLA step writes (attention.h): token (b, s) at row b*C' + positions[b, s] of the latent
// viewed as [B*C', R+Dr]. With `valid` (a prefill) only real tokens are written, which costs one host
// read (their count); without, every token (decode steps).
PagedStep paged_writes(const at::Tensor& positions, const at::Tensor& valid, const KVCache& cache) {
  const int64_t B = positions.size(0), S = positions.size(1), Cp = cache.layers.at(0).latent.size(1);
  PagedStep p;
  at::Tensor row_base = at::arange(B, positions.options().dtype(at::kLong)).unsqueeze(1) * Cp;  // [B, 1]
  at::Tensor dest = (row_base + positions.to(at::kLong)).reshape({B * S});                      // [B*S]
  if (valid.defined()) {
    p.write_src = valid.reshape({B * S}).nonzero().squeeze(1);                                  // [W]
    p.write_dest = dest.index_select(0, p.write_src);                                           // [W]
    const at::Tensor written = positions.reshape({B * S}).index_select(0, p.write_src);
    R1_CHECK(written.numel() == 0 || (written.min().item<int64_t>() >= 0 && written.max().item<int64_t>() < Cp),
             "forward_cached: paged MLA positions must lie in [0, ", Cp, ")");
  } else {
    p.write_dest = dest;
  }
  p.block_table = cache.block_table;
  if (S == 1) p.seq_lens = (positions.select(1, 0).to(at::kLong) + 1).to(at::kInt);  // [B]
  return p;
}

}  // namespace

void KVCache::keep_rows(const at::Tensor& rows) {
  auto sel = [&](at::Tensor& t) {
    if (t.defined()) t = t.index_select(0, rows);
  };
  for (auto& l : layers) {
    sel(l.k);
    sel(l.v);
    sel(l.latent);
  }
  sel(key_valid);
  if (block_table.defined()) {  // rows own contiguous blocks: the table of the new batch is again an identity
    const int64_t nb = block_table.size(1);
    block_table = at::arange(rows.size(0) * nb, block_table.options()).view({rows.size(0), nb});  // [B', C'/64]
  }
}

int64_t KVCache::bytes() const {
  int64_t n = 0;
  auto add = [&](const at::Tensor& t) {
    if (t.defined()) n += t.numel() * static_cast<int64_t>(t.element_size());
  };
  for (const auto& l : layers) {
    add(l.k);
    add(l.v);
    add(l.latent);
  }
  return n;
}

void CausalLM::add(const std::string& name, at::Tensor t, bool buffer) {
  TORCH_CHECK(!index_.count(name), "duplicate tensor ", name);
  index_[name] = entries_.size();
  entries_.push_back({name, std::move(t), buffer});
}

const at::Tensor& CausalLM::get(const std::string& name) const {
  auto it = index_.find(name);
  TORCH_CHECK(it != index_.end(), "model has no tensor ", name);
  return entries_[it->second].tensor;
}

at::Tensor CausalLM::tensor(const std::string& name) const {
  auto it = index_.find(name);
  R1_CHECK(it != index_.end(), "model has no tensor '", name, "'");
  return entries_[it->second].tensor;
}

void CausalLM::bind_layer(DecoderLayer& layer, const std::string& p, int64_t index) {
  auto lin = [&](const std::string& n) {
    Linear l;
    l.weight = get(p + n + ".weight");
    if (index_.count(p + n + ".bias")) l.bias = get(p + n + ".bias");
    return l;
  };
  auto mlp = [&](const std::string& n) {
    return MlpWeights{lin(n + ".gate_proj"), lin(n + ".up_proj"), lin(n + ".down_proj")};
  };
  layer.input_norm = get(p + "input_layernorm.weight");
  layer.post_attention_norm = get(p + "post_attention_layernorm.weight");
  AttentionWeights& a = layer.attn;
  if (config_.is_mla()) {
    if (config_.q_lora_rank > 0) {
      a.q_a_proj = lin("self_attn.q_a_proj");
      a.q_a_norm = get(p + "self_attn.q_a_layernorm.weight");
      a.q_b_proj = lin("self_attn.q_b_proj");
    } else {
      a.q_proj = lin("self_attn.q_proj");
    }
    a.kv_a_proj = lin("self_attn.kv_a_proj_with_mqa");
    a.kv_a_norm = get(p + "self_attn.kv_a_layernorm.weight");
    a.kv_b_proj = lin("self_attn.kv_b_proj");
  } else {
    a.q_proj = lin("self_attn.q_proj");
    a.k_proj = lin("self_attn.k_proj");
    a.v_proj = lin("self_attn.v_proj");
  }
  a.o_proj = lin("self_attn.o_proj");
  layer.is_moe = config_.is_moe_layer(index);
  if (layer.is_moe) {
    MoeWeights& m = layer.moe;
    m.gate_weight = get(p + "mlp.gate.weight");
    if (index_.count(p + "mlp.gate.e_score_correction_bias")) m.correction_bias = get(p + "mlp.gate.e_score_correction_bias");
    m.experts.clear();
    for (int64_t e = 0; e < config_.n_routed_experts; ++e) m.experts.push_back(mlp("mlp.experts." + std::to_string(e)));
    m.has_shared = config_.n_shared_experts > 0;
    if (m.has_shared) m.shared = mlp("mlp.shared_experts");
  } else {
    layer.mlp = mlp("mlp");
  }
}

void CausalLM::bind() {
  rope_ = RotaryEmbedding::from_config(config_);
  rope_.inv_freq = rope_.inv_freq.to(device_);  // no host-to-device copy inside a (captured) decode step
  embed_ = get("model.embed_tokens.weight");
  final_norm_ = get("model.norm.weight");
  const bool classifier = config_.is_sequence_classifier();
  lm_head_ = classifier || config_.tie_word_embeddings ? at::Tensor() : get("lm_head.weight");
  score_ = classifier ? get("score.weight") : at::Tensor();
  layers_.assign(static_cast<size_t>(config_.num_hidden_layers), DecoderLayer{});
  for (int64_t i = 0; i < config_.num_hidden_layers; ++i) {
    bind_layer(layers_[static_cast<size_t>(i)], "model.layers." + std::to_string(i) + ".", i);
  }
  if (has_mtp_) {
    const int64_t n = config_.num_hidden_layers;
    const std::string p = "model.layers." + std::to_string(n) + ".";
    mtp_.enorm = get(p + "enorm.weight");
    mtp_.hnorm = get(p + "hnorm.weight");
    mtp_.eh_proj = Linear{get(p + "eh_proj.weight"), {}, {}};
    mtp_.head_norm = get(p + "shared_head.norm.weight");
    mtp_.embed = index_.count(p + "embed_tokens.weight") ? get(p + "embed_tokens.weight") : at::Tensor();
    mtp_.head = index_.count(p + "shared_head.head.weight") ? get(p + "shared_head.head.weight") : at::Tensor();
    bind_layer(mtp_.block, p, n);
  }
}

std::vector<std::pair<std::string, at::Tensor>> CausalLM::named_parameters() const {
  std::vector<std::pair<std::string, at::Tensor>> out;
  for (const auto& e : entries_)
    if (!e.buffer) out.emplace_back(e.name, e.tensor);
  return out;
}

std::vector<std::pair<std::string, at::Tensor>> CausalLM::named_buffers() const {
  std::vector<std::pair<std::string, at::Tensor>> out;
  for (const auto& e : entries_)
    if (e.buffer) out.emplace_back(e.name, e.tensor);
  return out;
}

std::vector<std::pair<std::string, at::Tensor>> CausalLM::state_dict() const {
  auto out = named_parameters();
  for (auto& b : named_buffers()) out.push_back(std::move(b));
  return out;
}

void CausalLM::set_requires_grad(bool on) {
  for (auto& e : entries_)
    if (!e.buffer) e.tensor.requires_grad_(on);
}

void CausalLM::copy_parameters_from(const CausalLM& other) {
  R1_CHECK(entries_.size() == other.entries_.size(), "copy_parameters_from: models differ (", entries_.size(), " vs ",
           other.entries_.size(), " tensors)");
  at::NoGradGuard no_grad;
  for (size_t i = 0; i < entries_.size(); ++i) {
    const Entry& src = other.entries_[i];
    Entry& dst = entries_[i];
    R1_CHECK(src.name == dst.name && src.tensor.sizes() == dst.tensor.sizes(), "copy_parameters_from: tensor ", dst.name,
             " ", dst.tensor.sizes(), " does not match ", src.name, " ", src.tensor.sizes());
    dst.tensor.copy_(src.tensor);
  }
}

std::unique_ptr<CausalLM> CausalLM::clone(std::optional<at::Device> device) const {
  std::unique_ptr<CausalLM> m(new CausalLM(config_));
  m->dtype_ = dtype_;
  m->device_ = device.value_or(device_);
  m->has_mtp_ = has_mtp_;
  m->forward_mla_mode_ = forward_mla_mode_;
  m->cache_mla_mode_ = cache_mla_mode_;
  m->generation_config_json_ = generation_config_json_;
  {
    at::NoGradGuard no_grad;
    for (const auto& e : entries_) {
      m->add(e.name, e.tensor.detach().to(m->device_, e.tensor.scalar_type(), /*non_blocking=*/false, /*copy=*/true),
             e.buffer);
    }
  }
  m->bind();
  return m;
}

at::Tensor CausalLM::layer_forward(const DecoderLayer& layer, const at::Tensor& h, const AttentionInputs& in,
                                   MlaMode mode, const at::Tensor& valid, MoeStats* stats, bool balance,
                                   const at::Tensor& sequence_ids) const {
  const double eps = config_.rms_norm_eps;
  at::Tensor x = rms_norm(h, layer.input_norm, eps);
  at::Tensor attn = config_.is_mla() ? mla_attention(x, layer.attn, config_, rope_, in, mode)
                                     : gqa_attention(x, layer.attn, config_, rope_, in);
  at::Tensor h1 = h + attn;
  x = rms_norm(h1, layer.post_attention_norm, eps);
  at::Tensor mlp = layer.is_moe ? moe_forward(x, layer.moe, config_, valid, stats, balance, sequence_ids)
                                : swiglu_mlp(x, layer.mlp);
  return h1 + mlp;
}

ForwardOutput CausalLM::forward(const at::Tensor& input_ids, const at::Tensor& attention_mask_in,
                                const at::Tensor& position_ids, bool seq_balance_loss,
                                const at::Tensor& segment_ids) const {
  check_ids(input_ids, config_.vocab_size, "CausalLM::forward");
  const int64_t B = input_ids.size(0), T = input_ids.size(1);
  at::Tensor ids = input_ids.to(device_);
  // attention_mask: [B, T] token mask, or a [B, 1, T, T] additive bias used as is (e.g. packed sequences).
  const bool bias_given = attention_mask_in.defined() && attention_mask_in.dim() == 4;
  if (bias_given) {
    R1_CHECK(attention_mask_in.size(0) == B && attention_mask_in.size(1) == 1 && attention_mask_in.size(2) == T &&
                 attention_mask_in.size(3) == T,
             "CausalLM::forward: a 4-D attention_mask must be an additive bias [B, 1, T, T] = [", B, ", 1, ", T, ", ",
             T, "], got ", attention_mask_in.sizes());
  } else if (attention_mask_in.defined()) {
    check_same_shape(attention_mask_in, input_ids, "CausalLM::forward", "attention_mask");
  }
  const bool token_mask = attention_mask_in.defined() && !bias_given;
  at::Tensor valid = token_mask ? attention_mask_in.to(device_).to(at::kBool)
                                : at::ones({B, T}, ids.options().dtype(at::kBool));
  at::Tensor positions;
  if (position_ids.defined()) {
    check_same_shape(position_ids, input_ids, "CausalLM::forward", "position_ids");
    positions = position_ids.to(device_).to(at::kLong);
  } else {
    positions = at::arange(T, ids.options()).unsqueeze(0).expand({B, T});
  }
  auto cs = rope_.cos_sin(positions, dtype_);
  AttentionInputs in;
  in.cos = cs.first;
  in.sin = cs.second;
  in.mask = bias_given ? attention_mask_in.to(device_).to(at::kFloat) : attention_mask(valid, 0, T);
  // What MoE routes: the token mask's real tokens, or the non-padding tokens of packed rows.
  at::Tensor moe_valid = token_mask ? valid : at::Tensor();
  at::Tensor sequences;
  if (segment_ids.defined()) {
    check_same_shape(segment_ids, input_ids, "CausalLM::forward", "segment_ids");
    sequences = segment_ids.to(device_).to(at::kLong);
    moe_valid = moe_valid.defined() ? moe_valid.logical_and(sequences != 0) : sequences != 0;
  }
  ForwardOutput out;
  at::Tensor h = at::embedding(embed_, ids);  // [B, T, H]
  const bool checkpoint = activation_checkpointing_ && at::GradMode::is_enabled();
  for (size_t i = 0; i < layers_.size(); ++i) {
    const DecoderLayer& layer = layers_[i];
    MoeStats stats;
    h = checkpoint && h.requires_grad()
            ? checkpointed_layer_forward(i, h, in, moe_valid, &stats, seq_balance_loss, sequences)
            : layer_forward(layer, h, in, forward_mla_mode_, moe_valid, &stats, seq_balance_loss, sequences);
    if (layer.is_moe) {
      out.expert_load.push_back(stats.load);
      if (seq_balance_loss) {
        out.seq_balance_loss =
            out.seq_balance_loss.defined() ? out.seq_balance_loss + stats.balance_loss : stats.balance_loss;
      }
    }
  }
  if (seq_balance_loss && !out.seq_balance_loss.defined()) {
    out.seq_balance_loss = at::zeros({}, h.options().dtype(at::kFloat));  // a dense model has no balance loss
  }
  out.hidden = rms_norm(h, final_norm_, config_.rms_norm_eps);
  return out;
}

void CausalLM::check_has_lm_head(const char* op) const {
  R1_CHECK(!config_.is_sequence_classifier(), op, ": this model is a sequence classifier (", config_.architecture,
           ", ", config_.origin.empty() ? std::string("made in code") : config_.origin,
           "): it has a score head, no LM head, so it scores texts (sequence_scores) and cannot predict or generate "
           "tokens; use a ...ForCausalLM model");
}

at::Tensor CausalLM::lm_head_weight() const {
  check_has_lm_head("CausalLM::lm_head_weight");
  return lm_head_.defined() ? lm_head_ : embed_;
}

at::Tensor CausalLM::logits(const at::Tensor& hidden) const {
  const at::Tensor& head = config_.is_sequence_classifier() ? score_ : lm_head_weight();  // [V or L, H]
  return at::linear(hidden.to(at::kFloat), head.to(at::kFloat));
}

at::Tensor CausalLM::score_weight() const {
  R1_CHECK(config_.is_sequence_classifier(), "CausalLM::score_weight: this model (", config_.architecture,
           ") is a causal LM; it has no score head (to_sequence_classifier makes a sequence classifier of it)");
  return score_;
}

at::Tensor last_non_pad_index(const at::Tensor& input_ids, std::optional<int64_t> pad_id) {
  const char* op = "last_non_pad_index";
  R1_CHECK(input_ids.defined() && input_ids.dim() == 2 && input_ids.scalar_type() == at::kLong, op,
           ": input_ids must be an int64 [B, T] tensor");
  const int64_t B = input_ids.size(0), T = input_ids.size(1);
  R1_CHECK(T > 0, op, ": input_ids has no tokens");
  if (!pad_id) {
    R1_CHECK(B == 1, op, ": the model config has no pad_token_id, so the last real token of a padded row cannot be "
             "found and only one row per batch can be scored (got ", B, "); set pad_token_id in config.json");
    return at::full({1}, T - 1, input_ids.options());
  }
  at::Tensor real = input_ids.ne(*pad_id).to(at::kLong);           // [B, T]
  at::Tensor t = at::arange(T, input_ids.options()).unsqueeze(0);  // [1, T]
  return (t * real).argmax(1);                                     // [B]: the largest t of a real token, else 0
}

at::Tensor CausalLM::sequence_scores(const at::Tensor& input_ids, const at::Tensor& attention_mask) const {
  const at::Tensor w = score_weight();                                              // [L, H]
  check_ids(input_ids, config_.vocab_size, "CausalLM::sequence_scores");
  R1_CHECK(!attention_mask.defined() || attention_mask.dim() == 2, "CausalLM::sequence_scores: attention_mask must "
           "be a [B, T] token mask");
  const at::Tensor ids = input_ids.to(device_);
  const at::Tensor at_pos = last_non_pad_index(ids, config_.pad_token_id);          // [B]
  const at::Tensor hidden = forward(ids, attention_mask).hidden;                    // [B, T, H]
  const int64_t B = hidden.size(0), H = hidden.size(2);
  const at::Tensor pooled = hidden.gather(1, at_pos.view({B, 1, 1}).expand({B, 1, H})).squeeze(1);  // [B, H]
  return at::linear(pooled.to(at::kFloat), w.to(at::kFloat));                       // [B, L]
}

at::Tensor CausalLM::mtp_hidden(const at::Tensor& hidden, const at::Tensor& input_ids, const at::Tensor& attention_mask_in,
                                std::vector<at::Tensor>* expert_load, const at::Tensor& position_ids) const {
  R1_CHECK(has_mtp_, "mtp_hidden: this model has no MTP module");
  check_ids(input_ids, config_.vocab_size, "CausalLM::mtp_hidden");
  const int64_t B = input_ids.size(0), T = input_ids.size(1);
  R1_CHECK(T >= 2, "mtp_hidden: needs at least 2 tokens, got ", T);
  R1_CHECK(hidden.dim() == 3 && hidden.size(0) == B && hidden.size(1) == T, "mtp_hidden: hidden has shape ",
           hidden.sizes(), ", expected [", B, ", ", T, ", H]");
  const double eps = config_.rms_norm_eps;
  at::Tensor ids = input_ids.to(device_);
  at::Tensor next = ids.narrow(1, 1, T - 1);                                       // [B, T-1]
  at::Tensor emb = at::embedding(mtp_.embed.defined() ? mtp_.embed : embed_, next);  // [B, T-1, H]
  at::Tensor h_prev = hidden.narrow(1, 0, T - 1);                                   // [B, T-1, H]
  at::Tensor x = linear(at::cat({rms_norm(emb, mtp_.enorm, eps), rms_norm(h_prev, mtp_.hnorm, eps)}, -1),
                        mtp_.eh_proj);                                              // [B, T-1, H]
  const bool bias_given = attention_mask_in.defined() && attention_mask_in.dim() == 4;
  at::Tensor valid;
  if (bias_given) {
    R1_CHECK(attention_mask_in.size(0) == B && attention_mask_in.size(1) == 1 && attention_mask_in.size(2) == T &&
                 attention_mask_in.size(3) == T,
             "CausalLM::mtp_hidden: a 4-D attention_mask must be an additive bias [B, 1, T, T], got ",
             attention_mask_in.sizes());
  } else if (attention_mask_in.defined()) {
    check_same_shape(attention_mask_in, input_ids, "CausalLM::mtp_hidden", "attention_mask");
    at::Tensor m = attention_mask_in.to(device_).to(at::kBool);
    valid = at::logical_and(m.narrow(1, 0, T - 1), m.narrow(1, 1, T - 1));         // [B, T-1]
  }
  at::Tensor positions;
  if (position_ids.defined()) {
    check_same_shape(position_ids, input_ids, "CausalLM::mtp_hidden", "position_ids");
    positions = position_ids.to(device_).to(at::kLong).narrow(1, 0, T - 1);        // [B, T-1]
  } else {
    positions = at::arange(T - 1, ids.options()).unsqueeze(0).expand({B, T - 1});
  }
  auto cs = rope_.cos_sin(positions, dtype_);
  AttentionInputs in;
  in.cos = cs.first;
  in.sin = cs.second;
  if (bias_given) {
    in.mask = attention_mask_in.to(device_).to(at::kFloat).narrow(2, 0, T - 1).narrow(3, 0, T - 1);  // [B, 1, T-1, T-1]
  } else {
    at::Tensor key_valid = valid.defined() ? valid : at::ones({B, T - 1}, ids.options().dtype(at::kBool));
    in.mask = attention_mask(key_valid, 0, T - 1);
  }
  MoeStats stats;
  at::Tensor out = layer_forward(mtp_.block, x, in, forward_mla_mode_, valid, &stats, false);
  if (expert_load && mtp_.block.is_moe) expert_load->push_back(stats.load);
  return rms_norm(out, mtp_.head_norm, eps);
}

at::Tensor CausalLM::mtp_logits(const at::Tensor& mtp_hidden) const {
  R1_CHECK(has_mtp_, "mtp_logits: this model has no MTP module");
  const at::Tensor& head = mtp_.head.defined() ? mtp_.head : lm_head_weight();
  return at::linear(mtp_hidden.to(at::kFloat), head.to(at::kFloat));
}

int64_t CausalLM::num_moe_layers() const {
  int64_t n = 0;
  for (const auto& l : layers_) n += l.is_moe ? 1 : 0;
  return n;
}

void CausalLM::update_expert_bias(const std::vector<at::Tensor>& expert_load, double gamma) {
  std::vector<MoeWeights*> moes;
  for (auto& l : layers_)
    if (l.is_moe) moes.push_back(&l.moe);
  const size_t n_main = moes.size();
  if (has_mtp_ && mtp_.block.is_moe) moes.push_back(&mtp_.block.moe);
  R1_CHECK(expert_load.size() == n_main || expert_load.size() == moes.size(), "update_expert_bias: got ",
           expert_load.size(), " expert loads, the model has ", n_main, " MoE layers",
           moes.size() > n_main ? " (+1 in the MTP block)" : "");
  at::NoGradGuard no_grad;
  for (size_t i = 0; i < expert_load.size(); ++i) {
    at::Tensor& bias = moes[i]->correction_bias;
    R1_CHECK(bias.defined(), "update_expert_bias: this architecture (", config_.architecture,
             ") has no e_score_correction_bias");
    R1_CHECK(expert_load[i].numel() == bias.numel(), "update_expert_bias: load ", i, " has ", expert_load[i].numel(),
             " entries, expected ", bias.numel());
    at::Tensor load = expert_load[i].to(bias.device()).to(at::kFloat).reshape({-1});
    bias.add_(at::sign(load.mean() - load) * gamma);
  }
}

void CausalLM::set_mla_modes(MlaMode forward_mode, MlaMode cache_mode) {
  R1_CHECK(forward_mode != MlaMode::kPaged, "set_mla_modes: the paged MLA mode is a cache mode (forward() attends "
           "over the whole sequence)");
  forward_mla_mode_ = forward_mode;
  cache_mla_mode_ = cache_mode;
}

KVCache CausalLM::new_cache(int64_t batch, int64_t capacity) const {
  check_has_lm_head("CausalLM::new_cache");
  KVCache c;
  c.mla_mode = cache_mla_mode_;
  auto opts = at::TensorOptions().dtype(dtype_).device(device_);
  c.key_valid = at::zeros({batch, capacity}, opts.dtype(at::kBool));
  c.slot = at::zeros({1}, opts.dtype(at::kLong));
  const auto& k = config_;
  const bool paged = k.is_mla() && c.mla_mode == MlaMode::kPaged;
  const int64_t paged_capacity = (capacity + kernels::kMlaBlockSize - 1) / kernels::kMlaBlockSize * kernels::kMlaBlockSize;
  if (paged) {
    const int64_t nb = paged_capacity / kernels::kMlaBlockSize;
    c.block_table = at::arange(batch * nb, opts.dtype(at::kInt)).view({batch, nb});  // [B, C'/64]
  }
  for (int64_t i = 0; i < k.num_hidden_layers; ++i) {
    LayerCache l;  // zero-filled: masked slots get probability 0, and 0 * garbage could be NaN
    if (paged) {
      l.latent = at::zeros({batch, paged_capacity, k.kv_lora_rank + k.qk_rope_head_dim}, opts);  // by position
    } else if (k.is_mla()) {
      if (c.mla_mode == MlaMode::kAbsorbed) {
        l.latent = at::zeros({batch, capacity, k.kv_lora_rank + k.qk_rope_head_dim}, opts);
      } else {
        l.k = at::zeros({batch, k.num_attention_heads, capacity, k.qk_head_dim()}, opts);
        l.v = at::zeros({batch, k.num_attention_heads, capacity, k.v_head_dim}, opts);
      }
    } else {
      l.k = at::zeros({batch, k.num_key_value_heads, capacity, k.head_dim}, opts);
      l.v = at::zeros({batch, k.num_key_value_heads, capacity, k.head_dim}, opts);
    }
    c.layers.push_back(std::move(l));
  }
  return c;
}

at::Tensor CausalLM::run_cached_layers(at::Tensor h, AttentionInputs& in, KVCache& cache,
                                       const at::Tensor& moe_valid) const {
  const std::vector<DecoderLayer>& layers = cached_layers();
  for (size_t i = 0; i < layers.size(); ++i) {
    in.cache = &cache.layers[i];
    h = layer_forward(layers[i], h, in, cache.mla_mode, moe_valid, nullptr, false);
  }
  return h;
}

at::Tensor CausalLM::forward_cached(const at::Tensor& input_ids, const at::Tensor& positions, const at::Tensor& valid,
                                    KVCache& cache) const {
  check_has_lm_head("CausalLM::forward_cached");
  const int64_t B = input_ids.size(0), S = input_ids.size(1), off = cache.length;
  TORCH_CHECK(B == cache.batch(), "forward_cached: batch ", B, " != cache batch ", cache.batch());
  R1_CHECK(off + S <= cache.capacity(), "forward_cached: KV cache full (capacity ", cache.capacity(), ", need ",
           off + S, ")");
  const bool paged = cache.mla_mode == MlaMode::kPaged && config_.is_mla();
  R1_CHECK(!paged || S == 1 || off == 0, "forward_cached: a paged MLA cache takes several tokens per row only as "
           "the first call (mla_decode attends with one query token per row); got ", S, " tokens at slot ", off);
  at::Tensor v = valid.defined() ? valid.to(at::kBool) : at::Tensor();  // [B, S]
  at::Tensor moe_valid;  // undefined = all real: the MoE skips its row filter
  if (v.defined()) {
    cache.key_valid.narrow(1, off, S).copy_(v);
    if (!v.all().item<bool>()) moe_valid = v;
  } else {
    cache.key_valid.narrow(1, off, S).fill_(true);
  }
  auto cs = rope_.cos_sin(positions, dtype_);
  AttentionInputs in;
  in.cos = cs.first;
  in.sin = cs.second;
  in.mask = attention_mask(cache.key_valid.narrow(1, 0, off + S), off, S);
  in.offset = off;
  PagedStep paged_step;
  if (paged) {
    paged_step = paged_writes(positions, v, cache);
    in.paged = &paged_step;
  }
  at::Tensor h = run_cached_layers(at::embedding(embed_, input_ids), in, cache, moe_valid);  // [B, S, H]
  cache.length = off + S;
  cache.slot.fill_(cache.length);
  return rms_norm(h, final_norm_, config_.rms_norm_eps);
}

at::Tensor CausalLM::decode_step(const at::Tensor& tokens, const at::Tensor& positions, KVCache& cache) const {
  const char* op = "CausalLM::decode_step";
  check_has_lm_head(op);
  R1_CHECK(tokens.dim() == 1 && positions.sizes() == tokens.sizes(), op, ": tokens and positions must both be [B], got ",
           tokens.sizes(), " and ", positions.sizes());
  const int64_t B = tokens.size(0);
  R1_CHECK(B == cache.batch(), op, ": batch ", B, " != cache batch ", cache.batch());
  R1_CHECK(cache.length < cache.capacity(), op, ": KV cache full (capacity ", cache.capacity(), ")");
  const std::vector<DecoderLayer>& layers = cached_layers();
  for (size_t i = 0; i < layers.size(); ++i) {
    R1_CHECK(!layers[i].is_moe || layers[i].moe.has_fp8(), op, ": layer ", i, " has dense routed experts, whose "
             "dispatch reads expert counts on the host; the static step needs the FP8 rollout copy "
             "(make_rollout_copy(WeightFormat::kFp8))");
  }
  const at::Tensor pos = positions.view({B, 1});  // [B, 1]
  auto cs = rope_.cos_sin(pos, dtype_);
  AttentionInputs in;
  in.cos = cs.first;
  in.sin = cs.second;
  in.offset = cache.length;
  PagedStep paged_step;
  if (cache.mla_mode == MlaMode::kPaged && config_.is_mla()) {
    paged_step = paged_writes(pos, at::Tensor(), cache);
    in.paged = &paged_step;
  } else {
    cache.key_valid.index_fill_(1, cache.slot, true);
    in.slot = cache.slot;
    in.mask = attention_mask_at(cache.key_valid, cache.slot);  // [B, 1, 1, C]
  }
  at::Tensor h = run_cached_layers(at::embedding(embed_, tokens.view({B, 1})), in, cache, at::Tensor());  // [B, 1, H]
  cache.slot.add_(1);
  cache.length += 1;
  return rms_norm(h, final_norm_, config_.rms_norm_eps);
}

}  // namespace r1::model
