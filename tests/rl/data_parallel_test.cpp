// Data parallelism end to end (`r1 run --nproc-per-node 2`: two ranks over Gloo on loopback, the real binary):
//   * a pretrain → sft → grpo → distill (SFT mode) recipe on the tiny DeepSeek-V3 model ends with the same weights
//     and logit probes on 2 ranks as on 1 (largest weight difference < 1e-3 and logit probes within 1e-3 relative —
//     they differ by the order of float sums, 1e-7..2e-4 measured; skipping the gradient all-reduce puts them
//     1e-2..1e-1 apart), with the same data per step, the same GRPO samples and the same metrics, each line written
//     once (rank 0 writes); GRPO's 3 groups per step split unevenly (1 + 2) and into 2 minibatches, so a rank runs
//     minibatches it has no rows of; an evaluate stage after them writes the same completions (sampled in shares)
//     and eval.json; rejection sampling writes the same SFT data, shards and counts; reward-model training ends
//     with the same weights;
//   * a rank killed with SIGKILL ends the job within 60 s with an error naming the rank, and `--resume` with 2 ranks
//     finishes it with the weights and prompts of an uninterrupted 1-rank run;
//   * Ctrl-C (SIGINT to the job's process group, as a terminal sends it) makes every rank checkpoint the same step
//     and stop with 130 and the command that continues the run, which then ends as an uninterrupted run (with the
//     optimizer state sharded, ZeRO-1: gathered into the checkpoint, split again on resume);
//   * ZeRO-1 gives the weights and checkpointed optimizer state of unsharded data parallelism.
// The recipes use threads = 1 per rank (two ranks fill the two cores of the CI machine).
#include <gtest/gtest.h>

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>

#include <chrono>
#include <cmath>
#include <fstream>
#include <thread>

#include "model/safetensors.h"
#include "run_util.h"

namespace r1::rl {
namespace {

using namespace r1::rl::testing;

void write_data(const std::string& dir) {
  std::string corpus, chat, prompts;
  for (int i = 0; i < 24; ++i) {
    corpus += "{\"text\": \"" + std::to_string(7 * i) + " + " + std::to_string(i) + " = " + std::to_string(8 * i) +
              (i % 3 == 0 ? ". The sum is correct." : "") + "\"}\n";
    chat += "{\"messages\": [{\"role\": \"user\", \"content\": \"" + std::to_string(i) + " + 1?\"}, {\"role\": "
            "\"assistant\", \"content\": \"" + std::to_string(i + 1) + "\"}]}\n";
    prompts += "{\"prompt\": \"" + std::to_string(10 + i) + " + " + std::to_string(3 * i) + "\", \"answer\": \"" +
               std::to_string(10 + 4 * i) + "\"}\n";
  }
  write_text(dir + "/corpus.jsonl", corpus);
  write_text(dir + "/chat.jsonl", chat);
  write_text(dir + "/prompts.jsonl", prompts);
}

// The grpo stage's keys (model and data come first): no dynamic sampling, two epochs, a reference reset, uneven
// groups. A group whose rewards are equal has zero advantages, and a minibatch of such groups a gradient of
// rounding noise (1e-9), which AdamW with its usual eps (1e-8) scales up to full-lr steps: 1 and 2 ranks, which
// add in a different order, would part there whatever the parallelism did. So optim.eps is 1e-5 (real gradients
// here are 1e-3..1, far above it), the reward spreads (cosine_length: a wrong answer's score depends on where the
// model stopped), and two minibatches are used only after pretrain and sft: the random model's minibatches often
// hold only groups of equal rewards.
std::string grpo_keys(const std::string& dir, int steps, int minibatches) {
  return R"("data": {"path": ")" + dir + R"(/prompts.jsonl", "prompt_template": "plain"},
    "reward": {"composite": [{"name": "math"}, {"name": "cosine_length", "options": {"max_length": 12}}]},
    "sampling": {"max_new_tokens": 12, "temperature": 1.0},
    "steps": )" + std::to_string(steps) + R"(, "prompts_per_step": 3, "group_size": 4, "micro_batch_size": 5,
    "epochs": 2, "minibatches": )" + std::to_string(minibatches) + R"(, "grpo": {"beta": 0.04},
    "dapo": {"dynamic_sampling": false},
    "optim": {"lr": 0.01, "warmup_steps": 1, "eps": 1e-5}, "ref_reset_every": 3,
    "save_every": 1, "keep_last": 0, "samples_every": 1, "threads": 1, "reward_threads": 1)";
}

std::string three_stage_recipe(const std::string& dir) {
  write_data(dir);
  const std::string path = dir + "/dp.json";
  write_text(path, R"({"seed": 5, "stages": [
    {"name": "base", "type": "pretrain", "model": )" + tiny_model_json(kChatMlSpecials) + R"(,
     "data": ")" + dir + R"(/corpus.jsonl", "steps": 4, "batch_size": 5, "max_len": 48, "mtp_weight": 0.3,
     "micro_batch_rows": 1, "moe": {"bias_update_speed": 0.01, "seq_aux_alpha": 0.001},
     "optim": {"lr": 0.003, "warmup_steps": 1}, "threads": 1},
    {"name": "sft", "type": "sft", "model": {"path": "stage:base"}, "data": ")" + dir + R"(/chat.jsonl",
     "chat_template": "chatml", "steps": 3, "batch_size": 6, "max_len": 32, "pack": false,
     "optim": {"lr": 0.01}, "threads": 1},
    {"name": "rl", "type": "grpo", "model": {"path": "stage:sft"}, )" + grpo_keys(dir, 3, 2) + R"(},
    {"name": "student", "type": "distill", "model": )" + tiny_model_json(kChatMlSpecials) + R"(,
     "data": ")" + dir + R"(/chat.jsonl", "chat_template": "chatml", "epochs": 1, "batch_size": 5, "max_len": 32,
     "optim": {"lr": 0.01}, "threads": 1},
    {"name": "eval", "type": "evaluate", "models": {"sft": "stage:sft", "rl": "stage:rl"},
     "data": {"path": ")" + dir + R"(/prompts.jsonl", "prompt_template": "plain"}, "reward": "math",
     "sampling": {"temperature": 1.0, "max_new_tokens": 12}, "samples_per_prompt": 2, "batch_prompts": 5,
     "threads": 1, "reward_threads": 1}]})");
  return path;
}

// The largest absolute difference between the tensors of two safetensors files (same names and shapes).
double max_weight_difference(const std::string& a_file, const std::string& b_file) {
  model::SafetensorsFile a(a_file), b(b_file);
  EXPECT_EQ(a.tensors().size(), b.tensors().size());
  double worst = 0;
  for (const auto& info : a.tensors()) {
    at::Tensor x = a.load(info.name).to(at::kDouble), y = b.load(info.name).to(at::kDouble);
    EXPECT_EQ(x.sizes(), y.sizes()) << info.name;
    if (x.numel() > 0 && x.sizes() == y.sizes()) worst = std::max(worst, (x - y).abs().max().item<double>());
  }
  return worst;
}

// Relative difference of the logit probes (rl/checkpoint.h) of two stage directories: ||a - b|| / ||a|| over
// every number of the probe.
double probe_difference(const std::string& a_stage, const std::string& b_stage) {
  const json::Document a = json::parse_file(a_stage + "/logit_probe.json");
  const json::Document b = json::parse_file(b_stage + "/logit_probe.json");
  double diff = 0, norm = 0;
  std::function<void(const json::Value&, const json::Value&)> walk = [&](const json::Value& x, const json::Value& y) {
    if (x.IsNumber() && y.IsNumber()) {
      diff += std::pow(x.GetDouble() - y.GetDouble(), 2);
      norm += std::pow(x.GetDouble(), 2);
    } else if (x.IsArray() && y.IsArray() && x.Size() == y.Size()) {
      for (rapidjson::SizeType i = 0; i < x.Size(); ++i) walk(x[i], y[i]);
    } else if (x.IsObject() && y.IsObject()) {
      for (auto it = x.MemberBegin(); it != x.MemberEnd(); ++it) {
        if (y.HasMember(it->name)) walk(it->value, y[it->name]);
      }
    } else {
      ADD_FAILURE() << "the logit probes differ in shape";
    }
  };
  walk(a, b);
  EXPECT_GT(norm, 0);
  return std::sqrt(diff / std::max(norm, 1e-300));
}

// A stage's lines of a JSONL file as text, in order, with "time" and the timings (which differ between runs) cut.
std::vector<std::string> lines_without_times(const std::string& path, const std::vector<std::string>& drop) {
  std::vector<std::string> out;
  for (auto& line : read_jsonl(path)) {
    for (const auto& key : drop) line.RemoveMember(key.c_str());
    out.push_back(json::dump(line));
  }
  return out;
}

bool skipped_without_gloo(const RunResult& r) {
  return r.output.find("built without Gloo") != std::string::npos;
}

// Runs the recipe on 1 rank into dir/one and on 2 into dir/two; false when this r1 has no Gloo.
bool run_on_one_and_two_ranks(const std::string& dir, const std::string& recipe) {
  const RunResult one = run_r1({"run", recipe, "--output", dir + "/one", "--quiet"}, dir + "/one.log");
  EXPECT_TRUE(one.exited && one.code == 0) << one.output;
  const RunResult two = run_r1({"run", recipe, "--output", dir + "/two", "--quiet", "--nproc-per-node", "2"},
                               dir + "/two.log");
  if (skipped_without_gloo(two)) return false;
  EXPECT_TRUE(two.exited && two.code == 0) << two.output;
  EXPECT_NE(two.output.find("data-parallel on 2 ranks"), std::string::npos) << two.output;
  return true;
}

TEST(DataParallel, TwoRanksTrainTheWeightsOneRankTrains) {
  const std::string dir = scratch_dir();
  const std::string recipe = three_stage_recipe(dir);
  if (!run_on_one_and_two_ranks(dir, recipe)) GTEST_SKIP() << "this r1 has no Gloo";
  ASSERT_FALSE(HasFailure());

  for (const std::string stage : {"base", "sft", "rl", "student"}) {
    SCOPED_TRACE(stage);
    const std::string a = dir + "/one/stages/" + stage, b = dir + "/two/stages/" + stage;
    EXPECT_LT(max_weight_difference(a + "/final/model.safetensors", b + "/final/model.safetensors"), 1e-3);
    EXPECT_LT(probe_difference(a, b), 1e-3);
    EXPECT_EQ(read_text(a + "/batches.jsonl"), read_text(b + "/batches.jsonl")) << "the same data per step";
  }
  // evaluate sampled in shares: the same completions (sampled at temperature 1), rewards and table.
  for (const std::string file : {"completions-sft.jsonl", "completions-rl.jsonl"}) {
    EXPECT_EQ(read_text(dir + "/one/stages/eval/" + file), read_text(dir + "/two/stages/eval/" + file)) << file;
  }
  const json::Document e1 = json::parse_file(dir + "/one/stages/eval/eval.json");
  const json::Document e2 = json::parse_file(dir + "/two/stages/eval/eval.json");
  for (const char* model : {"sft", "rl"}) {
    for (const char* key : {"reward", "completion_len_mean", "completions"}) {
      EXPECT_EQ(e1["models"][model][key].GetDouble(), e2["models"][model][key].GetDouble()) << model << " " << key;
    }
  }
  // The same samples (prompt, completion, rewards), each written once; the same metrics lines (timings and the
  // all-reduce figures, which only several ranks have, aside).
  EXPECT_EQ(read_text(dir + "/one/samples.jsonl"), read_text(dir + "/two/samples.jsonl"));
  const std::vector<std::string> timings = {"time", "step_s", "tokens_per_s", "time_reference_s", "time_update_s",
                                            "time_rollout_s", "time_reward_s", "rollout_tokens_per_s", "allreduce_s",
                                            "allreduce_early_buckets"};
  const auto m1 = lines_without_times(dir + "/one/metrics.jsonl", timings);
  const auto m2 = lines_without_times(dir + "/two/metrics.jsonl", timings);
  ASSERT_EQ(m1.size(), m2.size()) << "one metrics line per step, written by rank 0 alone";
  for (size_t i = 0; i < m1.size(); ++i) {
    const json::Document x = json::parse(m1[i], "one"), y = json::parse(m2[i], "two");
    EXPECT_EQ(json::dump(x["stage"]), json::dump(y["stage"]));
    EXPECT_EQ(x["step"].GetInt64(), y["step"].GetInt64());
    for (auto it = x.MemberBegin(); it != x.MemberEnd(); ++it) {
      ASSERT_TRUE(y.HasMember(it->name)) << it->name.GetString();
      if (!it->value.IsNumber()) continue;
      const double u = it->value.GetDouble(), v = y[it->name].GetDouble();
      EXPECT_NEAR(u, v, 1e-3 * (1 + std::abs(u))) << x["stage"].GetString() << " step " << x["step"].GetInt64()
                                                  << " " << it->name.GetString();
    }
  }
  cleanup_if_passed(dir);
}

// rejection_sampling on 2 ranks (each samples and scores its share of every batch, rank 0 writes): the same SFT data,
// shards and counts as on 1.
TEST(DataParallel, RejectionSamplingOnTwoRanksWritesWhatOneRankWrites) {
  const std::string dir = scratch_dir();
  write_data(dir);
  std::string general;
  for (int i = 0; i < 9; ++i) {
    const std::string q = i % 3 == 0 ? "hi" : "Please describe item number " + std::to_string(i) + " in one line";
    general += "{\"prompt\": \"" + q + "\", \"response\": \"Reference answer " + std::to_string(i) + ".\"}\n";
  }
  write_text(dir + "/general.jsonl", general);
  const std::string recipe = dir + "/rs.json";
  write_text(recipe, R"({"seed": 6, "stages": [{"name": "rs", "type": "rejection_sampling", "model": )" +
                         tiny_model_json(kChatMlSpecials) + R"(,
    "source_defaults": {"prompt_template": "", "chat_template": "chatml", "samples_per_prompt": 3,
                        "reward": {"name": "repetition"}, "threshold": -0.3, "sampling": {"max_new_tokens": 16}},
    "sources": [{"path": ")" + dir + R"(/prompts.jsonl", "name": "math"},
                {"path": ")" + dir + R"(/general.jsonl", "name": "chat", "kind": "general", "reward": null}],
    "filters": {"truncated": {"enabled": false}, "no_answer": {"enabled": false}},
    "batch_prompts": 5, "shard_prompts": 8, "threads": 1, "reward_threads": 1}]})");
  if (!run_on_one_and_two_ranks(dir, recipe)) GTEST_SKIP() << "this r1 has no Gloo";
  ASSERT_FALSE(HasFailure());
  const std::string a = dir + "/one/stages/rs/", b = dir + "/two/stages/rs/";
  EXPECT_FALSE(read_text(a + "sft.jsonl").empty());
  EXPECT_EQ(read_text(a + "sft.jsonl"), read_text(b + "sft.jsonl"));
  for (int shard = 0; exists(a + "shards/shard-00000" + std::to_string(shard) + ".jsonl"); ++shard) {
    const std::string name = "shards/shard-00000" + std::to_string(shard) + ".jsonl";
    EXPECT_EQ(read_text(a + name), read_text(b + name)) << name;
  }
  const json::Document s1 = json::parse_file(a + "stats.json"), s2 = json::parse_file(b + "stats.json");
  for (const char* source : {"math", "chat"}) {
    for (const char* key : {"prompts", "samples", "kept"}) {
      EXPECT_EQ(s1["sources"][source][key].GetInt64(), s2["sources"][source][key].GetInt64()) << source << " " << key;
    }
  }
  EXPECT_EQ(metrics_by_step(dir + "/one", "rs").size(), metrics_by_step(dir + "/two", "rs").size())
      << "one metrics line per commit, written once";
  cleanup_if_passed(dir);
}

// reward_model training on 2 ranks (each scores its share of the step's pairs; gradients and tallies summed; rank 0
// evaluates and writes): the weights, metrics and eval.json of 1 rank.
TEST(DataParallel, RewardModelOnTwoRanksTrainsWhatOneRankTrains) {
  const std::string dir = scratch_dir();
  std::string pairs, heldout;
  for (int i = 0; i < 40; ++i) {
    const int a = 10 + (i * 37) % 80, b = 10 + (i * 53) % 80;
    const std::string chosen = std::to_string(a) + " + " + std::to_string(b) + " = " + std::to_string(a + b) + ".";
    const std::string line = "{\"prompt\": \"What is " + std::to_string(a) + " + " + std::to_string(b) +
                             "?\", \"chosen\": \"" + chosen + "\", \"rejected\": \"" + chosen.substr(0, 5) + "\"}\n";
    (i < 32 ? pairs : heldout) += line;
  }
  write_text(dir + "/pairs.jsonl", pairs);
  write_text(dir + "/heldout.jsonl", heldout);
  const std::string recipe = dir + "/rm.json";
  write_text(recipe, R"({"seed": 2, "stages": [{"name": "rm", "type": "reward_model",
    "model": {"init_config": {"architectures": ["Qwen2ForCausalLM"], "model_type": "qwen2", "vocab_size": 264,
      "hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 2, "num_attention_heads": 4,
      "num_key_value_heads": 2, "rope_theta": 10000.0, "tie_word_embeddings": false, "rms_norm_eps": 1e-6,
      "initializer_range": 0.05, "use_sliding_window": false, "max_position_embeddings": 256},
      "byte_level_tokenizer": ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]},
    "chat_template": "chatml", "data": ")" + dir + R"(/pairs.jsonl", "eval_data": ")" + dir + R"(/heldout.jsonl",
    "steps": 6, "batch_size": 7, "micro_batch_size": 2, "max_len": 96, "eval_every": 3, "threads": 1,
    "optim": {"lr": 0.003, "eps": 1e-5}}]})");
  if (!run_on_one_and_two_ranks(dir, recipe)) GTEST_SKIP() << "this r1 has no Gloo";
  ASSERT_FALSE(HasFailure());
  EXPECT_LT(max_weight_difference(dir + "/one/stages/rm/final/model.safetensors",
                                  dir + "/two/stages/rm/final/model.safetensors"), 1e-3);
  const auto m1 = metrics_by_step(dir + "/one", "rm"), m2 = metrics_by_step(dir + "/two", "rm");
  ASSERT_EQ(m1.size(), 6u);
  ASSERT_EQ(m2.size(), 6u);
  for (const auto& [step, line] : m1) {
    for (const char* key : {"loss", "accuracy", "reward_mean", "tokens"}) {
      EXPECT_NEAR(line[key].GetDouble(), m2.at(step)[key].GetDouble(), 1e-4 * (1 + std::abs(line[key].GetDouble())))
          << "step " << step << " " << key;
    }
  }
  const json::Document e1 = json::parse_file(dir + "/one/stages/rm/eval.json");
  const json::Document e2 = json::parse_file(dir + "/two/stages/rm/eval.json");
  EXPECT_EQ(e1["rows"].GetInt64(), e2["rows"].GetInt64());
  EXPECT_NEAR(e1["loss"].GetDouble(), e2["loss"].GetDouble(), 1e-4);
  cleanup_if_passed(dir);
}

// distill's logit modes on 2 ranks: forward_kl (each rank the teacher's logits of its rows) and reverse_kl (each rank
// samples the replies of its share of the step's prompts, with the uniforms they have in the whole step) end with
// the weights, KL and reply lengths of 1 rank.
TEST(DataParallel, LogitDistillationOnTwoRanksTrainsWhatOneRankTrains) {
  const std::string dir = scratch_dir();
  write_data(dir);
  const std::string recipe = dir + "/distill.json";
  const std::string distill = R"("model": )" + tiny_model_json(kChatMlSpecials) +
                              R"(, "teacher": {"path": "stage:base"},
     "data": ")" + dir + R"(/chat.jsonl", "chat_template": "chatml", "epochs": 1, "batch_size": 8, "max_len": 32,
     "micro_batch_rows": 1, "optim": {"lr": 0.01, "eps": 1e-5}, "threads": 1)";
  write_text(recipe, R"({"seed": 8, "stages": [
    {"name": "base", "type": "pretrain", "model": )" + tiny_model_json(kChatMlSpecials) + R"(,
     "data": ")" + dir + R"(/corpus.jsonl", "steps": 3, "batch_size": 5, "max_len": 48, "optim": {"lr": 0.003},
     "threads": 1},
    {"name": "fwd", "type": "distill", "mode": "forward_kl", "top_k": 16, )" + distill + R"(},
    {"name": "rev", "type": "distill", "mode": "reverse_kl", "kl_weight": 0.7,
     "sampling": {"max_new_tokens": 8, "temperature": 1.0}, )" + distill + "}]}");
  if (!run_on_one_and_two_ranks(dir, recipe)) GTEST_SKIP() << "this r1 has no Gloo";
  ASSERT_FALSE(HasFailure());
  for (const std::string stage : {"fwd", "rev"}) {
    SCOPED_TRACE(stage);
    const std::string a = dir + "/one/stages/" + stage, b = dir + "/two/stages/" + stage;
    EXPECT_LT(max_weight_difference(a + "/final/model.safetensors", b + "/final/model.safetensors"), 1e-3);
    EXPECT_LT(probe_difference(a, b), 1e-3);
    const auto m1 = metrics_by_step(dir + "/one", stage), m2 = metrics_by_step(dir + "/two", stage);
    ASSERT_EQ(m1.size(), 3u);
    ASSERT_EQ(m2.size(), 3u);
    for (const auto& [step, line] : m1) {
      for (const char* key : {"loss", "kl", "kl_tokens"}) {
        EXPECT_NEAR(line[key].GetDouble(), m2.at(step)[key].GetDouble(), 1e-4 * (1 + std::abs(line[key].GetDouble())))
            << "step " << step << " " << key;
      }
      EXPECT_GT(line["kl"].GetDouble(), 0) << "step " << step;
      if (stage == "rev") {
        EXPECT_EQ(line["reply_len_mean"].GetDouble(), m2.at(step)["reply_len_mean"].GetDouble()) << "the same replies";
      }
    }
  }
  cleanup_if_passed(dir);
}

// The pid of the child of `parent` whose environment has RANK=<rank>, or -1.
pid_t rank_pid(pid_t parent, int rank) {
  DIR* proc = ::opendir("/proc");
  if (proc == nullptr) return -1;
  pid_t found = -1;
  while (dirent* e = ::readdir(proc)) {
    const pid_t pid = static_cast<pid_t>(std::atoi(e->d_name));
    if (pid <= 0) continue;
    const std::string stat = read_text("/proc/" + std::to_string(pid) + "/stat");
    const size_t close = stat.rfind(')');
    if (close == std::string::npos || std::atoi(stat.c_str() + close + 4) != parent) continue;  // "pid (comm) S ppid"
    const std::string env = read_text("/proc/" + std::to_string(pid) + "/environ");
    if (env.find(std::string("\0RANK=", 6) + std::to_string(rank) + std::string("\0", 1)) != std::string::npos) {
      found = pid;
    }
  }
  ::closedir(proc);
  return found;
}

// The interrupted-job tests' recipe (a 12-step grpo stage "zero"), written to dir/grpo.json, and its uninterrupted
// 1-rank run in dir/ref.
constexpr int kJobSteps = 12;
std::string grpo_job_with_reference_run(const std::string& dir, int seed) {
  write_data(dir);
  const std::string recipe = dir + "/grpo.json";
  write_text(recipe, R"({"seed": )" + std::to_string(seed) + R"(, "stages": [{"name": "zero", "type": "grpo", "model": )" +
                         tiny_model_json(kChatMlSpecials) + ", " + grpo_keys(dir, kJobSteps, 1) + "}]}");
  const RunResult ref = run_r1({"run", recipe, "--output", dir + "/ref", "--quiet"}, dir + "/ref.log");
  EXPECT_TRUE(ref.exited && ref.code == 0) << ref.output;
  return recipe;
}

// Resumes the job in `run` on 2 ranks (with `extra` arguments) and expects the uninterrupted run's weights and
// prompts.
void expect_resume_on_two_ranks_ends_as_reference(const std::string& dir, const std::string& recipe,
                                                  const std::string& run,
                                                  const std::vector<std::string>& extra = {}) {
  std::vector<std::string> args = {"run", recipe, "--output", run, "--quiet", "--resume", "--nproc-per-node", "2"};
  args.insert(args.end(), extra.begin(), extra.end());
  const RunResult resumed = run_r1(args, dir + "/resumed.log");
  ASSERT_TRUE(resumed.exited && resumed.code == 0) << resumed.output;
  EXPECT_NE(resumed.output.find("resumed from"), std::string::npos) << resumed.output;
  EXPECT_LT(max_weight_difference(dir + "/ref/stages/zero/final/model.safetensors",
                                  run + "/stages/zero/final/model.safetensors"), 1e-3);
  EXPECT_LT(probe_difference(dir + "/ref/stages/zero", run + "/stages/zero"), 1e-3);
  EXPECT_EQ(read_text(dir + "/ref/stages/zero/batches.jsonl"), read_text(run + "/stages/zero/batches.jsonl"))
      << "every step's prompts once, as in the uninterrupted run";
  EXPECT_EQ(metrics_by_step(run, "zero").size(), static_cast<size_t>(kJobSteps));
}

TEST(DataParallel, AKilledRankEndsTheJobNamingItAndTwoRanksResume) {
  const std::string dir = scratch_dir();
  const std::string recipe = grpo_job_with_reference_run(dir, 8);
  ASSERT_FALSE(HasFailure());

  const std::string run = dir + "/run", log = dir + "/killed.log";
  const pid_t launcher = spawn_r1({"run", recipe, "--output", run, "--quiet", "--nproc-per-node", "2"}, log);
  const bool reached = wait_for_logged_steps(launcher, run, "zero", 3);
  if (!reached && skipped_without_gloo(wait_r1(launcher, log))) GTEST_SKIP() << "this r1 has no Gloo";
  ASSERT_TRUE(reached) << read_text(log);
  const pid_t rank1 = rank_pid(launcher, 1);
  ASSERT_GT(rank1, 0) << "rank 1 of the launcher " << launcher << " not found";
  const auto t0 = std::chrono::steady_clock::now();
  ::kill(rank1, SIGKILL);
  const RunResult killed = wait_r1(launcher, log);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_LT(seconds, 60.0);
  EXPECT_TRUE(killed.exited && killed.code != 0) << killed.output;
  EXPECT_NE(killed.output.find("rank 1 was killed by signal 9"), std::string::npos) << killed.output;
  ASSERT_FALSE(exists(run + "/stages/zero/final")) << "the job finished before the kill: the test proves nothing";
  expect_resume_on_two_ranks_ends_as_reference(dir, recipe, run);
  cleanup_if_passed(dir);
}

// ZeRO-1 (optim.zero_stage 1): each rank keeps and updates half of the AdamW state and broadcasts its parameters;
// the weights and the checkpoints' optimizer state (gathered to rank 0) are those of unsharded data parallelism.
TEST(DataParallel, ZeroOneShardsTheOptimizerAndChangesNothingElse) {
  const std::string dir = scratch_dir();
  write_data(dir);
  const std::string recipe = dir + "/grpo.json";
  write_text(recipe, R"({"seed": 10, "stages": [{"name": "zero", "type": "grpo", "model": )" +
                         tiny_model_json(kChatMlSpecials) + ", " + grpo_keys(dir, 4, 2) + "}]}");
  const RunResult plain = run_r1({"run", recipe, "--output", dir + "/plain", "--quiet", "--nproc-per-node", "2"},
                                 dir + "/plain.log");
  if (skipped_without_gloo(plain)) GTEST_SKIP() << "this r1 has no Gloo";
  ASSERT_TRUE(plain.exited && plain.code == 0) << plain.output;
  const RunResult sharded = run_r1({"run", recipe, "--output", dir + "/sharded", "--quiet", "--nproc-per-node", "2",
                                    "--set", "stages.zero.optim.zero_stage=1"},
                                   dir + "/sharded.log");
  ASSERT_TRUE(sharded.exited && sharded.code == 0) << sharded.output;
  const std::string a = dir + "/plain/stages/zero/", b = dir + "/sharded/stages/zero/";
  EXPECT_LE(max_weight_difference(a + "final/model.safetensors", b + "final/model.safetensors"), 1e-6);
  for (const std::string step : {"step-000001", "step-000003"}) {
    EXPECT_LE(max_weight_difference(a + "checkpoints/" + step + "/optimizer.safetensors",
                                    b + "checkpoints/" + step + "/optimizer.safetensors"),
              1e-6)
        << step << ": the gathered state is the whole state";
  }
  cleanup_if_passed(dir);
}

// Starts `r1 args...` as the leader of a new process group (a terminal's foreground job), output to log_path.
pid_t spawn_r1_in_own_group(const std::vector<std::string>& args, const std::string& log_path) {
  std::vector<std::string> argv_s = {R1_BINARY};
  argv_s.insert(argv_s.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : argv_s) argv.push_back(a.data());
  argv.push_back(nullptr);
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::setpgid(0, 0);
    const int fd = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd >= 0) {
      ::dup2(fd, 1);
      ::dup2(fd, 2);
    }
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  ::setpgid(pid, pid);  // also here, so the group exists before the test signals it
  return pid;
}

TEST(DataParallel, CtrlCStopsEveryRankAtACheckpointAndTheRunContinues) {
  const std::string dir = scratch_dir();
  const std::string recipe = grpo_job_with_reference_run(dir, 9);
  ASSERT_FALSE(HasFailure());

  const std::string run = dir + "/run", log = dir + "/interrupted.log";
  const pid_t launcher =
      spawn_r1_in_own_group({"run", recipe, "--output", run, "--quiet", "--nproc-per-node", "2", "--set",
                             "stages.zero.optim.zero_stage=1"}, log);
  const bool reached = wait_for_logged_steps(launcher, run, "zero", 2);
  if (!reached && skipped_without_gloo(wait_r1(launcher, log))) GTEST_SKIP() << "this r1 has no Gloo";
  ASSERT_TRUE(reached) << read_text(log);
  ::kill(-launcher, SIGINT);  // the whole foreground group, as Ctrl-C does
  const RunResult stopped = wait_r1(launcher, log);
  EXPECT_TRUE(stopped.exited && stopped.code == 130) << stopped.output;
  EXPECT_NE(stopped.output.find("checkpoint saved"), std::string::npos) << stopped.output;
  EXPECT_NE(stopped.output.find("--resume --set 'stages.zero.optim.zero_stage=1' --nproc-per-node 2"),
            std::string::npos)
      << stopped.output;
  EXPECT_EQ(stopped.output.find("was killed by signal"), std::string::npos) << "a rank died instead of stopping:\n"
                                                                            << stopped.output;
  ASSERT_FALSE(exists(run + "/stages/zero/final")) << "the job finished before the interrupt: the test proves nothing";
  expect_resume_on_two_ranks_ends_as_reference(dir, recipe, run, {"--set", "stages.zero.optim.zero_stage=1"});
  cleanup_if_passed(dir);
}

}  // namespace
}  // namespace r1::rl
