// CausalLM: a decoder-only language model of one of the four supported architectures (DeepSeek-V3,
// DeepSeek-V2, Qwen2, Llama), written as plain LibTorch ops over a name → tensor map that uses the exact
// Hugging Face parameter names and shapes — so loading, saving and optimiser bookkeeping are trivial and a
// saved checkpoint loads unchanged in HF transformers.
//
// What it is: the training forward (hidden states after the final norm; autograd works when the caller
// sets requires_grad on named_parameters()), the LM head, the DeepSeek-V3 MTP module, MoE statistics
// (per-layer expert loads, the sequence-wise balance loss) and aux-loss-free bias updates, and the
// incremental forward over a KV cache used by generate.h.
// What it is not: a tokenizer, a sampler or an optimiser; it is single-device and precision-agnostic
// (fp32 / bf16; RMSNorm, softmax and the router accumulate in fp32 as HF does).
//
// Conventions and departures worth knowing:
//   * forward() with no position_ids uses positions arange(T) for every row, exactly like HF's forward
//     with an attention_mask and no position_ids (a left-padded row's first real token sits at position
//     = number of pads). Generation instead derives positions from the mask (cumsum - 1), like HF generate.
//   * `e_score_correction_bias` is a buffer (fp32), not a parameter: named_parameters() leaves it out (the
//     optimiser must not touch it); update_expert_bias() moves it; state_dict() and save() include it.
//   * MTP (DeepSeek-V3, weights at layer index num_hidden_layers): loaded when present, saved back. Its
//     embed_tokens / shared_head.head are the main model's when the checkpoint's copies are bitwise equal
//     to them (the DeepSeek-V3 release) or absent (a model made by init_random): then they are shared, as
//     in the paper, and written out as copies on save; otherwise they are separate parameters.
//   * The MTP module consumes the main model's FINAL-NORMED hidden state (what forward() returns; vLLM
//     and Megatron do the same) concatenated as [enorm(emb(t_{i+1})) ; hnorm(h_i)].
//   * logits() computes the LM head in fp32 even for bf16 models (log-probs for the GRPO ratio need it).
//   * The rollout copy (make_rollout_copy(WeightFormat::kFp8)): a second set of layer bindings whose big
//     projections carry FP8 forms (Linear::fp8; routed experts stacked in MoeWeights::fp8), quantised
//     128x128 from the trainable weights. Norms, embeddings, router, correction bias, lm_head and
//     kv_b_proj (the absorbed MLA reads it as per-head matrices, not through linear()) are the trainable
//     tensors themselves, shared, never copied. Only the cached forward (generation) uses it; forward()
//     and everything trained stay dense, and the checkpoint layout never changes (ARCHITECTURE.md rule 5).
//     It goes stale when a quantised weight changes: refresh_rollout_copy() after each optimizer step
//     (re-quantises in place, so captured CUDA graphs stay valid); a stale copy is detected through the
//     tensors' version counters and generation refuses it rather than sample from old weights. clone()
//     does not carry the copy.
//   * Sequence classifiers (config.is_sequence_classifier(): Qwen2ForSequenceClassification, ...; reward
//     models): the trunk plus `score.weight` [num_labels, H] (HF's nn.Linear(H, num_labels, bias=False)) in
//     place of lm_head, never tied, no MTP; saved and loaded under HF's names (`model.*` + `score.weight`),
//     so AutoModelForSequenceClassification loads the directory. logits() then returns the score head's
//     output [.., num_labels] (fp32) at every position, which keeps the trainer's logit probe working;
//     sequence_scores() reads it at each row's last non-pad token as HF does; lm_head_weight(), the
//     cached forward and generation refuse such a model (it has no LM head). to_sequence_classifier()
//     makes one from a causal LM.
//   * decode_step() is the capture-ready single-token step: fixed shapes, no host reads (see attention.h
//     for the static slot write and the paged MLA cache); generate.h records it in a CUDA graph.
//
// Letters: B batch, T tokens, S new tokens, H hidden, V vocab, E routed experts, C cache capacity.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include <ATen/ATen.h>

#include "model/attention.h"
#include "model/config.h"
#include "model/layers.h"
#include "model/moe.h"
#include "model/rope.h"

namespace r1::model {

struct ForwardOutput {
  at::Tensor hidden;                    // [B, T, H] after the final norm
  std::vector<at::Tensor> expert_load;  // per MoE layer (in layer order) [E] int64 token counts of this forward
  at::Tensor seq_balance_loss;          // scalar, sum over MoE layers of sum_i f_i P_i (mean over sequences);
                                        // defined only when requested; multiply by the recipe's alpha
};

// The KV cache of a batch being decoded: preallocated to `capacity` slots; slots [0, length) are filled.
// All rows share slot indices (prompts are left-padded); key_valid marks the real tokens. A paged MLA
// cache (MlaMode::kPaged) stores latents by position instead, in the layout of attention.h.
struct KVCache {
  std::vector<LayerCache> layers;  // main layers only
  at::Tensor key_valid;            // [B, C] bool
  int64_t length = 0;
  MlaMode mla_mode = MlaMode::kAbsorbed;
  at::Tensor slot;                 // int64 [1] on the device, == length: where decode_step writes next
  at::Tensor block_table;          // int32 [B, C'/64], paged MLA only: block_table[b][i] = b*C'/64 + i
  int64_t batch() const { return key_valid.size(0); }
  int64_t capacity() const { return key_valid.size(1); }
  // Selects rows (int64 indices into the current batch; repeats allowed): drops finished sequences, or
  // expands a prefilled prompt to its copies (prefix sharing). Rebuilds the paged block table.
  void keep_rows(const at::Tensor& rows);
  int64_t bytes() const;  // memory held by the cache tensors
};

enum class WeightFormat { kDense, kFp8 };

// What the rollout copy holds and what its last (re)quantisation cost; the trainer logs `seconds`.
struct RolloutCopyStats {
  WeightFormat format = WeightFormat::kDense;
  int64_t matrices = 0;   // weight matrices held in FP8 (each routed expert counts 3)
  int64_t bytes = 0;      // FP8 codes + fp32 scales
  double seconds = 0;     // wall time of the last make/refresh, device work included (synchronised)
  int64_t refreshes = 0;  // make + refresh calls so far
};

struct ParameterCounts {
  int64_t total = 0;      // main model (embeddings, layers, final norm, LM head unless tied, or the score head)
  int64_t activated = 0;  // per token: total minus the routed experts a token does not use
  int64_t mtp = 0;        // the MTP module's own tensors (0 if none)
  int64_t embedding = 0;  // embed_tokens (+ lm_head when untied; a score head is not counted here)
};

class CausalLM {
 public:
  // Reads config.json and the safetensors checkpoint in `dir`; weights converted to `dtype`
  // (e_score_correction_bias stays fp32), FP8 weights dequantised. Errors name the file and tensor.
  static std::unique_ptr<CausalLM> load(const std::string& dir, at::ScalarType dtype = at::kFloat,
                                        at::Device device = at::kCPU);
  // HF-style initialisation: matrices ~ N(0, initializer_range), norms 1, biases 0; deterministic per seed
  // and device type (on a GPU the weights are drawn there, by the device's generator).
  // Creates the MTP module when config.num_nextn_predict_layers > 0 (embedding and head shared).
  static std::unique_ptr<CausalLM> init_random(const ModelConfig& config, uint64_t seed,
                                               at::ScalarType dtype = at::kFloat, at::Device device = at::kCPU);
  // Writes an HF directory (config.json, generation_config.json, model.safetensors or shards, tokenizer
  // files copied from tokenizer_src_dir when non-empty) atomically.
  void save(const std::string& dir, const std::string& tokenizer_src_dir = "") const;
  // generation_config.json as loaded ("" for a model made by init_random: save() then derives it from
  // config.json, hf_checkpoint.h default_generation_config); a text set here is what save() writes.
  const std::string& generation_config_json() const { return generation_config_json_; }
  void set_generation_config_json(std::string text) { generation_config_json_ = std::move(text); }
  // A deep copy (its own tensors), e.g. for the frozen reference policy; on `device` when given (a
  // reference kept in host memory is cloned onto the policy's device for its forward, then dropped).
  std::unique_ptr<CausalLM> clone(std::optional<at::Device> device = std::nullopt) const;
  // A sequence classifier (reward model) started from the causal LM `lm`: a copy of its trunk (embedding,
  // layers, final norm, correction-bias buffers; bitwise), no LM head and no MTP module, a fresh score head
  // [num_labels, H] ~ N(0, initializer_range) drawn from `seed` (the device's generator on a GPU, as
  // init_random), same dtype and device. The config becomes the architecture's *ForSequenceClassification
  // class with num_labels, num_nextn_predict_layers 0 (MTP dropped silently) and, when given, pad_token_id
  // (else the LM's, which may be absent: then only single rows can be scored). generation_config.json is
  // not carried (a classifier does not generate). An r1::Error if `lm` is already a classifier or
  // num_labels < 1.
  static std::unique_ptr<CausalLM> to_sequence_classifier(const CausalLM& lm, int64_t num_labels, uint64_t seed,
                                                          std::optional<int64_t> pad_token_id = std::nullopt);

  const ModelConfig& config() const { return config_; }
  at::ScalarType dtype() const { return dtype_; }
  at::Device device() const { return device_; }

  std::vector<std::pair<std::string, at::Tensor>> named_parameters() const;  // trainable, HF names, incl. MTP
  std::vector<std::pair<std::string, at::Tensor>> named_buffers() const;     // e_score_correction_bias
  std::vector<std::pair<std::string, at::Tensor>> state_dict() const;        // parameters then buffers
  at::Tensor tensor(const std::string& name) const;                          // throws if unknown
  void set_requires_grad(bool on);
  // Copies every parameter and buffer of `other` (same config) into this model in place.
  void copy_parameters_from(const CausalLM& other);

  // Activation checkpointing per decoder layer (model/activation_checkpoint.cpp): when on, a forward that
  // records gradients keeps only each layer's input and recomputes the layer during the backward pass (less
  // memory, one more forward per layer; the same gradients). Off by default; the trainers set it from their
  // recipe's activation_checkpointing key. Forwards without grad (rollouts, scoring) are unaffected.
  void set_activation_checkpointing(bool on) { activation_checkpointing_ = on; }
  bool activation_checkpointing() const { return activation_checkpointing_; }

  // Training / scoring forward. input_ids [B, T] int64; attention_mask [B, T] (1 = real token, undefined
  // = all real) masks padded keys (causality is added), OR a [B, 1, T, T] additive bias (0 = may attend,
  // -inf = may not; causality is the caller's, e.g. block-diagonal for packed sequences; every query must be
  // allowed at least one key); position_ids [B, T] default arange(T) per row. segment_ids [B, T] int64
  // (packed rows, rl/lm_batch.h): 0 marks padding, which MoE neither routes nor counts in expert_load, and
  // each other id is one packed sequence for the sequence-wise balance loss. Without a token mask or
  // segment ids, MoE routes every token and a row is one sequence.
  ForwardOutput forward(const at::Tensor& input_ids, const at::Tensor& attention_mask = {},
                        const at::Tensor& position_ids = {}, bool seq_balance_loss = false,
                        const at::Tensor& segment_ids = {}) const;
  // [V, H] (tied → the embedding); an r1::Error for a sequence classifier.
  at::Tensor lm_head_weight() const;
  // [.., H] → [.., V] fp32 through the LM head; for a sequence classifier [.., num_labels] fp32 through the
  // score head.
  at::Tensor logits(const at::Tensor& hidden) const;

  // Sequence classifiers: the score head [num_labels, H] (an r1::Error for a causal LM), and the scores of a
  // batch, [B, num_labels] fp32: forward(input_ids, attention_mask) (positions arange(T) per row, as HF), the
  // score head at position last_non_pad_index(input_ids, config().pad_token_id) of each row. Differentiable
  // (training a reward model: set_requires_grad(true) first). Left- and right-padded batches of the same
  // texts give the same scores up to rounding (RoPE is relative, pads are masked).
  at::Tensor score_weight() const;
  at::Tensor sequence_scores(const at::Tensor& input_ids, const at::Tensor& attention_mask = {}) const;

  // MTP. hidden [B, T, H] from forward(), input_ids/attention_mask [B, T] → [B, T-1, H]: position i combines
  // h_i with the embedding of token i+1 and predicts token i+2 through mtp_logits(). Optional expert loads of
  // the MTP block's MoE. For packed batches pass the same [B, 1, T, T] additive bias and position_ids [B, T]
  // as to forward(): the MTP block's attention then stays inside each packed sequence (its query/key i is
  // token i's slot) and its positions restart with them.
  bool has_mtp() const { return has_mtp_; }
  at::Tensor mtp_hidden(const at::Tensor& hidden, const at::Tensor& input_ids, const at::Tensor& attention_mask = {},
                        std::vector<at::Tensor>* expert_load = nullptr, const at::Tensor& position_ids = {}) const;
  at::Tensor mtp_logits(const at::Tensor& mtp_hidden) const;  // [.., V] fp32

  // Aux-loss-free balancing (DeepSeek-V3): per MoE layer bias_e += gamma * sign(mean_load - load_e). Takes
  // one [E] load per main MoE layer (as forward() returns them), optionally followed by the MTP block's.
  void update_expert_bias(const std::vector<at::Tensor>& expert_load, double gamma);
  int64_t num_moe_layers() const;  // main layers only

  // MLA computation used by forward() (default naive) and by caches made with new_cache() (default
  // absorbed). kPaged is a cache mode only (an r1::Error as the forward mode).
  void set_mla_modes(MlaMode forward_mode, MlaMode cache_mode);

  // Incremental decoding (causal LMs only: a sequence classifier is an r1::Error). new_cache: empty cache
  // for `batch` rows and `capacity` slots. forward_cached: appends S tokens (input_ids [B, S], positions
  // [B, S], valid [B, S] or undefined = all real) at slot cache.length and returns their final-normed hidden
  // states [B, S, H]. Only a defined `valid` costs a host read (whether any token is padding). A paged MLA
  // cache needs positions = the row's count of earlier real tokens (cumsum(mask) - 1) and takes several
  // tokens per row only as the first call.
  // Run it under at::NoGradGuard / c10::InferenceMode. Uses the rollout copy when there is one.
  KVCache new_cache(int64_t batch, int64_t capacity) const;
  at::Tensor forward_cached(const at::Tensor& input_ids, const at::Tensor& positions, const at::Tensor& valid,
                            KVCache& cache) const;
  // The capture-ready single-token step: tokens [B], positions [B] (int64, on the model's device), every
  // row real. Writes at the device-side cache.slot (paged MLA: at the positions) and attends over the
  // whole capacity, so shapes and launches are the same at every step and nothing is read on the host;
  // advances cache.slot on the device and cache.length on the host (a CUDA graph replay of this call
  // runs only the device part: its caller advances cache.length). Returns [B, 1, H]. MoE layers need the
  // FP8 rollout copy (the dense expert loop reads counts on the host): an r1::Error otherwise.
  at::Tensor decode_step(const at::Tensor& tokens, const at::Tensor& positions, KVCache& cache) const;

  // The rollout copy (see the header comment). make_rollout_copy(kFp8) quantises (or re-quantises) it;
  // make_rollout_copy(kDense) drops it; a sequence classifier refuses kFp8 (it does not generate, and only the
  // cached forward would use the copy). refresh_rollout_copy() re-quantises in place from the current
  // weights (an r1::Error without a copy). Both return the stats, `seconds` being what the call took.
  RolloutCopyStats make_rollout_copy(WeightFormat format);
  RolloutCopyStats refresh_rollout_copy();
  bool has_rollout_copy() const { return rollout_stats_.format != WeightFormat::kDense; }
  const RolloutCopyStats& rollout_copy_stats() const { return rollout_stats_; }
  // True when a weight the copy was quantised from has changed since (version counters; host only).
  bool rollout_copy_stale() const;

  ParameterCounts parameter_counts() const;

 private:
  struct DecoderLayer {
    at::Tensor input_norm, post_attention_norm;
    AttentionWeights attn;
    bool is_moe = false;
    MlpWeights mlp;
    MoeWeights moe;
  };
  struct Mtp {
    at::Tensor enorm, hnorm, head_norm;
    Linear eh_proj;
    at::Tensor embed, head;  // undefined → shared with the main model
    DecoderLayer block;
  };
  struct Entry {
    std::string name;
    at::Tensor tensor;
    bool buffer = false;
  };

  explicit CausalLM(ModelConfig config) : config_(std::move(config)) {}
  void add(const std::string& name, at::Tensor t, bool buffer = false);
  const at::Tensor& get(const std::string& name) const;
  void bind();  // fills the structs from the entries
  void bind_layer(DecoderLayer& layer, const std::string& prefix, int64_t index);
  at::Tensor layer_forward(const DecoderLayer& layer, const at::Tensor& h, const AttentionInputs& in, MlaMode mode,
                           const at::Tensor& valid, MoeStats* stats, bool balance,
                           const at::Tensor& sequence_ids = {}) const;
  // layer_forward of layers_[layer] under activation checkpointing (model/activation_checkpoint.cpp).
  at::Tensor checkpointed_layer_forward(size_t layer, const at::Tensor& h, const AttentionInputs& in,
                                       const at::Tensor& valid, MoeStats* stats, bool balance,
                                       const at::Tensor& sequence_ids) const;
  // The layers the cached forward runs: the rollout copy's when there is one.
  const std::vector<DecoderLayer>& cached_layers() const { return has_rollout_copy() ? rollout_layers_ : layers_; }
  void check_has_lm_head(const char* op) const;  // r1::Error naming `op` for a sequence classifier
  at::Tensor run_cached_layers(at::Tensor h, AttentionInputs& in, KVCache& cache, const at::Tensor& moe_valid) const;
  // Calls fn(Linear&) on each Linear of a layer that the FP8 copy quantises (all projections but kv_b_proj,
  // the dense MLP or the shared experts); the routed experts go through quantize_experts. rollout_copy.cpp.
  template <class Layer, class Fn>
  static void for_each_fp8_linear(Layer& layer, Fn&& fn);
  int64_t rollout_source_version() const;  // sum of the version counters of the quantised weights

  ModelConfig config_;
  at::ScalarType dtype_ = at::kFloat;
  at::Device device_ = at::kCPU;
  std::vector<Entry> entries_;
  std::unordered_map<std::string, size_t> index_;
  RotaryEmbedding rope_;
  at::Tensor embed_, final_norm_, lm_head_;  // lm_head_ undefined when tied or for a sequence classifier
  at::Tensor score_;                         // [num_labels, H]: sequence classifiers only
  std::vector<DecoderLayer> layers_;
  bool has_mtp_ = false;
  Mtp mtp_;
  MlaMode forward_mla_mode_ = MlaMode::kNaive;
  MlaMode cache_mla_mode_ = MlaMode::kAbsorbed;
  std::vector<DecoderLayer> rollout_layers_;  // layers_ plus FP8 forms; empty without a rollout copy
  RolloutCopyStats rollout_stats_;
  int64_t rollout_version_ = 0;               // rollout_source_version() at the last (re)quantisation
  std::string generation_config_json_;  // as loaded, written back by save()
  bool activation_checkpointing_ = false;

  friend struct ModelBuilder;
  friend struct CheckpointedLayer;
};

// The parameter layout of a config: (HF name, shape, kind) in checkpoint order. Kinds: "normal" (matrices,
// embeddings), "ones" (norm weights), "zeros" (biases), "buffer" (e_score_correction_bias, fp32).
struct ParamSpec {
  std::string name;
  std::vector<int64_t> shape;
  std::string kind;
};
std::vector<ParamSpec> parameter_layout(const ModelConfig& config, bool with_mtp);

// The pooled position of each row of a sequence classifier, HF's rule (transformers >= 4.47
// *ForSequenceClassification.forward): with a pad id, the RIGHTMOST t with input_ids[b, t] != pad_id, i.e.
// argmax over t of t * (input_ids[b, t] != pad_id) — right and left padding alike; a row of pads only gives
// 0. Without a pad id, T - 1, and only for a batch of one row (an r1::Error otherwise: set pad_token_id in
// config.json). input_ids [B, T] int64 → [B] int64 on its device. The attention mask plays no part, as in
// HF: a text whose last real token IS the pad id (pad == eos and the eos appended) is read one token
// earlier (at its last token that is not the pad id); callers avoid that by choosing a pad id that never
// ends a text.
at::Tensor last_non_pad_index(const at::Tensor& input_ids, std::optional<int64_t> pad_id);

// Parameter counts of a config without building the model (buffers excluded; the MTP module counted
// without its optional own embedding/head copies).
ParameterCounts count_parameters(const ModelConfig& config, bool with_mtp);

}  // namespace r1::model
