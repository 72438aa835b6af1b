// Tests of reward models (rl/stages/reward_model.h, rl/reward_model_scoring.h, rl/reward_model_reward.h,
// datasets/preference_dataset.h):
//   * the pairwise and pointwise losses and their gradients against hand-computed values;
//   * the preference-row shapes (strings, message lists, whole conversations) and their errors;
//   * the summary part, left truncation, the pad check of the encoder, right-padded batches;
//   * `r1 run` of the issue's recipe shape (train_tokenizer → reward_model on a Qwen2 init_config with the qwen
//     chat template): a learnable preference (complete vs. truncated answers) reaches >= 90% held-out accuracy
//     in eval.json, final/ is an HF sequence-classification directory, and `r1 reward score` with the
//     reward_model reward ranks the held-out pairs the same way; pointwise mode learns labels; errors name keys.
#include <gtest/gtest.h>

#include <ATen/ATen.h>
#include <signal.h>

#include <cmath>
#include <random>

#include "datasets/preference_dataset.h"
#include "error_of.h"
#include "model/safetensors.h"
#include "model/tokenizer/chat_template.h"
#include "model/tokenizer/tokenizer.h"
#include "rl/reward_model_reward.h"
#include "rl/reward_model_scoring.h"
#include "run_util.h"

namespace r1::rl {
namespace {

using namespace r1::rl::testing;
using r1::testing::error_of;

// ---------------------------------------------------------------------------------------------------------
// Losses.

TEST(RewardModelLoss, PairwiseValueAndGradientByHand) {
  // d = chosen − rejected − margin = (1, −1.5); loss = softplus(−d); dloss/dchosen = −σ(−d), dloss/drejected = σ(−d).
  at::Tensor chosen = at::tensor({1.0, 0.5}, at::kDouble).requires_grad_(true);
  at::Tensor rejected = at::tensor({0.0, 1.5}, at::kDouble).requires_grad_(true);
  const at::Tensor margin = at::tensor({0.0, 0.5}, at::kDouble);
  const at::Tensor loss = pairwise_rm_loss(chosen, rejected, margin);
  EXPECT_NEAR(loss[0].item<double>(), std::log(1 + std::exp(-1.0)), 1e-12);  // 0.313262
  EXPECT_NEAR(loss[1].item<double>(), std::log(1 + std::exp(1.5)), 1e-12);   // 1.701413
  EXPECT_NEAR(loss[0].item<double>(), 0.313262, 1e-6);
  loss.sum().backward();
  const double s0 = 1 / (1 + std::exp(1.0)), s1 = 1 / (1 + std::exp(-1.5));  // σ(−d)
  EXPECT_NEAR(chosen.grad()[0].item<double>(), -s0, 1e-12);
  EXPECT_NEAR(chosen.grad()[1].item<double>(), -s1, 1e-12);
  EXPECT_NEAR(rejected.grad()[0].item<double>(), s0, 1e-12);
  EXPECT_NEAR(rejected.grad()[1].item<double>(), s1, 1e-12);
  EXPECT_NEAR(s1, 0.817574, 1e-6);
}

TEST(RewardModelLoss, PointwiseIsBinaryCrossEntropyWithLogits) {
  at::Tensor score = at::tensor({2.0, -1.0, 0.0, 40.0}, at::kDouble).requires_grad_(true);
  const at::Tensor label = at::tensor({1.0, 1.0, 0.25, 0.0}, at::kDouble);
  const at::Tensor loss = pointwise_rm_loss(score, label);
  auto sig = [](double x) { return 1 / (1 + std::exp(-x)); };
  EXPECT_NEAR(loss[0].item<double>(), -std::log(sig(2.0)), 1e-12);   // 0.126928
  EXPECT_NEAR(loss[1].item<double>(), -std::log(sig(-1.0)), 1e-12);  // 1.313262
  EXPECT_NEAR(loss[2].item<double>(), std::log(2.0), 1e-12);         // any label at score 0
  EXPECT_NEAR(loss[3].item<double>(), 40.0, 1e-9);                   // stable far out
  loss.sum().backward();
  // dloss/dscore = σ(s) − label.
  EXPECT_NEAR(score.grad()[0].item<double>(), sig(2.0) - 1, 1e-12);
  EXPECT_NEAR(score.grad()[2].item<double>(), 0.5 - 0.25, 1e-12);
}

// ---------------------------------------------------------------------------------------------------------
// Rows.

data::PreferencePair pair_of(const std::string& line) { return data::parse_preference_pair(json::parse(line, "t"), "p.jsonl:3"); }

TEST(PreferenceRows, StringsMessageListsAndWholeConversations) {
  data::PreferencePair p = pair_of(R"({"prompt": "2+2?", "chosen": "4", "rejected": "5", "margin": 0.5})");
  ASSERT_EQ(p.chosen.size(), 2u);
  EXPECT_EQ(p.chosen[0].role, "user");
  EXPECT_EQ(p.chosen[1].content, "4");
  EXPECT_EQ(p.rejected[1].content, "5");
  EXPECT_DOUBLE_EQ(*p.margin, 0.5);
  // TRL's explicit-prompt form: prompt and responses as message lists.
  p = pair_of(R"({"prompt": [{"role": "system", "content": "s"}, {"role": "user", "content": "q"}],
                  "chosen": [{"role": "assistant", "content": "a"}], "rejected": [{"role": "assistant", "content": "b"}]})");
  ASSERT_EQ(p.chosen.size(), 3u);
  EXPECT_EQ(p.chosen[0].role, "system");
  EXPECT_EQ(p.rejected[2].content, "b");
  EXPECT_FALSE(p.margin.has_value());
  // Whole conversations (HH-RLHF; UltraFeedback-binarized repeats the prompt inside): not prefixed again.
  p = pair_of(R"({"prompt": "q", "chosen": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}],
                  "rejected": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "b"}]})");
  EXPECT_EQ(p.chosen.size(), 2u);
  p = pair_of(R"({"chosen": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}],
                  "rejected": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "b"}]})");
  EXPECT_EQ(p.rejected[1].content, "b");
  // A response list without a user turn follows the prompt (a system turn alone does not make it a conversation).
  p = pair_of(R"({"prompt": "q", "chosen": [{"role": "system", "content": "s"}, {"role": "assistant", "content": "a"}],
                  "rejected": "b"})");
  ASSERT_EQ(p.chosen.size(), 3u);
  EXPECT_EQ(p.chosen[0].content, "q");
  const data::PointwiseExample e =
      data::parse_pointwise_example(json::parse(R"({"prompt": "q", "response": "a", "label": true})", "t"), "s.jsonl:1");
  EXPECT_DOUBLE_EQ(e.label, 1.0);
  EXPECT_EQ(e.conversation.back().content, "a");
}

TEST(PreferenceRows, ErrorsNameTheLineAndTheKey) {
  EXPECT_NE(error_of([] { pair_of(R"({"prompt": "q", "chosen": "a"})"); }).find("p.jsonl:3: missing required key 'rejected'"),
            std::string::npos);
  EXPECT_NE(error_of([] { pair_of(R"({"chosen": "a", "rejected": "b"})"); }).find("has no user turn, so the row needs a 'prompt'"), std::string::npos);
  EXPECT_NE(error_of([] { pair_of(R"({"prompt": "q", "chosen": 3, "rejected": "b"})"); }).find("p.jsonl:3: chosen"),
            std::string::npos);
  EXPECT_NE(error_of([] { pair_of(R"({"prompt": "q", "chosen": [{"role": "robot", "content": "a"}], "rejected": "b"})"); })
                .find("unknown role 'robot'"),
            std::string::npos);
  EXPECT_NE(error_of([] {
              pair_of(R"({"chosen": [{"role": "assistant", "content": "a"}, {"role": "user", "content": "more?"}],
                          "rejected": "b", "prompt": "q"})");
            }).find("must end with an assistant turn"),
            std::string::npos);
  EXPECT_NE(error_of([] { pair_of(R"({"prompt": "q", "chosen": "a", "rejected": "b", "margin": "big"})"); }).find("margin"),
            std::string::npos);
  const std::string bad_label = error_of([] {
    data::parse_pointwise_example(json::parse(R"({"prompt": "q", "response": "a", "label": 2})", "t"), "s.jsonl:4");
  });
  EXPECT_NE(bad_label.find("s.jsonl:4: 'label' must be in [0, 1]"), std::string::npos) << bad_label;
}

TEST(PreferenceRows, BadLinesAreSkippedAndCountedOnRequest) {
  const std::string dir = scratch_dir();
  write_text(dir + "/p.jsonl", "{\"prompt\": \"q\", \"chosen\": \"a\", \"rejected\": \"b\"}\nnot json\n{\"prompt\": \"q\"}\n");
  size_t skipped = 0;
  EXPECT_EQ(data::load_preference_jsonl(dir + "/p.jsonl", true, &skipped).size(), 1u);
  EXPECT_EQ(skipped, 2u);
  EXPECT_NE(error_of([&] { data::load_preference_jsonl(dir + "/p.jsonl"); }).find("p.jsonl:2"), std::string::npos);
  cleanup_if_passed(dir);
}

// ---------------------------------------------------------------------------------------------------------
// Encoding and batches.

TEST(RewardModelInput, SummaryPartIsTheTextAfterTheLastThinkClose) {
  EXPECT_EQ(summary_part("<think>a</think> b </think>\n The answer is 4."), "The answer is 4.");
  EXPECT_EQ(summary_part("no reasoning here"), "no reasoning here");
  EXPECT_EQ(summary_part("<think>only thinking</think>"), "");
}

TEST(RewardModelInput, EncoderRendersTheChatCutsFromTheLeftAndRefusesATrailingPad) {
  auto tok = model::Tokenizer::from_tokenizer_json(
      model::make_byte_level_tokenizer_json({"<|endoftext|>", "<|im_start|>", "<|im_end|>"}), "byte-level");
  const model::ChatTemplate chat = model::ChatTemplate::by_name("chatml");
  const std::vector<ChatMessage> conv = {{"user", "q"}, {"assistant", "<think>x</think>y"}};
  RmEncoder all{*tok, chat, ScorePart::kAll, 0, 256};
  const std::vector<int64_t> full = all.encode(conv, "row").ids;
  EXPECT_EQ(tok->decode(full, false), chat.render(conv));
  RmEncoder summary{*tok, chat, ScorePart::kSummary, 0, 256};
  EXPECT_EQ(tok->decode(summary.encode(conv, "row").ids, false),
            chat.render({{"user", "q"}, {"assistant", "y"}}));
  RmEncoder cut{*tok, chat, ScorePart::kAll, 5, 256};
  const RmEncoder::Encoded e = cut.encode(conv, "row");
  EXPECT_TRUE(e.truncated);
  EXPECT_EQ(e.ids, std::vector<int64_t>(full.end() - 5, full.end()));
  RmEncoder pad_is_last{*tok, chat, ScorePart::kAll, 0, full.back()};
  EXPECT_NE(error_of([&] { pad_is_last.encode(conv, "pairs.jsonl:9"); }).find("pairs.jsonl:9: the rendered text ends with "
                                                                             "the pad token"),
            std::string::npos);
}

TEST(RewardModelInput, BatchesAreRightPadded) {
  const std::vector<int64_t> a = {5, 6, 7}, b = {8};
  const RmBatch batch = rm_batch({&a, &b}, 0, at::kCPU);
  EXPECT_TRUE(batch.input_ids.equal(at::tensor({5, 6, 7, 8, 0, 0}, at::kLong).view({2, 3})));
  EXPECT_TRUE(batch.attention_mask.equal(at::tensor({1, 1, 1, 1, 0, 0}, at::kLong).view({2, 3})));
  EXPECT_EQ(batch.tokens, 4);
}

// ---------------------------------------------------------------------------------------------------------
// End to end.

// Arithmetic questions answered completely (chosen) or cut off mid-answer (rejected, never at a sentence end).
struct PreferenceData {
  std::string train, heldout;  // JSONL
  std::vector<std::pair<std::string, std::pair<std::string, std::string>>> heldout_rows;  // prompt, (chosen, rejected)
  std::string texts;  // text JSONL for the tokenizer
};

PreferenceData complete_vs_truncated(int n_train, int n_heldout, uint32_t seed) {
  std::mt19937 rng(seed);
  PreferenceData d;
  for (int i = 0; i < n_train + n_heldout; ++i) {
    const int a = static_cast<int>(rng() % 90 + 10), b = static_cast<int>(rng() % 90 + 10);
    const std::string prompt = "What is " + std::to_string(a) + " + " + std::to_string(b) + "?";
    const std::string chosen = std::to_string(a) + " + " + std::to_string(b) + " = " + std::to_string(a + b) +
                               ". The answer is " + std::to_string(a + b) + ".";
    size_t cut = 0;
    do {
      cut = 4 + rng() % (chosen.size() - 6);
    } while (chosen[cut - 1] == '.' || chosen[cut - 1] == ' ');
    const std::string rejected = chosen.substr(0, cut);
    const std::string line = R"({"prompt": ")" + prompt + R"(", "chosen": ")" + chosen + R"(", "rejected": ")" + rejected + "\"}\n";
    (i < n_train ? d.train : d.heldout) += line;
    if (i >= n_train) d.heldout_rows.push_back({prompt, {chosen, rejected}});
    d.texts += R"({"text": ")" + prompt + " " + chosen + "\"}\n";
  }
  return d;
}

std::string qwen2_rm_config(int vocab) {
  return R"({"architectures": ["Qwen2ForCausalLM"], "model_type": "qwen2", "vocab_size": )" + std::to_string(vocab) +
         R"(, "hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 2, "num_attention_heads": 4,
         "num_key_value_heads": 2, "rope_theta": 10000.0, "tie_word_embeddings": false, "rms_norm_eps": 1e-6,
         "initializer_range": 0.05, "use_sliding_window": false, "max_position_embeddings": 256})";
}

TEST(RewardModelStage, LearnsCompleteOverTruncatedAndScoresThroughTheReward) {
  const std::string dir = scratch_dir();
  const PreferenceData d = complete_vs_truncated(400, 100, 7);
  write_text(dir + "/pairs.jsonl", d.train);
  write_text(dir + "/heldout.jsonl", d.heldout);
  write_text(dir + "/texts.jsonl", d.texts);
  const std::string recipe = dir + "/recipe.json";
  write_text(recipe, R"({"seed": 3, "stages": [
    {"name": "tok", "type": "train_tokenizer", "data": [")" + dir + R"(/texts.jsonl"], "vocab_size": 320,
     "special_tokens": ["<|endoftext|>", "<|im_start|>", "<|im_end|>"], "eos_token": "<|endoftext|>"},
    {"name": "rm", "type": "reward_model", "model": {"init_config": )" + qwen2_rm_config(320) + R"(, "tokenizer": "stage:tok"},
     "chat_template": "qwen", "data": ")" + dir + R"(/pairs.jsonl", "eval_data": ")" + dir + R"(/heldout.jsonl",
     "steps": 80, "batch_size": 16, "max_len": 128, "eval_every": 40, "threads": 1,
     "optim": {"lr": 0.003, "warmup_steps": 5, "weight_decay": 0.0}}]})");
  const std::string run = dir + "/run";
  const RunResult r = run_r1({"run", recipe, "--output", run, "--quiet"}, dir + "/log.txt");
  ASSERT_TRUE(r.exited && r.code == 0) << r.output;

  // eval.json: held-out accuracy of the trained model.
  const json::Document eval = json::parse(read_text(run + "/stages/rm/eval.json"), "eval.json");
  EXPECT_EQ(std::string(eval["mode"].GetString()), "pairwise");
  EXPECT_EQ(eval["rows"].GetInt64(), 100);
  EXPECT_GE(eval["accuracy"].GetDouble(), 0.9) << r.output;
  EXPECT_GT(eval["margin_mean"].GetDouble(), 0.0);
  // Per-step metrics, and eval/* at eval_every.
  const auto metrics = metrics_by_step(run, "rm");
  ASSERT_EQ(metrics.size(), 80u);
  for (const char* key : {"loss", "accuracy", "reward_mean", "reward_std", "margin_mean", "lr", "tokens_per_s"}) {
    EXPECT_TRUE(metrics.at(1).HasMember(key)) << key;
  }
  EXPECT_TRUE(metrics.at(40).HasMember("eval/accuracy"));
  EXPECT_FALSE(metrics.at(39).HasMember("eval/accuracy"));
  EXPECT_LT(metrics.at(80)["loss"].GetDouble(), metrics.at(1)["loss"].GetDouble());

  // final/: the HF sequence-classification layout.
  const std::string final_dir = run + "/stages/rm/final";
  const json::Document config = json::parse(read_text(final_dir + "/config.json"), "config.json");
  EXPECT_EQ(std::string(config["architectures"][0].GetString()), "Qwen2ForSequenceClassification");
  EXPECT_EQ(config["num_labels"].GetInt64(), 1);
  EXPECT_TRUE(config["pad_token_id"].IsInt64());
  const std::string tensors = read_text(final_dir + "/model.safetensors").substr(0, 4096);
  EXPECT_NE(tensors.find("\"score.weight\""), std::string::npos);
  EXPECT_EQ(tensors.find("lm_head"), std::string::npos);
  const json::Document settings = json::parse(read_text(final_dir + "/r1_reward_model.json"), "settings");
  EXPECT_EQ(std::string(settings["score_part"].GetString()), "all");
  EXPECT_EQ(settings["max_len"].GetInt64(), 128);

  // `r1 reward score` with the reward_model reward ranks the held-out pairs as eval.json says.
  std::string lines;
  for (const auto& [prompt, pair] : d.heldout_rows) {
    lines += R"({"prompt": ")" + prompt + R"(", "completion": ")" + pair.first + "\"}\n";
    lines += R"({"prompt": ")" + prompt + R"(", "completion": ")" + pair.second + "\"}\n";
  }
  write_text(dir + "/score_in.jsonl", lines);
  const std::string spec = R"({"name": "reward_model", "options": {"path": ")" + final_dir + R"("}})";
  const RunResult scored = run_r1({"reward", "score", "--reward", spec, "--input", dir + "/score_in.jsonl", "--output",
                                   dir + "/scores.jsonl"}, dir + "/score.log");
  ASSERT_TRUE(scored.exited && scored.code == 0) << scored.output;
  const std::vector<json::Document> scores = read_jsonl(dir + "/scores.jsonl");
  ASSERT_EQ(scores.size(), 2 * d.heldout_rows.size());
  int right = 0;
  for (size_t i = 0; i < d.heldout_rows.size(); ++i) {
    right += scores[2 * i]["score"].GetDouble() > scores[2 * i + 1]["score"].GetDouble();
    EXPECT_TRUE(scores[2 * i]["components"].HasMember("raw"));
  }
  EXPECT_NEAR(right / 100.0, eval["accuracy"].GetDouble(), 0.011);

  // `r1 logits` on the reward model writes HF's pooled scores: the first held-out pair, encoded as the reward
  // encodes it and right-padded into one batch, scores what the reward scored.
  auto tok = model::Tokenizer::load(final_dir);
  const json::Document cfg = json::parse(read_text(final_dir + "/config.json"), "config.json");
  const int64_t pad = cfg["pad_token_id"].GetInt64();
  const RmEncoder encoder{*tok, model::ChatTemplate::resolve("", *tok), ScorePart::kAll, 128, pad};
  const auto& [prompt0, pair0] = d.heldout_rows[0];
  const std::vector<int64_t> a = encoder.encode({{"user", prompt0}, {"assistant", pair0.first}}, "chosen").ids;
  const std::vector<int64_t> b = encoder.encode({{"user", prompt0}, {"assistant", pair0.second}}, "rejected").ids;
  const RmBatch batch = rm_batch({&a, &b}, pad, at::kCPU);
  model::save_safetensors(dir + "/ids.safetensors", {{"input_ids", batch.input_ids}});
  const RunResult logits = run_r1({"logits", "--model", final_dir, "--input", dir + "/ids.safetensors", "--output",
                                   dir + "/scores.safetensors"}, dir + "/logits.log");
  ASSERT_TRUE(logits.exited && logits.code == 0) << logits.output;
  model::Checkpoint out(dir + "/scores.safetensors");
  const at::Tensor s = out.load("scores");  // [2, 1]
  ASSERT_EQ(s.sizes(), (at::IntArrayRef{2, 1}));
  EXPECT_NEAR(s[0][0].item<double>(), scores[0]["components"]["raw"].GetDouble(), 1e-4);
  EXPECT_NEAR(s[1][0].item<double>(), scores[1]["components"]["raw"].GetDouble(), 1e-4);
  cleanup_if_passed(dir);
}

TEST(RewardModelStage, PointwiseLearnsLabels) {
  const std::string dir = scratch_dir();
  const PreferenceData d = complete_vs_truncated(300, 60, 11);
  // Pointwise rows: complete answers are safe (1), truncated ones not (0).
  std::string train, heldout;
  std::mt19937 rng(5);
  for (int part = 0; part < 2; ++part) {
    const std::string& src = part == 0 ? d.train : d.heldout;
    std::string& out = part == 0 ? train : heldout;
    size_t start = 0;
    while (start < src.size()) {
      const size_t end = src.find('\n', start);
      const json::Document row = json::parse(src.substr(start, end - start), "row");
      const bool good = rng() % 2 == 0;
      out += std::string(R"({"prompt": ")") + row["prompt"].GetString() + R"(", "response": ")" +
             row[good ? "chosen" : "rejected"].GetString() + R"(", "label": )" + (good ? "1" : "0") + "}\n";
      start = end + 1;
    }
  }
  write_text(dir + "/train.jsonl", train);
  write_text(dir + "/heldout.jsonl", heldout);
  const std::string recipe = dir + "/recipe.json";
  write_text(recipe, R"({"seed": 1, "stages": [
    {"name": "safety", "type": "reward_model", "mode": "pointwise",
     "model": {"init_config": )" + qwen2_rm_config(264) + R"(, "byte_level_tokenizer": ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]},
     "chat_template": "chatml", "data": ")" + dir + R"(/train.jsonl", "eval_data": ")" + dir + R"(/heldout.jsonl",
     "steps": 60, "batch_size": 16, "max_len": 128, "threads": 1, "optim": {"lr": 0.003, "weight_decay": 0.0}}]})");
  const std::string run = dir + "/run";
  const RunResult r = run_r1({"run", recipe, "--output", run, "--quiet"}, dir + "/log.txt");
  ASSERT_TRUE(r.exited && r.code == 0) << r.output;
  const json::Document eval = json::parse(read_text(run + "/stages/safety/eval.json"), "eval.json");
  EXPECT_EQ(std::string(eval["mode"].GetString()), "pointwise");
  EXPECT_GE(eval["accuracy"].GetDouble(), 0.85) << r.output;
  EXPECT_FALSE(eval.HasMember("margin_mean"));
  cleanup_if_passed(dir);
}

// R1's last stage in miniature: a reward model trained in the run judges a general source's completions (summary
// part, batch z-score) from step 1 on, while the reasoning source keeps math + format; the stage:rm path is
// resolved inside the grpo stage.
TEST(RewardModelStage, AllScenarioRlScoresTheGeneralSourceWithTheTrainedRewardModel) {
  const std::string dir = scratch_dir();
  write_text(dir + "/pairs.jsonl", complete_vs_truncated(64, 0, 3).train);
  std::string math, chat;
  for (int i = 0; i < 8; ++i) {
    math += "{\"prompt\": \"" + std::to_string(i) + " + 1\", \"answer\": \"" + std::to_string(i + 1) + "\"}\n";
    chat += "{\"prompt\": \"say hello to " + std::to_string(i) + "\"}\n";
  }
  write_text(dir + "/math.jsonl", math);
  write_text(dir + "/chat.jsonl", chat);
  const std::string recipe = dir + "/recipe.json";
  write_text(recipe, R"({"seed": 2, "stages": [
    {"name": "rm", "type": "reward_model",
     "model": {"init_config": )" + qwen2_rm_config(264) + R"(, "byte_level_tokenizer": ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]},
     "chat_template": "chatml", "score_part": "summary", "data": ")" + dir + R"(/pairs.jsonl", "steps": 4,
     "batch_size": 8, "max_len": 96, "threads": 1, "optim": {"lr": 0.003}},
    {"name": "rl", "type": "grpo", "model": )" + tiny_model_json() + R"(,
     "sources": [
       {"name": "reasoning", "data": {"path": ")" + dir + R"(/math.jsonl"}, "reward": "math,format"},
       {"name": "general", "data": {"path": ")" + dir + R"(/chat.jsonl"}, "from_step": 1,
        "reward": {"composite": [{"name": "reward_model", "options": {"path": "stage:rm", "normalize": "batch",
                                                                       "clip": 3}},
                                 {"name": "format", "weight": 0.5}]}}],
     "sampling": {"max_new_tokens": 6}, "steps": 3, "prompts_per_step": 2, "group_size": 2, "threads": 1,
     "reward_threads": 1}]})");
  const std::string run = dir + "/run";
  const RunResult r = run_r1({"run", recipe, "--output", run, "--quiet"}, dir + "/log.txt");
  ASSERT_TRUE(r.exited && r.code == 0) << r.output;
  const auto metrics = metrics_by_step(run, "rl");
  ASSERT_EQ(metrics.size(), 3u);
  EXPECT_FALSE(metrics.at(1).HasMember("reward/reward_model"));  // the general source starts at step index 1
  for (int64_t step : {2, 3}) {
    const json::Document& m = metrics.at(step);
    EXPECT_TRUE(m.HasMember("reward/reward_model")) << "step " << step;
    EXPECT_TRUE(m.HasMember("reward/reward_model/raw")) << "step " << step;
    EXPECT_LE(std::abs(m["reward/reward_model"].GetDouble()), 3.0);  // clipped z-scores
    EXPECT_TRUE(m.HasMember("source/general/reward") && m.HasMember("source/reasoning/accuracy"));
  }
  // The resolved recipe keeps the reference; the run resolved it to the rm stage's final/.
  const std::string resolved = read_text(run + "/recipe.resolved.json");
  EXPECT_NE(resolved.find("\"path\": \"stage:rm\""), std::string::npos);
  // score_part as_trained (the default) reads the stage's "summary" from final/r1_reward_model.json: the reasoning
  // before </think> does not change the score; asked for "all", it does.
  RewardModelOptions o;
  o.path = run + "/stages/rm/final";
  const RewardModelReward as_trained(o, "test");
  o.score_part = RmScorePart::kAll;
  const RewardModelReward all(o, "test");
  rewards::Sample with_reasoning{"1 + 1", "<think>one and one</think> The answer is 2.", nullptr};
  rewards::Sample summary_only{"1 + 1", "The answer is 2.", nullptr};
  EXPECT_EQ(as_trained.score(with_reasoning).value, as_trained.score(summary_only).value);
  EXPECT_NE(all.score(with_reasoning).value, all.score(summary_only).value);
  cleanup_if_passed(dir);
}

// Ctrl-C checkpoints the step in flight; --resume continues with the same rows (the data position and the score
// head travel in the checkpoint), so every step's metrics and the final eval equal an uninterrupted run's.
TEST(RewardModelStage, InterruptedRunResumesExactly) {
  const std::string dir = scratch_dir();
  const PreferenceData d = complete_vs_truncated(60, 20, 9);
  write_text(dir + "/pairs.jsonl", d.train);
  write_text(dir + "/heldout.jsonl", d.heldout);
  const int steps = 30;
  const std::string recipe = dir + "/recipe.json";
  write_text(recipe, R"({"seed": 4, "stages": [
    {"name": "rm", "type": "reward_model",
     "model": {"init_config": )" + qwen2_rm_config(264) + R"(, "byte_level_tokenizer": ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]},
     "chat_template": "chatml", "data": ")" + dir + R"(/pairs.jsonl", "eval_data": ")" + dir + R"(/heldout.jsonl",
     "steps": 30, "batch_size": 8, "micro_batch_size": 3, "max_len": 96, "eval_every": 10, "threads": 1,
     "save_every": 0, "save_every_minutes": 0, "optim": {"lr": 0.003}}]})");
  const RunResult ref = run_r1({"run", recipe, "--output", dir + "/ref", "--quiet"}, dir + "/ref.log");
  ASSERT_TRUE(ref.exited && ref.code == 0) << ref.output;

  const std::string run = dir + "/run";
  const pid_t pid = spawn_r1({"run", recipe, "--output", run, "--quiet"}, dir + "/interrupted.log");
  ASSERT_TRUE(wait_for_logged_steps(pid, run, "rm", 3)) << read_text(dir + "/interrupted.log");
  ::kill(pid, SIGINT);
  const RunResult interrupted = wait_r1(pid, dir + "/interrupted.log");
  ASSERT_TRUE(interrupted.exited && interrupted.code == 128 + SIGINT) << interrupted.output;
  const size_t done = metrics_by_step(run, "rm").size();
  ASSERT_LT(done, static_cast<size_t>(steps));
  const RunResult resumed = run_r1({"run", recipe, "--output", run, "--quiet", "--resume"}, dir + "/resumed.log");
  ASSERT_TRUE(resumed.exited && resumed.code == 0) << resumed.output;
  EXPECT_NE(resumed.output.find("resumed from"), std::string::npos) << resumed.output;
  auto a = metrics_by_step(dir + "/ref", "rm");
  auto b = metrics_by_step(run, "rm");
  ASSERT_EQ(b.size(), static_cast<size_t>(steps));
  for (int64_t step = 1; step <= steps; ++step) {
    for (const char* key : {"loss", "accuracy", "reward_mean", "margin_mean", "grad_norm", "lr"}) {
      const double x = a[step][key].GetDouble(), y = b[step][key].GetDouble();
      EXPECT_NEAR(x, y, 1e-6 * (1 + std::abs(x))) << "step " << step << " " << key << " (interrupted after " << done << ")";
    }
  }
  EXPECT_EQ(read_text(dir + "/ref/stages/rm/eval.json"), read_text(run + "/stages/rm/eval.json"));
  cleanup_if_passed(dir);
}

TEST(RewardModelStage, RecipeErrorsNameTheKey) {
  const std::string dir = scratch_dir();
  auto check = [&](const std::string& extra, const std::string& expected) {
    const std::string recipe = dir + "/bad.json";
    write_text(recipe, R"({"stages": [{"name": "rm", "type": "reward_model", "model": )" + tiny_model_json(kChatMlSpecials) +
                           R"(, "chat_template": "chatml", "data": "x.jsonl")" + extra + "}]}");
    const RunResult r = run_r1({"run", recipe, "--check", "--output", dir + "/run"}, dir + "/log.txt");
    EXPECT_TRUE(r.exited && r.code == 1) << extra;
    EXPECT_NE(r.output.find(expected), std::string::npos) << r.output;
  };
  check(R"(, "mode": "listwise")", "'listwise' is not one of pairwise | pointwise");
  check(R"(, "score_part": "middle")", "'middle' is not one of all | summary");
  check(R"(, "mode": "pointwise", "margin": 1.0)", "margin applies to pairwise mode only");
  check(R"(, "steps": 0)", "steps and batch_size must be > 0");
  check(R"(, "lr": 0.1)", "unknown key 'lr'");
  cleanup_if_passed(dir);
}

}  // namespace
}  // namespace r1::rl
