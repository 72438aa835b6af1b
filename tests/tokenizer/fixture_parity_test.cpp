// Parity with the reference libraries: every case of every tests/fixtures/tokenizers/*/expected.json
// (and of ../shared/fixtures/tokenizers when present, where new fixtures of the same kinds may appear)
// must give the reference ids, the reference token strings, and the reference decoded text.
// Fixtures: tokenizer.json from HF `tokenizers` 0.23 (byte-level BPE with the real Qwen2 / Llama-3
// regexes) and .model from sentencepiece 0.2 (BPE and unigram, byte fallback, user symbols); see
// tests/fixtures/tokenizers/README.md.
#include <gtest/gtest.h>

#include <filesystem>

#include "common/fs.h"
#include "common/json.h"
#include "model/tokenizer/tokenizer.h"

namespace {

using r1::model::Tokenizer;
namespace fs = std::filesystem;

std::vector<std::string> fixture_dirs() {
  std::vector<std::string> dirs;
  for (const std::string& root : {std::string(R1_TEST_DATA) + "/tokenizers", std::string(R1_SHARED_DIR) + "/fixtures/tokenizers"}) {
    if (!fs::is_directory(root)) continue;
    std::vector<std::string> found;
    for (const auto& entry : fs::directory_iterator(root))
      if (fs::exists(entry.path() / "expected.json") &&
          (fs::exists(entry.path() / "tokenizer.json") || fs::exists(entry.path() / "tokenizer.model")))
        found.push_back(entry.path().string());
    std::sort(found.begin(), found.end());
    dirs.insert(dirs.end(), found.begin(), found.end());
  }
  return dirs;
}

std::vector<int64_t> int_list(const r1::json::Value& v) {
  std::vector<int64_t> out;
  for (const auto& e : v.GetArray()) out.push_back(e.GetInt64());
  return out;
}

TEST(TokenizerFixtures, ThereAreFixtures) {
  // The four shipped fixtures are always there; more may come from ../shared.
  EXPECT_GE(fixture_dirs().size(), 4u);
}

class FixtureParity : public ::testing::TestWithParam<std::string> {};

TEST_P(FixtureParity, IdsTokensAndDecodeMatchTheReference) {
  const std::string dir = GetParam();
  const auto tok = Tokenizer::load(dir);
  const auto expected = r1::json::parse_file(dir + "/expected.json");
  const bool is_spm = expected["library"].GetString() == std::string("sentencepiece");
  EXPECT_EQ(tok->kind(), std::string(is_spm ? "sentencepiece" : "tokenizer.json"));
  size_t n = 0;
  for (const auto& c : expected["cases"].GetArray()) {
    const std::string text(c["text"].GetString(), c["text"].GetStringLength());
    SCOPED_TRACE("text: " + text.substr(0, 80));
    const std::vector<int64_t> ids = int_list(c["ids"]);
    EXPECT_EQ(tok->encode(text), ids);
    const auto& names = c.HasMember("tokens") ? c["tokens"] : c["pieces"];
    ASSERT_EQ(names.Size(), ids.size());
    for (size_t i = 0; i < ids.size(); ++i) EXPECT_EQ(tok->id_to_token(ids[i]), names[static_cast<unsigned>(i)].GetString());
    const std::string decoded(c["decoded"].GetString(), c["decoded"].GetStringLength());
    EXPECT_EQ(tok->decode(ids), decoded);
    if (!is_spm) {
      EXPECT_EQ(decoded, text);  // byte-level BPE round-trips exactly
    }
    // Streaming decoding gives the same text as one decode.
    r1::model::StreamDecoder stream(*tok);
    std::string streamed;
    for (int64_t id : ids) streamed += stream.push(id);
    streamed += stream.flush();
    EXPECT_EQ(streamed, decoded);
    ++n;
  }
  EXPECT_GT(n, 10u);
}

INSTANTIATE_TEST_SUITE_P(All, FixtureParity, ::testing::ValuesIn(fixture_dirs()),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           std::string name = fs::path(info.param).filename().string();
                           const bool shared = info.param.find("/shared/") != std::string::npos;
                           return (shared ? "shared_" : "local_") + name;
                         });

}  // namespace
