// CausalLM construction and persistence: the parameter layout of each architecture (HF names and shapes),
// loading from an HF directory (per-expert or transformers-5 fused expert tensors, FP8 dequantised, MTP
// when present), HF-style random initialisation, saving through hf_checkpoint.h, parameter counts, and the
// conversion of a causal LM into a sequence classifier (to_sequence_classifier).
//
// Loading is strict where it matters: a missing tensor, a wrong shape or an unexpected tensor is an
// r1::Error naming the checkpoint file and the tensor (unexpected ones would mean the config and the
// weights disagree). Tolerated extras: FP8 `*_scale_inv` siblings (consumed by dequantisation),
// `rotary_emb.inv_freq` buffers of old checkpoints, and `lm_head.weight` in a tied causal LM (HF ignores
// it). A sequence classifier's checkpoint must hold `score.weight` and no `lm_head.weight`.
#include <algorithm>
#include <map>
#include <set>

#include <ATen/core/grad_mode.h>
#include <ATen/CPUGeneratorImpl.h>
#include <ATen/core/grad_mode.h>  // at::NoGradGuard / GradMode: not reached through ATen.h in every LibTorch 2.x

#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <mutex>

#include "common/error.h"
#include "common/fs.h"
#include "model/causal_lm.h"
#include "model/hf_checkpoint.h"
#include "model/safetensors.h"

namespace r1::model {
namespace {

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

std::string layer_prefix(int64_t i) { return "model.layers." + std::to_string(i) + "."; }

void layer_layout(const ModelConfig& c, int64_t index, std::vector<ParamSpec>& out) {
  const std::string p = layer_prefix(index);
  const int64_t H = c.hidden_size;
  auto mat = [&](const std::string& n, int64_t rows, int64_t cols, bool bias) {
    out.push_back({p + n + ".weight", {rows, cols}, "normal"});
    if (bias) out.push_back({p + n + ".bias", {rows}, "zeros"});
  };
  auto norm = [&](const std::string& n, int64_t size) { out.push_back({p + n + ".weight", {size}, "ones"}); };
  auto mlp = [&](const std::string& n, int64_t width, bool bias) {
    mat(n + ".gate_proj", width, H, bias);
    mat(n + ".up_proj", width, H, bias);
    mat(n + ".down_proj", H, width, bias);
  };
  norm("input_layernorm", H);
  if (c.is_mla()) {
    const int64_t N = c.num_attention_heads;
    if (c.q_lora_rank > 0) {
      mat("self_attn.q_a_proj", c.q_lora_rank, H, c.attention_bias);
      norm("self_attn.q_a_layernorm", c.q_lora_rank);
      mat("self_attn.q_b_proj", N * c.qk_head_dim(), c.q_lora_rank, false);
    } else {
      mat("self_attn.q_proj", N * c.qk_head_dim(), H, false);
    }
    mat("self_attn.kv_a_proj_with_mqa", c.kv_lora_rank + c.qk_rope_head_dim, H, c.attention_bias);
    norm("self_attn.kv_a_layernorm", c.kv_lora_rank);
    mat("self_attn.kv_b_proj", N * (c.qk_nope_head_dim + c.v_head_dim), c.kv_lora_rank, false);
    mat("self_attn.o_proj", H, N * c.v_head_dim, c.attention_bias);
  } else {
    const int64_t q = c.num_attention_heads * c.head_dim, kv = c.num_key_value_heads * c.head_dim;
    mat("self_attn.q_proj", q, H, c.has_qkv_bias());
    mat("self_attn.k_proj", kv, H, c.has_qkv_bias());
    mat("self_attn.v_proj", kv, H, c.has_qkv_bias());
    mat("self_attn.o_proj", H, q, c.attention_bias);
  }
  norm("post_attention_layernorm", H);
  if (c.is_moe_layer(index)) {
    mat("mlp.gate", c.n_routed_experts, H, false);
    if (c.arch == Architecture::kDeepseekV3) out.push_back({p + "mlp.gate.e_score_correction_bias", {c.n_routed_experts}, "buffer"});
    for (int64_t e = 0; e < c.n_routed_experts; ++e) mlp("mlp.experts." + std::to_string(e), c.moe_intermediate_size, false);
    if (c.n_shared_experts > 0) mlp("mlp.shared_experts", c.n_shared_experts * c.moe_intermediate_size, c.mlp_bias);
  } else {
    mlp("mlp", c.intermediate_size, c.mlp_bias);
  }
}

// The MTP-only tensors that may be shared with the main model.
std::string mtp_embed_name(const ModelConfig& c) { return layer_prefix(c.num_hidden_layers) + "embed_tokens.weight"; }
std::string mtp_head_name(const ModelConfig& c) { return layer_prefix(c.num_hidden_layers) + "shared_head.head.weight"; }

// glibc serves every allocation above M_MMAP_THRESHOLD with a fresh mmap and trims the heap top on free,
// so each activation tensor of every forward pays its page faults again. Keeping large blocks in the heap
// and never trimming made the fixture forwards 5-8x faster on the 2-core dev machine (80 → 11 ms for
// deepseek_v3_tiny, 8×128 tokens). Process-wide, once, on the first model load or initialisation: the
// price is that freed tensor memory stays with the process (its peak RSS), which a trainer wants anyway.
void keep_tensor_memory_in_heap() {
#ifdef __GLIBC__
  static std::once_flag once;
  std::call_once(once, [] {
    if (mallopt(M_MMAP_THRESHOLD, 1 << 30) == 0) mallopt(M_MMAP_THRESHOLD, 32 << 20);
    mallopt(M_TRIM_THRESHOLD, 1 << 30);
  });
#endif
}

// The generator random weights are drawn from: the CPU generator seeded with `seed`, or on a GPU a clone
// of the device's default generator, reseeded (the global RNG state is left alone). The CPU generator's
// serial normal() takes ~10-30 ns per weight (tens of seconds for a few billion), the device's a few
// milliseconds; so a seed gives one model per device type. Other devices (out-of-tree backends) draw on the
// CPU (normal_weight moves the weights), so they get the CPU's model.
at::Generator weight_generator(uint64_t seed, at::Device device) {
  if (!device.is_cuda()) return at::detail::createCPUGenerator(seed);
  at::Generator global = at::globalContext().defaultGenerator(device);  // a handle, shared
  std::lock_guard<std::mutex> lock(global.mutex());
  at::Generator gen = global.clone();
  gen.set_current_seed(seed);
  return gen;
}

// A matrix ~ N(0, std) drawn in fp32 on the generator's device from `gen`, then converted to `dtype` and
// placed on `device`.
at::Tensor normal_weight(const std::vector<int64_t>& shape, double std, at::Generator& gen, at::ScalarType dtype,
                         at::Device device) {
  const at::Tensor w = at::normal(0.0, std, shape, gen, at::TensorOptions().device(gen.device()).dtype(at::kFloat));
  return w.to(device, dtype);
}

// Where the error about a tensor missing from checkpoint `ck` (a directory or a file) points: the index of
// a sharded checkpoint, else its single safetensors file.
std::string weights_file(const Checkpoint& ck) {
  if (!is_directory(ck.path())) return ck.path();
  const std::string index = path_join(ck.path(), "model.safetensors.index.json");
  return path_exists(index) ? index : path_join(ck.path(), "model.safetensors");
}

}  // namespace

std::vector<ParamSpec> parameter_layout(const ModelConfig& c, bool with_mtp) {
  std::vector<ParamSpec> out;
  const int64_t H = c.hidden_size, V = c.vocab_size;
  out.push_back({"model.embed_tokens.weight", {V, H}, "normal"});
  for (int64_t i = 0; i < c.num_hidden_layers; ++i) layer_layout(c, i, out);
  out.push_back({"model.norm.weight", {H}, "ones"});
  if (c.is_sequence_classifier()) {
    out.push_back({"score.weight", {c.num_labels, H}, "normal"});  // HF: nn.Linear(H, num_labels, bias=False)
  } else if (!c.tie_word_embeddings) {
    out.push_back({"lm_head.weight", {V, H}, "normal"});
  }
  if (with_mtp) {
    const std::string p = layer_prefix(c.num_hidden_layers);
    out.push_back({p + "enorm.weight", {H}, "ones"});
    out.push_back({p + "hnorm.weight", {H}, "ones"});
    out.push_back({p + "eh_proj.weight", {H, 2 * H}, "normal"});
    layer_layout(c, c.num_hidden_layers, out);
    out.push_back({p + "shared_head.norm.weight", {H}, "ones"});
  }
  return out;
}

// Builds models; a friend of CausalLM.
struct ModelBuilder {
  static std::unique_ptr<CausalLM> make(const ModelConfig& config, at::ScalarType dtype, at::Device device) {
    std::unique_ptr<CausalLM> m(new CausalLM(config));
    m->dtype_ = dtype;
    m->device_ = device;
    return m;
  }
  static void add(CausalLM& m, const std::string& name, at::Tensor t, bool buffer) { m.add(name, std::move(t), buffer); }
  static void finish(CausalLM& m, bool has_mtp) {
    m.has_mtp_ = has_mtp;
    m.bind();
  }
  static const at::Tensor& get(const CausalLM& m, const std::string& name) { return m.get(name); }
  static bool has(const CausalLM& m, const std::string& name) { return m.index_.count(name) > 0; }
};

std::unique_ptr<CausalLM> CausalLM::load(const std::string& dir, at::ScalarType dtype, at::Device device) {
  keep_tensor_memory_in_heap();
  R1_CHECK(is_directory(dir), "model directory '", dir, "' does not exist");
  ModelConfig config = ModelConfig::from_file(path_join(dir, "config.json"));
  Checkpoint ck(dir);
  const std::string mtp_probe = layer_prefix(config.num_hidden_layers) + "eh_proj.weight";
  const bool has_mtp = config.num_nextn_predict_layers > 0 && ck.contains(mtp_probe);
  auto m = ModelBuilder::make(config, dtype, device);
  std::set<std::string> used;
  auto load_as = [&](const std::string& name, at::ScalarType dt, const std::vector<int64_t>& shape) {
    used.insert(name);
    return ck.load_dequantized(name, dt, shape).to(device);
  };
  // transformers-5 in-memory layout of routed experts (gate_up_proj [E, 2I, H], down_proj [E, H, I]), split on demand.
  std::map<std::string, std::pair<at::Tensor, at::Tensor>> fused;
  auto fused_expert = [&](const std::string& layer_p, int64_t e, const std::string& proj) -> at::Tensor {
    const std::string gu = layer_p + "mlp.experts.gate_up_proj", dn = layer_p + "mlp.experts.down_proj";
    if (!ck.contains(gu) || !ck.contains(dn)) return {};
    auto it = fused.find(layer_p);
    if (it == fused.end()) {
      const int64_t E = config.n_routed_experts, I = config.moe_intermediate_size, H = config.hidden_size;
      it = fused.emplace(layer_p, std::make_pair(load_as(gu, dtype, {E, 2 * I, H}), load_as(dn, dtype, {E, H, I}))).first;
    }
    const int64_t I = config.moe_intermediate_size;
    const at::Tensor& gate_up = it->second.first;
    if (proj == "gate_proj") return gate_up[e].narrow(0, 0, I).contiguous();
    if (proj == "up_proj") return gate_up[e].narrow(0, I, I).contiguous();
    return it->second.second[e].contiguous();
  };
  for (const ParamSpec& spec : parameter_layout(config, has_mtp)) {
    const bool buffer = spec.kind == "buffer";
    const at::ScalarType dt = buffer ? at::kFloat : dtype;
    at::Tensor t;
    if (ck.contains(spec.name)) {
      t = load_as(spec.name, dt, spec.shape);
    } else {
      const auto pos = spec.name.find(".mlp.experts.");
      if (pos != std::string::npos) {
        const std::string layer_p = spec.name.substr(0, pos + 1);
        const std::string rest = spec.name.substr(pos + 13);  // "<e>.<proj>.weight"
        const auto dot = rest.find('.');
        const int64_t e = std::stoll(rest.substr(0, dot));
        const std::string proj = rest.substr(dot + 1, rest.find('.', dot + 1) - dot - 1);
        t = fused_expert(layer_p, e, proj);
      }
      R1_CHECK(spec.name != "score.weight", weights_file(ck), ": missing tensor 'score.weight' (expected shape ",
               at::IntArrayRef(spec.shape), "), the score head of this ", config.architecture, " (", config.origin,
               "); a causal LM's checkpoint becomes a sequence classifier through to_sequence_classifier (the "
               "reward_model stage's init), not by renaming its architecture");
      R1_CHECK(t.defined(), ck.path(), ": missing tensor '", spec.name, "' (expected shape ",
               at::IntArrayRef(spec.shape), ") for ", config.architecture);
    }
    ModelBuilder::add(*m, spec.name, std::move(t), buffer);
  }
  if (has_mtp) {  // optional own copies of the embedding and head; bitwise equal copies are shared
    for (const std::string& name : {mtp_embed_name(config), mtp_head_name(config)}) {
      if (!ck.contains(name)) continue;
      const bool is_embed = name == mtp_embed_name(config);
      at::Tensor t = load_as(name, dtype, {config.vocab_size, config.hidden_size});
      const at::Tensor& main = is_embed ? ModelBuilder::get(*m, "model.embed_tokens.weight")
                                        : (config.tie_word_embeddings ? ModelBuilder::get(*m, "model.embed_tokens.weight")
                                                                      : ModelBuilder::get(*m, "lm_head.weight"));
      if (!at::equal(t, main)) ModelBuilder::add(*m, name, std::move(t), false);
    }
  }
  std::vector<std::string> unexpected;
  for (const std::string& name : ck.names()) {
    if (used.count(name) || ends_with(name, "_scale_inv") || ends_with(name, "rotary_emb.inv_freq")) continue;
    if (name == "lm_head.weight" && config.tie_word_embeddings && !config.is_sequence_classifier()) continue;
    unexpected.push_back(name);
  }
  if (!unexpected.empty()) {
    std::string list;
    for (size_t i = 0; i < unexpected.size() && i < 5; ++i) list += (i ? ", " : "") + unexpected[i];
    if (unexpected.size() > 5) list += ", ...";
    fail(ck.file_of(unexpected[0]), ": ", unexpected.size(), " unexpected tensor(s) for this ", config.architecture,
         " config (", config.origin, "): ", list);
  }
  ModelBuilder::finish(*m, has_mtp);
  // Keep generation_config.json to write it back unchanged.
  const std::string gen = path_join(dir, "generation_config.json");
  if (path_exists(gen)) m->generation_config_json_ = read_file(gen);
  return m;
}

std::unique_ptr<CausalLM> CausalLM::init_random(const ModelConfig& config, uint64_t seed, at::ScalarType dtype,
                                                at::Device device) {
  keep_tensor_memory_in_heap();
  config.validate();
  const bool has_mtp = config.num_nextn_predict_layers > 0;
  auto m = ModelBuilder::make(config, dtype, device);
  at::Generator gen = weight_generator(seed, device);  // random matrices are drawn where they will live
  const auto on_device = at::TensorOptions().device(device);
  at::NoGradGuard no_grad;
  for (const ParamSpec& spec : parameter_layout(config, has_mtp)) {
    at::Tensor t;
    if (spec.kind == "normal") {
      t = normal_weight(spec.shape, config.initializer_range, gen, dtype, device);
    } else if (spec.kind == "ones") {
      t = at::ones(spec.shape, on_device.dtype(dtype));
    } else if (spec.kind == "zeros") {
      t = at::zeros(spec.shape, on_device.dtype(dtype));
    } else {
      t = at::zeros(spec.shape, on_device.dtype(at::kFloat));
    }
    ModelBuilder::add(*m, spec.name, t, spec.kind == "buffer");
  }
  ModelBuilder::finish(*m, has_mtp);
  return m;
}

void CausalLM::save(const std::string& dir, const std::string& tokenizer_src_dir) const {
  ModelConfig cfg = config_;
  cfg.dtype = dtype_ == at::kBFloat16 ? "bfloat16" : dtype_ == at::kHalf ? "float16" : "float32";
  HfCheckpointContents c;
  c.config_json = cfg.to_json();
  if (!generation_config_json_.empty()) c.generation_config_json = generation_config_json_;
  {
    at::NoGradGuard no_grad;
    for (const auto& [name, t] : state_dict()) c.tensors.emplace_back(name, t.detach().to(at::kCPU));
    if (has_mtp_) {  // shared MTP embedding / head are written as copies, as in the DeepSeek-V3 release
      if (!mtp_.embed.defined()) c.tensors.emplace_back(mtp_embed_name(config_), embed_.detach().to(at::kCPU));
      if (!mtp_.head.defined()) c.tensors.emplace_back(mtp_head_name(config_), lm_head_weight().detach().to(at::kCPU));
    }
  }
  c.tokenizer_dir = tokenizer_src_dir;
  write_hf_checkpoint(dir, c);
}

ParameterCounts count_parameters(const ModelConfig& c, bool with_mtp) {
  ParameterCounts pc;
  const std::string mtp_p = layer_prefix(c.num_hidden_layers);
  for (const ParamSpec& spec : parameter_layout(c, with_mtp)) {
    if (spec.kind == "buffer") continue;
    int64_t n = 1;
    for (int64_t d : spec.shape) n *= d;
    if (with_mtp && spec.name.compare(0, mtp_p.size(), mtp_p) == 0) {
      pc.mtp += n;
    } else {
      pc.total += n;
    }
  }
  const bool own_lm_head = !c.tie_word_embeddings && !c.is_sequence_classifier();
  pc.embedding = c.vocab_size * c.hidden_size * (own_lm_head ? 2 : 1);
  pc.activated = pc.total;
  if (c.has_moe()) {
    int64_t moe_layers = 0;
    for (int64_t i = 0; i < c.num_hidden_layers; ++i) moe_layers += c.is_moe_layer(i) ? 1 : 0;
    const int64_t per_expert = 3 * c.hidden_size * c.moe_intermediate_size;
    pc.activated -= moe_layers * (c.n_routed_experts - c.num_experts_per_tok) * per_expert;
  }
  return pc;
}

std::unique_ptr<CausalLM> CausalLM::to_sequence_classifier(const CausalLM& lm, int64_t num_labels, uint64_t seed,
                                                           std::optional<int64_t> pad_token_id) {
  const ModelConfig& from = lm.config();
  R1_CHECK(!from.is_sequence_classifier(), "to_sequence_classifier: the model (", from.architecture,
           ") is already a sequence classifier; start from a ...ForCausalLM model");
  R1_CHECK(num_labels >= 1, "to_sequence_classifier: num_labels must be >= 1, got ", num_labels);
  ModelConfig config = from;  // source_json kept: unknown keys survive, architectures is rewritten by to_json
  config.head = Head::kSequenceClassification;
  config.architecture = architecture_name(config.arch, Head::kSequenceClassification);
  config.num_labels = num_labels;
  config.num_nextn_predict_layers = 0;  // the MTP module is dropped with the LM head
  if (pad_token_id) config.pad_token_id = pad_token_id;
  config.validate();
  auto m = ModelBuilder::make(config, lm.dtype(), lm.device());
  at::NoGradGuard no_grad;
  for (const ParamSpec& spec : parameter_layout(config, /*with_mtp=*/false)) {  // the trunk in checkpoint order
    at::Tensor t;
    if (spec.name == "score.weight") {
      at::Generator gen = weight_generator(seed, lm.device());
      t = normal_weight(spec.shape, config.initializer_range, gen, lm.dtype(), lm.device());
    } else {
      t = ModelBuilder::get(lm, spec.name).detach().clone();
    }
    ModelBuilder::add(*m, spec.name, std::move(t), spec.kind == "buffer");
  }
  m->forward_mla_mode_ = lm.forward_mla_mode_;
  m->cache_mla_mode_ = lm.cache_mla_mode_;
  ModelBuilder::finish(*m, /*has_mtp=*/false);
  return m;
}

ParameterCounts CausalLM::parameter_counts() const {
  ParameterCounts pc = count_parameters(config_, has_mtp_);
  // Own (unshared) MTP embedding / head copies.
  if (mtp_.embed.defined()) pc.mtp += mtp_.embed.numel();
  if (mtp_.head.defined()) pc.mtp += mtp_.head.numel();
  return pc;
}

}  // namespace r1::model
