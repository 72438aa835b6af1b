// Helpers for the tests that drive `r1 run` end to end: a tiny random-init DeepSeek-V3-shaped model, scratch
// directories, running the r1 binary as a child process, reading JSONL outputs.
#pragma once

#include <gtest/gtest.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "common/json.h"

namespace r1::rl::testing {

// A DeepSeek-V3-shaped model small enough that a training step takes well under a second on one core:
// MLA with q-LoRA, one dense layer then one MoE layer (4 routed experts, top-2, 1 shared), an MTP module.
// Byte-level vocabulary: 256 bytes + up to 8 special tokens; id 256 is BOS and EOS.
inline std::string tiny_config_json() {
  return R"({"architectures": ["DeepseekV3ForCausalLM"], "model_type": "deepseek_v3", "vocab_size": 264,
    "hidden_size": 32, "intermediate_size": 64, "moe_intermediate_size": 16, "num_hidden_layers": 2,
    "first_k_dense_replace": 1, "n_routed_experts": 4, "num_experts_per_tok": 2, "n_shared_experts": 1,
    "n_group": 1, "topk_group": 1, "norm_topk_prob": true, "routed_scaling_factor": 2.5,
    "num_attention_heads": 2, "num_key_value_heads": 2, "q_lora_rank": 16, "kv_lora_rank": 16,
    "qk_nope_head_dim": 8, "qk_rope_head_dim": 8, "v_head_dim": 8, "num_nextn_predict_layers": 1,
    "max_position_embeddings": 256, "rms_norm_eps": 1e-6, "rope_theta": 10000.0, "bos_token_id": 256,
    "eos_token_id": 256, "tie_word_embeddings": false, "initializer_range": 0.02})";
}

inline const char* kR1Specials = R"(["<|endoftext|>", "<think>", "</think>", "<answer>", "</answer>"])";
inline const char* kChatMlSpecials = R"(["<|endoftext|>", "<|im_start|>", "<|im_end|>"])";

// The recipe "model" object of a freshly initialised tiny model with a byte-level tokenizer.
inline std::string tiny_model_json(const char* specials = kR1Specials) {
  return std::string(R"({"init_config": )") + tiny_config_json() + R"(, "byte_level_tokenizer": )" + specials + "}";
}

// dir/corpus.jsonl (12 texts "i + i = 2i") and dir/prompts.jsonl (12 prompts "i + 2" with their answers): the
// data of the short two- and three-stage runs.
inline void write_corpus_and_prompts(const std::string& dir) {
  std::string corpus, prompts;
  for (int i = 0; i < 12; ++i) {
    corpus += "{\"text\": \"" + std::to_string(i) + " + " + std::to_string(i) + " = " + std::to_string(2 * i) + "\"}\n";
    prompts += "{\"prompt\": \"" + std::to_string(i) + " + 2\", \"answer\": \"" + std::to_string(i + 2) + "\"}\n";
  }
  std::ofstream(dir + "/corpus.jsonl", std::ios::binary) << corpus;
  std::ofstream(dir + "/prompts.jsonl", std::ios::binary) << prompts;
}

// A fresh scratch directory per test: <tmp>/r1_<suite>_<test>_<pid>.
inline std::string scratch_dir() {
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  auto dir = std::filesystem::temp_directory_path() /
             ("r1_" + std::string(info->test_suite_name()) + "_" + info->name() + "_" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir.string();
}

// Removes a scratch directory at the end of a test that passed (a failed test leaves it for inspection).
inline void cleanup_if_passed(const std::string& dir) {
  if (!::testing::Test::HasFailure()) std::filesystem::remove_all(dir);
}

inline void write_text(const std::string& path, const std::string& text) {
  std::ofstream f(path, std::ios::binary);
  f << text;
  ASSERT_TRUE(f.good()) << path;
}

inline std::string read_text(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

inline bool exists(const std::string& path) { return std::filesystem::exists(path); }

// Starts `r1 args...` with stdout and stderr going to log_path; returns the child's pid.
inline pid_t spawn_r1(const std::vector<std::string>& args, const std::string& log_path) {
  std::vector<std::string> argv_s = {R1_BINARY};
  argv_s.insert(argv_s.end(), args.begin(), args.end());
  pid_t pid = ::fork();
  if (pid == 0) {
    int fd = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd >= 0) {
      ::dup2(fd, 1);
      ::dup2(fd, 2);
      ::close(fd);
    }
    std::vector<char*> argv;
    for (auto& a : argv_s) argv.push_back(a.data());
    argv.push_back(nullptr);
    ::execv(argv[0], argv.data());
    const std::string msg = std::string("exec ") + argv[0] + " failed: " + std::strerror(errno) +
                            " (is the r1 binary being rebuilt?)\n";
    if (::write(2, msg.data(), msg.size()) < 0) {
    }
    ::_exit(127);
  }
  return pid;
}

struct RunResult {
  bool exited = false;  // normal exit (not killed by a signal)
  int code = -1;        // exit code when exited, else the signal number
  std::string output;   // stdout + stderr
};

inline RunResult wait_r1(pid_t pid, const std::string& log_path) {
  int status = 0;
  ::waitpid(pid, &status, 0);
  RunResult r;
  r.exited = WIFEXITED(status);
  r.code = r.exited ? WEXITSTATUS(status) : (WIFSIGNALED(status) ? WTERMSIG(status) : -1);
  r.output = read_text(log_path);
  return r;
}

// Runs `r1 args...` to completion.
inline RunResult run_r1(const std::vector<std::string>& args, const std::string& log_path) {
  return wait_r1(spawn_r1(args, log_path), log_path);
}

inline std::vector<json::Document> read_jsonl(const std::string& path) {
  std::vector<json::Document> out;
  std::ifstream f(path);
  std::string line;
  while (std::getline(f, line)) {
    if (!line.empty()) out.push_back(json::parse(line, path));
  }
  return out;
}

// The metrics lines of one stage by step. A resumed run appends the steps after its checkpoint again (the
// killed run may have logged some of them already): the last line of a step wins.
inline std::map<int64_t, json::Document> metrics_by_step(const std::string& run_dir, const std::string& stage) {
  std::map<int64_t, json::Document> out;
  for (auto& d : read_jsonl(run_dir + "/metrics.jsonl")) {
    if (std::string(d["stage"].GetString()) != stage) continue;
    const int64_t step = d["step"].GetInt64();
    out[step] = std::move(d);
  }
  return out;
}

// Metrics lines the stage has written so far (counted as text: the line being written may be incomplete).
inline size_t logged_steps(const std::string& run_dir, const std::string& stage) {
  std::ifstream f(run_dir + "/metrics.jsonl");
  std::string line;
  size_t n = 0;
  while (std::getline(f, line)) n += line.find("\"stage\":\"" + stage + "\"") != std::string::npos;
  return n;
}

// Waits until the stage has logged `steps` metrics lines (a child `r1 run` started by spawn_r1); false when the
// child exited first or after two minutes.
inline bool wait_for_logged_steps(pid_t pid, const std::string& run_dir, const std::string& stage, size_t steps) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  while (std::chrono::steady_clock::now() < deadline) {
    if (logged_steps(run_dir, stage) >= steps) return true;
    int status = 0;
    if (::waitpid(pid, &status, WNOHANG) == pid) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return false;
}

}  // namespace r1::rl::testing
