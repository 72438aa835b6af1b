// Sequence classifiers (reward models, issue 14): HF's *ForSequenceClassification configs are read and written
// back with their label keys; the score head replaces the LM head and is saved as `score.weight` (no
// lm_head); scores are read at each row's last non-pad token exactly as HF does, the same for left and right
// padding; to_sequence_classifier keeps a causal LM's trunk bitwise; gradients reach the head and the trunk;
// generation and a checkpoint without its score head are clear errors.
#include <gtest/gtest.h>

#include <ATen/core/grad_mode.h>

#include <set>
#include <string>

#include "common/error.h"
#include "common/fs.h"
#include "common/json.h"
#include "error_of.h"
#include "model/causal_lm.h"
#include "model/generate.h"
#include "model/safetensors.h"
#include "model_test_util.h"
#include "scratch_dir.h"

namespace r1::model {
namespace {

using r1::testing::error_of;
using testing::config_of;

const std::string kRoot = r1::testing::scratch_root("r1_seqcls_test_");
[[maybe_unused]] ::testing::Environment* const kRemove =
    ::testing::AddGlobalTestEnvironment(new r1::testing::RemoveScratchRoot(kRoot));

// `json` (a tiny causal-LM config of model_test_util.h) as its sequence-classification class, with `extra`
// keys (e.g. "num_labels": 1, "pad_token_id": 0) added at the front.
std::string as_classifier(std::string json, const std::string& extra) {
  const std::string key = "\"architectures\": [\"";
  const size_t at = json.find(key);
  const size_t end = json.find("ForCausalLM\"]", at);
  EXPECT_NE(end, std::string::npos);
  json.replace(end, 11, "ForSequenceClassification");
  return "{" + extra + (extra.empty() ? "" : ", ") + json.substr(json.find('{') + 1);
}

// The three tiny classifier configs of the tests: Qwen2 (tied embeddings), Llama (untied, GQA 4:1), a
// DeepSeek-V3 without MTP (MLA, MoE, YaRN). pad_token_id 0, one label unless told.
std::vector<std::string> classifier_configs(int labels = 1) {
  const std::string extra = "\"num_labels\": " + std::to_string(labels) + ", \"pad_token_id\": 0";
  return {as_classifier(testing::tiny_qwen2_json(), extra), as_classifier(testing::tiny_llama_json(), extra),
          as_classifier(testing::tiny_v3_json(true, 0), extra)};
}

at::Tensor ids_of(const std::vector<std::vector<int64_t>>& rows) {
  const int64_t B = static_cast<int64_t>(rows.size()), T = static_cast<int64_t>(rows[0].size());
  at::Tensor t = at::empty({B, T}, at::kLong);
  auto a = t.accessor<int64_t, 2>();
  for (int64_t b = 0; b < B; ++b)
    for (int64_t i = 0; i < T; ++i) a[b][i] = rows[static_cast<size_t>(b)][static_cast<size_t>(i)];
  return t;
}

TEST(SequenceClassifier, LastNonPadIndexIsHfsRule) {
  // Left padding, right padding, no padding, a pad inside a text (the RIGHTMOST non-pad wins), a row of pads.
  EXPECT_TRUE(at::equal(last_non_pad_index(ids_of({{0, 0, 5, 6}, {7, 8, 9, 4}}), 0), at::tensor({3, 3}, at::kLong)));
  EXPECT_TRUE(at::equal(last_non_pad_index(ids_of({{5, 6, 0, 0}, {7, 8, 9, 0}}), 0), at::tensor({1, 2}, at::kLong)));
  EXPECT_TRUE(at::equal(last_non_pad_index(ids_of({{1, 2, 3}}), 0), at::tensor({2}, at::kLong)));
  EXPECT_TRUE(at::equal(last_non_pad_index(ids_of({{5, 0, 6, 0}, {0, 0, 0, 0}}), 0), at::tensor({2, 0}, at::kLong)));
  // The pad id is what counts, not the value 0.
  EXPECT_TRUE(at::equal(last_non_pad_index(ids_of({{0, 9, 9}, {0, 1, 9}}), 9), at::tensor({0, 1}, at::kLong)));
  // No pad id: the last position, one row only.
  EXPECT_TRUE(at::equal(last_non_pad_index(ids_of({{4, 5, 6}}), std::nullopt), at::tensor({2}, at::kLong)));
  const std::string err = error_of([] { last_non_pad_index(ids_of({{4, 5}, {6, 7}}), std::nullopt); });
  EXPECT_NE(err.find("pad_token_id"), std::string::npos) << err;
}

TEST(SequenceClassifier, ConfigReadsTheHfLabelKeys) {
  const std::string qwen = testing::tiny_qwen2_json();
  ModelConfig c = config_of(as_classifier(qwen, "\"num_labels\": 1, \"pad_token_id\": 3"));
  EXPECT_TRUE(c.is_sequence_classifier());
  EXPECT_EQ(c.arch, Architecture::kQwen2);
  EXPECT_EQ(c.architecture, "Qwen2ForSequenceClassification");
  EXPECT_EQ(c.num_labels, 1);
  EXPECT_EQ(c.pad_token_id, std::optional<int64_t>(3));
  EXPECT_FALSE(config_of(qwen).is_sequence_classifier());
  // id2label alone gives the count; neither key: HF's default of 2; both disagreeing: an error naming both.
  EXPECT_EQ(config_of(as_classifier(qwen, R"("id2label": {"0": "bad", "1": "ok", "2": "good"})")).num_labels, 3);
  EXPECT_EQ(config_of(as_classifier(qwen, "")).num_labels, 2);
  const std::string both =
      error_of([&] { config_of(as_classifier(qwen, R"("num_labels": 1, "id2label": {"0": "a", "1": "b"})")); });
  EXPECT_NE(both.find("'num_labels'"), std::string::npos) << both;
  EXPECT_NE(both.find("'id2label'"), std::string::npos) << both;
  // Every architecture has its class; V2 too.
  EXPECT_EQ(config_of(as_classifier(testing::tiny_v2_json(), "")).architecture, "DeepseekV2ForSequenceClassification");
  EXPECT_EQ(config_of(as_classifier(testing::tiny_llama_json(), "")).arch, Architecture::kLlama);
  EXPECT_EQ(config_of(as_classifier(testing::tiny_v3_json(true, 0), "")).arch, Architecture::kDeepseekV3);
  // A classifier has no MTP module.
  const std::string mtp = error_of([] { config_of(as_classifier(testing::tiny_v3_json(true, 1), "")); });
  EXPECT_NE(mtp.find("'num_nextn_predict_layers'"), std::string::npos) << mtp;
  EXPECT_NE(mtp.find("set it to 0"), std::string::npos) << mtp;
  EXPECT_NE(c.summary().find("1 label"), std::string::npos) << c.summary();
}

TEST(SequenceClassifier, ConfigWritesTheHfLabelKeys) {
  ModelConfig c = config_of(as_classifier(testing::tiny_qwen2_json(), "\"pad_token_id\": 0, \"num_labels\": 1"));
  json::Document d = json::parse(c.to_json(), "written");
  EXPECT_EQ(std::string(d["architectures"][0].GetString()), "Qwen2ForSequenceClassification");
  EXPECT_EQ(d["num_labels"].GetInt64(), 1);
  EXPECT_EQ(d["pad_token_id"].GetInt64(), 0);
  EXPECT_EQ(json::dump(d["id2label"]), R"({"0":"LABEL_0"})");
  EXPECT_EQ(json::dump(d["label2id"]), R"({"LABEL_0":0})");
  EXPECT_EQ(config_of(c.to_json()).num_labels, 1);
  // Custom label names of the right count are kept; a changed count gets HF's default names.
  ModelConfig named = config_of(as_classifier(testing::tiny_qwen2_json(), R"("id2label": {"0": "bad", "1": "good"})"));
  json::Document n = json::parse(named.to_json(), "written");
  EXPECT_EQ(json::dump(n["id2label"]), R"({"0":"bad","1":"good"})");
  EXPECT_EQ(n["num_labels"].GetInt64(), 2);
  named.num_labels = 3;
  n = json::parse(named.to_json(), "written");
  EXPECT_EQ(json::dump(n["label2id"]), R"({"LABEL_0":0,"LABEL_1":1,"LABEL_2":2})");
  // A causal LM's config gets no label keys.
  EXPECT_EQ(config_of(testing::tiny_qwen2_json()).to_json().find("num_labels"), std::string::npos);
}

TEST(SequenceClassifier, ScoresAreTheScoreHeadAtTheLastRealTokenForLeftAndRightPadding) {
  for (const std::string& json : classifier_configs(2)) {
    auto m = CausalLM::init_random(config_of(json), 5);
    const at::Tensor w = m->score_weight();  // [2, H]
    ASSERT_EQ(w.sizes().vec(), (std::vector<int64_t>{2, m->config().hidden_size}));
    const std::vector<int64_t> a = {5, 6, 7, 8, 9}, b = {10, 11, 12};
    const at::Tensor right = ids_of({a, {10, 11, 12, 0, 0}}), right_mask = (right != 0).to(at::kLong);
    const at::Tensor left = ids_of({a, {0, 0, 10, 11, 12}}), left_mask = (left != 0).to(at::kLong);
    at::NoGradGuard no_grad;
    const at::Tensor s_right = m->sequence_scores(right, right_mask), s_left = m->sequence_scores(left, left_mask);
    ASSERT_EQ(s_right.sizes().vec(), (std::vector<int64_t>{2, 2}));
    EXPECT_EQ(s_right.scalar_type(), at::kFloat);
    EXPECT_TRUE(at::allclose(s_right, s_left, 1e-4, 1e-4)) << m->config().architecture << "\n" << s_right << s_left;
    // By hand: the final hidden state at the row's last real token, dotted with each score row.
    const at::Tensor h = m->forward(right, right_mask).hidden;  // [2, 5, H]
    const at::Tensor by_hand = at::stack({at::mv(w, h[0][4]), at::mv(w, h[1][2])});
    EXPECT_TRUE(at::allclose(s_right, by_hand, 1e-5, 1e-5)) << m->config().architecture;
    // ... equal to each text scored alone, unpadded (a batch of one row).
    const at::Tensor alone_b = m->sequence_scores(ids_of({b}), {});
    EXPECT_TRUE(at::allclose(s_right[1], alone_b[0], 1e-4, 1e-4)) << m->config().architecture;
    // ... and not the score at the padded end (what reading T-1 would give).
    EXPECT_FALSE(at::allclose(s_right[1], at::mv(w, h[1][4]), 1e-3, 1e-3)) << m->config().architecture;
    // logits() is the score head at every position (the trainer's logit probe reads it).
    EXPECT_EQ(m->logits(h).sizes().vec(), (std::vector<int64_t>{2, 5, 2}));
  }
}

TEST(SequenceClassifier, SaveLoadRoundTripInTheHfLayout) {
  for (const std::string& json : classifier_configs()) {
    auto m = CausalLM::init_random(config_of(json), 3);
    const std::string name = m->config().architecture;
    const std::string dir = r1::testing::fresh_dir(kRoot, name);
    m->save(dir);
    Checkpoint ck(dir);
    EXPECT_FALSE(ck.contains("lm_head.weight")) << name;
    ASSERT_TRUE(ck.contains("score.weight")) << name;
    EXPECT_EQ(ck.info("score.weight").shape, (std::vector<int64_t>{1, m->config().hidden_size})) << name;
    for (const auto& n : ck.names()) {
      EXPECT_TRUE(n == "score.weight" || n.rfind("model.", 0) == 0) << n;  // HF's names: model.* + score.weight
    }
    json::Document cfg = json::parse_file(dir + "/config.json");
    EXPECT_EQ(std::string(cfg["architectures"][0].GetString()), name);
    EXPECT_EQ(cfg["num_labels"].GetInt64(), 1);
    EXPECT_EQ(cfg["pad_token_id"].GetInt64(), 0);
    EXPECT_EQ(json::dump(cfg["id2label"]), R"({"0":"LABEL_0"})");

    auto back = CausalLM::load(dir);
    EXPECT_TRUE(back->config().is_sequence_classifier());
    EXPECT_FALSE(back->has_mtp());
    auto sa = m->state_dict(), sb = back->state_dict();
    ASSERT_EQ(sa.size(), sb.size()) << name;
    for (size_t i = 0; i < sa.size(); ++i) {
      EXPECT_EQ(sa[i].first, sb[i].first);
      EXPECT_TRUE(at::equal(sa[i].second, sb[i].second)) << sa[i].first;
    }
    std::set<std::string> params;
    for (const auto& [n, t] : back->named_parameters()) params.insert(n);
    EXPECT_TRUE(params.count("score.weight")) << name;  // the optimiser and checkpoints see it
    EXPECT_FALSE(params.count("lm_head.weight")) << name;
  }
}

TEST(SequenceClassifier, ParameterCountsSwapTheLmHeadForTheScoreHead) {
  for (const std::string& causal : {testing::tiny_qwen2_json(), testing::tiny_llama_json()}) {
    const ModelConfig lm = config_of(causal), rm = config_of(as_classifier(causal, "\"num_labels\": 3"));
    const int64_t VH = lm.vocab_size * lm.hidden_size;
    const ParameterCounts a = count_parameters(lm, false), b = count_parameters(rm, false);
    EXPECT_EQ(b.total, a.total - (lm.tie_word_embeddings ? 0 : VH) + 3 * lm.hidden_size) << lm.architecture;
    EXPECT_EQ(b.embedding, VH) << lm.architecture;
    EXPECT_EQ(CausalLM::init_random(rm, 1)->parameter_counts().total, b.total);
  }
}

TEST(SequenceClassifier, ToSequenceClassifierKeepsTheTrunkBitwiseAndDropsLmHeadAndMtp) {
  auto lm = CausalLM::init_random(config_of(testing::tiny_v3_json()), 9);  // with an MTP module
  ASSERT_TRUE(lm->has_mtp());
  auto rm = CausalLM::to_sequence_classifier(*lm, 1, 4, /*pad_token_id=*/0);
  const ModelConfig& c = rm->config();
  EXPECT_EQ(c.architecture, "DeepseekV3ForSequenceClassification");
  EXPECT_EQ(c.num_labels, 1);
  EXPECT_EQ(c.num_nextn_predict_layers, 0);
  EXPECT_EQ(c.pad_token_id, std::optional<int64_t>(0));
  EXPECT_FALSE(rm->has_mtp());
  std::set<std::string> expected;
  for (const auto& [n, t] : lm->state_dict()) {
    if (n != "lm_head.weight" && n.rfind("model.layers.3.", 0) != 0) expected.insert(n);
  }
  expected.insert("score.weight");
  std::set<std::string> got;
  for (const auto& [n, t] : rm->state_dict()) {
    got.insert(n);
    if (n == "score.weight") continue;
    EXPECT_TRUE(at::equal(t, lm->tensor(n))) << n;
    EXPECT_NE(t.data_ptr(), lm->tensor(n).data_ptr()) << n;  // its own copy
  }
  EXPECT_EQ(got, expected);
  EXPECT_EQ(rm->score_weight().sizes().vec(), (std::vector<int64_t>{1, 32}));
  // The head is drawn from the seed: same seed, same head; another seed, another head.
  EXPECT_TRUE(at::equal(CausalLM::to_sequence_classifier(*lm, 1, 4)->score_weight(), rm->score_weight()));
  EXPECT_FALSE(at::equal(CausalLM::to_sequence_classifier(*lm, 1, 5)->score_weight(), rm->score_weight()));
  // Written as HF's class, unknown keys kept; loads back as the same classifier.
  const std::string dir = r1::testing::fresh_dir(kRoot, "converted");
  rm->save(dir);
  json::Document cfg = json::parse_file(dir + "/config.json");
  EXPECT_EQ(std::string(cfg["architectures"][0].GetString()), "DeepseekV3ForSequenceClassification");
  EXPECT_EQ(cfg["num_nextn_predict_layers"].GetInt64(), 0);
  EXPECT_TRUE(cfg.HasMember("auto_map"));
  EXPECT_TRUE(at::equal(CausalLM::load(dir)->score_weight(), rm->score_weight()));
  // A tied Qwen2 converts too (its head is the embedding; the classifier keeps only the embedding).
  auto qwen = CausalLM::to_sequence_classifier(*CausalLM::init_random(config_of(testing::tiny_qwen2_json()), 1), 2, 1);
  EXPECT_EQ(qwen->config().architecture, "Qwen2ForSequenceClassification");
  EXPECT_EQ(qwen->score_weight().sizes().vec(), (std::vector<int64_t>{2, 32}));
  // Only causal LMs convert; the head needs a label.
  EXPECT_NE(error_of([&] { CausalLM::to_sequence_classifier(*rm, 1, 1); }).find("already a sequence classifier"),
            std::string::npos);
  EXPECT_THROW(CausalLM::to_sequence_classifier(*lm, 0, 1), Error);
}

TEST(SequenceClassifier, GradientsReachTheScoreHeadAndTheTrunk) {
  auto rm = CausalLM::to_sequence_classifier(*CausalLM::init_random(config_of(testing::tiny_llama_json()), 2), 1, 3, 0);
  rm->set_requires_grad(true);
  const at::Tensor ids = ids_of({{5, 6, 7, 0}, {0, 8, 9, 10}});
  const at::Tensor scores = rm->sequence_scores(ids, (ids != 0).to(at::kLong));  // [2, 1]
  (scores[0][0] - scores[1][0]).backward();  // a Bradley-Terry-like difference
  for (const char* n : {"score.weight", "model.embed_tokens.weight", "model.layers.0.self_attn.q_proj.weight",
                        "model.layers.1.mlp.down_proj.weight", "model.norm.weight"}) {
    const at::Tensor g = rm->tensor(n).grad();
    ASSERT_TRUE(g.defined()) << n;
    EXPECT_GT(g.abs().sum().item<double>(), 0.0) << n;
  }
}

TEST(SequenceClassifier, MissingScoreHeadAndGenerationAreClearErrors) {
  auto rm = CausalLM::init_random(config_of(classifier_configs()[0]), 1);
  const std::string dir = r1::testing::fresh_dir(kRoot, "no_score");
  rm->save(dir);
  // A classifier's checkpoint without its score head (e.g. a causal LM's whose architecture was renamed).
  Checkpoint ck(dir);
  std::vector<std::pair<std::string, at::Tensor>> tensors;
  for (const auto& n : ck.names())
    if (n != "score.weight") tensors.emplace_back(n, ck.load(n));
  save_checkpoint_tensors(dir, tensors);
  const std::string missing = error_of([&] { CausalLM::load(dir); });
  EXPECT_NE(missing.find("score.weight"), std::string::npos) << missing;
  EXPECT_NE(missing.find(dir + "/model.safetensors"), std::string::npos) << missing;
  // ... or with an LM head besides: unexpected, even though the config ties the embeddings.
  tensors.emplace_back("score.weight", rm->score_weight());
  tensors.emplace_back("lm_head.weight", rm->tensor("model.embed_tokens.weight"));
  save_checkpoint_tensors(dir, tensors);
  const std::string extra = error_of([&] { CausalLM::load(dir); });
  EXPECT_NE(extra.find("lm_head.weight"), std::string::npos) << extra;

  // No LM head: generation, the cached forward, the rollout copy and lm_head_weight() refuse.
  GenerationConfig g;
  g.max_new_tokens = 2;
  const std::string gen = error_of([&] { generate(*rm, std::vector<std::vector<int64_t>>{{1, 2, 3}}, g); });
  EXPECT_NE(gen.find("sequence classifier"), std::string::npos) << gen;
  EXPECT_NE(gen.find("cannot generate"), std::string::npos) << gen;
  EXPECT_NE(error_of([&] { rm->new_cache(1, 8); }).find("sequence classifier"), std::string::npos);
  EXPECT_NE(error_of([&] { rm->lm_head_weight(); }).find("no LM head"), std::string::npos);
  EXPECT_NE(error_of([&] { rm->make_rollout_copy(WeightFormat::kFp8); }).find("sequence classifier"), std::string::npos);
  // And a causal LM has no score head.
  auto lm = CausalLM::init_random(config_of(testing::tiny_qwen2_json()), 1);
  EXPECT_NE(error_of([&] { lm->score_weight(); }).find("no score head"), std::string::npos);
  EXPECT_THROW(lm->sequence_scores(ids_of({{1, 2}}), {}), Error);
}

}  // namespace
}  // namespace r1::model
