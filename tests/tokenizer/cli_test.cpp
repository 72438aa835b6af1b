// `r1 tokenize` / `r1 detokenize` end to end through the real binary (the one that also loads LibTorch, so
// the sentencepiece case checks that both libraries live in one process). Skipped when the binary has
// not been built (this suite's target does not depend on it; `scripts/test.sh` builds everything first).
#include <gtest/gtest.h>

#include "cli_run.h"

#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>

#include "common/fs.h"

namespace {

class Cli : public r1::testing::CliTest {
 protected:
  const std::string qwen_ = std::string(R1_TEST_DATA) + "/tokenizers/bpe_qwen2_regex";
  const std::string spm_ = std::string(R1_TEST_DATA) + "/tokenizers/spm_unigram";
};

TEST_F(Cli, TokenizeTextPrintsTheReferenceIds) {
  const Result r = run("tokenize --tokenizer " + qwen_ + " --text 'Hello world'");
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, "[2626, 2691, 2874]\n");
}

TEST_F(Cli, TokenizeAndDetokenizeJsonl) {
  const std::string in = file("in.jsonl", "{\"text\": \"Hello world\"}\n{\"text\": \"<think>\\nLet x\"}\n");
  const Result r = run("tokenize --tokenizer " + qwen_ + " --input " + in);
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, "{\"ids\": [2626, 2691, 2874]}\n{\"ids\": [3, 205, 50, 356, 227, 94]}\n");
  const std::string ids = file("ids.jsonl", r.out);
  const Result back = run("detokenize --tokenizer " + qwen_ + " --input " + ids);
  ASSERT_EQ(back.status, 0) << back.err;
  EXPECT_EQ(back.out, "{\"text\":\"Hello world\"}\n{\"text\":\"<think>\\nLet x\"}\n");
  const Result skip = run("detokenize --tokenizer " + qwen_ + " --skip-special-tokens --ids '[3, 205, 50, 356]'");
  EXPECT_EQ(skip.out, "\nLet\n");
}

TEST_F(Cli, SentencepieceWorksInsideTheLibTorchBinary) {
  const Result r = run("tokenize --tokenizer " + spm_ + "/tokenizer.model --text 'Hello world' --add-special-tokens");
  ASSERT_EQ(r.status, 0) << r.err;
  ASSERT_EQ(r.out.substr(0, 3), "[1,") << r.out;  // BOS first
  const Result back = run("detokenize --tokenizer " + spm_ + " --skip-special-tokens --ids '" +
                          r.out.substr(0, r.out.size() - 1) + "'");
  EXPECT_EQ(back.out, "Hello world\n") << back.err;
}

TEST_F(Cli, BadInputIsALocatedError) {
  const std::string in = file("bad.jsonl", "{\"text\": \"ok\"}\n{\"txt\": \"no\"}\n");
  Result r = run("tokenize --tokenizer " + qwen_ + " --input " + in);
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("bad.jsonl:2"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("'text'"), std::string::npos) << r.err;
  r = run("detokenize --tokenizer " + qwen_ + " --ids '[1, 999999]'");
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("999999"), std::string::npos) << r.err;
  r = run("detokenize --tokenizer " + qwen_ + " --ids '[1, \"x\"]'");
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("--ids[1]"), std::string::npos) << r.err;
  // Exactly one of --text / --input.
  r = run("tokenize --tokenizer " + qwen_ + " --text a --input " + in);
  EXPECT_NE(r.status, 0);
  r = run("tokenize --tokenizer " + qwen_);
  EXPECT_NE(r.status, 0);
}

}  // namespace
