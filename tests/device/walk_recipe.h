// The device walk's data and recipe (tests/device/device_walk_test.cpp in one process, tests/dist/
// device_ranks_test.cpp on two): every stage type that trains, samples or scores with a model — pretrain,
// rejection_sampling, sft, reward_model, grpo (a reward model among its rewards, a reference reset,
// ref_offload, two minibatches of micro-batches, two epochs), distill (forward KL; reverse KL, which samples
// inside its training steps) and evaluate — each with its models on one device.
#pragma once

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <string>

#include "model/safetensors.h"
#include "rl/run_util.h"

namespace r1::rl::testing {

// dir/corpus.jsonl, chat.jsonl, prompts.jsonl and pairs.jsonl: 12 lines each about "i + 2".
inline void write_walk_data(const std::string& dir) {
  std::string corpus, chat, prompts, pairs;
  for (int i = 0; i < 12; ++i) {
    const std::string a = std::to_string(i), b = std::to_string(i + 2);
    corpus += "{\"text\": \"" + a + " + 2 = " + b + "\"}\n";
    chat += "{\"messages\": [{\"role\": \"user\", \"content\": \"" + a + " + 2?\"}, {\"role\": \"assistant\", "
            "\"content\": \"" + b + "\"}]}\n";
    prompts += "{\"prompt\": \"" + a + " + 2\", \"answer\": \"" + b + "\"}\n";
    pairs += "{\"prompt\": \"" + a + " + 2?\", \"chosen\": \"" + a + " + 2 = " + b + ".\", \"rejected\": \"" + a +
             "\"}\n";
  }
  write_text(dir + "/corpus.jsonl", corpus);
  write_text(dir + "/chat.jsonl", chat);
  write_text(dir + "/prompts.jsonl", prompts);
  write_text(dir + "/pairs.jsonl", pairs);
}

// Writes dir/walk_<device>.json, the recipe with every model on `device`, and returns its path.
inline std::string write_walk_recipe(const std::string& dir, const std::string& device) {
  const std::string on = R"("device": ")" + device + "\"";
  std::string model = tiny_model_json(kChatMlSpecials);
  model.insert(model.size() - 1, ", " + on);
  const std::string rm_model = R"({"init_config": {"architectures": ["Qwen2ForCausalLM"], "model_type": "qwen2",
      "vocab_size": 264, "hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 2,
      "num_attention_heads": 4, "num_key_value_heads": 2, "rope_theta": 10000.0, "tie_word_embeddings": false,
      "rms_norm_eps": 1e-6, "initializer_range": 0.05, "max_position_embeddings": 256},
      "byte_level_tokenizer": )" + std::string(kChatMlSpecials) + ", " + on + "}";
  const std::string path = dir + "/walk_" + device + ".json";
  write_text(path, R"({"seed": 5, "stages": [
    {"name": "base", "type": "pretrain", "model": )" + model + R"(, "data": ")" + dir + R"(/corpus.jsonl",
     "steps": 2, "batch_size": 4, "max_len": 32, "mtp_weight": 0.3, "moe": {"seq_aux_alpha": 0.01},
     "optim": {"lr": 0.003}, "threads": 1},
    {"name": "rs", "type": "rejection_sampling", "model": {"path": "stage:base", )" + on + R"(},
     "source_defaults": {"prompt_template": "", "chat_template": "chatml", "samples_per_prompt": 2,
                         "reward": {"name": "repetition"}, "threshold": -0.5, "sampling": {"max_new_tokens": 8}},
     "sources": [{"path": ")" + dir + R"(/prompts.jsonl", "name": "math"}],
     "filters": {"truncated": {"enabled": false}, "no_answer": {"enabled": false}},
     "batch_prompts": 5, "threads": 1, "reward_threads": 1},
    {"name": "sft", "type": "sft", "model": {"path": "stage:base", )" + on + R"(}, "data": ")" + dir +
                       R"(/chat.jsonl", "chat_template": "chatml", "steps": 2, "batch_size": 4, "max_len": 32,
     "optim": {"lr": 0.01}, "threads": 1},
    {"name": "rm", "type": "reward_model", "model": )" + rm_model + R"(, "chat_template": "chatml",
     "data": ")" + dir + R"(/pairs.jsonl", "eval_data": ")" + dir + R"(/pairs.jsonl", "steps": 2, "batch_size": 4,
     "micro_batch_size": 2, "max_len": 48, "eval_every": 2, "optim": {"lr": 0.003}, "threads": 1},
    {"name": "rl", "type": "grpo", "model": {"path": "stage:sft", )" + on + R"(},
     "data": {"path": ")" + dir + R"(/prompts.jsonl", "prompt_template": "", "chat_template": "chatml"},
     "reward": {"composite": [{"name": "math"}, {"name": "cosine_length", "options": {"max_length": 10}},
                              {"name": "reward_model", "weight": 0.1, "options": {"path": "stage:rm", )" + on + R"(}}]},
     "sampling": {"max_new_tokens": 10, "top_p": 0.9}, "steps": 2, "prompts_per_step": 2, "group_size": 4,
     "epochs": 2, "minibatches": 2, "micro_batch_size": 3, "grpo": {"beta": 0.01}, "ref_reset_every": 1,
     "ref_offload": true, "save_every": 1, "dapo": {"dynamic_sampling": false},
     "optim": {"lr": 0.01, "eps": 1e-5}, "threads": 1, "reward_threads": 1},
    {"name": "student", "type": "distill", "model": )" + model + R"(, "mode": "forward_kl",
     "teacher": {"path": "stage:rl", )" + on + R"(}, "top_k": 8, "data": ")" + dir + R"(/chat.jsonl",
     "chat_template": "chatml", "epochs": 1, "batch_size": 4, "max_len": 32, "optim": {"lr": 0.01}, "threads": 1},
    {"name": "student_rev", "type": "distill", "model": )" + model + R"(, "mode": "reverse_kl", "kl_weight": 0.7,
     "teacher": {"path": "stage:rl", )" + on + R"(}, "sampling": {"max_new_tokens": 6, "temperature": 1.0},
     "data": ")" + dir + R"(/chat.jsonl", "chat_template": "chatml", "epochs": 1, "batch_size": 4, "max_len": 32,
     "optim": {"lr": 0.01}, "threads": 1},
    {"name": "eval", "type": "evaluate", "models": {"sft": "stage:sft", "rl": "stage:rl"}, )" + on + R"(,
     "data": {"path": ")" + dir + R"(/prompts.jsonl", "prompt_template": "", "chat_template": "chatml"},
     "reward": "math", "rm_data": {"path": ")" + dir + R"(/prompts.jsonl", "prompt_template": "",
     "chat_template": "chatml"}, "reward_model": "stage:rm", "rm_samples_per_prompt": 2,
     "sampling": {"temperature": 1.0, "max_new_tokens": 8}, "samples_per_prompt": 2, "batch_prompts": 5,
     "threads": 1, "reward_threads": 1}]})");
  return path;
}

// The two runs of the walk recipe in run directories `a` and `b` (paths named inside files are mapped from b's
// to a's) ended alike: bitwise the same final weights of every training stage, the same samples, rejection-
// sampled data, reward-model evaluation, evaluation table and completions.
inline void expect_walk_runs_equal(const std::string& a, const std::string& b) {
  for (const std::string stage : {"base", "sft", "rm", "rl", "student", "student_rev"}) {
    model::SafetensorsFile x(a + "/stages/" + stage + "/final/model.safetensors");
    model::SafetensorsFile y(b + "/stages/" + stage + "/final/model.safetensors");
    for (const auto& info : x.tensors())
      EXPECT_TRUE(at::equal(x.load(info.name), y.load(info.name))) << stage << " " << info.name;
  }
  for (const std::string file : {"samples.jsonl", "stages/rs/sft.jsonl", "stages/rm/eval.json", "stages/eval/eval.json",
                                 "stages/eval/completions-rl.jsonl"}) {
    EXPECT_FALSE(read_text(a + "/" + file).empty()) << file;
    std::string text = read_text(b + "/" + file);  // paths named in it: the run directory's
    for (size_t at = text.find(b); at != std::string::npos; at = text.find(b, at)) text.replace(at, b.size(), a);
    EXPECT_EQ(read_text(a + "/" + file), text) << file;
  }
}

}  // namespace r1::rl::testing
