// Save → load is bit-exact and keeps HF names and shapes; MTP weights are loaded when present and saved
// back; a bad checkpoint (missing / misshaped / unexpected tensor) is an error naming the file and tensor.
#include <gtest/gtest.h>

#include <unistd.h>


#include "common/error.h"
#include "common/fs.h"
#include "common/json.h"
#include "model/causal_lm.h"
#include "model/safetensors.h"
#include "model_test_util.h"

namespace r1::model {
namespace {

using testing::config_of;

const std::string kModels = std::string(R1_TEST_DATA) + "/models/";

std::string temp_dir(const std::string& tag) {
  std::string d = "/tmp/r1_model_test_" + tag + "_" + std::to_string(getpid());
  remove_all(d);
  return d;
}

void expect_same_tensors(const CausalLM& a, const CausalLM& b) {
  auto sa = a.state_dict(), sb = b.state_dict();
  ASSERT_EQ(sa.size(), sb.size());
  for (size_t i = 0; i < sa.size(); ++i) {
    EXPECT_EQ(sa[i].first, sb[i].first);
    EXPECT_TRUE(at::equal(sa[i].second, sb[i].second)) << sa[i].first;
    EXPECT_EQ(sa[i].second.scalar_type(), sb[i].second.scalar_type()) << sa[i].first;
  }
}

TEST(ModelCheckpoint, FixtureSaveKeepsEveryHfNameShapeAndByte) {
  for (const char* name : {"deepseek_v3_tiny", "deepseek_v3_tiny_norope_scaling", "qwen2_tiny", "llama3_tiny"}) {
    auto m = CausalLM::load(kModels + name);
    const std::string dir = temp_dir(name);
    m->save(dir);
    Checkpoint orig(kModels + name), saved(dir);
    EXPECT_EQ(saved.names(), orig.names()) << name;
    for (const auto& n : orig.names()) {
      EXPECT_EQ(saved.info(n).shape, orig.info(n).shape) << n;
      EXPECT_EQ(saved.info(n).dtype, orig.info(n).dtype) << n;
      EXPECT_TRUE(at::equal(saved.load(n), orig.load(n))) << n;
    }
    EXPECT_EQ(read_file(dir + "/generation_config.json"), read_file(kModels + name + "/generation_config.json"));
    auto back = CausalLM::load(dir);
    expect_same_tensors(*m, *back);
    remove_all(dir);
  }
}

TEST(ModelCheckpoint, RandomModelsRoundTripBitExactInFp32AndBf16) {
  for (const std::string& json : {testing::tiny_v3_json(), testing::tiny_v2_json(), testing::tiny_qwen2_json(),
                                  testing::tiny_llama_json()}) {
    for (at::ScalarType dt : {at::kFloat, at::kBFloat16}) {
      auto m = CausalLM::init_random(config_of(json), 11, dt);
      const std::string dir = temp_dir("rand");
      m->save(dir);
      auto back = CausalLM::load(dir, dt);
      expect_same_tensors(*m, *back);
      EXPECT_EQ(back->has_mtp(), m->has_mtp());
      json::Document cfg = json::parse_file(dir + "/config.json");
      EXPECT_EQ(std::string(cfg["dtype"].GetString()), dt == at::kFloat ? "float32" : "bfloat16");
      remove_all(dir);
    }
  }
}

TEST(ModelCheckpoint, MtpIsSavedInTheDeepSeekLayoutAndLoadedBack) {
  auto m = CausalLM::init_random(config_of(testing::tiny_v3_json()), 1);
  ASSERT_TRUE(m->has_mtp());
  const std::string dir = temp_dir("mtp");
  m->save(dir);
  Checkpoint ck(dir);
  // Layer index num_hidden_layers = 3: enorm, hnorm, eh_proj, one block, shared_head, embed_tokens copy.
  for (const char* n : {"model.layers.3.enorm.weight", "model.layers.3.hnorm.weight", "model.layers.3.eh_proj.weight",
                        "model.layers.3.self_attn.kv_b_proj.weight", "model.layers.3.mlp.experts.7.down_proj.weight",
                        "model.layers.3.mlp.gate.e_score_correction_bias", "model.layers.3.shared_head.norm.weight",
                        "model.layers.3.shared_head.head.weight", "model.layers.3.embed_tokens.weight"}) {
    EXPECT_TRUE(ck.contains(n)) << n;
  }
  EXPECT_EQ(ck.info("model.layers.3.eh_proj.weight").shape, (std::vector<int64_t>{32, 64}));
  EXPECT_TRUE(at::equal(ck.load("model.layers.3.embed_tokens.weight"), m->tensor("model.embed_tokens.weight")));
  auto back = CausalLM::load(dir);
  EXPECT_TRUE(back->has_mtp());
  expect_same_tensors(*m, *back);  // the copies were recognised as shared: no extra parameters

  // A config without MTP ignores nothing silently: the MTP tensors are then unexpected.
  std::string cfg = read_file(dir + "/config.json");
  cfg.replace(cfg.find("\"num_nextn_predict_layers\": 1"), 29, "\"num_nextn_predict_layers\": 0");
  write_file_atomic(dir + "/config.json", cfg);
  try {
    CausalLM::load(dir);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("unexpected tensor"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("model.layers.3."), std::string::npos) << e.what();
  }
  remove_all(dir);
}

TEST(ModelCheckpoint, SeparateMtpHeadIsKeptAsItsOwnParameter) {
  auto m = CausalLM::init_random(config_of(testing::tiny_v3_json()), 1);
  const std::string dir = temp_dir("mtp_own");
  m->save(dir);
  // Rewrite the checkpoint with a different MTP head.
  Checkpoint ck(dir);
  std::vector<std::pair<std::string, at::Tensor>> tensors;
  for (const auto& n : ck.names()) tensors.emplace_back(n, ck.load(n));
  for (auto& [n, t] : tensors)
    if (n == "model.layers.3.shared_head.head.weight") t = t + 1.0;
  save_checkpoint_tensors(dir, tensors);
  auto back = CausalLM::load(dir);
  EXPECT_EQ(back->named_parameters().size(), m->named_parameters().size() + 1);
  at::Tensor h = at::randn({1, 4, 32});
  EXPECT_FALSE(at::allclose(back->mtp_logits(h), m->mtp_logits(h)));
  remove_all(dir);
}

TEST(ModelCheckpoint, BadCheckpointsAreLocatedErrors) {
  auto m = CausalLM::init_random(config_of(testing::tiny_qwen2_json()), 1);
  const std::string dir = temp_dir("bad");
  m->save(dir);
  Checkpoint ck(dir);
  std::vector<std::pair<std::string, at::Tensor>> good;
  for (const auto& n : ck.names()) good.emplace_back(n, ck.load(n));
  auto expect_error = [&](std::vector<std::pair<std::string, at::Tensor>> tensors, const std::string& needle) {
    save_checkpoint_tensors(dir, tensors);
    try {
      CausalLM::load(dir);
      ADD_FAILURE() << "expected an error mentioning " << needle;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find(dir), std::string::npos) << e.what();
    }
  };
  auto missing = good;
  missing.erase(missing.begin() + 3);
  expect_error(missing, good[3].first);
  auto misshaped = good;
  for (auto& [n, t] : misshaped)
    if (n == "model.layers.1.self_attn.k_proj.weight") t = at::zeros({17, 32});
  expect_error(misshaped, "model.layers.1.self_attn.k_proj.weight");
  auto extra = good;
  extra.emplace_back("model.layers.9.mlp.up_proj.weight", at::zeros({2, 2}));
  expect_error(extra, "model.layers.9.mlp.up_proj.weight");
  auto ints = good;
  for (auto& [n, t] : ints)
    if (n == "model.norm.weight") t = at::zeros({32}, at::kLong);
  expect_error(ints, "model.norm.weight");
  remove_all(dir);
  EXPECT_THROW(CausalLM::load("/nonexistent/model"), Error);
}

TEST(ModelCheckpoint, FusedTransformers5ExpertTensorsAreSplit) {
  auto m = CausalLM::init_random(config_of(testing::tiny_v3_json(true, 0)), 2);
  const std::string dir = temp_dir("fused");
  m->save(dir);
  Checkpoint ck(dir);
  std::vector<std::pair<std::string, at::Tensor>> tensors;  // everything but the per-expert tensors
  for (const auto& n : ck.names())
    if (n.find(".mlp.experts.") == std::string::npos) tensors.emplace_back(n, ck.load(n));
  for (int layer = 1; layer <= 2; ++layer) {
    std::vector<at::Tensor> gu, dn;
    for (int e = 0; e < 8; ++e) {
      const std::string p = "model.layers." + std::to_string(layer) + ".mlp.experts." + std::to_string(e) + ".";
      gu.push_back(at::cat({ck.load(p + "gate_proj.weight"), ck.load(p + "up_proj.weight")}, 0));
      dn.push_back(ck.load(p + "down_proj.weight"));
    }
    const std::string p = "model.layers." + std::to_string(layer) + ".mlp.experts.";
    tensors.emplace_back(p + "gate_up_proj", at::stack(gu));  // [E, 2I, H]
    tensors.emplace_back(p + "down_proj", at::stack(dn));     // [E, H, I]
  }
  save_checkpoint_tensors(dir, tensors);
  auto back = CausalLM::load(dir);
  expect_same_tensors(*m, *back);
  remove_all(dir);
}

TEST(ModelCheckpoint, CopyCloneAndCounts) {
  auto a = CausalLM::init_random(config_of(testing::tiny_v3_json()), 1);
  auto b = CausalLM::init_random(config_of(testing::tiny_v3_json()), 2);
  auto c = a->clone();
  EXPECT_FALSE(at::equal(a->tensor("lm_head.weight"), b->tensor("lm_head.weight")));
  b->copy_parameters_from(*a);
  expect_same_tensors(*a, *b);
  a->tensor("lm_head.weight").add_(1.0);
  EXPECT_TRUE(at::equal(c->tensor("lm_head.weight"), b->tensor("lm_head.weight")));  // clone owns its tensors
  auto other = CausalLM::init_random(config_of(testing::tiny_qwen2_json()), 1);
  EXPECT_THROW(other->copy_parameters_from(*a), Error);

  // Counts: qwen2 tiny fixture has 93504 parameters (reference.json counts the tied head once).
  EXPECT_EQ(CausalLM::load(kModels + "qwen2_tiny")->parameter_counts().total, 93504);
  EXPECT_EQ(CausalLM::load(kModels + "deepseek_v3_tiny")->parameter_counts().total, 239280);  // buffers excluded, as HF
  ParameterCounts pc = a->parameter_counts();
  // 2 MoE layers, 6 unused experts each of 3*32*16 weights.
  EXPECT_EQ(pc.total - pc.activated, 2 * 6 * 3 * 32 * 16);
  EXPECT_GT(pc.mtp, 0);
  int64_t n = 0;
  for (const auto& [name, t] : a->named_parameters()) n += t.numel();
  EXPECT_EQ(n, pc.total + pc.mtp);
}

}  // namespace
}  // namespace r1::model
