// Tests of distillation (rl/distill_kl.h, rl/stages/distill.h):
//   * the KL losses on a hand-computed case (forward, top-k, reverse), zero for identical distributions, and the
//     chunked custom-autograd path against plain autograd (values and gradients);
//   * re-tokenisation: a teacher's chat rows (its byte-level tokenizer with R1's specials) rendered and
//     tokenised for a student with a trained BPE and ChatML specials;
//   * the shared-vocabulary check, recipe validation naming keys, --help-stage;
//   * `r1 run` on tiny models: SFT mode (epochs → steps, the loss falls, a chat model with checkpoints);
//     forward KL equal to the KL the test computes from the two models, and zero when the student is the
//     teacher (and the top-k floor above 0); reverse KL runs and falls, and resumes exactly after SIGINT;
//     rejection_sampling → distill → evaluate (teacher and student, each with its own tokenizer, side by side).
#include <gtest/gtest.h>

#include <ATen/core/grad_mode.h>
#include <signal.h>

#include <chrono>
#include <cmath>
#include <thread>

#include "datasets/sft_dataset.h"
#include "error_of.h"
#include "model/causal_lm.h"
#include "model/config.h"
#include "model/tokenizer/chat_template.h"
#include "model/tokenizer/tokenizer_train.h"
#include "rl/distill_kl.h"
#include "rl/pipeline.h"
#include "rl/stages/distill.h"
#include "run_util.h"

namespace r1::rl {
namespace {

using namespace r1::rl::testing;
using r1::testing::error_of;

// ---------------------------------------------------------------------------------------------------------
// The losses.

DistillKlOptions kl_options(KlDirection d, int64_t vocab, int64_t top_k = 0, int64_t chunk = 1024) {
  DistillKlOptions o;
  o.direction = d;
  o.vocab = vocab;
  o.top_k = top_k;
  o.chunk_tokens = chunk;
  return o;
}

TEST(DistillKl, HandComputedForwardTopKAndReverse) {
  // One token, V = 3, identity LM heads: the hidden states are the logits. Student uniform, teacher (.5, .3, .2).
  const at::Tensor eye = at::eye(3);
  const at::Tensor hs = at::zeros({1, 3});
  const at::Tensor ht = at::log(at::tensor({0.5f, 0.3f, 0.2f})).unsqueeze(0);
  const double third = 1.0 / 3.0;
  const double forward = 0.5 * std::log(0.5 / third) + 0.3 * std::log(0.3 / third) + 0.2 * std::log(0.2 / third);
  const double top2 = 0.625 * std::log(0.625 / third) + 0.375 * std::log(0.375 / third);  // (.5, .3) renormalised
  const double reverse = third * (std::log(third / 0.5) + std::log(third / 0.3) + std::log(third / 0.2));
  EXPECT_NEAR(chunked_distill_kl(hs, eye, ht, eye, kl_options(KlDirection::kForward, 3)).item<double>(), forward, 1e-6);
  EXPECT_NEAR(chunked_distill_kl(hs, eye, ht, eye, kl_options(KlDirection::kForward, 3, 2)).item<double>(), top2, 1e-6);
  EXPECT_NEAR(chunked_distill_kl(hs, eye, ht, eye, kl_options(KlDirection::kReverse, 3)).item<double>(), reverse, 1e-6);
  EXPECT_NEAR(forward, 0.068959, 1e-6);  // the numbers themselves
  EXPECT_NEAR(top2, 0.437049, 1e-6);
  EXPECT_NEAR(reverse, 0.070240, 1e-6);
  // Only the first `vocab` logits count: a fourth row of the heads changes nothing.
  const at::Tensor eye4 = at::cat({eye, at::full({1, 3}, 5.0f)}, 0);
  EXPECT_NEAR(chunked_distill_kl(hs, eye4, ht, eye4, kl_options(KlDirection::kForward, 3)).item<double>(), forward, 1e-6);
}

TEST(DistillKl, ZeroWhenStudentIsTeacher) {
  at::manual_seed(1);
  const at::Tensor h = at::randn({5, 4}), w = at::randn({7, 4});
  for (KlDirection d : {KlDirection::kForward, KlDirection::kReverse}) {
    const at::Tensor kl = chunked_distill_kl(h, w, h, w, kl_options(d, 7, 0, 2));
    EXPECT_LT(kl.abs().max().item<double>(), 1e-6);
  }
}

TEST(DistillKl, ChunkedEqualsFullAutogradInValueAndGradient) {
  at::manual_seed(2);
  const at::Tensor ht = at::randn({9, 3}), wt = at::randn({12, 3}) * 2;
  for (const auto& o : {kl_options(KlDirection::kForward, 10, 0, 4), kl_options(KlDirection::kForward, 10, 3, 2),
                        kl_options(KlDirection::kReverse, 10, 0, 5)}) {
    const at::Tensor h0 = at::randn({9, 6}), w0 = at::randn({11, 6});  // student rows: 11 >= vocab 10
    const at::Tensor g = at::rand({9});
    at::Tensor h1 = h0.clone().requires_grad_(true), w1 = w0.clone().requires_grad_(true);
    at::Tensor h2 = h0.clone().requires_grad_(true), w2 = w0.clone().requires_grad_(true);
    const at::Tensor a = chunked_distill_kl(h1, w1, ht, wt, o);
    const at::Tensor b = full_distill_kl(h2, w2, ht, wt, o);
    EXPECT_TRUE(at::allclose(a, b, 1e-5, 1e-6)) << a << b;
    (a * g).sum().backward();
    (b * g).sum().backward();
    EXPECT_TRUE(at::allclose(h1.grad(), h2.grad(), 1e-4, 1e-6));
    EXPECT_TRUE(at::allclose(w1.grad(), w2.grad(), 1e-4, 1e-6));
    EXPECT_EQ(w1.grad().slice(0, 10).abs().sum().item<double>(), 0.0);  // the row past the vocabulary
  }
}

// ---------------------------------------------------------------------------------------------------------
// Re-tokenisation and the vocabulary check.

const std::vector<std::string> kTeacherSpecials = {"<|endoftext|>", "<think>", "</think>", "<answer>", "</answer>"};
const std::vector<std::string> kStudentSpecials = {"<|endoftext|>", "<|im_start|>", "<|im_end|>"};

// A teacher's chat row as rejection_sampling writes it (R1's readable format).
const char* kTeacherRow =
    R"({"messages": [{"role": "user", "content": "What is 12 + 30?"}, {"role": "assistant", "content": "<think>\nadd the tens: 10 + 30 = 40, then 2 more\n</think>\n\n42"}]})";

std::unique_ptr<model::Tokenizer> byte_tokenizer(const std::vector<std::string>& specials) {
  return model::Tokenizer::from_tokenizer_json(model::make_byte_level_tokenizer_json(specials), "byte-level");
}

// A BPE trained on a little text, with ChatML's specials: a student whose ids share nothing with the teacher's.
std::string trained_student_tokenizer_json() {
  model::BpeTrainerOptions o;
  o.vocab_size = 300;
  o.special_tokens = kStudentSpecials;
  model::BpeTrainer trainer(o);
  for (int i = 0; i < 40; ++i) {
    trainer.add_text("add the tens: " + std::to_string(i) + " + 30 = then think about the answer and the sum");
  }
  return trainer.train().tokenizer_json;
}

TEST(DistillRetokenize, TeacherTextBecomesTheStudentsChatTokens) {
  const std::string dir = scratch_dir();
  write_text(dir + "/rows.jsonl", std::string(kTeacherRow) + "\n");
  auto teacher = byte_tokenizer(kTeacherSpecials);
  auto student = model::Tokenizer::from_tokenizer_json(trained_student_tokenizer_json(), "student");
  ASSERT_GT(student->vocab_size(), 259);  // merges learnt

  SftConfig c;
  c.chat_template = "chatml";
  const auto convs = load_sft_conversations(c, dir + "/rows.jsonl");
  const auto seqs = sft_sequences(c, *student, convs, std::nullopt, "test");
  ASSERT_EQ(seqs.size(), 1u);
  // The student's ids are the ChatML rendering of the teacher's text, in the student's tokens.
  const model::ChatTemplate chatml = model::ChatTemplate::by_name("chatml");
  EXPECT_EQ(student->decode(seqs[0].ids), chatml.render(convs[0].messages));
  std::vector<int64_t> trained;
  for (size_t i = 0; i < seqs[0].ids.size(); ++i) {
    if (seqs[0].train[i]) trained.push_back(seqs[0].ids[i]);
  }
  EXPECT_EQ(student->decode(trained), convs[0].messages[1].content + "<|im_end|>");
  // <think> is one special token of the teacher and plain text (several tokens) for the student; merges make the
  // student's sequence shorter than bytes.
  EXPECT_EQ(teacher->encode("<think>").size(), 1u);
  EXPECT_GT(student->encode("<think>").size(), 1u);
  EXPECT_LT(student->encode(convs[0].messages[1].content).size(), convs[0].messages[1].content.size());
  EXPECT_NE(student->encode(convs[0].messages[1].content), teacher->encode(convs[0].messages[1].content));
  // The prompt the student replies to in reverse_kl mode: the user turn and the generation prompt.
  const auto prompts = sft_prompt_ids(c, *student, convs, "test");
  ASSERT_EQ(prompts.size(), 1u);
  model::ChatOptions gen;
  gen.add_generation_prompt = true;
  EXPECT_EQ(student->decode(prompts[0]), chatml.render({convs[0].messages[0]}, gen));
  cleanup_if_passed(dir);
}

TEST(DistillVocabulary, MismatchNamesBothTokenizers) {
  auto teacher = byte_tokenizer(kTeacherSpecials);
  auto student = byte_tokenizer(kStudentSpecials);
  std::string err = error_of([&] { check_shared_vocabulary(*teacher, *student, "stages[1] (d)"); });
  for (const char* e : {"stages[1] (d): key 'teacher'", "teacher's tokenizer", "student's", "261 vs 259", "mode sft"}) {
    EXPECT_NE(err.find(e), std::string::npos) << e << " in: " << err;
  }
  auto same_size = byte_tokenizer({"<|endoftext|>", "<think>", "</think>", "<|im_start|>", "<|im_end|>"});
  err = error_of([&] { check_shared_vocabulary(*teacher, *same_size, "d"); });
  EXPECT_NE(err.find("differ at id 259: '<answer>' vs '<|im_start|>'"), std::string::npos) << err;
  EXPECT_TRUE(error_of([&] { check_shared_vocabulary(*teacher, *byte_tokenizer(kTeacherSpecials), "d"); }).empty());
}

// ---------------------------------------------------------------------------------------------------------
// Recipes.

std::string qwen2_config_json() {
  return R"({"architectures": ["Qwen2ForCausalLM"], "model_type": "qwen2", "vocab_size": 320, "hidden_size": 32,
    "intermediate_size": 48, "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 2,
    "rope_theta": 10000.0, "tie_word_embeddings": true, "rms_norm_eps": 1e-6, "initializer_range": 0.05,
    "use_sliding_window": false, "max_position_embeddings": 512, "eos_token_id": 256})";
}

std::string student_json(const char* specials = kChatMlSpecials) {
  return std::string(R"({"init_config": )") + qwen2_config_json() + R"(, "byte_level_tokenizer": )" + specials + "}";
}

std::string write_recipe(const std::string& dir, const std::string& stages, int seed = 5) {
  const std::string path = dir + "/recipe.json";
  write_text(path, "{\"seed\": " + std::to_string(seed) + ", \"stages\": " + stages + "}");
  return path;
}

// Chat rows of a teacher: short arithmetic answers in R1's readable format.
void write_teacher_rows(const std::string& path, int n) {
  std::string text;
  for (int i = 0; i < n; ++i) {
    const std::string q = "What is " + std::to_string(i) + " + " + std::to_string(2 * i) + "?";
    const std::string a = "<think>\\n" + std::to_string(i) + " + " + std::to_string(2 * i) + " = " +
                          std::to_string(3 * i) + "\\n</think>\\n\\n" + std::to_string(3 * i);
    text += R"({"messages": [{"role": "user", "content": ")" + q + R"("}, {"role": "assistant", "content": ")" + a +
            "\"}]}\n";
  }
  write_text(path, text);
}

std::string distill_stage(const std::string& name, const std::string& data, const std::string& extra) {
  return R"({"name": ")" + name + R"(", "type": "distill", "model": )" + student_json() + R"(, "data": ")" + data +
         R"(", "chat_template": "chatml", "max_len": 96, "threads": 1)" +
         extra + "}";
}

TEST(DistillStage, ValidationNamesTheKeyAndHelpListsEveryKey) {
  const std::string dir = scratch_dir();
  const std::string data = dir + "/rows.jsonl";
  write_teacher_rows(data, 2);
  const std::string teacher_chatml = std::string(R"(, "teacher": )") + tiny_model_json(kChatMlSpecials);
  struct Case {
    std::string extra;
    std::vector<std::string> expect;
  };
  const std::vector<Case> cases = {
      {R"(, "mode": "fkl")", {"stages[0] (d): key 'mode': 'fkl' is not one of sft | forward_kl | reverse_kl"}},
      {R"(, "mode": "forward_kl")", {"stages[0] (d): key 'teacher' is required with mode forward_kl"}},
      {teacher_chatml, {"stages[0] (d): key 'teacher' is used by mode forward_kl / reverse_kl only"}},
      {R"(, "mode": "forward_kl", "kl_weight": 1.5)" + teacher_chatml, {"key 'kl_weight' must be in [0, 1]"}},
      {R"(, "mode": "reverse_kl", "top_k": 4)" + teacher_chatml, {"key 'top_k' applies to mode forward_kl only"}},
      {R"(, "epochs": -1)", {"key 'epochs' must be >= 0"}},
      {R"(, "mode": "forward_kl", "teacher": )" + tiny_model_json(),
       {"stages[0] (d): key 'teacher': the teacher's tokenizer", "differ: 261 vs 259 tokens", "mode sft"}},
      {R"(, "mode": "forward_kl", "teacher": {"path": "x", "dtyp": "float32"})", {"stages[0] (d): key 'teacher': unknown key 'dtyp'"}},
  };
  for (const auto& c : cases) {
    const std::string err = error_of([&] { resolve_recipe(write_recipe(dir, "[" + distill_stage("d", data, c.extra) + "]"), {}); });
    ASSERT_FALSE(err.empty()) << c.extra;
    for (const auto& e : c.expect) EXPECT_NE(err.find(e), std::string::npos) << "expected '" << e << "' in: " << err;
  }
  // A good recipe resolves with every key.
  const std::string resolved =
      resolve_recipe(write_recipe(dir, "[" + distill_stage("d", data, R"(, "mode": "forward_kl")" + teacher_chatml) + "]"), {});
  const json::Document doc = json::parse(resolved, "resolved");
  const json::Value& st = doc["stages"][0];
  EXPECT_STREQ(st["mode"].GetString(), "forward_kl");
  EXPECT_DOUBLE_EQ(st["epochs"].GetDouble(), 2.0);
  EXPECT_DOUBLE_EQ(st["kl_weight"].GetDouble(), 0.5);
  EXPECT_EQ(st["top_k"].GetInt64(), 0);
  EXPECT_TRUE(st["teacher"].HasMember("init_config"));
  const std::string help = stage_help("distill");
  for (const char* key : {"mode (one of: sft forward_kl reverse_kl, default \"sft\")", "epochs (number, default 2.0)",
                          "teacher.path", "kl_weight (number, default 0.5)", "top_k", "kl_chunk",
                          "sampling.max_new_tokens", "chat_template", "save_every", "optim.min_lr_ratio", "pack"}) {
    EXPECT_NE(help.find(key), std::string::npos) << key << "\n" << help;
  }
  cleanup_if_passed(dir);
}

TEST(DistillStage, SftModeEpochsSetStepsLossFallsAndTheStudentIsAChatModel) {
  const std::string dir = scratch_dir();
  write_teacher_rows(dir + "/rows.jsonl", 4);
  const std::string recipe = write_recipe(
      dir, "[" + distill_stage("d", dir + "/rows.jsonl", R"(, "epochs": 10, "batch_size": 4, "save_every": 5,
                                                          "optim": {"lr": 0.01, "weight_decay": 0})") + "]");
  const std::string run = dir + "/run";
  RunResult r = run_r1({"run", recipe, "--output", run, "--quiet"}, dir + "/log.txt");
  ASSERT_TRUE(r.exited && r.code == 0) << r.output;
  EXPECT_NE(r.output.find("10 epoch(s) of 4 rows at batch_size 4 = 10 steps"), std::string::npos) << r.output;
  auto m = metrics_by_step(run, "d");
  ASSERT_EQ(m.size(), 10u);
  const double first = m.begin()->second["loss"].GetDouble(), last = m.rbegin()->second["loss"].GetDouble();
  EXPECT_LT(last, 0.7 * first) << first << " -> " << last;
  EXPECT_FALSE(m.begin()->second.HasMember("kl"));  // sft mode: the sft stage's metrics
  // Cosine to 1/10 of the peak: the last step's lr is near 0.001.
  EXPECT_NEAR(m.rbegin()->second["lr"].GetDouble(), 0.001, 0.0005);
  // The student is a chat model: final/ and the checkpoint carry the ChatML template and its end-of-turn eos.
  const std::string st = run + "/stages/d";
  for (const std::string& d : {st + "/final", st + "/checkpoints/step-000005"}) {
    const std::string cfg = read_text(d + "/tokenizer_config.json");
    EXPECT_NE(cfg.find("chat_template"), std::string::npos) << d;
    EXPECT_NE(cfg.find("<|im_end|>"), std::string::npos) << d;
  }
  EXPECT_TRUE(exists(st + "/logit_probe.json"));
  cleanup_if_passed(dir);
}

// Saves a freshly initialised model with a byte-level tokenizer into dir.
void save_model(const std::string& config_json, const std::vector<std::string>& specials, uint64_t seed,
                const std::string& dir) {
  const std::string tok = dir + "_tokenizer";
  std::filesystem::create_directories(tok);
  write_text(tok + "/tokenizer.json", model::make_byte_level_tokenizer_json(specials));
  auto m = model::CausalLM::init_random(model::ModelConfig::from_json(config_json, "test"), seed);
  m->save(dir, tok);
}

// Saves the teacher of the logit-mode tests into dir: the tiny DeepSeek-V3 shape with a wide initialisation (so
// that its next-token distributions are far from uniform) and the students' byte-level tokenizer (ChatML specials):
// the logit modes need one vocabulary.
void save_teacher(const std::string& dir) {
  std::string config = tiny_config_json();
  config.replace(config.find("\"initializer_range\": 0.02"), 25, "\"initializer_range\": 0.3");
  save_model(config, kStudentSpecials, 11, dir);
}

// The token-mean forward KL(teacher ‖ student) over the assistant targets of the rows, each row run on its own
// (unpacked), with plain ops: what the stage's first step must report.
double expected_forward_kl(const std::string& student_dir, const std::string& teacher_dir, const std::string& rows) {
  at::NoGradGuard no_grad;
  auto student = model::CausalLM::load(student_dir);
  auto teacher = model::CausalLM::load(teacher_dir);
  auto tok = model::Tokenizer::load(student_dir);
  SftConfig c;
  c.chat_template = "chatml";
  double sum = 0, n = 0;
  for (const auto& s : sft_sequences(c, *tok, rows, std::nullopt, "test")) {
    const at::Tensor ids = at::tensor(s.ids).unsqueeze(0);
    const int64_t v = tok->vocab_size();
    const at::Tensor ls = at::log_softmax(student->logits(student->forward(ids).hidden).slice(-1, 0, v), -1)[0];
    const at::Tensor lt = at::log_softmax(teacher->logits(teacher->forward(ids).hidden).slice(-1, 0, v), -1)[0];
    for (size_t t = 0; t + 1 < s.ids.size(); ++t) {
      if (!s.train[t + 1]) continue;
      sum += (lt[t].exp() * (lt[t] - ls[t])).sum().item<double>();
      n += 1;
    }
  }
  return sum / n;
}

TEST(DistillStage, ForwardKlEqualsTheKlOfTheTwoModelsAndIsZeroForTheTeacherItself) {
  const std::string dir = scratch_dir();
  write_teacher_rows(dir + "/rows.jsonl", 3);
  save_teacher(dir + "/teacher");
  save_model(qwen2_config_json(), kStudentSpecials, 12, dir + "/student");
  const std::string common = R"(, "epochs": 0, "steps": 1, "batch_size": 3, "mode": "forward_kl", "kl_weight": 1,
      "optim": {"lr": 1e-4}, "teacher": {"path": ")" + dir + R"(/teacher"})";
  auto stage = [&](const std::string& name, const std::string& student, const std::string& extra = "") {
    return R"({"name": ")" + name + R"(", "type": "distill", "model": {"path": ")" + student + R"("}, "data": ")" + dir +
           R"(/rows.jsonl", "chat_template": "chatml", "max_len": 256, "threads": 1, "save_every": 0)" + common + extra +
           "}";
  };
  const std::string recipe = write_recipe(dir, "[" + stage("kd", dir + "/student") + ", " + stage("self", dir + "/teacher") +
                                                   ", " + stage("topk", dir + "/teacher", R"(, "top_k": 4)") + "]");
  const std::string run = dir + "/run";
  RunResult r = run_r1({"run", recipe, "--output", run, "--quiet"}, dir + "/log.txt");
  ASSERT_TRUE(r.exited && r.code == 0) << r.output;
  const auto kd = metrics_by_step(run, "kd");
  ASSERT_EQ(kd.size(), 1u);
  const double expected = expected_forward_kl(dir + "/student", dir + "/teacher", dir + "/rows.jsonl");
  EXPECT_GT(expected, 0.05);
  EXPECT_NEAR(kd.at(1)["kl"].GetDouble(), expected, 1e-4 * expected);
  EXPECT_NEAR(kd.at(1)["loss"].GetDouble(), expected, 1e-4 * expected);  // kl_weight 1: the loss is the KL
  EXPECT_GT(kd.at(1)["ce"].GetDouble(), 0.0);                            // logged, weighted 0
  const auto self = metrics_by_step(run, "self");
  ASSERT_EQ(self.size(), 1u);
  EXPECT_LT(std::abs(self.at(1)["kl"].GetDouble()), 1e-6);
  // Top-k against the full teacher: no longer 0 but -log(the teacher's mass in its top 4), averaged: in (0, log(259/4)).
  const auto topk = metrics_by_step(run, "topk");
  ASSERT_EQ(topk.size(), 1u);
  EXPECT_GT(topk.at(1)["kl"].GetDouble(), 1e-3);
  EXPECT_LT(topk.at(1)["kl"].GetDouble(), std::log(259.0 / 4.0));
  EXPECT_TRUE(exists(run + "/stages/kd/final/config.json"));
  cleanup_if_passed(dir);
}

TEST(DistillStage, ReverseKlOnPolicyRunsAndItsLossFalls) {
  const std::string dir = scratch_dir();
  write_teacher_rows(dir + "/rows.jsonl", 8);
  save_teacher(dir + "/teacher");
  const std::string recipe = write_recipe(
      dir, "[" + distill_stage("rkl", dir + "/rows.jsonl", R"(, "mode": "reverse_kl", "kl_weight": 1, "epochs": 0,
          "steps": 100, "batch_size": 4, "optim": {"lr": 0.01, "weight_decay": 0, "schedule": "constant"},
          "sampling": {"max_new_tokens": 8}, "teacher": {"path": ")" + dir + R"(/teacher"})") + "]");
  const std::string run = dir + "/run";
  RunResult r = run_r1({"run", recipe, "--output", run, "--quiet"}, dir + "/log.txt");
  ASSERT_TRUE(r.exited && r.code == 0) << r.output;
  const auto m = metrics_by_step(run, "rkl");
  ASSERT_EQ(m.size(), 100u);
  // Each step scores fresh samples (noisy): the means of the first and the last ten steps. A random teacher's
  // context-dependent distributions are hard for a smaller student, so the fall is slow (about 1.28 -> 1.01).
  double first = 0, last = 0;
  for (int64_t s = 1; s <= 10; ++s) first += m.at(s)["kl"].GetDouble() / 10;
  for (int64_t s = 91; s <= 100; ++s) last += m.at(s)["kl"].GetDouble() / 10;
  EXPECT_LT(last, 0.88 * first) << first << " -> " << last;
  EXPECT_GT(m.at(1)["kl_tokens"].GetDouble(), 0.0);
  EXPECT_GT(m.at(1)["reply_len_mean"].GetDouble(), 0.0);
  EXPECT_FALSE(m.at(1).HasMember("ce"));  // kl_weight 1: the rows themselves are not run
  cleanup_if_passed(dir);
}

// The rejection_sampling pattern of tests/rl/rejection_sampling_test.cpp (its rs_stage), with a teacher that an sft
// stage made a ChatML chat model; the student is a Qwen2 shape with a BPE tokenizer trained by the recipe.
void write_prompts(const std::string& path, int n) {
  std::string text;
  for (int i = 0; i < n; ++i) {
    text += "{\"id\": \"q" + std::to_string(i) + "\", \"prompt\": \"What is " + std::to_string(i) + " + " +
            std::to_string(2 * i) + "?\", \"answer\": \"" + std::to_string(3 * i) + "\"}\n";
  }
  write_text(path, text);
}

TEST(DistillStage, RejectionSamplingThenDistillThenTeacherAndStudentSideBySide) {
  const std::string dir = scratch_dir();
  write_teacher_rows(dir + "/rows.jsonl", 6);
  write_prompts(dir + "/math.jsonl", 6);
  std::string texts;
  for (int i = 0; i < 30; ++i) texts += "{\"text\": \"What is " + std::to_string(i) + " + 1? think then answer the sum\"}\n";
  write_text(dir + "/texts.jsonl", texts);
  const std::string stages = R"([
    {"name": "teacher", "type": "sft", "model": )" + tiny_model_json(kChatMlSpecials) + R"(, "data": ")" + dir +
      R"(/rows.jsonl", "chat_template": "chatml", "steps": 2, "batch_size": 3, "max_len": 96, "threads": 1},
    {"name": "rs", "type": "rejection_sampling", "model": {"path": "stage:teacher"},
     "source_defaults": {"prompt_template": "", "chat_template": "chatml", "samples_per_prompt": 2,
                         "reward": {"name": "repetition"}, "threshold": -100, "sampling": {"max_new_tokens": 16}},
     "sources": [{"path": ")" + dir + R"(/math.jsonl"}],
     "filters": {"truncated": {"enabled": false}, "no_answer": {"enabled": false}},
     "threads": 1, "reward_threads": 1},
    {"name": "tok", "type": "train_tokenizer", "data": [")" + dir + R"(/texts.jsonl"], "vocab_size": 300,
     "special_tokens": ["<|endoftext|>", "<|im_start|>", "<|im_end|>", "<|pad|>"], "pad_token": "<|pad|>"},
    {"name": "distill", "type": "distill", "model": {"init_config": )" + qwen2_config_json() + R"(, "tokenizer": "stage:tok"},
     "data": "stage:rs/sft.jsonl", "chat_template": "chatml", "epochs": 2, "batch_size": 4, "max_len": 128, "threads": 1,
     "optim": {"lr": 0.003}},
    {"name": "eval", "type": "evaluate", "models": {"teacher": "stage:teacher", "student": "stage:distill"},
     "data": {"path": ")" + dir + R"(/math.jsonl", "prompt_template": "", "chat_template": "auto"},
     "reward": {"name": "repetition"}, "sampling": {"temperature": 0, "max_new_tokens": 8}, "threads": 1}])";
  const std::string run = dir + "/run";
  RunResult r = run_r1({"run", write_recipe(dir, stages), "--output", run, "--quiet"}, dir + "/log.txt");
  ASSERT_TRUE(r.exited && r.code == 0) << r.output;
  // The student trained on every row of the rejection sampler's output, re-tokenised with its own tokenizer.
  const auto rows = read_jsonl(run + "/stages/rs/sft.jsonl");
  ASSERT_FALSE(rows.empty());
  const auto m = metrics_by_step(run, "distill");
  ASSERT_EQ(static_cast<int64_t>(m.size()), (2 * static_cast<int64_t>(rows.size()) + 3) / 4) << r.output;
  auto teacher_tok = model::Tokenizer::load(run + "/stages/teacher/final");
  auto student_tok = model::Tokenizer::load(run + "/stages/distill/final");
  EXPECT_EQ(teacher_tok->vocab_size(), 259);
  EXPECT_GT(student_tok->vocab_size(), 260);  // a trained BPE
  EXPECT_TRUE(student_tok->pad_id().has_value());
  // Evaluate lists both models, each prompted through its own tokenizer's chat template.
  const json::Document eval = json::parse(read_text(run + "/stages/eval/eval.json"), "eval.json");
  ASSERT_TRUE(eval["models"].HasMember("teacher") && eval["models"].HasMember("student")) << r.output;
  EXPECT_EQ(eval["models"]["teacher"]["completions"].GetInt64(), 6);
  EXPECT_EQ(eval["models"]["student"]["completions"].GetInt64(), 6);
  EXPECT_EQ(read_jsonl(run + "/stages/eval/completions-student.jsonl").size(), 6u);
  EXPECT_NE(r.output.find("student"), std::string::npos);
  cleanup_if_passed(dir);
}

TEST(DistillStage, ReverseKlInterruptedResumesExactly) {
  // Ctrl-C checkpoints the step in flight; --resume reloads the teacher and continues with the same samples
  // (generation seeds come from (seed, step)), so every step's metrics equal an uninterrupted run's.
  const std::string dir = scratch_dir();
  write_teacher_rows(dir + "/rows.jsonl", 8);
  save_teacher(dir + "/teacher");
  const int steps = 40;
  const std::string recipe = write_recipe(
      dir, "[" + distill_stage("rkl", dir + "/rows.jsonl", R"(, "mode": "reverse_kl", "kl_weight": 0.7, "epochs": 0,
          "steps": 40, "batch_size": 4, "save_every": 0, "save_every_minutes": 0, "optim": {"lr": 0.01},
          "sampling": {"max_new_tokens": 8}, "teacher": {"path": ")" + dir + R"(/teacher"})") + "]");
  RunResult ref = run_r1({"run", recipe, "--output", dir + "/ref", "--quiet"}, dir + "/ref.log");
  ASSERT_TRUE(ref.exited && ref.code == 0) << ref.output;

  const std::string run = dir + "/run";
  const pid_t pid = spawn_r1({"run", recipe, "--output", run, "--quiet"}, dir + "/interrupted.log");
  ASSERT_TRUE(wait_for_logged_steps(pid, run, "rkl", 3)) << read_text(dir + "/interrupted.log");
  ::kill(pid, SIGINT);
  RunResult interrupted = wait_r1(pid, dir + "/interrupted.log");
  ASSERT_TRUE(interrupted.exited && interrupted.code == 128 + SIGINT) << interrupted.output;
  const size_t done = metrics_by_step(run, "rkl").size();
  ASSERT_LT(done, static_cast<size_t>(steps));
  RunResult resumed = run_r1({"run", recipe, "--output", run, "--quiet", "--resume"}, dir + "/resumed.log");
  ASSERT_TRUE(resumed.exited && resumed.code == 0) << resumed.output;
  EXPECT_NE(resumed.output.find("resumed from"), std::string::npos) << resumed.output;
  auto a = metrics_by_step(dir + "/ref", "rkl");
  auto b = metrics_by_step(run, "rkl");
  ASSERT_EQ(b.size(), static_cast<size_t>(steps));
  for (int64_t step = 1; step <= steps; ++step) {
    for (const char* key : {"loss", "ce", "kl", "kl_tokens", "grad_norm", "lr"}) {
      const double x = a[step][key].GetDouble(), y = b[step][key].GetDouble();
      EXPECT_NEAR(x, y, 1e-6 * (1 + std::abs(x))) << "step " << step << " " << key << " (interrupted after " << done << ")";
    }
  }
  cleanup_if_passed(dir);
}

}  // namespace
}  // namespace r1::rl
