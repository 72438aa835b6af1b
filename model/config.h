// ModelConfig: the model hyperparameters read from a Hugging Face config.json, for the four architectures
// r1 runs: DeepseekV3ForCausalLM, DeepseekV2ForCausalLM, Qwen2ForCausalLM and LlamaForCausalLM, each also as
// its *ForSequenceClassification class (the same trunk with a `score` head of num_labels outputs: reward
// models, CausalLM's sequence-classification variant).
//
// What it is: one flat struct with the upstream key names (q_lora_rank, n_routed_experts, ...), every
// default visible in config.cpp (the HF transformers 5 defaults per architecture), plus the RoPE
// parameters normalised from either config dialect: `rope_scaling` + a top-level `rope_theta` (older
// files such as the DeepSeek-V3 release) or `rope_parameters` (transformers >= 5).
// What it is not: a generic HF config; unknown architectures, unsupported options (sliding windows,
// activations other than SiLU, RoPE types other than default/linear/yarn/llama3) and missing structural
// keys are r1::Error naming the file and the key.
// The non-obvious part: to_json() re-serialises into the ORIGINAL document, so keys r1 does not know
// (auto_map, quantization_config, ...) survive a load → save round trip, values that did not change keep
// their original spelling (4 stays 4, not 4.0), and the RoPE dialect of the source file is kept.
//
// Sequence classifiers, as HF reads them: the number of labels is the size of `id2label` when present, else
// the key `num_labels`, else 2 (PretrainedConfig's default; r1 always writes both keys, so only foreign
// files rely on it); both present and disagreeing is an error (HF would silently take id2label). A
// classifier has no MTP module: num_nextn_predict_layers > 0 is an error (to_sequence_classifier sets it to
// 0 when it converts a causal LM). Written back: the class name, `num_labels`, and `id2label` / `label2id`
// (kept when they already have num_labels entries, else HF's defaults {"0": "LABEL_0"} / {"LABEL_0": 0}).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace r1::model {

enum class Architecture { kDeepseekV3, kDeepseekV2, kQwen2, kLlama };

// What sits on the final-normed hidden states: the LM head (`lm_head.weight` [V, H], or the tied embedding)
// or HF's sequence-classification head (`score.weight` [num_labels, H], no bias, never tied).
enum class Head { kCausalLM, kSequenceClassification };

// RoPE parameters after normalising both dialects.
struct RopeParameters {
  std::string rope_type = "default";  // default | linear | yarn | llama3
  double rope_theta = 10000.0;
  double factor = 1.0;
  // yarn
  int64_t original_max_position_embeddings = 0;  // 0: absent (yarn/llama3 then use max_position_embeddings)
  double beta_fast = 32.0, beta_slow = 1.0;
  double mscale = 0.0, mscale_all_dim = 0.0;      // 0: absent (HF tests them for truthiness)
  std::optional<double> attention_factor;
  bool truncate = true;
  // llama3
  double low_freq_factor = 1.0, high_freq_factor = 4.0;
};

struct ModelConfig {
  // Identity.
  Architecture arch = Architecture::kDeepseekV3;
  Head head = Head::kCausalLM;
  std::string architecture;  // HF class name, e.g. "DeepseekV3ForCausalLM", "Qwen2ForSequenceClassification"
  std::string model_type;    // "deepseek_v3", "deepseek_v2", "qwen2", "llama"
  std::string dtype;         // "float32" / "bfloat16" / ... as written in the file ("" if absent)

  // Transformer trunk.
  int64_t vocab_size = 0;
  int64_t hidden_size = 0;
  int64_t intermediate_size = 0;  // dense MLP width
  int64_t num_hidden_layers = 0;
  int64_t num_attention_heads = 0;
  int64_t num_key_value_heads = 0;  // GQA (Qwen2/Llama); equals num_attention_heads for MLA
  int64_t head_dim = 0;             // GQA head size (Qwen2/Llama)
  double rms_norm_eps = 1e-6;
  int64_t max_position_embeddings = 4096;
  bool tie_word_embeddings = false;
  bool attention_bias = false;  // bias on q/k/v/o (Llama, DeepSeek q_a/kv_a/o); Qwen2 always has q/k/v bias
  bool mlp_bias = false;        // Llama / DeepSeek-V2 MLP biases
  std::string hidden_act = "silu";
  double initializer_range = 0.02;  // std of the random initialisation (init_random)
  RopeParameters rope;

  // Multi-head latent attention (DeepSeek-V2/V3).
  int64_t q_lora_rank = 0;  // 0: no q-LoRA (q_lora_rank null) → a single q_proj
  int64_t kv_lora_rank = 0;
  int64_t qk_nope_head_dim = 0;
  int64_t qk_rope_head_dim = 0;
  int64_t v_head_dim = 0;
  bool rope_interleave = true;  // DeepSeek-V3: RoPE acts on adjacent pairs (the released weights' layout)

  // DeepSeekMoE.
  int64_t n_routed_experts = 0;  // 0: dense model
  int64_t n_shared_experts = 0;
  int64_t num_experts_per_tok = 0;
  int64_t moe_intermediate_size = 0;
  int64_t first_k_dense_replace = 0;
  int64_t moe_layer_freq = 1;
  int64_t n_group = 1;
  int64_t topk_group = 1;
  bool norm_topk_prob = false;
  double routed_scaling_factor = 1.0;
  std::string scoring_func = "sigmoid";  // V3: sigmoid (+ e_score_correction_bias); V2: softmax
  std::string topk_method = "noaux_tc";  // V3: noaux_tc; V2: greedy | group_limited_greedy

  // Multi-token prediction (DeepSeek-V3): number of MTP modules (r1 runs at most one).
  int64_t num_nextn_predict_layers = 0;

  // Sequence classifiers only (head == kSequenceClassification): outputs of the score head.
  int64_t num_labels = 1;

  // Special tokens. A sequence classifier reads row b's score at its last token != pad_token_id
  // (causal_lm.h last_non_pad_index); without a pad_token_id it scores batches of one row only.
  std::optional<int64_t> bos_token_id, pad_token_id;
  std::vector<int64_t> eos_token_id;

  // Where it came from (for errors) and the original text (for to_json); both may be empty.
  std::string origin;
  std::string source_json;

  static ModelConfig from_file(const std::string& path);
  static ModelConfig from_json(const std::string& text, const std::string& origin);
  // config.json text (pretty, 2-space indent) with every known key set from the fields above and all other
  // keys of the source document kept. Throws r1::Error if the fields are inconsistent (see validate()).
  std::string to_json() const;
  // Checks the invariants (positive sizes, divisibility, supported options); errors name `origin`.
  void validate() const;

  // Derived quantities.
  bool is_sequence_classifier() const { return head == Head::kSequenceClassification; }
  bool is_mla() const { return arch == Architecture::kDeepseekV3 || arch == Architecture::kDeepseekV2; }
  bool has_moe() const { return n_routed_experts > 0; }
  bool is_moe_layer(int64_t layer) const;  // layer index in [0, num_hidden_layers] (the MTP block included)
  int64_t qk_head_dim() const { return qk_nope_head_dim + qk_rope_head_dim; }
  int64_t rope_dim() const { return is_mla() ? qk_rope_head_dim : head_dim; }
  bool has_qkv_bias() const { return arch == Architecture::kQwen2 || attention_bias; }
  // Softmax scale of attention: head_dim^-0.5, and for DeepSeek-V3 with YaRN times mscale(factor,
  // mscale_all_dim)^2 (HF's DeepSeek-V2 port does not apply the mscale; neither do we for V2).
  double attention_scale() const;
  // One-paragraph human summary for `r1 info`.
  std::string summary() const;
};

// The HF class name of an architecture with a head: "Qwen2ForCausalLM", "Qwen2ForSequenceClassification".
const char* architecture_name(Architecture arch, Head head = Head::kCausalLM);

}  // namespace r1::model
