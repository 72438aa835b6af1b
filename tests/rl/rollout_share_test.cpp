// The bytes GRPO's ranks exchange (rl/grpo/rollout_share.h): completions survive the round trip exactly — ids,
// log-probs, finish reasons, scores with components (order kept, non-ASCII names) and reasons, the decoded text
// rebuilt (an EOS dropped from it) — including an empty list and an empty completion; bytes cut short or with
// bytes left over are an error naming the cause, not a crash.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "common/error.h"
#include "model/tokenizer/tokenizer.h"
#include "rl/grpo/rollout_share.h"
#include "run_util.h"

namespace r1::rl {
namespace {

std::unique_ptr<model::Tokenizer> byte_tokenizer() {
  const std::string dir = testing::scratch_dir();
  const std::string path = dir + "/tokenizer.json";
  std::ofstream(path) << model::make_byte_level_tokenizer_json({"<|endoftext|>"});
  auto tok = model::Tokenizer::load(path);
  std::filesystem::remove_all(dir);
  return tok;
}

std::vector<Completion> examples() {
  std::vector<Completion> out(3);
  out[0].generation.tokens = {72, 105, 256};  // "Hi" + <|endoftext|>
  out[0].generation.logprobs = {-0.5f, -1.25f, -3.0f};
  out[0].generation.finish = model::FinishReason::kEos;
  out[0].score.value = 0.75;
  out[0].score.components = {{"math/correct", 1.0}, {"größe", -0.25}};
  out[0].score.reason = "number 42 == gold 42";
  out[1].generation.finish = model::FinishReason::kLength;  // nothing generated
  out[2].generation.tokens = {52, 50};
  out[2].generation.logprobs = {-0.1f, -0.2f};
  out[2].generation.finish = model::FinishReason::kStop;
  out[2].score.value = -1e300;
  return out;
}

TEST(RolloutShare, CompletionsSurviveTheRoundTrip) {
  const auto tok = byte_tokenizer();
  const std::vector<Completion> in = examples();
  const std::vector<Completion> out = decode_completions(encode_completions(in), *tok);
  ASSERT_EQ(out.size(), in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    EXPECT_EQ(out[i].generation.tokens, in[i].generation.tokens) << i;
    EXPECT_EQ(out[i].generation.logprobs, in[i].generation.logprobs) << i;
    EXPECT_EQ(out[i].generation.finish, in[i].generation.finish) << i;
    EXPECT_EQ(out[i].score.value, in[i].score.value) << i;
    EXPECT_EQ(out[i].score.components, in[i].score.components) << i;
    EXPECT_EQ(out[i].score.reason, in[i].score.reason) << i;
    EXPECT_EQ(out[i].text, completion_text(*tok, in[i].generation)) << i;
  }
  EXPECT_EQ(out[0].text, "Hi") << "the EOS is not part of the text";
  EXPECT_TRUE(decode_completions(encode_completions({}), *tok).empty());
}

TEST(RolloutShare, DamagedBytesAreAnErrorNotACrash) {
  const auto tok = byte_tokenizer();
  const std::string bytes = encode_completions(examples());
  for (size_t cut : {size_t{0}, size_t{3}, size_t{8}, bytes.size() / 2, bytes.size() - 1}) {
    EXPECT_THROW(decode_completions(bytes.substr(0, cut), *tok), Error) << "cut at " << cut;
  }
  EXPECT_THROW(decode_completions(bytes + "x", *tok), Error) << "a byte left over";
  std::string huge = bytes;
  huge[15] = '\x7f';  // the first completion's token count becomes enormous: refused before allocating
  EXPECT_THROW(decode_completions(huge, *tok), Error);
}

}  // namespace
}  // namespace r1::rl
