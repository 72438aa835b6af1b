// Acceptance tests of `r1 run` (child processes, a tiny random-init DeepSeek-V3 model): recipe errors are
// reported with the file and the key and a non-zero exit, never a crash; the SFT stage trains on chat JSONL
// ({"messages": [...]} and {"prompt", "completion"}) with the loss on assistant tokens only and the loss going
// down; a run directory holds metrics.jsonl with the diagnostics, samples.jsonl and a resolved recipe that
// loads again.
#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <set>

#include "common/error.h"
#include "model/tokenizer/tokenizer.h"
#include "rewards/registry.h"
#include "rl/stages/grpo.h"
#include "rl/stages/pretrain.h"
#include "rl/stages/sft.h"
#include "rl/pipeline.h"
#include "rl/recipe.h"
#include "rl/run_dir.h"
#include "run_util.h"

namespace r1::rl {
namespace {

using namespace r1::rl::testing;

// ---------------------------------------------------------------------------------------------------------
// Recipe errors through `r1 run`.

std::string pretrain_stage(const std::string& name, const std::string& data, const std::string& extra = "") {
  return R"({"name": ")" + name + R"(", "type": "pretrain", "model": )" + tiny_model_json() + R"(, "data": ")" + data +
         R"(", "steps": 1, "batch_size": 2, "max_len": 32, "threads": 1)" + extra + "}";
}

struct ErrorCase {
  std::string what;
  std::string stages;                    // the "stages" array text
  std::vector<std::string> extra_args;   // e.g. --set
  std::vector<std::string> expect;       // substrings of the error
  bool nothing_ran = true;               // the error comes before any stage runs
  bool names_recipe = true;              // the error names the recipe file (else another file, in expect)
};

TEST(RunRecipe, ErrorsNameTheFileAndKeyExitNonZeroAndNeverCrash) {
  const std::string dir = scratch_dir();
  const std::string corpus = dir + "/corpus.jsonl";
  write_text(corpus, "{\"text\": \"1 + 1 = 2\"}\n{\"text\": \"2 + 2 = 4\"}\n");
  const std::string good = pretrain_stage("base", corpus);
  write_text(dir + "/custom.json", model::make_byte_level_tokenizer_json({"<|endoftext|>"}));
  std::vector<ErrorCase> cases = {
      {"unknown key in the last stage (fails before the first stage runs)",
       "[" + good + ", " + pretrain_stage("b", corpus, R"(, "stepz": 3)") + "]",
       {},
       {"stages[1] (b)", "unknown key 'stepz'", "accepted:", "steps"}},
      {"unknown key in a nested section",
       "[" + pretrain_stage("b", corpus, R"(, "optim": {"lrr": 0.1})") + "]",
       {},
       {"stages[0] (b)", "key 'optim': unknown key 'lrr'"}},
      {"wrong type", "[" + pretrain_stage("b", corpus, R"(, "mtp_weight": "0.3")") + "]", {},
       {"stages[0] (b)", "key 'mtp_weight': expected a number, got string"}},
      {"a key given twice (JSON allows it; the second would be silently ignored)",
       "[" + pretrain_stage("b", corpus, R"(, "steps": 100)") + "]", {},
       {"stages[0] (b)", "duplicate key 'steps'"}},
      {"wrong type through --set", "[" + good + "]", {"--set", "stages.base.pack=[1]"},
       {"--set 'stages.base.pack=[1]': ", "stages[0] (base)", "key 'pack': expected true or false, got array"},
       true, /*names_recipe=*/false},
      {"unknown stage type", "[" + good + R"(, {"name": "x", "type": "pretrian"}])", {},
       {"stages[1] (x)", "unknown stage type 'pretrian'", "known:", "grpo"}},
      {"bad value", "[" + pretrain_stage("b", corpus, R"(, "optim": {"schedule": "linear"})") + "]", {},
       {"stages[0] (b)", "linear"}},
      {"model from both path and init_config",
       R"([{"name": "b", "type": "pretrain", "model": {"path": "/x", "init_config": {}}, "data": "d.jsonl"}])", {},
       {"stages[0] (b)", "exactly one of 'path'"}},
      {"bad model config", "[" + std::string(R"({"name": "b", "type": "pretrain", "model": {"init_config": {"architectures": ["DeepseekV3ForCausalLM"], "model_type": "deepseek_v3", "vocab_size": "many"}, "byte_level_tokenizer": ["<|endoftext|>"]}, "data": ")") + corpus + R"("}])",
       {},
       {"stages[0] (b)", "vocab_size"},
       false},
      {"stage: reference to no stage (in the last stage: checked before the first runs)",
       "[" + good + ", " + pretrain_stage("b", "stage:nope/corpus.jsonl") + "]",
       {},
       {"stages[1] (b)", "'stage:nope/corpus.jsonl' names no stage of this recipe"}},
      {"stage: reference to a stage that has not run yet",
       "[" + pretrain_stage("b", "stage:later/corpus.jsonl") + R"(, {"name": "later", "type": "synthetic_arithmetic"}])",
       {},
       {"stages[0] (b)", "refers to stage 'later', which has not completed"}},
      {"a chat template whose markers the tokenizer lacks (suggests the working routes)",
       "[" + good + R"(, {"name": "s", "type": "sft", "model": )" + tiny_model_json() + R"(, "data": ")" + corpus +
           R"(", "chat_template": "chatml"}])",
       {},
       {"stages[1] (s)", "chat_template 'chatml'", "'<|im_end|>' is not one token", "prompt_template",
        "special_tokens"}},
      {"an unknown chat template", "[" + good + R"(, {"name": "s", "type": "sft", "model": )" + tiny_model_json() +
           R"(, "data": ")" + corpus + R"(", "chat_template": "deepseek_r1"}])",
       {},
       {"stages[1] (s)", "chat_template 'deepseek_r1'", "deepseek-r1"}},
      {"missing data file", "[" + pretrain_stage("b", dir + "/missing.jsonl") + "]", {}, {"missing.jsonl"}, false,
       /*names_recipe=*/false},
      {"a tokenizer file checkpoints would not carry",
       R"([{"name": "b", "type": "pretrain", "model": {"init_config": )" + tiny_config_json() + R"(, "tokenizer": ")" +
           dir + R"(/custom.json"}, "data": ")" + corpus + R"(", "steps": 1, "batch_size": 2, "max_len": 32}])",
       {},
       {"stages[0] (b)", "custom.json", "would not be copied into checkpoints"},
       false},
      // Keys that were once parsed and silently ignored are now errors.
      {"chat_template in a pretrain stage", "[" + pretrain_stage("b", corpus, R"(, "chat_template": "chatml")") + "]",
       {}, {"stages[0] (b)", "unknown key 'chat_template'"}},
      {"text_key in an sft stage",
       R"([{"name": "s", "type": "sft", "model": )" + tiny_model_json() + R"(, "data": ")" + corpus +
           R"(", "text_key": "body"}])",
       {}, {"stages[0] (s)", "unknown key 'text_key'"}},
      {"add_eos with a chat template",
       R"([{"name": "s", "type": "sft", "model": )" + tiny_model_json(kChatMlSpecials) + R"(, "data": ")" + corpus +
           R"(", "chat_template": "chatml", "add_eos": false}])",
       {}, {"stages[0] (s)", "add_eos applies to prompt_template rows only"}},
      {"greedy sampling in a grpo stage",
       "[" + good + R"(, {"name": "rl", "type": "grpo", "model": {"path": "stage:base"},
          "data": {"path": "p.jsonl"}, "reward": "math", "sampling": {"temperature": 0}}])",
       {},
       {"stages[1] (rl)", "sampling.temperature must be > 0 in a grpo stage"}},
      {"an unknown KL estimator", "[" + good + R"(, {"name": "rl", "type": "grpo", "model": {"path": "stage:base"},
          "data": {"path": "p.jsonl"}, "reward": "math", "grpo": {"kl_estimator": "k4"}}])",
       {},
       {"stages[1] (rl)", "key 'kl_estimator'", "'k4' is not one of k1 | k2 | k3"}},
      {"format reward that fails every completion of a prompt ending in <think>",
       "[" + good + R"(, {"name": "rl", "type": "grpo", "model": {"path": "stage:base"},
          "data": {"path": "p.jsonl", "prompt_template": "r1_zero_think"},
          "reward": {"composite": [{"name": "math"}, {"name": "format", "options": {"style": "r1_zero"}}]}}])",
       {},
       {"stages[1] (rl)", "ends with <think>", "\"think_in_prompt\": true"}},
      {"format reward told <think> is in a prompt that lacks it (reward given as a name list)",
       "[" + good + R"(, {"name": "eval", "type": "evaluate", "models": {"m": "stage:base"},
          "data": {"path": "p.jsonl", "prompt_template": "Q: {prompt}\nA: <think>"}, "reward": "math, format"}])",
       {},
       {"stages[1] (eval)", "ends with <think>", "think_in_prompt"}},
      {"think_in_prompt without <think> in the prompt",
       "[" + good + R"(, {"name": "eval", "type": "evaluate", "models": {"m": "stage:base"},
          "data": {"path": "p.jsonl", "prompt_template": "r1_zero"},
          "reward": [{"name": "format", "options": {"think_in_prompt": true}}]}])",
       {},
       {"stages[1] (eval)", "does not end with <think>", "r1_zero_think"}},
  };
  if (!at::hasCUDA()) {
    cases.push_back({"a CUDA device on a build without CUDA",
                     R"([{"name": "b", "type": "pretrain", "model": {"init_config": )" + tiny_config_json() +
                         R"(, "byte_level_tokenizer": ["<|endoftext|>"], "device": "cuda:1"}, "data": ")" + corpus +
                         R"("}])",
                     {},
                     {"stages[0] (b)", "model.device", "'cuda:1'", "built without CUDA", "use device cpu"}});
  }
  // Every case in-process (run_recipe, what `r1 run` calls: fast), and a few through the r1 binary for the
  // exit status and the printed error (starting r1 costs ~1 s, so not all of them).
  const std::set<std::string> through_cli = {"unknown key in the last stage (fails before the first stage runs)",
                                             "wrong type through --set",
                                             "stage: reference to no stage (in the last stage: checked before the "
                                             "first runs)"};
  int i = 0;
  for (const auto& c : cases) {
    SCOPED_TRACE(c.what);
    const std::string name = "case" + std::to_string(i++);
    const std::string recipe = dir + "/" + name + ".json";
    write_text(recipe, "// " + c.what + "\n{\"seed\": 1, \"stages\": " + c.stages + "}\n");
    const std::string out = dir + "/" + name + "_run";
    auto check_message = [&](const std::string& message) {
      if (c.names_recipe) {
        EXPECT_NE(message.find(name + ".json"), std::string::npos) << "the error should name the recipe file:\n"
                                                                   << message;
      }
      for (const auto& e : c.expect) EXPECT_NE(message.find(e), std::string::npos) << "missing '" << e << "' in:\n" << message;
    };
    RunOptions options;
    for (size_t a = 0; a + 1 < c.extra_args.size(); a += 2) options.overrides.push_back(c.extra_args[a + 1]);
    options.output_dir = out;
    options.quiet = true;
    try {
      run_recipe(recipe, options);
      ADD_FAILURE() << "no error";
    } catch (const Error& e) {
      check_message(e.what());
    } catch (const std::exception& e) {
      ADD_FAILURE() << "not an r1::Error (no file/key context): " << e.what();
    }
    if (c.nothing_ran) {
      EXPECT_FALSE(exists(out + "/stages")) << "a stage ran before the recipe was validated";
      EXPECT_FALSE(exists(out + "/state.json"));
    }
    if (!through_cli.count(c.what)) continue;
    std::vector<std::string> args = {"run", recipe, "--output", out + "_cli", "--quiet"};
    args.insert(args.end(), c.extra_args.begin(), c.extra_args.end());
    RunResult r = run_r1(args, dir + "/" + name + ".log");
    EXPECT_TRUE(r.exited) << "killed by signal " << r.code << ":\n" << r.output;
    EXPECT_EQ(r.code, 1) << r.output;
    EXPECT_NE(r.output.find("error: "), std::string::npos) << r.output;
    check_message(r.output);
    for (const char* crash : {"terminate called", "Aborted", "Segmentation", "core dumped"}) {
      EXPECT_EQ(r.output.find(crash), std::string::npos) << r.output;
    }
  }
  ASSERT_EQ(i, static_cast<int>(cases.size()));

  // A finished run directory is never silently overwritten: without --resume it is an error.
  const std::string recipe = dir + "/ok.json";
  write_text(recipe, "{\"seed\": 1, \"stages\": [" + good + "]}");
  RunResult ok = run_r1({"run", recipe, "--output", dir + "/ok_run", "--quiet"}, dir + "/ok.log");
  ASSERT_TRUE(ok.exited && ok.code == 0) << ok.output;
  RunOptions options;
  options.output_dir = dir + "/ok_run";
  options.quiet = true;
  try {
    run_recipe(recipe, options);
    ADD_FAILURE() << "an existing run directory was overwritten";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("--resume"), std::string::npos) << e.what();
  }
  // With --resume a completed stage is skipped (its output stays as it was).
  const auto before = std::filesystem::last_write_time(dir + "/ok_run/stages/base/final/model.safetensors");
  options.resume = true;
  EXPECT_EQ(run_recipe(recipe, options), dir + "/ok_run");
  EXPECT_EQ(std::filesystem::last_write_time(dir + "/ok_run/stages/base/final/model.safetensors"), before);
  cleanup_if_passed(dir);
}

// ---------------------------------------------------------------------------------------------------------
// SFT.

const char* kChatRows =
    R"({"messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "What is 2+3?"}, {"role": "assistant", "content": "5"}, {"role": "user", "content": "And 4+4?"}, {"role": "assistant", "content": "8"}]}
{"prompt": "What is 7+1?", "completion": "It is 8."}
{"messages": [{"role": "user", "content": "Say hi"}, {"role": "assistant", "content": "hi there"}]}
{"prompt": "Capital of France?", "completion": "Paris"}
)";

std::unique_ptr<model::Tokenizer> chatml_tokenizer(const std::string& dir) {
  write_text(dir + "/tokenizer.json",
             model::make_byte_level_tokenizer_json({"<|endoftext|>", "<|im_start|>", "<|im_end|>"}));
  return model::Tokenizer::load(dir + "/tokenizer.json");
}

// The text of the tokens with the given train flag, in order.
std::string text_where(const model::Tokenizer& tok, const Sequence& s, uint8_t flag) {
  std::vector<int64_t> ids;
  for (size_t i = 0; i < s.ids.size(); ++i) {
    if (s.train[i] == flag) ids.push_back(s.ids[i]);
  }
  return tok.decode(ids);
}

TEST(Sft, TrainMaskCoversOnlyAssistantTokens) {
  const std::string dir = scratch_dir();
  auto tok = chatml_tokenizer(dir);
  const std::string data = dir + "/chat.jsonl";
  write_text(data, kChatRows);
  SftConfig c;
  c.chat_template = "chatml";
  std::vector<Sequence> seqs = sft_sequences(c, *tok, data, 256, "test");
  ASSERT_EQ(seqs.size(), 4u);
  for (const auto& s : seqs) ASSERT_EQ(s.ids.size(), s.train.size());
  // Multi-turn: both assistant answers with their end-of-turn token, nothing of the system or user turns.
  EXPECT_EQ(text_where(*tok, seqs[0], 1), "5<|im_end|>8<|im_end|>");
  EXPECT_EQ(text_where(*tok, seqs[0], 0),
            "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nWhat is 2+3?<|im_end|>\n"
            "<|im_start|>assistant\n\n<|im_start|>user\nAnd 4+4?<|im_end|>\n<|im_start|>assistant\n\n");
  // A user token has mask 0, token by token.
  const std::string all = tok->decode(seqs[0].ids);
  EXPECT_NE(all.find("What is 2+3?"), std::string::npos);
  for (size_t i = 0; i < seqs[0].ids.size(); ++i) {
    const std::string piece = tok->decode({seqs[0].ids[i]});
    if (piece == "?" || piece == "W" || piece == "B") {
      EXPECT_EQ(seqs[0].train[i], 0) << "token " << i << " '" << piece << "'";
    }
  }
  // {"prompt", "completion"} rows are one user turn and one assistant turn.
  EXPECT_EQ(text_where(*tok, seqs[1], 1), "It is 8.<|im_end|>");
  EXPECT_EQ(text_where(*tok, seqs[1], 0), "<|im_start|>user\nWhat is 7+1?<|im_end|>\n<|im_start|>assistant\n\n");

  // With a plain prompt template instead of a chat template: the completion and EOS are the targets.
  std::vector<std::string> pc_rows = {R"({"prompt": "What is 7+1?", "completion": " 8"})",
                                      R"({"messages": [{"role": "user", "content": "Q"}, {"role": "assistant", "content": "A"}]})"};
  write_text(dir + "/pc.jsonl", pc_rows[0] + "\n" + pc_rows[1] + "\n");
  SftConfig p;
  p.prompt_template = "Question: {prompt}\nAnswer:";
  std::vector<Sequence> ps = sft_sequences(p, *tok, dir + "/pc.jsonl", 256, "test");
  ASSERT_EQ(ps.size(), 2u);
  EXPECT_EQ(text_where(*tok, ps[0], 1), " 8<|endoftext|>");
  EXPECT_EQ(text_where(*tok, ps[0], 0), "Question: What is 7+1?\nAnswer:");
  EXPECT_EQ(text_where(*tok, ps[1], 1), "A<|endoftext|>");
  // A multi-turn conversation cannot go through a prompt template.
  try {
    sft_sequences(p, *tok, data, 256, "test");
    ADD_FAILURE() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("chat.jsonl:1"), std::string::npos) << e.what();
  }
  cleanup_if_passed(dir);
}

TEST(Sft, ChatJsonlTrainsOnAssistantTokensAndTheLossGoesDown) {
  const std::string dir = scratch_dir();
  const std::string data = dir + "/chat.jsonl";
  write_text(data, kChatRows);
  const std::string recipe = dir + "/sft.json";
  const int steps = 12;
  write_text(recipe, R"({"seed": 2, "stages": [{
    "name": "sft", "type": "sft", "model": )" + tiny_model_json(kChatMlSpecials) + R"(,
    "data": ")" + data + R"(", "chat_template": "chatml",
    "steps": )" + std::to_string(steps) + R"(, "batch_size": 4, "max_len": 96, "mtp_weight": 0.3,
    "optim": {"lr": 0.01, "schedule": "constant", "weight_decay": 0.0}, "threads": 1}]})");
  RunResult r = run_r1({"run", recipe, "--output", dir + "/run", "--quiet"}, dir + "/run.log");
  ASSERT_TRUE(r.exited && r.code == 0) << r.output;
  auto metrics = metrics_by_step(dir + "/run", "sft");
  ASSERT_EQ(metrics.size(), static_cast<size_t>(steps));
  const double first = metrics[1]["loss"].GetDouble(), last = metrics[steps]["loss"].GetDouble();
  EXPECT_GT(first, 4.0);  // ~ln(264) for a random model
  EXPECT_LT(last, 0.75 * first) << "the loss did not go down: " << first << " -> " << last;
  EXPECT_LT(metrics[steps]["mtp_loss"].GetDouble(), metrics[1]["mtp_loss"].GetDouble());

  // batch_size = the 4 rows, so every step trains on all of them: the number of loss targets is exactly the
  // number of assistant tokens (+ end-of-turn tokens) of the file.
  auto tok = model::Tokenizer::load(dir + "/run/stages/sft/tokenizer");
  SftConfig c;
  c.chat_template = "chatml";
  int64_t assistant_tokens = 0;
  for (const auto& s : sft_sequences(c, *tok, data, 256, "test")) {
    ASSERT_EQ(s.train.at(0), 0);  // the first token is never a target anyway
    for (uint8_t t : s.train) assistant_tokens += t;
  }
  EXPECT_EQ(static_cast<int64_t>(metrics[1]["tokens"].GetDouble()), assistant_tokens);
  EXPECT_TRUE(exists(dir + "/run/stages/sft/final/model.safetensors"));
  EXPECT_TRUE(exists(dir + "/run/stages/sft/final/tokenizer.json"));
  // The trainer skeleton's files: the data of every step, and the probe the final directory reloads to.
  auto batches = read_jsonl(dir + "/run/stages/sft/batches.jsonl");
  ASSERT_EQ(batches.size(), static_cast<size_t>(steps));
  for (int k = 0; k < steps; ++k) {
    EXPECT_EQ(batches[static_cast<size_t>(k)]["step"].GetInt64(), k + 1);
    EXPECT_EQ(batches[static_cast<size_t>(k)]["sequences"].GetArray().Size(), 4u);
  }
  EXPECT_EQ(check_logit_probe(dir + "/run/stages/sft/logit_probe.json", dir + "/run/stages/sft/final"), 0.0);
  cleanup_if_passed(dir);
}

// `epochs` instead of `steps`: ceil(epochs x rows / batch_size) optimizer steps, printed; a negative count is an
// error naming the key.
TEST(Sft, EpochsSetTheNumberOfSteps) {
  const std::string dir = scratch_dir();
  const std::string data = dir + "/chat.jsonl";
  write_text(data, kChatRows);  // 4 conversations
  auto recipe = [&](const std::string& epochs) {
    const std::string path = dir + "/sft_" + epochs + ".json";
    write_text(path, R"({"seed": 2, "stages": [{
      "name": "sft", "type": "sft", "model": )" + tiny_model_json(kChatMlSpecials) + R"(,
      "data": ")" + data + R"(", "chat_template": "chatml", "steps": 50, "epochs": )" + epochs + R"(,
      "batch_size": 3, "max_len": 96, "optim": {"lr": 0.01}, "threads": 1}]})");
    return path;
  };
  RunResult r = run_r1({"run", recipe("2.5"), "--output", dir + "/run", "--quiet"}, dir + "/run.log");
  ASSERT_TRUE(r.exited && r.code == 0) << r.output;
  EXPECT_NE(r.output.find("2.5 epoch(s) of 4 rows at batch_size 3 = 4 steps"), std::string::npos) << r.output;
  EXPECT_EQ(metrics_by_step(dir + "/run", "sft").size(), 4u);  // ceil(2.5 x 4 / 3), not the 50 of 'steps'
  EXPECT_EQ(read_jsonl(dir + "/run/stages/sft/batches.jsonl").size(), 4u);
  RunResult bad = run_r1({"run", recipe("-1"), "--output", dir + "/bad", "--quiet"}, dir + "/bad.log");
  EXPECT_TRUE(bad.exited && bad.code != 0);
  EXPECT_NE(bad.output.find("key 'epochs' must be >= 0"), std::string::npos) << bad.output;
  cleanup_if_passed(dir);
}

// ---------------------------------------------------------------------------------------------------------
// GRPO with DAPO dynamic sampling.

// A reward whose groups are all-equal exactly on the rows without "mixed": those score 0; a "mixed" row's
// completions score 1, 0, 1, ... in scoring order (serial with reward_threads = 1), so any group of them
// has both values. Reported as "dyn/correct" so that it counts as accuracy.
// Writes `rows` prompts "i + 1" (answer i + 1) to path; rows with i % mixed_every == 0 (mixed_every > 0) get
// "mixed": true, which the test_mixed reward scores with both right and wrong answers.
void write_mixed_prompts(const std::string& path, int rows, int mixed_every) {
  std::string prompts;
  for (int i = 0; i < rows; ++i) {
    prompts += "{\"prompt\": \"" + std::to_string(i) + " + 1\", \"answer\": \"" + std::to_string(i + 1) +
               "\", \"mixed\": " + (mixed_every > 0 && i % mixed_every == 0 ? "true" : "false") + "}\n";
  }
  write_text(path, prompts);
}

void register_mixed_reward() {
  static const bool once = [] {
    struct Mixed : rewards::Reward {
      mutable std::atomic<int64_t> calls{0};
      std::string name() const override { return "test_mixed"; }
      rewards::Score score(const rewards::Sample& sample) const override {
        const json::Value* mixed = sample.row ? json::find(*sample.row, "mixed") : nullptr;
        const double v = mixed && mixed->IsBool() && mixed->GetBool() ? static_cast<double>(calls++ % 2 == 0) : 0.0;
        rewards::Score score;
        score.value = v;
        score.components = {{"dyn/correct", v}};
        return score;
      }
    };
    rewards::Registry::global().add({"test_mixed", "test reward: mixed groups on rows with mixed=true", ""},
                                    [](const json::Value&, const std::string&) { return std::make_shared<Mixed>(); });
    return true;
  }();
  (void)once;
}

// Writes write_mixed_prompts(rows, mixed_every) to dir/prompts.jsonl and dir/file: a recipe of one grpo stage
// `stage` on the tiny model over those prompts, judged by test_mixed, with the rest of its keys `keys`.
std::string mixed_grpo_recipe(const std::string& dir, const std::string& file, int seed, const std::string& stage,
                              int rows, int mixed_every, const std::string& keys) {
  write_mixed_prompts(dir + "/prompts.jsonl", rows, mixed_every);
  const std::string recipe = dir + "/" + file;
  write_text(recipe, "{\"seed\": " + std::to_string(seed) + ", \"stages\": [{\"name\": \"" + stage +
                         "\", \"type\": \"grpo\", \"model\": " + tiny_model_json() + ", \"data\": {\"path\": \"" + dir +
                         "/prompts.jsonl\"}, \"reward\": \"test_mixed\",\n" + keys + "}]}");
  return recipe;
}

TEST(Grpo, DynamicSamplingTrainsOnlyOnGroupsWithMixedRewardsAndRefills) {
  register_mixed_reward();
  const std::string dir = scratch_dir();
  const std::string recipe = mixed_grpo_recipe(dir, "dyn.json", 5, "zero", 24, 3, R"(
     "sampling": {"max_new_tokens": 4}, "steps": 4, "prompts_per_step": 2, "group_size": 4,
     "dapo": {"dynamic_sampling": true, "max_sampling_rounds": 3}, "threads": 1, "reward_threads": 1)");
  RunOptions options;
  options.output_dir = dir + "/run";
  options.quiet = true;
  run_recipe(recipe, options);

  auto metrics = metrics_by_step(options.output_dir, "zero");
  auto batches = read_jsonl(options.output_dir + "/stages/zero/batches.jsonl");
  ASSERT_EQ(metrics.size(), 4u);
  ASSERT_EQ(batches.size(), 4u);
  bool refilled = false;
  for (auto& b : batches) {
    const int64_t step = b["step"].GetInt64();
    const auto& m = metrics.at(step);
    int64_t sampled = 0, mixed = 0;
    for (const auto& idx : b["prompts"].GetArray()) {
      ++sampled;
      mixed += idx.GetUint64() % 3 == 0;
    }
    // Each round samples only the groups still missing, so every mixed group sampled is kept and every
    // other one dropped; a step that dropped groups sampled again (up to 3 rounds).
    EXPECT_EQ(m["groups_kept"].GetDouble(), static_cast<double>(mixed)) << "step " << step;
    EXPECT_DOUBLE_EQ(m["zero_variance_groups"].GetDouble(), static_cast<double>(sampled - mixed) / sampled);
    EXPECT_LE(sampled, 2 * 3);
    // Fewer than 2 kept: all 3 rounds ran, rounds 2 and 3 each sampling at least the 2 - mixed missing.
    if (mixed < 2) {
      EXPECT_GE(sampled, 2 + 2 * (2 - mixed)) << "step " << step;
    }
    refilled |= sampled > 2;
    if (mixed > 0) {
      // Kept groups are half right; the sampled accuracy also counts the dropped all-zero groups.
      EXPECT_DOUBLE_EQ(m["accuracy"].GetDouble(), 0.5) << "step " << step;
      EXPECT_DOUBLE_EQ(m["accuracy_sampled"].GetDouble(), 0.5 * mixed / sampled) << "step " << step;
      EXPECT_TRUE(m.HasMember("loss")) << "step " << step;
    }
  }
  EXPECT_TRUE(refilled) << "no step dropped a group and sampled more prompts";
  cleanup_if_passed(dir);
}

// A grpo recipe with dynamic sampling over `rows` prompts of which those with i % mixed_every == 0 have mixed
// rewards (test_mixed), one group per step and one sampling round, so steps often keep no group.
std::string empty_step_recipe(const std::string& dir, int rows, int mixed_every, const std::string& dapo_extra) {
  return mixed_grpo_recipe(dir, "empty.json", 9, "zero", rows, mixed_every, R"(
     "sampling": {"max_new_tokens": 3}, "steps": 3, "prompts_per_step": 1, "group_size": 2,
     "dapo": {"dynamic_sampling": true, "max_sampling_rounds": 1)" + dapo_extra + R"(},
     "threads": 1, "reward_threads": 1)");
}

TEST(RunRecipe, CheckValidatesEveryStageAndRunsNothing) {
  const std::string dir = scratch_dir();
  const std::string corpus = dir + "/corpus.jsonl";
  write_text(corpus, "{\"text\": \"1 + 1 = 2\"}\n");
  write_text(dir + "/good.json",
             R"({"stages": [)" + pretrain_stage("a", corpus) +
                 R"(, {"name": "b", "type": "sft", "model": {"path": "stage:a"}, "data": ")" + corpus + R"("}]})");
  RunResult ok = run_r1({"run", dir + "/good.json", "--check", "--output", dir + "/run"}, dir + "/ok.log");
  ASSERT_TRUE(ok.exited && ok.code == 0) << ok.output;
  EXPECT_NE(ok.output.find("recipe OK: " + dir + "/good.json: 2 stages: a (pretrain), b (sft)"), std::string::npos)
      << ok.output;
  EXPECT_FALSE(exists(dir + "/run")) << "--check must not create the run directory";
  // A bad key in the last stage: the same error as a real run, still nothing written.
  write_text(dir + "/bad.json", "{\"stages\": [" + pretrain_stage("a", corpus) + ", " +
                                    pretrain_stage("b", corpus, R"(, "optim": {"lr": -1})") + "]}");
  RunResult bad = run_r1({"run", dir + "/bad.json", "--check", "--output", dir + "/run"}, dir + "/bad.log");
  EXPECT_TRUE(bad.exited && bad.code == 1) << bad.output;
  EXPECT_NE(bad.output.find("stages[1] (b): optim.lr must be > 0"), std::string::npos) << bad.output;
  EXPECT_FALSE(exists(dir + "/run"));
  cleanup_if_passed(dir);
}

TEST(RunRecipe, HelpStageListsEveryKeyWithItsDefaultFromTheConfig) {
  const std::string dir = scratch_dir();
  RunResult r = run_r1({"run", "--help-stage", "grpo"}, dir + "/help.log");
  ASSERT_TRUE(r.exited && r.code == 0) << r.output;
  for (const char* line : {"stage type 'grpo'", "  steps (int, default 100)", "  grpo.beta (number, default 0.001)",
                           "  grpo.kl_estimator (one of: k1 k2 k3, default \"k3\"): k1 | k2 | k3",
                           "  optim.lr (number, default 0.00001): peak learning rate", "  model.device (string, default \"auto\")",
                           "  save_every_minutes (number, default 10.0)", "  dapo.empty_step (one of: skip count fail"}) {
    EXPECT_NE(r.output.find(line), std::string::npos) << "missing '" << line << "' in:\n" << r.output;
  }
  // Every key a grpo stage accepts is listed: the listing and the reader walk the same visit().
  size_t listed = 0;
  for (const auto& f : ConfigLister::list(GrpoConfig{})) listed += r.output.find("  " + f.key + " (") != std::string::npos;
  EXPECT_EQ(listed, ConfigLister::list(GrpoConfig{}).size());
  RunResult bad = run_r1({"run", "--help-stage", "grpoo"}, dir + "/bad.log");
  EXPECT_TRUE(bad.exited && bad.code == 1) << bad.output;
  EXPECT_NE(bad.output.find("unknown stage type 'grpoo' (known: "), std::string::npos) << bad.output;
  cleanup_if_passed(dir);
}

TEST(Grpo, EmptyStepsAreSkippedCountedOrFailAsTheRecipeSays) {
  register_mixed_reward();
  const std::string dir = scratch_dir();
  RunOptions options;
  options.quiet = true;
  {  // skip (default): every counted step trained on a group; the skipped attempts are logged with the step.
    options.output_dir = dir + "/skip";
    run_recipe(empty_step_recipe(dir, 12, 4, R"(, "max_empty_in_a_row": 30)"), options);
    auto metrics = metrics_by_step(options.output_dir, "zero");
    ASSERT_EQ(metrics.size(), 3u);
    double empty = 0;
    for (auto& [step, m] : metrics) {
      EXPECT_EQ(m["groups_kept"].GetDouble(), 1.0) << "step " << step;
      EXPECT_TRUE(m.HasMember("loss")) << "step " << step;
      empty += m["empty_attempts"].GetDouble();
    }
    EXPECT_GT(empty, 0.0) << "with 1 prompt in 4 mixed, some attempt must have kept nothing";
    size_t drawn = 0;
    for (auto& line : read_jsonl(options.output_dir + "/stages/zero/batches.jsonl")) drawn += line["prompts"].Size();
    EXPECT_EQ(drawn, static_cast<size_t>(3 + empty));
  }
  {  // count: the old behaviour, a step that updates nothing, said in its metrics.
    options.output_dir = dir + "/count";
    run_recipe(empty_step_recipe(dir, 12, 4, R"(, "empty_step": "count")"), options);
    auto metrics = metrics_by_step(options.output_dir, "zero");
    ASSERT_EQ(metrics.size(), 3u);
    int empty_steps = 0;
    for (auto& [step, m] : metrics) {
      const bool empty = m["groups_kept"].GetDouble() == 0;
      empty_steps += empty;
      EXPECT_EQ(m["empty_attempts"].GetDouble(), empty ? 1.0 : 0.0) << "step " << step;
      EXPECT_EQ(m.HasMember("loss"), !empty) << "step " << step;
    }
    EXPECT_GT(empty_steps, 0) << "the data order of this seed draws an unmixed prompt in some step";
  }
  {  // No prompt ever has mixed rewards: skip gives up after max_empty_in_a_row with advice; fail at once.
    for (const char* extra : {R"(, "max_empty_in_a_row": 3)", R"(, "empty_step": "fail")"}) {
      options.output_dir = dir + "/never" + std::string(extra).substr(3, 5);
      try {
        run_recipe(empty_step_recipe(dir, 6, 0, extra), options);
        ADD_FAILURE() << "no error with " << extra;
      } catch (const Error& e) {
        const std::string msg = e.what();
        EXPECT_NE(msg.find("zero step 1: dynamic sampling kept no group"), std::string::npos) << msg;
        EXPECT_NE(msg.find(std::string(extra).find("fail") != std::string::npos ? "dapo.empty_step = fail"
                                                                                : "3 times in a row"),
                  std::string::npos)
            << msg;
      }
    }
  }
  cleanup_if_passed(dir);
}

TEST(Grpo, SequenceBalanceLossAndSamplerTrainerLogprobGapAreLogged) {
  register_mixed_reward();
  const std::string dir = scratch_dir();
  // Temperature 0.7 and two minibatches: the trainer's pi_old (a separate pass) must match the sampler's
  // tempered log-probs up to float rounding.
  const std::string recipe = mixed_grpo_recipe(dir, "bal.json", 3, "rl", 8, 1, R"(
     "sampling": {"max_new_tokens": 6, "temperature": 0.7}, "steps": 2, "prompts_per_step": 2, "group_size": 4,
     "minibatches": 2, "moe": {"seq_aux_alpha": 0.01}, "threads": 1, "reward_threads": 1)");
  RunOptions options;
  options.output_dir = dir + "/run";
  options.quiet = true;
  run_recipe(recipe, options);
  auto metrics = metrics_by_step(options.output_dir, "rl");
  ASSERT_EQ(metrics.size(), 2u);
  for (int64_t step : {1, 2}) {
    const auto& m = metrics.at(step);
    ASSERT_TRUE(m.HasMember("seq_balance_loss")) << "step " << step;
    EXPECT_GT(m["seq_balance_loss"].GetDouble(), 0.0);
    ASSERT_TRUE(m.HasMember("logprob_gap"));
    EXPECT_LT(m["logprob_gap"].GetDouble(), 1e-4) << "sampler and trainer disagree about the distribution";
  }
  cleanup_if_passed(dir);
}

// ---------------------------------------------------------------------------------------------------------
// The run directory.

TEST(RunDir, ForgetStepsAfterDropsOnlyTheResumedStagesLaterLines) {
  const std::string dir = scratch_dir();
  {
    RunDir run(dir, /*resume=*/false);
    Metrics m;
    m.set("loss", 1.0);
    for (int64_t step = 1; step <= 5; ++step) run.log_metrics("a", step, m);
    run.log_metrics("b", 9, m);
    for (int64_t step : {2, 4}) {
      json::Document sample(rapidjson::kObjectType);
      sample.AddMember("stage", "a", sample.GetAllocator());
      sample.AddMember("step", json::Value(step), sample.GetAllocator());
      run.log_sample(sample);
    }
  }
  {  // A kill in the middle of a write.
    std::FILE* f = std::fopen((dir + "/metrics.jsonl").c_str(), "ab");
    ASSERT_NE(f, nullptr);
    std::fputs("{\"stage\": \"a\", \"st", f);
    std::fclose(f);
  }
  RunDir run(dir, /*resume=*/true);
  run.forget_steps_after("a", 3);
  Metrics m;
  m.set("loss", 2.0);
  run.log_metrics("a", 4, m);
  std::vector<std::string> kept;
  for (auto& line : read_jsonl(dir + "/metrics.jsonl")) {
    kept.push_back(std::string(line["stage"].GetString()) + std::to_string(line["step"].GetInt64()));
  }
  EXPECT_EQ(kept, (std::vector<std::string>{"a1", "a2", "a3", "b9", "a4"}));
  auto samples = read_jsonl(dir + "/samples.jsonl");
  ASSERT_EQ(samples.size(), 1u);
  EXPECT_EQ(samples[0]["step"].GetInt64(), 2);
  cleanup_if_passed(dir);
}

TEST(RunDir, HoldsMetricsWithDiagnosticsSamplesAndTheResolvedRecipe) {
  const std::string dir = scratch_dir();
  write_corpus_and_prompts(dir);
  const std::string recipe = dir + "/two.json";
  write_text(recipe, R"({
  "name": "two_stages", "seed": 4,
  "stages": [
    {"name": "base", "type": "pretrain", "model": )" + tiny_model_json() + R"(, "data": ")" + dir + R"(/corpus.jsonl",
     "steps": 2, "batch_size": 4, "max_len": 32, "threads": 1},
    {"name": "zero", "type": "grpo", "model": {"path": "stage:base"},
     "data": {"path": ")" + dir + R"(/prompts.jsonl"}, "reward": "math,format",
     "sampling": {"max_new_tokens": 6}, "steps": 3, "prompts_per_step": 2, "group_size": 3, "grpo": {"beta": 0.04},
     "samples_every": 2, "samples_per_log": 2, "threads": 1, "reward_threads": 1}
  ]
})");
  const std::string run = dir + "/run";
  RunResult r = run_r1({"run", recipe, "--output", run, "--quiet", "--set", "stages.zero.grpo.beta=0.01"},
                       dir + "/run.log");
  ASSERT_TRUE(r.exited && r.code == 0) << r.output;
  EXPECT_NE(r.output.find("run directory: " + run), std::string::npos) << r.output;

  // metrics.jsonl: one line per step of each stage, with the stage's diagnostics.
  auto lines = read_jsonl(run + "/metrics.jsonl");
  ASSERT_EQ(lines.size(), 5u);
  auto base = metrics_by_step(run, "base");
  auto zero = metrics_by_step(run, "zero");
  ASSERT_EQ(base.size(), 2u);
  ASSERT_EQ(zero.size(), 3u);
  for (auto& [step, m] : base) {
    for (const char* key : {"stage", "step", "time", "loss", "lr", "grad_norm", "tokens", "tokens_per_s", "step_s",
                            "moe_load_max_over_mean"}) {
      EXPECT_TRUE(m.HasMember(key)) << "pretrain step " << step << " lacks '" << key << "'";
    }
    EXPECT_TRUE(std::isfinite(m["loss"].GetDouble()));
  }
  for (auto& [step, m] : zero) {
    for (const char* key : {"reward", "reward_std", "reward/math", "reward/format", "accuracy", "loss", "pg_loss", "kl",
                            "clip_frac_low", "clip_frac_high", "ratio_mean", "entropy", "grad_norm", "lr",
                            "completion_len_mean", "truncation_rate", "zero_variance_groups", "time_rollout_s",
                            "time_reward_s", "time_reference_s", "time_update_s", "step_s", "moe_load_max_over_mean"}) {
      EXPECT_TRUE(m.HasMember(key)) << "grpo step " << step << " lacks '" << key << "'";
    }
    EXPECT_TRUE(m["entropy"].IsNumber());
    EXPECT_GT(m["entropy"].GetDouble(), 0.0);
    EXPECT_GE(m["time_rollout_s"].GetDouble(), 0.0);
  }

  // samples.jsonl: the prompts, completions and reward components of steps 1 and 2 (samples_every = 2).
  auto samples = read_jsonl(run + "/samples.jsonl");
  ASSERT_EQ(samples.size(), 4u);
  std::set<int64_t> sample_steps;
  for (auto& s : samples) {
    sample_steps.insert(s["step"].GetInt64());
    EXPECT_EQ(std::string(s["stage"].GetString()), "zero");
    EXPECT_NE(std::string(s["prompt"].GetString()).find(" + 2"), std::string::npos);
    EXPECT_TRUE(s["completion"].IsString());
    EXPECT_TRUE(s["answer"].IsString());
    EXPECT_TRUE(s["reward"].IsNumber());
    EXPECT_TRUE(s["components"].IsObject() && s["components"].HasMember("math/correct"));
  }
  EXPECT_EQ(sample_steps, (std::set<int64_t>{1, 2}));

  // state.json: both stages complete, outputs relative to the run directory.
  json::Document state = json::parse_file(run + "/state.json");
  EXPECT_EQ(std::string(state["completed"]["base"].GetString()), "stages/base/final");
  EXPECT_EQ(std::string(state["completed"]["zero"].GetString()), "stages/zero/final");

  // recipe.resolved.json: --set applied, every field resolved (defaults included), stage: references kept.
  const std::string resolved_path = run + "/recipe.resolved.json";
  json::Document resolved = json::parse_file(resolved_path);
  EXPECT_EQ(std::string(resolved["name"].GetString()), "two_stages");
  EXPECT_EQ(resolved["seed"].GetInt64(), 4);
  const auto& zs = resolved["stages"][1];
  EXPECT_DOUBLE_EQ(zs["grpo"]["beta"].GetDouble(), 0.01);
  EXPECT_EQ(std::string(zs["grpo"]["kl_estimator"].GetString()), "k3");
  EXPECT_EQ(zs["epochs"].GetInt64(), 1);
  EXPECT_EQ(std::string(zs["model"]["path"].GetString()), "stage:base");
  EXPECT_DOUBLE_EQ(resolved["stages"][0]["optim"]["lr"].GetDouble(), 1e-5);
  // It is itself a valid recipe that resolves to the same stages (a run can be reproduced from it).
  Recipe again = load_recipe(resolved_path);
  ASSERT_EQ(again.stages.size(), 2u);
  auto pre = make_pretrain_stage(again.stages[0]);
  auto grpo = make_grpo_stage(again.stages[1]);
  EXPECT_EQ(json::dump(pre->resolved_config()), json::dump(resolved["stages"][0]));
  EXPECT_EQ(json::dump(grpo->resolved_config()), json::dump(resolved["stages"][1]));
  cleanup_if_passed(dir);
}

}  // namespace
}  // namespace r1::rl
