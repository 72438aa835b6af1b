// Hostile and edge-case input: invalid UTF-8, empty and huge texts, special tokens glued to text or cut in
// half, parse_special=false, unknown ids, concurrent use, and malformed tokenizer.json files (each error
// must name the file and the key).
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <functional>
#include <random>
#include <thread>

#include "common/error.h"
#include "model/tokenizer/tokenizer.h"

namespace {

using r1::model::StreamDecoder;
using r1::model::Tokenizer;

const std::string kQwen = std::string(R1_TEST_DATA) + "/tokenizers/bpe_qwen2_regex";
const std::string kSpm = std::string(R1_TEST_DATA) + "/tokenizers/spm_bpe";

std::string error_of(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const r1::Error& e) {
    return e.what();
  }
  return "";
}

TEST(Adversarial, InvalidUtf8EncodesAsBytesAndDecodesToReplacement) {
  const auto tok = Tokenizer::load(kQwen);
  const std::string bad = "ok \xFF\xFE mid \xE6\xB7 end \xC0\xAF";
  const auto ids = tok->encode(bad);
  ASSERT_FALSE(ids.empty());
  // Every byte is kept as a byte token; decode gives Rust's lossy text.
  EXPECT_EQ(tok->decode(ids), "ok \xEF\xBF\xBD\xEF\xBF\xBD mid \xEF\xBF\xBD end \xEF\xBF\xBD\xEF\xBF\xBD");
  const auto spm = Tokenizer::load(kSpm);
  // sentencepiece is given the lossy text (the library rejects invalid UTF-8); whatever its normaliser makes
  // of U+FFFD, the result decodes to valid UTF-8 and the valid parts survive.
  const std::string spm_text = spm->decode(spm->encode(bad));
  EXPECT_NE(spm_text.find("mid"), std::string::npos) << spm_text;
  EXPECT_NE(spm_text.find("end"), std::string::npos) << spm_text;
}

TEST(Adversarial, EmptyTextAndEmptyIds) {
  for (const auto& path : {kQwen, kSpm}) {
    const auto tok = Tokenizer::load(path);
    EXPECT_TRUE(tok->encode("").empty());
    EXPECT_EQ(tok->decode({}), "");
    EXPECT_EQ(tok->decode_suffix({}, 0), "");
  }
}

TEST(Adversarial, HugeInputsFinishAndRoundTrip) {
  const auto tok = Tokenizer::load(kQwen);
  // 1 MB without a single split point, 1 MB of spaces, and 2 MB of random printable text with newlines.
  const std::string one_word(1 << 20, 'x');
  EXPECT_EQ(tok->decode(tok->encode(one_word)), one_word);
  const std::string spaces(1 << 20, ' ');
  EXPECT_EQ(tok->decode(tok->encode(spaces)), spaces);
  std::mt19937 rng(7);
  std::string mixed;
  const std::string alphabet = "abc XYZ 012 \n\t.,;!?'\"-_深度求索αβγ";
  while (mixed.size() < (2u << 20)) {
    // whole UTF-8 characters only
    const size_t i = rng() % alphabet.size();
    size_t start = i;
    while (start > 0 && (static_cast<uint8_t>(alphabet[start]) & 0xC0) == 0x80) --start;
    size_t end = start + 1;
    while (end < alphabet.size() && (static_cast<uint8_t>(alphabet[end]) & 0xC0) == 0x80) ++end;
    mixed.append(alphabet, start, end - start);
  }
  EXPECT_EQ(tok->decode(tok->encode(mixed)), mixed);
}

TEST(Adversarial, SpecialTokensAdjacentToTextAndCutInHalf) {
  const auto tok = Tokenizer::load(kQwen);
  const int64_t im_start = *tok->token_to_id("<|im_start|>"), im_end = *tok->token_to_id("<|im_end|>");
  const int64_t think = *tok->token_to_id("<think>");
  auto ids = tok->encode("a<|im_end|>b");
  ASSERT_EQ(ids.size(), 3u);
  EXPECT_EQ(ids[1], im_end);
  ids = tok->encode("<think><think>");
  EXPECT_EQ(ids, (std::vector<int64_t>{think, think}));
  ids = tok->encode("<|im_start|><|im_end|>");
  EXPECT_EQ(ids, (std::vector<int64_t>{im_start, im_end}));
  // A cut special token is plain text.
  ids = tok->encode("<|im_end");
  EXPECT_EQ(std::count(ids.begin(), ids.end(), im_end), 0);
  EXPECT_EQ(tok->decode(ids), "<|im_end");
  // parse_special=false: written special tokens stay text.
  ids = tok->encode("x<|im_end|>y", false, /*parse_special=*/false);
  EXPECT_EQ(std::count(ids.begin(), ids.end(), im_end), 0);
  EXPECT_EQ(tok->decode(ids), "x<|im_end|>y");
  // skip_special_tokens drops them on decode.
  EXPECT_EQ(tok->decode(tok->encode("<|im_start|>hi<|im_end|>"), true), "hi");
  EXPECT_TRUE(tok->is_special(im_end));
  EXPECT_FALSE(tok->is_special(tok->encode("a")[0]));
}

TEST(Adversarial, UnknownIdsAreClearErrors) {
  for (const auto& path : {kQwen, kSpm}) {
    const auto tok = Tokenizer::load(path);
    const int64_t v = tok->vocab_size();
    for (int64_t bad : {v, v + 1000, int64_t{-1}, int64_t{1} << 40}) {
      const std::string msg = error_of([&] { tok->decode({0, bad}); });
      EXPECT_NE(msg.find("is not in the vocabulary"), std::string::npos) << msg;
      EXPECT_NE(msg.find(std::to_string(bad)), std::string::npos) << msg;
      EXPECT_FALSE(error_of([&] { tok->id_to_token(bad); }).empty());
    }
    EXPECT_FALSE(tok->token_to_id("no such token, surely").has_value());
  }
}

TEST(Adversarial, StreamingHoldsBackIncompleteCharacters) {
  const auto tok = Tokenizer::load(kQwen);
  // "日本語" has no merges in this vocab: each character is split across byte tokens.
  const auto ids = tok->encode("日本語!");
  StreamDecoder stream(*tok);
  std::string out;
  size_t empty_pushes = 0;
  for (int64_t id : ids) {
    const std::string piece = stream.push(id);
    if (piece.empty()) ++empty_pushes;
    EXPECT_EQ(piece.find("\xEF\xBF\xBD"), std::string::npos) << "emitted a replacement character";
    out += piece;
  }
  out += stream.flush();
  EXPECT_EQ(out, "日本語!");
  EXPECT_GT(empty_pushes, 0u);
  // A byte that can never complete is released after a few tokens, as U+FFFD.
  StreamDecoder lone(*tok);
  std::string text;
  for (int64_t id : tok->encode("\xE6" "abcdef")) text += lone.push(id);
  text += lone.flush();
  EXPECT_EQ(text, "\xEF\xBF\xBD" "abcdef");
}

TEST(Adversarial, ConcurrentEncodeIsConsistent) {
  const auto tok = Tokenizer::load(kQwen);
  std::vector<std::string> texts;
  for (int i = 0; i < 64; ++i) texts.push_back("thread text " + std::to_string(i * 7919) + " 深度 <think>x</think> end");
  std::vector<std::vector<int64_t>> expected;
  for (const auto& t : texts) expected.push_back(tok->encode(t));
  std::vector<std::thread> threads;
  std::atomic<int> mismatches{0};
  for (int k = 0; k < 4; ++k) {
    threads.emplace_back([&] {
      for (int rep = 0; rep < 50; ++rep)
        for (size_t i = 0; i < texts.size(); ++i)
          if (tok->encode(texts[i]) != expected[i]) ++mismatches;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(mismatches.load(), 0);
}

// Malformed tokenizer.json files: the error names the origin and the key.
void expect_error(const std::string& json, const std::vector<std::string>& fragments) {
  const std::string msg = error_of([&] { Tokenizer::from_tokenizer_json(json, "bad/tokenizer.json"); });
  ASSERT_FALSE(msg.empty()) << "no error for: " << json;
  for (const auto& f : fragments) EXPECT_NE(msg.find(f), std::string::npos) << "'" << f << "' not in: " << msg;
}

TEST(MalformedTokenizerJson, ErrorsNameFileAndKey) {
  const std::string vocab = R"("vocab": {"a": 0, "b": 1, "ab": 2})";
  expect_error("{\"model\": ", {"bad/tokenizer.json:1:", "invalid JSON"});
  expect_error("[]", {"bad/tokenizer.json", "object"});
  expect_error("{}", {"bad/tokenizer.json", "'model'"});
  expect_error(R"({"model": {"type": "BPE", "merges": []}})", {"bad/tokenizer.json: model", "'vocab'"});
  expect_error(R"({"model": {"type": "BPE", "vocab": [1, 2]}})", {"model.vocab", "expected an object"});
  expect_error(R"({"model": {"type": "BPE", "vocab": {"a": "zero"}}})", {"model.vocab['a']", "integer"});
  expect_error(R"({"model": {"type": "BPE", "vocab": {"a": -3}}})", {"model.vocab['a']", "out of range"});
  expect_error(R"({"model": {"type": "BPE", )" + vocab + R"(, "merges": ["a c"]}})", {"model.merges[0]", "'c'"});
  expect_error(R"({"model": {"type": "BPE", )" + vocab + R"(, "merges": ["b a"]}})", {"model.merges[0]", "merged token 'ba'"});
  expect_error(R"({"model": {"type": "BPE", )" + vocab + R"(, "merges": ["ab"]}})", {"model.merges[0]", "separated by a space"});
  expect_error(R"({"model": {"type": "BPE", )" + vocab + R"(, "merges": [[1, 2]]}})", {"model.merges[0]"});
  expect_error(R"({"model": {"type": "WordPiece", )" + vocab + R"(}})", {"model.type", "WordPiece"});
  expect_error(R"({"model": {"type": "BPE", "dropout": 0.1, )" + vocab + R"(}})", {"model.dropout"});
  expect_error(R"({"model": {"type": "BPE", "unk_token": "<unk>", )" + vocab + R"(}})", {"model.unk_token", "<unk>"});
  expect_error(R"({"pre_tokenizer": {"type": "Split", "pattern": {"Regex": "(a"}, "behavior": "Isolated"},
                  "model": {"type": "BPE", )" + vocab + R"(}})",
               {"bad/tokenizer.json: pre_tokenizer.pattern.Regex", "invalid regex '(a'"});
  expect_error(R"({"pre_tokenizer": {"type": "Sequence", "pretokenizers": [{"type": "Split", "pattern": {"Regex": "[z-a]"},
                  "behavior": "Isolated"}]}, "model": {"type": "BPE", )" + vocab + R"(}})",
               {"pre_tokenizer.pretokenizers[0].pattern.Regex"});
  expect_error(R"({"normalizer": {"type": "BertNormalizer"}, "model": {"type": "BPE", )" + vocab + R"(}})",
               {"bad/tokenizer.json: normalizer", "BertNormalizer"});
  expect_error(R"({"decoder": {"type": "CTC"}, "model": {"type": "BPE", )" + vocab + R"(}})", {"decoder", "CTC"});
  expect_error(R"({"added_tokens": [{"id": "x", "content": "<s>"}], "model": {"type": "BPE", )" + vocab + R"(}})",
               {"added_tokens[0]", "'id'"});
  expect_error(R"({"added_tokens": [{"id": 5, "content": ""}], "model": {"type": "BPE", )" + vocab + R"(}})",
               {"added_tokens[0]", "empty"});
  expect_error(R"({"post_processor": {"type": "TemplateProcessing", "single": [{"SpecialToken": {"id": "<s>", "type_id": 0}},
                  {"Sequence": {"id": "A", "type_id": 0}}], "special_tokens": {}}, "model": {"type": "BPE", )" + vocab + R"(}})",
               {"post_processor.special_tokens", "'<s>'"});
  // Deep nesting is rejected by the parser without exhausting the stack.
  expect_error(std::string(200000, '[') + std::string(200000, ']'), {"bad/tokenizer.json"});
}

TEST(MalformedTokenizerJson, MissingFilesAndDirectories) {
  EXPECT_NE(error_of([] { Tokenizer::load("/nonexistent/tokenizer.json"); }).find("/nonexistent/tokenizer.json"),
            std::string::npos);
  const std::string empty_dir = std::string(R1_TEST_DATA) + "/tokenizers";  // holds only subdirectories
  EXPECT_NE(error_of([&] { Tokenizer::load(empty_dir); }).find("no tokenizer.json or tokenizer.model"), std::string::npos);
}

}  // namespace
