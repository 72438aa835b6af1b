// Tests for model/hf_checkpoint: the directory layout HF transformers loads (config.json,
// generation_config.json, safetensors with HF names, tokenizer files), byte-identical re-saving of a
// golden fixture, sharding, extras and callbacks, and atomicity (a failed write leaves DIR untouched and
// no staging directory behind).
#include <gtest/gtest.h>

#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>

#include "scratch_dir.h"
#include "common/error.h"
#include "common/fs.h"
#include "common/json.h"
#include "model/hf_checkpoint.h"
#include "model/safetensors.h"

namespace r1::model {
namespace {

namespace fs = std::filesystem;

// Every test directory lives under one per-process root, removed when the suite ends.
std::string test_root() { return r1::testing::scratch_root("r1_hf_test_"); }
[[maybe_unused]] ::testing::Environment* const kRemoveTestRoot =
    ::testing::AddGlobalTestEnvironment(new r1::testing::RemoveScratchRoot(test_root()));
std::string fresh_dir(const std::string& tag) { return r1::testing::fresh_dir(test_root(), tag); }

size_t entries_in(const std::string& dir) {
  return static_cast<size_t>(std::distance(fs::directory_iterator(dir), fs::directory_iterator()));
}

const char* kConfig = R"({"architectures": ["Qwen2ForCausalLM"], "model_type": "qwen2", "bos_token_id": 5,
  "eos_token_id": [6, 7], "hidden_size": 8})";

HfCheckpointContents small_contents() {
  HfCheckpointContents c;
  c.config_json = kConfig;
  c.tensors = {{"model.embed_tokens.weight", at::randn({10, 8})},
               {"model.norm.weight", at::ones({8}).to(at::kBFloat16)},
               {"lm_head.weight", at::randn({10, 8})}};
  return c;
}

TEST(HfCheckpoint, WritesTheHfLayout) {
  const std::string root = fresh_dir("layout");
  const std::string tok = root + "/tok";
  fs::create_directories(tok);
  write_file_atomic(tok + "/tokenizer.json", R"({"model": {"type": "BPE"}})");
  write_file_atomic(tok + "/tokenizer_config.json", R"({"bos_token": "<s>"})");
  write_file_atomic(tok + "/unrelated.txt", "not copied");

  HfCheckpointContents c = small_contents();
  c.tokenizer_dir = tok;
  c.extra_files = {{"trainer_state.json", R"({"step": 3})"}, {"optim/notes.txt", "x"}};
  c.add_files = [](const std::string& staging) { write_file_atomic(path_join(staging, "rng.bin"), "rng"); };
  const std::string out = root + "/ckpt";
  const std::vector<std::string> files = write_hf_checkpoint(out, c);
  const std::vector<std::string> expected = {"config.json",     "generation_config.json", "model.safetensors",
                                             "optim/notes.txt", "rng.bin",                "tokenizer.json",
                                             "tokenizer_config.json", "trainer_state.json"};
  EXPECT_EQ(files, expected);
  EXPECT_EQ(read_file(out + "/config.json"), kConfig);
  EXPECT_EQ(read_file(out + "/tokenizer.json"), read_file(tok + "/tokenizer.json"));
  EXPECT_FALSE(fs::exists(out + "/unrelated.txt"));
  const json::Document gen = json::parse_file(out + "/generation_config.json");
  EXPECT_TRUE(json::get_bool(gen, "_from_model_config", "gen"));
  EXPECT_EQ(json::get_int(gen, "bos_token_id", "gen"), 5);
  EXPECT_EQ(json::opt_int_list(gen, "eos_token_id", "gen"), (std::vector<int64_t>{6, 7}));
  EXPECT_EQ(json::find(gen, "pad_token_id"), nullptr);

  Checkpoint ckpt(out);
  EXPECT_EQ(ckpt.names(), (std::vector<std::string>{"lm_head.weight", "model.embed_tokens.weight", "model.norm.weight"}));
  for (const auto& [name, t] : c.tensors) EXPECT_TRUE(at::equal(ckpt.load(name), t)) << name;
  EXPECT_EQ(SafetensorsFile(out + "/model.safetensors").metadata().at("format"), "pt");  // transformers checks it
  EXPECT_EQ(entries_in(root), 2u);  // tok and ckpt: no staging directory left behind
}

TEST(HfCheckpoint, ReplacesAnOldCheckpointWholly) {
  const std::string root = fresh_dir("replace");
  const std::string out = root + "/ckpt";
  HfCheckpointContents c = small_contents();
  c.extra_files = {{"stale.txt", "old"}};
  write_hf_checkpoint(out, c);
  c.extra_files.clear();
  c.tensors.pop_back();
  c.generation_config_json = "{\"do_sample\": true}\n";
  write_hf_checkpoint(out + "/", c);  // trailing slash is the same directory
  EXPECT_FALSE(fs::exists(out + "/stale.txt"));
  EXPECT_EQ(read_file(out + "/generation_config.json"), "{\"do_sample\": true}\n");
  EXPECT_FALSE(Checkpoint(out).contains("lm_head.weight"));
  EXPECT_EQ(entries_in(root), 1u);
}

TEST(HfCheckpoint, FailuresLeaveTheOldDirectoryAndNoStaging) {
  const std::string root = fresh_dir("atomic");
  const std::string out = root + "/ckpt";
  write_hf_checkpoint(out, small_contents());
  const std::string before = read_file(out + "/model.safetensors");

  auto expect_failure = [&](HfCheckpointContents c, const std::string& needle) {
    try {
      write_hf_checkpoint(out, c);
      ADD_FAILURE() << "no error, expected " << needle;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
      EXPECT_EQ(std::string(e.what()).find(".tmp-"), std::string::npos) << "names the staging dir: " << e.what();
    }
    EXPECT_EQ(read_file(out + "/model.safetensors"), before);
    EXPECT_EQ(entries_in(root), 1u) << "staging directory left behind";
  };
  HfCheckpointContents c = small_contents();
  c.config_json = "{\"a\": ";
  expect_failure(c, "config.json");
  c = small_contents();
  c.config_json = "[1]";
  expect_failure(c, "JSON object");
  c = small_contents();
  c.tensors.emplace_back("model.norm.weight", at::ones({2}));
  expect_failure(c, out + "/model.safetensors: tensor 'model.norm.weight': duplicate name");
  c = small_contents();
  c.extra_files = {{"../escape.txt", "x"}};
  expect_failure(c, "relative path inside");
  c = small_contents();
  c.extra_files = {{"config.json", "{}"}};
  expect_failure(c, "would overwrite");
  c = small_contents();
  c.tokenizer_dir = root + "/no_such_tokenizer";
  expect_failure(c, "no_such_tokenizer");
  c = small_contents();
  c.add_files = [](const std::string&) { fail("callback failed on purpose"); };
  expect_failure(c, "on purpose");
  c = small_contents();
  c.config_json = R"({"eos_token_id": "two"})";
  expect_failure(c, "eos_token_id");
  EXPECT_THROW(write_hf_checkpoint("/", small_contents()), Error);
}

TEST(HfCheckpoint, ShardsLargeModels) {
  const std::string out = fresh_dir("shards") + "/ckpt";
  HfCheckpointContents c = small_contents();
  c.max_shard_bytes = 320;  // fp32 [10, 8] is 320 bytes, the bf16 norm 16: three shards
  const std::vector<std::string> files = write_hf_checkpoint(out, c);
  EXPECT_NE(std::find(files.begin(), files.end(), "model.safetensors.index.json"), files.end());
  EXPECT_NE(std::find(files.begin(), files.end(), "model-00003-of-00003.safetensors"), files.end());
  Checkpoint ckpt(out);
  for (const auto& [name, t] : c.tensors) EXPECT_TRUE(at::equal(ckpt.load(name), t)) << name;
}

TEST(HfCheckpoint, ResavingAGoldenFixtureIsByteIdentical) {
  std::string src;
  for (const std::string& base : {std::string(R1_TEST_DATA) + "/models/llama3_tiny",
                                  std::string(R1_SHARED_DIR) + "/fixtures/models/llama3_tiny"}) {
    if (fs::exists(base + "/model.safetensors")) {
      src = base;
      break;
    }
  }
  if (src.empty()) GTEST_SKIP() << "golden fixtures not found";
  Checkpoint original(src);
  HfCheckpointContents c;
  c.config_json = read_file(src + "/config.json");
  c.generation_config_json = read_file(src + "/generation_config.json");
  for (const auto& name : original.names()) c.tensors.emplace_back(name, original.load(name));
  const std::string out = fresh_dir("golden") + "/ckpt";
  write_hf_checkpoint(out, c);
  EXPECT_TRUE(read_file(out + "/model.safetensors") == read_file(src + "/model.safetensors"));
  EXPECT_EQ(read_file(out + "/config.json"), read_file(src + "/config.json"));
}

TEST(HfCheckpoint, DefaultGenerationConfigFollowsConfigIds) {
  const json::Document gen = json::parse(
      default_generation_config(R"({"bos_token_id": 1, "eos_token_id": 2, "pad_token_id": null})", "c.json"), "g");
  EXPECT_EQ(json::get_int(gen, "eos_token_id", "g"), 2);
  EXPECT_EQ(json::find(gen, "pad_token_id"), nullptr);
  const json::Document bare = json::parse(default_generation_config("{}", "c.json"), "g");
  EXPECT_EQ(bare.MemberCount(), 1u);
  EXPECT_THROW(default_generation_config("[]", "c.json"), Error);
}

TEST(HfCheckpoint, GenerationConfigWithEosAddsTheIdAndKeepsTheRest) {
  const std::string base = R"({"_from_model_config": true, "bos_token_id": 1, "eos_token_id": 2, "do_sample": true})";
  const std::string added = generation_config_with_eos(base, 7, "g.json");
  const json::Document gen = json::parse(added, "g");
  EXPECT_EQ(json::opt_int_list(gen, "eos_token_id", "g"), (std::vector<int64_t>{2, 7}));
  EXPECT_EQ(json::find(gen, "_from_model_config"), nullptr);  // no longer derived from config.json
  EXPECT_TRUE(json::get_bool(gen, "do_sample", "g"));
  EXPECT_LT(added.find("bos_token_id"), added.find("eos_token_id"));  // the keys keep their order
  // Already there: unchanged; no eos yet: the id alone.
  EXPECT_EQ(json::get_int(json::parse(generation_config_with_eos(R"({"eos_token_id": 7})", 7, "g"), "g"), "eos_token_id", "g"), 7);
  EXPECT_EQ(json::opt_int_list(json::parse(generation_config_with_eos("{}", 7, "g"), "g"), "eos_token_id", "g"),
            std::vector<int64_t>{7});
  try {
    generation_config_with_eos(R"({"eos_token_id": "x"})", 7, "model/generation_config.json");
    ADD_FAILURE() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("model/generation_config.json"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("eos_token_id"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace r1::model
