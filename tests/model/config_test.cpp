// ModelConfig: both RoPE dialects, architecture defaults, located errors, and the re-serialiser that keeps
// unknown keys and the source dialect.
#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "common/error.h"
#include "common/fs.h"
#include "common/json.h"
#include "model/config.h"
#include "model_test_util.h"

namespace r1::model {
namespace {

using testing::config_of;

const std::string kModels = std::string(R1_TEST_DATA) + "/models/";

std::string error_of(const std::string& json) {
  try {
    ModelConfig::from_json(json, "cfg.json");
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(ModelConfig, ReadsTheFixturesInTheTransformers5Dialect) {
  ModelConfig c = ModelConfig::from_file(kModels + "deepseek_v3_tiny/config.json");
  EXPECT_EQ(c.arch, Architecture::kDeepseekV3);
  EXPECT_EQ(c.q_lora_rank, 48);
  EXPECT_EQ(c.rope.rope_type, "yarn");
  EXPECT_DOUBLE_EQ(c.rope.factor, 4.0);
  EXPECT_EQ(c.rope.original_max_position_embeddings, 64);
  EXPECT_TRUE(c.rope_interleave);
  EXPECT_EQ(c.n_group, 4);
  EXPECT_EQ(c.eos_token_id, std::vector<int64_t>{1});
  // softmax scale = 24^-0.5 * (0.1 ln 4 + 1)^2
  const double m = 0.1 * std::log(4.0) + 1.0;
  EXPECT_NEAR(c.attention_scale(), m * m / std::sqrt(24.0), 1e-12);

  ModelConfig n = ModelConfig::from_file(kModels + "deepseek_v3_tiny_norope_scaling/config.json");
  EXPECT_EQ(n.q_lora_rank, 0);
  EXPECT_EQ(n.rope.rope_type, "default");
  EXPECT_NEAR(n.attention_scale(), 1 / std::sqrt(24.0), 1e-12);

  ModelConfig q = ModelConfig::from_file(kModels + "qwen2_tiny/config.json");
  EXPECT_TRUE(q.tie_word_embeddings);
  EXPECT_TRUE(q.has_qkv_bias());
  EXPECT_EQ(q.head_dim, 16);
  EXPECT_DOUBLE_EQ(q.rope.rope_theta, 1e6);
  EXPECT_TRUE(q.eos_token_id.empty());

  ModelConfig l = ModelConfig::from_file(kModels + "llama3_tiny/config.json");
  EXPECT_EQ(l.rope.rope_type, "llama3");
  EXPECT_DOUBLE_EQ(l.rope.factor, 8.0);
  EXPECT_FALSE(l.has_qkv_bias());
}

TEST(ModelConfig, ReadsTheOldDialectLikeTheDeepSeekV3Release) {
  // Keys as in deepseek-ai/DeepSeek-V3's config.json: rope_scaling with "type", top-level rope_theta, no
  // rope_interleave (defaults to true), scoring_func/topk_method spelled out.
  const std::string json = R"({"architectures": ["DeepseekV3ForCausalLM"], "model_type": "deepseek_v3",
    "vocab_size": 129280, "hidden_size": 7168, "intermediate_size": 18432, "moe_intermediate_size": 2048,
    "num_hidden_layers": 61, "first_k_dense_replace": 3, "num_attention_heads": 128, "num_key_value_heads": 128,
    "q_lora_rank": 1536, "kv_lora_rank": 512, "qk_nope_head_dim": 128, "qk_rope_head_dim": 64, "v_head_dim": 128,
    "n_routed_experts": 256, "num_experts_per_tok": 8, "n_shared_experts": 1, "n_group": 8, "topk_group": 4,
    "norm_topk_prob": true, "routed_scaling_factor": 2.5, "scoring_func": "sigmoid", "topk_method": "noaux_tc",
    "max_position_embeddings": 163840, "rope_theta": 10000,
    "rope_scaling": {"beta_fast": 32, "beta_slow": 1, "factor": 40, "mscale": 1.0, "mscale_all_dim": 1.0,
                     "original_max_position_embeddings": 4096, "type": "yarn"},
    "num_nextn_predict_layers": 1, "quantization_config": {"fmt": "e4m3", "weight_block_size": [128, 128]}})";
  ModelConfig c = config_of(json);
  EXPECT_EQ(c.rope.rope_type, "yarn");
  EXPECT_DOUBLE_EQ(c.rope.factor, 40.0);
  EXPECT_DOUBLE_EQ(c.rope.rope_theta, 10000.0);
  EXPECT_TRUE(c.rope_interleave);
  EXPECT_EQ(c.num_nextn_predict_layers, 1);
  EXPECT_TRUE(c.is_moe_layer(3));
  EXPECT_FALSE(c.is_moe_layer(2));
  const double m = 0.1 * std::log(40.0) + 1.0;
  EXPECT_NEAR(c.attention_scale(), m * m / std::sqrt(192.0), 1e-12);

  // Re-serialised: same dialect, unknown keys kept, unchanged values keep their spelling.
  json::Document d = json::parse(c.to_json(), "out");
  EXPECT_TRUE(d.HasMember("quantization_config"));
  EXPECT_FALSE(d.HasMember("rope_parameters"));
  EXPECT_TRUE(d["rope_scaling"].IsObject());
  EXPECT_TRUE(d["rope_scaling"]["factor"].IsInt());
  EXPECT_EQ(std::string(d["rope_scaling"]["type"].GetString()), "yarn");
  ModelConfig again = config_of(c.to_json());
  EXPECT_EQ(again.to_json(), c.to_json());
}

TEST(ModelConfig, BothDialectsGiveTheSameConfig) {
  ModelConfig a = ModelConfig::from_file(kModels + "llama3_tiny/config.json");
  json::Document d = json::parse(read_file(kModels + "llama3_tiny/config.json"), "x");
  json::Value rope(d["rope_parameters"], d.GetAllocator());
  d.RemoveMember("rope_parameters");
  const double theta = rope["rope_theta"].GetDouble();
  rope.RemoveMember("rope_theta");
  json::set_member(d, d, "rope_scaling", std::move(rope));
  json::set_member(d, d, "rope_theta", json::Value(theta));
  ModelConfig b = config_of(json::dump(d));
  EXPECT_EQ(b.rope.rope_type, a.rope.rope_type);
  EXPECT_EQ(b.rope.rope_theta, a.rope.rope_theta);
  EXPECT_EQ(b.rope.factor, a.rope.factor);
  EXPECT_EQ(b.rope.original_max_position_embeddings, a.rope.original_max_position_embeddings);
  EXPECT_EQ(b.rope.low_freq_factor, a.rope.low_freq_factor);
  EXPECT_EQ(b.rope.high_freq_factor, a.rope.high_freq_factor);
}

TEST(ModelConfig, RoundTripKeepsUnknownKeysAndChangesWhatChanged) {
  ModelConfig c = config_of(testing::tiny_v3_json());
  c.num_hidden_layers = 5;
  c.q_lora_rank = 0;
  c.dtype = "bfloat16";
  c.rope.factor = 8.0;
  json::Document d = json::parse(c.to_json(), "out");
  EXPECT_EQ(d["num_hidden_layers"].GetInt(), 5);
  EXPECT_TRUE(d["q_lora_rank"].IsNull());
  EXPECT_EQ(std::string(d["dtype"].GetString()), "bfloat16");
  EXPECT_EQ(d["rope_parameters"]["factor"].GetDouble(), 8.0);
  EXPECT_EQ(std::string(d["auto_map"]["AutoModel"].GetString()), "x.Y");
  ModelConfig back = config_of(c.to_json());
  EXPECT_EQ(back.num_hidden_layers, 5);
  EXPECT_EQ(back.q_lora_rank, 0);
  EXPECT_EQ(back.rope.factor, 8.0);
  // The fixtures' own config.json files survive a round trip key for key.
  for (const char* name : {"deepseek_v3_tiny", "deepseek_v3_tiny_norope_scaling", "qwen2_tiny", "llama3_tiny"}) {
    const std::string text = read_file(kModels + name + "/config.json");
    json::Document orig = json::parse(text, name);
    json::Document out = json::parse(ModelConfig::from_json(text, name).to_json(), name);
    for (auto it = orig.MemberBegin(); it != orig.MemberEnd(); ++it) {
      ASSERT_TRUE(out.HasMember(it->name)) << name << ": lost key " << it->name.GetString();
      EXPECT_TRUE(out[it->name] == it->value) << name << ": key " << it->name.GetString() << " changed";
    }
  }
}

TEST(ModelConfig, ErrorsNameTheFileAndTheKey) {
  EXPECT_NE(error_of(R"({"architectures": ["GPT2LMHeadModel"], "vocab_size": 1})").find("cfg.json: key 'architectures': unsupported architecture 'GPT2LMHeadModel'"), std::string::npos);
  EXPECT_NE(error_of(R"({"vocab_size": 1})").find("cfg.json: missing required key 'architectures'"), std::string::npos);
  std::string no_hidden = testing::tiny_qwen2_json();
  no_hidden.replace(no_hidden.find("\"hidden_size\": 32,"), 18, "");
  EXPECT_NE(error_of(no_hidden).find("cfg.json: missing required key 'hidden_size'"), std::string::npos);
  std::string bad_type = testing::tiny_qwen2_json();
  bad_type.replace(bad_type.find("\"num_hidden_layers\": 2"), 22, "\"num_hidden_layers\": \"2\"");
  EXPECT_NE(error_of(bad_type).find("key 'num_hidden_layers': expected an integer, got string"), std::string::npos);
  std::string no_kv = testing::tiny_v3_json();
  no_kv.replace(no_kv.find("\"kv_lora_rank\": 16,"), 19, "");
  EXPECT_NE(error_of(no_kv).find("missing required key 'kv_lora_rank'"), std::string::npos);
  std::string dyn = testing::tiny_v3_json();
  dyn.replace(dyn.find("\"rope_type\": \"yarn\""), 19, "\"rope_type\": \"dynamic\"");
  EXPECT_NE(error_of(dyn).find("cfg.json: rope_parameters: key 'rope_type': unsupported RoPE type 'dynamic'"),
            std::string::npos);
  std::string groups = testing::tiny_v3_json();
  groups.replace(groups.find("\"n_group\": 4"), 12, "\"n_group\": 3");
  EXPECT_NE(error_of(groups).find("key 'n_group'"), std::string::npos);
  std::string sliding = testing::tiny_qwen2_json();
  sliding.replace(sliding.find("\"use_sliding_window\": false"), 27, "\"use_sliding_window\": true");
  EXPECT_NE(error_of(sliding).find("use_sliding_window"), std::string::npos);
  EXPECT_NE(error_of("{not json").find("cfg.json:1:"), std::string::npos);
  try {
    ModelConfig::from_file("/nonexistent/config.json");
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/config.json"), std::string::npos);
  }
}

TEST(ModelConfig, V2DefaultsAndOldDialect) {
  ModelConfig c = config_of(testing::tiny_v2_json());
  EXPECT_EQ(c.arch, Architecture::kDeepseekV2);
  EXPECT_EQ(c.scoring_func, "softmax");
  EXPECT_EQ(c.topk_method, "group_limited_greedy");
  EXPECT_FALSE(c.norm_topk_prob);
  EXPECT_EQ(c.rope.rope_type, "yarn");
  EXPECT_NEAR(c.attention_scale(), 1 / std::sqrt(12.0), 1e-12);  // HF's V2 port: no mscale in the softmax scale
  ModelConfig g = config_of(testing::tiny_v2_json("greedy"));
  EXPECT_EQ(g.n_group, 1);
  EXPECT_NE(config_of(testing::tiny_llama_json()).summary().find("LlamaForCausalLM"), std::string::npos);
}

}  // namespace
}  // namespace r1::model
