// `r1 tokenizer train` and the "train_tokenizer" recipe stage end to end through the real binary: the
// written directory loads with Tokenizer::load, bad JSONL is an error naming file:line, and a recipe
// trains a tokenizer on a previous stage's corpus and pretrains a fresh model with it
// ({"init_config": ..., "tokenizer": "stage:tok"}), refusing an init_config.vocab_size that is too small.
// Skipped when the binary has not been built (scripts/test.sh builds everything first).
#include <gtest/gtest.h>

#include "cli_run.h"

#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>

#include "common/fs.h"
#include "model/tokenizer/tokenizer.h"

namespace {

namespace fs = std::filesystem;

using TokenizerTrainCli = r1::testing::CliTest;

TEST_F(TokenizerTrainCli, TrainsAndWritesALoadableDirectory) {
  std::string jsonl;
  for (int i = 0; i < 200; ++i) jsonl += "{\"body\": \"the answer is " + std::to_string(i) + "<eos>\"}\n";
  const std::string in = file("c.jsonl", jsonl);
  const std::string txt = file("t.txt", "the question the question the question\n");
  const std::string out = (dir_ / "tok").string();
  const Result r = run("tokenizer train --input " + in + " --key body --text-file " + txt +
                       " --vocab-size 300 --special '<eos>' --special '<pad>' --eos-token '<eos>' --output " + out +
                       " --quiet");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.err.find("wrote " + out + "/tokenizer.json"), std::string::npos) << r.err;
  const auto tok = r1::model::Tokenizer::load(out);
  EXPECT_EQ(tok->eos_id(), 256);
  EXPECT_EQ(tok->token_to_id("<pad>"), 257);
  const auto ids = tok->encode("the answer is 42<eos>");
  EXPECT_LT(ids.size(), 8u);  // "the", " answer", " is", " ", "4", "2", "<eos>" at most
  EXPECT_EQ(ids.back(), 256);
  EXPECT_EQ(tok->decode(ids), "the answer is 42<eos>");
  // The same input again gives byte-identical files.
  const std::string again = (dir_ / "again").string();
  ASSERT_EQ(run("tokenizer train --input " + in + " --key body --text-file " + txt +
                " --vocab-size 300 --special '<eos>' --special '<pad>' --eos-token '<eos>' --quiet --output " + again)
                .status,
            0);
  EXPECT_EQ(r1::read_file(out + "/tokenizer.json"), r1::read_file(again + "/tokenizer.json"));
}

TEST_F(TokenizerTrainCli, BadInputIsALocatedError) {
  const std::string in = file("bad.jsonl", "{\"text\": \"a\"}\n{\"text\": 3}\n");
  Result r = run("tokenizer train --input " + in + " --vocab-size 300 --output " + (dir_ / "o").string());
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find(in + ":2: key 'text'"), std::string::npos) << r.err;
  r = run("tokenizer train --input " + file("ok.jsonl", "{\"text\": \"a\"}\n") + " --vocab-size 256 --special '<s>' "
          "--output " + (dir_ / "o").string());
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("--vocab-size 256 is smaller than the 256 byte tokens + 1 special"), std::string::npos) << r.err;
  r = run("tokenizer train --vocab-size 300 --output " + (dir_ / "o").string());
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("--input or --text-file"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(dir_ / "o"));
}

// A tiny DeepSeek-V3-shaped config; vocab_size is spliced in.
std::string tiny_config(int vocab_size) {
  return R"({"architectures": ["DeepseekV3ForCausalLM"], "model_type": "deepseek_v3", "vocab_size": )" +
         std::to_string(vocab_size) + R"(, "hidden_size": 32, "intermediate_size": 64, "moe_intermediate_size": 16,
    "num_hidden_layers": 2, "first_k_dense_replace": 1, "n_routed_experts": 4, "num_experts_per_tok": 2,
    "n_shared_experts": 1, "n_group": 1, "topk_group": 1, "norm_topk_prob": true, "routed_scaling_factor": 2.5,
    "num_attention_heads": 2, "num_key_value_heads": 2, "q_lora_rank": 16, "kv_lora_rank": 16,
    "qk_nope_head_dim": 8, "qk_rope_head_dim": 8, "v_head_dim": 8, "num_nextn_predict_layers": 0,
    "max_position_embeddings": 128, "rms_norm_eps": 1e-6, "rope_theta": 10000.0, "bos_token_id": 256,
    "eos_token_id": 256, "tie_word_embeddings": false, "initializer_range": 0.02})";
}

std::string recipe(int model_vocab) {
  return R"({"seed": 3, "stages": [
    {"name": "data", "type": "synthetic_arithmetic", "max_digits": 2, "corpus_size": 300, "train_size": 10,
     "heldout_size": 5},
    {"name": "tok", "type": "train_tokenizer", "data": ["stage:data/corpus.jsonl"],
     "extra_texts": ["A conversation between User and Assistant."], "extra_texts_weight": 1000, "vocab_size": 320,
     "special_tokens": ["<|endoftext|>", "<think>"], "eos_token": "<|endoftext|>"},
    {"name": "base", "type": "pretrain",
     "model": {"init_config": )" + tiny_config(model_vocab) + R"(, "tokenizer": "stage:tok"},
     "data": "stage:data/corpus.jsonl", "steps": 1, "batch_size": 2, "max_len": 32}]})";
}

TEST_F(TokenizerTrainCli, RecipeStageFeedsAFreshModel) {
  const std::string run_dir = (dir_ / "run").string();
  const Result r = run("run " + file("r.json", recipe(320)) + " --quiet --output " + run_dir);
  ASSERT_EQ(r.status, 0) << r.err;
  const std::string tok_dir = run_dir + "/stages/tok";
  ASSERT_TRUE(fs::exists(tok_dir + "/tokenizer.json")) << r.err;
  const auto tok = r1::model::Tokenizer::load(tok_dir);
  EXPECT_EQ(tok->eos_id(), 256);
  EXPECT_EQ(tok->token_to_id("<think>"), 257);
  EXPECT_LE(tok->vocab_size(), 320);
  EXPECT_GT(tok->vocab_size(), 280);
  // The extra text is counted: "Assistant" became one token or two, not nine bytes.
  EXPECT_LE(tok->encode(" Assistant").size(), 2u);

  // A model vocabulary smaller than the tokenizer's is refused, naming the key.
  const Result small = run("run " + file("small.json", recipe(300)) + " --quiet --output " + (dir_ / "run2").string());
  EXPECT_NE(small.status, 0);
  EXPECT_NE(small.err.find("key 'model.init_config.vocab_size' (300) is smaller than the tokenizer's"), std::string::npos)
      << small.err;
}

}  // namespace
