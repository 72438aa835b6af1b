// The evaluate stage's per-model overrides and its language and rm_score columns (rl/stages/evaluate.h), through one
// short `r1 run` (a tiny pretrained policy, a tiny reward model trained for two steps, an evaluate stage with two
// models, one of them under another prompt template with its own reward and fewer rm prompts), and the recipe
// errors of the new keys (in-process, nothing runs):
//   * an override's data overlay changes its prompt rendering (completions files, rm_data too) and its reward is the
//     one its format rate and accuracy come from;
//   * the language column is the mean of the language reward recomputed from completions-<model>.jsonl;
//   * rm_score is the mean of the reward model's scores of completions-<model>-rm.jsonl, recomputed with the
//     reward_model reward built here;
//   * eval.json, the metrics lines, the printed table and report.html carry both columns.
#include <gtest/gtest.h>

#include <cmath>
#include <set>

#include "error_of.h"
#include "rewards/registry.h"
#include "rl/pipeline.h"
#include "rl/reward_model_reward.h"
#include "run_util.h"

namespace r1::rl {
namespace {

using namespace r1::rl::testing;
using r1::testing::error_of;

constexpr const char* kR1ZeroHead = "A conversation between User and Assistant.";

std::string qwen2_rm_config() {
  return R"({"architectures": ["Qwen2ForCausalLM"], "model_type": "qwen2", "vocab_size": 264, "hidden_size": 32,
    "intermediate_size": 64, "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 2,
    "rope_theta": 10000.0, "tie_word_embeddings": false, "rms_norm_eps": 1e-6, "initializer_range": 0.05,
    "use_sliding_window": false, "max_position_embeddings": 256})";
}

// One run shared by the tests of the suite: base (pretrain) → rm (reward_model) → eval (evaluate).
class EvaluateRun : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new std::string(std::filesystem::temp_directory_path() /
                           ("r1_EvaluateRun_" + std::to_string(::getpid())));
    std::filesystem::remove_all(*dir_);
    std::filesystem::create_directories(*dir_);
    const std::string& d = *dir_;
    write_corpus_and_prompts(d);
    std::string pairs, chat;
    for (int i = 0; i < 8; ++i) {
      const std::string a = std::to_string(10 + i), sum = std::to_string(20 + i);
      pairs += R"({"prompt": "What is )" + a + R"( + 10?", "chosen": "The answer is )" + sum +
               R"(.", "rejected": "The ans"})" "\n";
    }
    for (int i = 0; i < 4; ++i) chat += "{\"prompt\": \"say hello to " + std::to_string(i) + "\"}\n";
    std::ofstream(d + "/pairs.jsonl") << pairs;
    std::ofstream(d + "/chat.jsonl") << chat;
    std::ofstream(d + "/recipe.json") << R"({"seed": 5, "stages": [
      {"name": "base", "type": "pretrain", "model": )" + tiny_model_json() + R"(, "data": ")" + d + R"(/corpus.jsonl",
       "steps": 1, "batch_size": 2, "max_len": 32, "threads": 1},
      {"name": "rm", "type": "reward_model",
       "model": {"init_config": )" + qwen2_rm_config() + R"(, "byte_level_tokenizer": )" + kChatMlSpecials + R"(},
       "chat_template": "chatml", "data": ")" + d + R"(/pairs.jsonl", "steps": 2, "batch_size": 4, "max_len": 96,
       "threads": 1},
      {"name": "eval", "type": "evaluate",
       "models": {"zero": "stage:base",
                  "think": {"model": "stage:base", "data": {"prompt_template": "r1_zero_think"},
                            "reward": [{"name": "format", "options": {"think_in_prompt": true}}, "language"],
                            "rm_data": {"limit": 2}}},
       "data": {"path": ")" + d + R"(/prompts.jsonl", "limit": 4, "target_lang": "en"}, "reward": "math, format",
       "rm_data": {"path": ")" + d + R"(/chat.jsonl", "prompt_template": "plain"}, "reward_model": "stage:rm",
       "sampling": {"temperature": 1.0, "max_new_tokens": 12}, "samples_per_prompt": 2, "batch_prompts": 3,
       "rm_samples_per_prompt": 3, "rm_temperature": 0.5,
       "threads": 1, "reward_threads": 1}]})";
    *result_ = run_r1({"run", d + "/recipe.json", "--output", d + "/run", "--quiet"}, d + "/log.txt");
  }
  static void TearDownTestSuite() {
    if (!failed_) std::filesystem::remove_all(*dir_);
  }
  void SetUp() override { ASSERT_TRUE(result_->exited && result_->code == 0) << result_->output; }
  void TearDown() override { failed_ = failed_ || HasFailure(); }

  static std::string run() { return *dir_ + "/run"; }
  static std::string stage_file(const std::string& name) { return run() + "/stages/eval/" + name; }
  static json::Document eval_json() { return json::parse(read_text(stage_file("eval.json")), "eval.json"); }

  static std::string* dir_;
  static RunResult* result_;
  static bool failed_;
};

std::string* EvaluateRun::dir_ = nullptr;
RunResult* EvaluateRun::result_ = new RunResult;
bool EvaluateRun::failed_ = false;

std::string str(const json::Value& v) { return std::string(v.GetString(), v.GetStringLength()); }

bool ends_with(const std::string& s, const std::string& tail) {
  return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

TEST_F(EvaluateRun, OverrideRendersItsOwnPromptTemplateAndScoresWithItsOwnReward) {
  const auto zero = read_jsonl(stage_file("completions-zero.jsonl"));
  const auto think = read_jsonl(stage_file("completions-think.jsonl"));
  ASSERT_EQ(zero.size(), 8u);  // 4 prompts x 2 samples
  ASSERT_EQ(think.size(), 8u);
  for (size_t i = 0; i < zero.size(); ++i) {
    const std::string pz = str(zero[i]["prompt"]), pt = str(think[i]["prompt"]);
    EXPECT_EQ(pz.rfind(kR1ZeroHead, 0), 0u) << pz;
    EXPECT_EQ(pt.rfind(kR1ZeroHead, 0), 0u) << pt;
    EXPECT_FALSE(ends_with(pz, "<think>")) << pz;  // r1_zero
    EXPECT_TRUE(ends_with(pt, "<think>")) << pt;   // r1_zero_think, from the override
    EXPECT_EQ(str(zero[i]["question"]), str(think[i]["question"]));
    // The stage's reward (math, format) for zero; the override's (format, language) for think.
    EXPECT_TRUE(zero[i]["components"].HasMember("math/correct"));
    EXPECT_FALSE(zero[i]["components"].HasMember("language"));
    EXPECT_FALSE(think[i]["components"].HasMember("math/correct"));
    ASSERT_TRUE(think[i]["components"].HasMember("language")) << json::dump(think[i]["components"]);
    EXPECT_NEAR(think[i]["reward"].GetDouble(),
                think[i]["components"]["format"].GetDouble() + think[i]["components"]["language"].GetDouble(), 1e-12);
  }
  // Format rate: the mean of each model's own "format/ok" component; accuracy only where the reward has one.
  const json::Document eval = eval_json();
  for (const auto* lines : {&zero, &think}) {
    const std::string name = lines == &zero ? "zero" : "think";
    double fmt = 0;
    for (const auto& l : *lines) {
      ASSERT_TRUE(l["components"].HasMember("format/ok")) << name << ": " << json::dump(l["components"]);
      fmt += l["components"]["format/ok"].GetDouble();
    }
    EXPECT_NEAR(eval["models"][name.c_str()]["format_rate"].GetDouble(), fmt / lines->size(), 1e-12) << name;
  }
  double think_reward = 0;
  for (const auto& l : think) think_reward += l["reward"].GetDouble();
  EXPECT_NEAR(eval["models"]["think"]["reward"].GetDouble(), think_reward / think.size(), 1e-12);
  EXPECT_GT(think_reward, 0.0);
  EXPECT_TRUE(eval["models"]["zero"]["accuracy"].IsNumber());
  EXPECT_TRUE(eval["models"]["think"]["accuracy"].IsNull());
  // The rm_data prompts: the stage's "plain" template for zero; the override's data template, and its own rm_data
  // limit, for think.
  const auto zero_rm = read_jsonl(stage_file("completions-zero-rm.jsonl"));
  const auto think_rm = read_jsonl(stage_file("completions-think-rm.jsonl"));
  ASSERT_EQ(zero_rm.size(), 12u);  // 4 prompts x rm_samples_per_prompt 3 (not samples_per_prompt 2)
  ASSERT_EQ(think_rm.size(), 6u);
  for (const auto& l : zero_rm) EXPECT_EQ(str(l["prompt"]), str(l["question"]));
  for (const auto& l : think_rm) {
    EXPECT_EQ(str(l["prompt"]).rfind(kR1ZeroHead, 0), 0u);
    EXPECT_TRUE(ends_with(str(l["prompt"]), "<think>"));
  }
  // The resolved recipe shows the override with its reward in normal form.
  const std::string resolved = read_text(run() + "/recipe.resolved.json");
  EXPECT_NE(resolved.find("\"think_in_prompt\": true"), std::string::npos) << resolved;
  EXPECT_NE(resolved.find("\"zero\": \"stage:base\""), std::string::npos) << resolved;
}

TEST_F(EvaluateRun, LanguageIsTheMeanLanguageRewardOfTheCompletions) {
  const rewards::RewardPtr language = rewards::Registry::global().make_from_spec("language");
  const json::Document eval = eval_json();
  const auto metrics = read_jsonl(run() + "/metrics.jsonl");
  std::set<double> distinct;
  for (const char* name : {"zero", "think"}) {
    SCOPED_TRACE(name);
    const auto lines = read_jsonl(stage_file(std::string("completions-") + name + ".jsonl"));
    ASSERT_FALSE(lines.empty());
    double sum = 0;
    for (const auto& l : lines) {
      json::Document row(rapidjson::kObjectType);
      row.AddMember("target_lang", "en", row.GetAllocator());  // data.target_lang
      const double expected = language->score({str(l["prompt"]), str(l["completion"]), &row}).value;
      EXPECT_DOUBLE_EQ(l["language"].GetDouble(), expected) << str(l["completion"]);
      sum += expected;
      distinct.insert(expected);
    }
    const double mean = sum / static_cast<double>(lines.size());
    EXPECT_NEAR(eval["models"][name]["language"].GetDouble(), mean, 1e-12);
    bool logged = false;
    for (const auto& m : metrics) {
      if (str(m["stage"]) != std::string("eval/") + name) continue;
      logged = true;
      EXPECT_NEAR(m["language"].GetDouble(), mean, 1e-12);
    }
    EXPECT_TRUE(logged);
    char cell[32];
    std::snprintf(cell, sizeof(cell), "%.3f", mean);
    EXPECT_NE(read_text(run() + "/report.html").find(std::string("<td class=\"num\">") + cell + "</td>"),
              std::string::npos) << cell;
  }
  EXPECT_GT(distinct.size(), 1u) << "every completion scores the same: the check could not tell columns apart";
  EXPECT_NE(result_->output.find("language"), std::string::npos) << result_->output;
  EXPECT_NE(read_text(run() + "/report.html").find("<th>language</th><th>rm score</th>"), std::string::npos);
}

TEST_F(EvaluateRun, RmScoreIsTheMeanRawScoreOfTheRewardModel) {
  RewardModelOptions o;
  o.path = run() + "/stages/rm/final";
  const RewardModelReward rm(o, "test");
  const json::Document eval = eval_json();
  for (const char* name : {"zero", "think"}) {
    SCOPED_TRACE(name);
    const auto lines = read_jsonl(stage_file(std::string("completions-") + name + "-rm.jsonl"));
    ASSERT_FALSE(lines.empty());
    double sum = 0;
    for (const auto& l : lines) {
      json::Document row(rapidjson::kObjectType);
      row.AddMember("question", json::Value(l["question"], row.GetAllocator()), row.GetAllocator());
      const double score = rm.score({str(l["prompt"]), str(l["completion"]), &row}).value;
      EXPECT_NEAR(l["rm_score"].GetDouble(), score, 1e-4);
      sum += score;
    }
    const double mean = sum / static_cast<double>(lines.size());
    EXPECT_NEAR(eval["models"][name]["rm_score"].GetDouble(), mean, 1e-4);
    EXPECT_EQ(eval["models"][name]["rm_completions"].GetInt64(), static_cast<int64_t>(lines.size()));
  }
  EXPECT_EQ(eval["rm_samples_per_prompt"].GetInt64(), 3);
  EXPECT_DOUBLE_EQ(eval["rm_temperature"].GetDouble(), 0.5);
  EXPECT_EQ(eval["samples_per_prompt"].GetInt64(), 2);
  EXPECT_NE(result_->output.find("rm_data prompts x 3 sample(s), temperature 0.5"), std::string::npos) << result_->output;
  // The two models' completions differ, and so do their scores: the column is per model.
  EXPECT_NE(eval["models"]["zero"]["rm_score"].GetDouble(), eval["models"]["think"]["rm_score"].GetDouble());
  bool logged = false;
  for (const auto& m : read_jsonl(run() + "/metrics.jsonl")) {
    if (str(m["stage"]) == "eval/zero") logged = m.HasMember("rm_score");
  }
  EXPECT_TRUE(logged);
}

// ---------------------------------------------------------------------------------------------------------
// Recipe errors (parsed in-process, nothing runs).

std::string eval_recipe(const std::string& extra, const std::string& models = R"({"m": "/nowhere"})") {
  return R"({"seed": 1, "stages": [{"name": "eval", "type": "evaluate", "models": )" + models +
         R"(, "data": {"path": "p.jsonl"}, "reward": "math, format")" + extra + "}]}";
}

TEST(EvaluateRecipe, ErrorsOfOverridesAndTheNewColumns) {
  const std::string dir = scratch_dir();
  struct Case {
    std::string what, extra, models;
    std::vector<std::string> expect;
  };
  const std::vector<Case> cases = {
      {"unknown key in an override", "", R"({"m": {"model": "/nowhere", "dataa": {"limit": 2}}})",
       {"stages[0] (eval)", "models.m", "unknown key 'dataa'", "accepted: data, model, reward, rm_data"}},
      {"an override without a model", "", R"({"m": {"data": {"limit": 2}}})",
       {"models.m", "key 'model' is required"}},
      {"an override that is neither a string nor an object", "", R"({"m": 3})",
       {"models.m", "expected a model directory or stage:NAME"}},
      {"unknown key in an override's data", "", R"({"m": {"model": "/nowhere", "data": {"templat": "plain"}}})",
       {"models.m: data", "unknown key 'templat'"}},
      {"the stage's format reward under an override's <think> template", "",
       R"({"ok": "/nowhere", "m": {"model": "/nowhere", "data": {"prompt_template": "r1_zero_think"}}})",
       {"models.m", "ends with <think>", "think_in_prompt"}},
      {"an override's reward that disagrees with the stage's template", "",
       R"({"m": {"model": "/nowhere", "reward": [{"name": "format", "options": {"think_in_prompt": true}}]}})",
       {"models.m", "does not end with <think>"}},
      {"reward_model normalising", R"(, "rm_data": {"path": "c.jsonl"}, "reward_model": {"path": "/rm", "normalize": "batch"})",
       "", {"reward_model", "option 'normalize' must be none", "'batch'"}},
      {"reward_model clipping", R"(, "rm_data": {"path": "c.jsonl"}, "reward_model": {"path": "/rm", "clip": 2})", "",
       {"reward_model", "option 'clip' must be 0"}},
      {"reward_model with an unknown option", R"(, "rm_data": {"path": "c.jsonl"}, "reward_model": {"paht": "/rm"})", "",
       {"reward_model", "unknown option 'paht'"}},
      {"rm_data without reward_model", R"(, "rm_data": {"path": "c.jsonl"})", "", {"rm_data needs 'reward_model'"}},
      {"reward_model without rm_data", R"(, "reward_model": "/rm")", "", {"reward_model needs 'rm_data'"}},
      {"negative rm_samples_per_prompt", R"(, "rm_samples_per_prompt": -1)", "", {"rm_samples_per_prompt must be >= 0"}},
      {"an override's rm_data without the column", "", R"({"m": {"model": "/nowhere", "rm_data": {"limit": 1}}})",
       {"models.m", "'rm_data' applies only with the stage's rm_data and reward_model"}},
      {"an unknown language reward", R"(, "language_reward": "langauge")", "", {"language_reward", "langauge"}},
  };
  int i = 0;
  for (const auto& c : cases) {
    SCOPED_TRACE(c.what);
    const std::string recipe = dir + "/case" + std::to_string(i++) + ".json";
    write_text(recipe, c.models.empty() ? eval_recipe(c.extra) : eval_recipe(c.extra, c.models));
    RunOptions options;
    options.check_only = true;
    options.quiet = true;
    const std::string message = error_of([&] { run_recipe(recipe, options); });
    if (message.empty()) {
      ADD_FAILURE() << "no error";
      continue;
    }
    for (const auto& e : c.expect) EXPECT_NE(message.find(e), std::string::npos) << "missing '" << e << "' in:\n" << message;
  }
  // The accepted forms: the language column off (null or ""), the reward model as a path or an options object.
  for (const std::string off : {"null", "\"\""}) {
    write_text(dir + "/off.json", eval_recipe(R"(, "language_reward": )" + off));
    const std::string resolved = resolve_recipe(dir + "/off.json", RunOptions{});
    EXPECT_NE(resolved.find("\"language_reward\": null"), std::string::npos) << resolved;
  }
  write_text(dir + "/on.json", eval_recipe(R"(, "rm_data": {"path": "c.jsonl"}, "reward_model": {"path": "/rm", "batch_size": 4})"));
  const std::string resolved = resolve_recipe(dir + "/on.json", RunOptions{});
  EXPECT_NE(resolved.find("\"language_reward\": {"), std::string::npos) << resolved;
  EXPECT_NE(resolved.find("\"batch_size\": 4"), std::string::npos) << resolved;
  // --help-stage lists the new keys.
  const RunResult help = run_r1({"run", "--help-stage", "evaluate"}, dir + "/help.log");
  for (const char* key : {"language_reward", "rm_data.path", "reward_model", "models", "rm_temperature",
                          "rm_samples_per_prompt"}) {
    EXPECT_NE(help.output.find(key), std::string::npos) << key << "\n" << help.output;
  }
  cleanup_if_passed(dir);
}

}  // namespace
}  // namespace r1::rl
