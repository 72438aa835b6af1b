// Small configs for the model tests: random models of every architecture, made in milliseconds.
#pragma once

#include <string>

#include "model/config.h"

namespace r1::model::testing {

// A tiny DeepSeek-V3 config: 3 layers (first dense), 8 experts in 4 groups, YaRN by default.
inline std::string tiny_v3_json(bool q_lora = true, int mtp = 1, const std::string& rope = "yarn",
                                bool interleave = true) {
  std::string rope_json = rope == "yarn"
      ? R"("rope_parameters": {"rope_type": "yarn", "rope_theta": 10000.0, "factor": 4.0, "original_max_position_embeddings": 32,
            "beta_fast": 32, "beta_slow": 1, "mscale": 1.0, "mscale_all_dim": 1.0},)"
      : R"("rope_parameters": {"rope_type": "default", "rope_theta": 10000.0},)";
  return std::string(R"({"architectures": ["DeepseekV3ForCausalLM"], "model_type": "deepseek_v3",
    "vocab_size": 97, "hidden_size": 32, "intermediate_size": 48, "moe_intermediate_size": 16,
    "num_hidden_layers": 3, "first_k_dense_replace": 1, "num_attention_heads": 4, "num_key_value_heads": 4,
    "q_lora_rank": )") + (q_lora ? "24" : "null") + R"(, "kv_lora_rank": 16, "qk_nope_head_dim": 8, "qk_rope_head_dim": 4,
    "v_head_dim": 6, "n_routed_experts": 8, "num_experts_per_tok": 2, "n_shared_experts": 1, "n_group": 4,
    "topk_group": 2, "norm_topk_prob": true, "routed_scaling_factor": 2.5, "max_position_embeddings": 128,
    "rms_norm_eps": 1e-6, "tie_word_embeddings": false, "rope_interleave": )" + (interleave ? "true" : "false") + ", " +
         rope_json + R"( "num_nextn_predict_layers": )" + std::to_string(mtp) + R"(, "bos_token_id": 0, "eos_token_id": 1,
    "initializer_range": 0.2, "auto_map": {"AutoModel": "x.Y"}})";
}

inline std::string tiny_v2_json(const std::string& topk_method = "group_limited_greedy") {
  return R"({"architectures": ["DeepseekV2ForCausalLM"], "model_type": "deepseek_v2",
    "vocab_size": 90, "hidden_size": 32, "intermediate_size": 40, "moe_intermediate_size": 12,
    "num_hidden_layers": 2, "first_k_dense_replace": 1, "num_attention_heads": 2,
    "q_lora_rank": null, "kv_lora_rank": 12, "qk_nope_head_dim": 8, "qk_rope_head_dim": 4, "v_head_dim": 8,
    "n_routed_experts": 6, "num_experts_per_tok": 2, "n_shared_experts": 2, "n_group": 3, "topk_group": 2,
    "topk_method": ")" + topk_method + R"(", "routed_scaling_factor": 1.5, "rope_theta": 10000,
    "rope_scaling": {"type": "yarn", "factor": 2.0, "original_max_position_embeddings": 64, "beta_fast": 32,
      "beta_slow": 1, "mscale": 0.707, "mscale_all_dim": 0.707}, "max_position_embeddings": 128,
    "eos_token_id": 1, "initializer_range": 0.2})";
}

inline std::string tiny_qwen2_json() {
  return R"({"architectures": ["Qwen2ForCausalLM"], "model_type": "qwen2", "vocab_size": 80, "hidden_size": 32,
    "intermediate_size": 48, "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 2,
    "rope_theta": 1000000.0, "tie_word_embeddings": true, "rms_norm_eps": 1e-6, "initializer_range": 0.2,
    "use_sliding_window": false, "eos_token_id": 2})";
}

inline std::string tiny_llama_json() {
  return R"({"architectures": ["LlamaForCausalLM"], "model_type": "llama", "vocab_size": 70, "hidden_size": 32,
    "intermediate_size": 40, "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 1,
    "head_dim": 16, "attention_bias": true, "rope_theta": 500000.0, "initializer_range": 0.2,
    "rope_scaling": {"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0,
      "original_max_position_embeddings": 32}, "max_position_embeddings": 256, "eos_token_id": [2, 3]})";
}

inline ModelConfig config_of(const std::string& json) { return ModelConfig::from_json(json, "test config.json"); }

}  // namespace r1::model::testing
