// Whole tokenizers built from small tokenizer.json texts: added-token flags (lstrip, rstrip, single_word,
// normalized), post-processors (BOS templates, add_special_tokens), a Llama-2-style sentencepiece-in-JSON
// tokenizer (Prepend/Replace normalizers, byte fallback, Metaspace decoding), the byte-level file r1 writes
// for its tiny model, tokenizer_config.json handling, copying tokenizer files, and sentencepiece specifics.
#include <gtest/gtest.h>

#include "scratch_dir.h"

#include <unistd.h>

#include <filesystem>

#include "common/error.h"
#include "common/fs.h"
#include "common/json.h"
#include "model/tokenizer/tokenizer.h"

namespace {

using r1::model::Tokenizer;
namespace fs = std::filesystem;

// Byte-level tokenizer (no merges) with extra added tokens / pieces spliced into the generated file.
std::unique_ptr<Tokenizer> byte_level_with(const std::string& added_tokens_json, const std::string& normalizer = "null",
                                           const std::string& post_processor = "null") {
  std::string json = r1::model::make_byte_level_tokenizer_json({});
  auto replace = [&json](const std::string& key, const std::string& value) {
    const std::string from = "\"" + key + "\": ";
    const size_t at = json.find(from);
    ASSERT_NE(at, std::string::npos) << key;
    const size_t begin = at + from.size();
    size_t end = begin;
    if (json.compare(begin, 4, "null") == 0) end = begin + 4;
    else if (json[begin] == '[') end = json.find(']', begin) + 1;
    else end = json.find("\n  }", begin) + 4;  // a top-level object value
    json.replace(begin, end - begin, value);
  };
  replace("added_tokens", added_tokens_json);
  replace("normalizer", normalizer);
  replace("post_processor", post_processor);
  return Tokenizer::from_tokenizer_json(json, "test/tokenizer.json");
}

std::vector<int64_t> bytes(const std::string& s) {
  std::vector<int64_t> out;
  for (char c : s) out.push_back(static_cast<uint8_t>(c));
  return out;
}

std::vector<int64_t> cat(std::vector<int64_t> a, const std::vector<int64_t>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

TEST(AddedTokens, StripFlagsAndSingleWord) {
  const auto tok = byte_level_with(R"([
    {"id": 300, "content": "<mask>", "lstrip": true, "rstrip": false, "single_word": false, "normalized": false, "special": true},
    {"id": 301, "content": "<r>", "lstrip": false, "rstrip": true, "single_word": false, "normalized": false, "special": true},
    {"id": 302, "content": "word", "lstrip": false, "rstrip": false, "single_word": true, "normalized": false, "special": false}])");
  // lstrip swallows the whitespace before the token; rstrip the whitespace after it.
  EXPECT_EQ(tok->encode("a  <mask>b"), cat(cat(bytes("a"), {300}), bytes("b")));
  EXPECT_EQ(tok->encode("a<r> \t b"), cat(cat(bytes("a"), {301}), bytes("b")));
  // single_word: only when not glued to a word character.
  EXPECT_EQ(tok->encode("a word."), cat(cat(bytes("a "), {302}), bytes(".")));
  EXPECT_EQ(tok->encode("swordfish"), bytes("swordfish"));
  EXPECT_EQ(tok->encode("words"), bytes("words"));
  EXPECT_EQ(tok->encode("word"), (std::vector<int64_t>{302}));
  EXPECT_EQ(tok->encode("éword"), bytes("éword"));  // é is a letter: a word character
  // Decoding gives the token text back (the stripped spaces are gone, as in the reference).
  EXPECT_EQ(tok->decode(tok->encode("a  <mask>b")), "a<mask>b");
  EXPECT_EQ(tok->vocab_size(), 303);
  EXPECT_EQ(tok->token_to_id("<r>"), 301);
  EXPECT_TRUE(tok->is_special(300));
  EXPECT_FALSE(tok->is_special(302));
}

TEST(AddedTokens, LongestMatchWinsAndNormalizedTokensMatchNormalizedText) {
  const auto tok = byte_level_with(R"([
    {"id": 300, "content": "<a>", "special": true, "normalized": false},
    {"id": 301, "content": "<a><b>", "special": true, "normalized": false},
    {"id": 302, "content": "<TAG>", "special": false, "normalized": true}])",
                                   R"({"type": "Lowercase"})");
  EXPECT_EQ(tok->encode("<a><b><a>"), (std::vector<int64_t>{301, 300}));
  // "<TAG>" is normalised to "<tag>" like the text, so "<Tag>" and "<TAG>" both hit it.
  EXPECT_EQ(tok->encode("x<Tag>"), (std::vector<int64_t>{'x', 302}));
  // The normalizer lowercases the rest of the text but not the raw (normalized=false) tokens.
  EXPECT_EQ(tok->encode("AB<a>"), (std::vector<int64_t>{'a', 'b', 300}));
}

TEST(PostProcessor, TemplateProcessingAddsBosOnlyOnRequest) {
  const auto tok = byte_level_with(
      R"([{"id": 300, "content": "<bos>", "special": true, "normalized": false},
          {"id": 301, "content": "<eos>", "special": true, "normalized": false}])",
      "null",
      R"({"type": "Sequence", "processors": [{"type": "ByteLevel", "add_prefix_space": true, "trim_offsets": false, "use_regex": true},
          {"type": "TemplateProcessing", "single": [{"SpecialToken": {"id": "<bos>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}},
           {"SpecialToken": {"id": "<eos>", "type_id": 0}}], "pair": [],
           "special_tokens": {"<bos>": {"id": "<bos>", "ids": [300], "tokens": ["<bos>"]},
                              "<eos>": {"id": "<eos>", "ids": [301], "tokens": ["<eos>"]}}}]})");
  EXPECT_EQ(tok->encode("hi"), bytes("hi"));
  EXPECT_EQ(tok->encode("hi", true), (std::vector<int64_t>{300, 'h', 'i', 301}));
  EXPECT_EQ(tok->encode("", true), (std::vector<int64_t>{300, 301}));
  EXPECT_EQ(tok->bos_id(), 300);  // taken from the template when there is no tokenizer_config.json
  EXPECT_EQ(tok->decode({300, 'h', 'i', 301}, true), "hi");
  EXPECT_EQ(tok->decode({300, 'h', 'i', 301}), "<bos>hi<eos>");
}

TEST(HfTokenizer, Llama2StyleSentencepieceInJson) {
  // The layout transformers writes for sentencepiece-BPE models (Llama 2, Mistral): no pre-tokenizer, spaces
  // become ▁ in the normalizer, byte fallback for characters outside the vocab.
  const std::string json = R"({
    "added_tokens": [{"id": 1, "content": "<s>", "special": true, "normalized": false}],
    "normalizer": {"type": "Sequence", "normalizers": [{"type": "Prepend", "prepend": "▁"},
                   {"type": "Replace", "pattern": {"String": " "}, "content": "▁"}]},
    "pre_tokenizer": null,
    "post_processor": {"type": "TemplateProcessing", "single": [{"SpecialToken": {"id": "<s>", "type_id": 0}},
                       {"Sequence": {"id": "A", "type_id": 0}}], "special_tokens": {"<s>": {"id": "<s>", "ids": [1], "tokens": ["<s>"]}}},
    "decoder": {"type": "Sequence", "decoders": [{"type": "Replace", "pattern": {"String": "▁"}, "content": " "},
                {"type": "ByteFallback"}, {"type": "Fuse"}, {"type": "Strip", "content": " ", "start": 1, "stop": 0}]},
    "model": {"type": "BPE", "byte_fallback": true, "fuse_unk": true, "unk_token": "<unk>",
              "vocab": {"<unk>": 0, "<s>": 1, "<0xE6>": 2, "<0xB7>": 3, "<0xB1>": 4, "▁": 5, "h": 6, "i": 7, "▁h": 8, "▁hi": 9},
              "merges": ["▁ h", "▁h i"]}})";
  const auto tok = Tokenizer::from_tokenizer_json(json, "llama2/tokenizer.json");
  EXPECT_EQ(tok->encode("hi hi"), (std::vector<int64_t>{9, 9}));
  EXPECT_EQ(tok->encode("hi 深", true), (std::vector<int64_t>{1, 9, 5, 2, 3, 4}));
  EXPECT_EQ(tok->decode({1, 9, 5, 2, 3, 4}, true), "hi 深");
  EXPECT_EQ(tok->decode({9, 9}), "hi hi");
  // Prepend applies to each text segment: after <s> written in the text, "hi" gets its ▁ again.
  EXPECT_EQ(tok->encode("<s>hi"), (std::vector<int64_t>{1, 9}));
}

TEST(HfTokenizer, MetaspaceFirstSchemePrependsOnlyAtTheStartOfTheInput) {
  const std::string json = R"({
    "added_tokens": [{"id": 0, "content": "<s>", "special": true, "normalized": false}],
    "pre_tokenizer": {"type": "Metaspace", "replacement": "▁", "prepend_scheme": "first", "split": true},
    "decoder": {"type": "Metaspace", "replacement": "▁", "prepend_scheme": "first"},
    "model": {"type": "BPE", "vocab": {"<s>": 0, "▁": 1, "h": 2, "i": 3, "▁h": 4, "▁hi": 5, "hi": 6},
              "merges": ["▁ h", "▁h i", "h i"]}})";
  const auto tok = Tokenizer::from_tokenizer_json(json, "metaspace/tokenizer.json");
  EXPECT_EQ(tok->encode("hi hi"), (std::vector<int64_t>{5, 5}));
  // After an added token the text no longer starts the input: no ▁ is prepended.
  EXPECT_EQ(tok->encode("<s>hi hi"), (std::vector<int64_t>{0, 6, 5}));
  EXPECT_EQ(tok->decode({5, 5}), "hi hi");
}

TEST(HfTokenizer, DecodeSuffixGivesStraddlingCharactersToTheSuffix) {
  const auto tok = Tokenizer::from_tokenizer_json(r1::model::make_byte_level_tokenizer_json({}), "bytes.json");
  const std::vector<int64_t> ids = bytes("a深b");  // 'a', E6, B7, B1, 'b'
  EXPECT_EQ(tok->decode_suffix(ids, 1), "深b");
  EXPECT_EQ(tok->decode_suffix(ids, 2), "深b");  // the character's first byte sits in the prefix
  EXPECT_EQ(tok->decode_suffix(ids, 4), "b");
  EXPECT_EQ(tok->decode_suffix(ids, 5), "");
  // A long prefix is not decoded in full: only a few ids of context matter.
  std::vector<int64_t> long_ids = bytes(std::string(100000, 'x') + "yz");
  EXPECT_EQ(tok->decode_suffix(long_ids, 100000), "yz");
}

TEST(ByteLevelFile, EveryByteIsItsOwnIdAndSpecialsFollow) {
  const std::string json = r1::model::make_byte_level_tokenizer_json({"<|endoftext|>", "<think>", "</think>"});
  const auto tok = Tokenizer::from_tokenizer_json(json, "tiny/tokenizer.json");
  EXPECT_EQ(tok->vocab_size(), 259);
  std::string all;
  for (int b = 0; b < 256; ++b) all += static_cast<char>(b);
  std::vector<int64_t> expected(256);
  for (int b = 0; b < 256; ++b) expected[b] = b;
  EXPECT_EQ(tok->encode(all), expected);
  EXPECT_EQ(tok->encode("a<think>b</think>"), (std::vector<int64_t>{'a', 257, 'b', 258}));
  EXPECT_EQ(tok->decode(tok->encode("héllo <think> 深度\n")), "héllo <think> 深度\n");
  EXPECT_EQ(tok->eos_id(), 256);  // no tokenizer_config.json: the well-known <|endoftext|>
  EXPECT_TRUE(tok->is_special(257));
  // The file is what HF writes: one JSON object with the pipeline keys.
  const auto doc = r1::json::parse(json, "tiny");
  for (const char* key : {"version", "added_tokens", "normalizer", "pre_tokenizer", "post_processor", "decoder", "model"})
    EXPECT_TRUE(doc.HasMember(key)) << key;
  EXPECT_EQ(doc["model"]["vocab"].MemberCount(), 259u);
  EXPECT_THROW(r1::model::make_byte_level_tokenizer_json({"<a>", "<a>"}), r1::Error);
  EXPECT_THROW(r1::model::make_byte_level_tokenizer_json({"!"}), r1::Error);  // collides with byte 0x21
  EXPECT_THROW(r1::model::make_byte_level_tokenizer_json({""}), r1::Error);
}

class TokenizerFiles : public r1::testing::ScratchDirTest {
 protected:
  void SetUp() override {
    ScratchDirTest::SetUp();
    fs::create_directories(dir_ / "src");
  }
};

TEST_F(TokenizerFiles, ConfigGivesSpecialIdsAndChatTemplate) {
  r1::write_file_atomic(path("src/tokenizer.json"), r1::model::make_byte_level_tokenizer_json({"<s>", "</s>", "<pad>"}));
  r1::write_file_atomic(path("src/tokenizer_config.json"), R"({
    "bos_token": {"__type": "AddedToken", "content": "<s>", "lstrip": false},
    "eos_token": "</s>", "pad_token": null, "add_bos_token": true,
    "chat_template": [{"name": "tool_use", "template": "T"}, {"name": "default", "template": "<|im_start|>D"}]})");
  r1::write_file_atomic(path("src/special_tokens_map.json"), R"({"pad_token": "<pad>", "eos_token": "<s>"})");
  const auto tok = Tokenizer::load(path("src"));
  EXPECT_EQ(tok->bos_id(), 256);
  EXPECT_EQ(tok->eos_id(), 257);  // tokenizer_config.json wins over special_tokens_map.json
  EXPECT_EQ(tok->pad_id(), 258);  // null in the config: taken from special_tokens_map.json
  EXPECT_EQ(tok->config().chat_template, "<|im_start|>D");
  EXPECT_EQ(tok->encode("x", true), (std::vector<int64_t>{256, 'x'}));  // add_bos_token
  // Loading the file instead of the directory reads the same config.
  EXPECT_EQ(Tokenizer::load(path("src/tokenizer.json"))->eos_id(), 257);
}

TEST_F(TokenizerFiles, UnknownSpecialTokenInConfigIsAnError) {
  r1::write_file_atomic(path("src/tokenizer.json"), r1::model::make_byte_level_tokenizer_json({"<s>"}));
  r1::write_file_atomic(path("src/tokenizer_config.json"), R"({"eos_token": "<|missing|>"})");
  try {
    Tokenizer::load(path("src"));
    FAIL() << "expected an error";
  } catch (const r1::Error& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("tokenizer_config.json"), std::string::npos) << msg;
    EXPECT_NE(msg.find("eos_token '<|missing|>'"), std::string::npos) << msg;
  }
  r1::write_file_atomic(path("src/tokenizer_config.json"), R"({"eos_token": 5})");
  EXPECT_THROW(Tokenizer::load(path("src")), r1::Error);
  r1::write_file_atomic(path("src/tokenizer_config.json"), R"({"eos_token": )");
  EXPECT_THROW(Tokenizer::load(path("src")), r1::Error);
}

TEST_F(TokenizerFiles, ChatTemplateJinjaFileIsRead) {
  r1::write_file_atomic(path("src/tokenizer.json"), r1::model::make_byte_level_tokenizer_json({}));
  r1::write_file_atomic(path("src/chat_template.jinja"), "{{ '<|im_start|>' }}");
  EXPECT_EQ(Tokenizer::load(path("src"))->config().chat_template, "{{ '<|im_start|>' }}");
}

TEST_F(TokenizerFiles, CopyTokenizerFilesIsByteExact) {
  const std::string tj = r1::model::make_byte_level_tokenizer_json({"<s>"});
  r1::write_file_atomic(path("src/tokenizer.json"), tj);
  r1::write_file_atomic(path("src/tokenizer_config.json"), R"({"bos_token": "<s>"})");
  r1::write_file_atomic(path("src/special_tokens_map.json"), "{}");
  r1::write_file_atomic(path("src/model.safetensors"), "not a tokenizer file");
  r1::write_file_atomic(path("src/chat_template.json"), R"({"chat_template": "{{ x }}"})");
  const auto copied = r1::model::copy_tokenizer_files(path("src"), path("out/ckpt"));
  EXPECT_EQ(copied, (std::vector<std::string>{"tokenizer.json", "tokenizer_config.json", "special_tokens_map.json",
                                              "chat_template.json"}));
  EXPECT_EQ(r1::read_file(path("out/ckpt/tokenizer.json")), tj);
  EXPECT_EQ(r1::read_file(path("out/ckpt/tokenizer_config.json")), R"({"bos_token": "<s>"})");
  EXPECT_TRUE(fs::exists(path("out/ckpt/special_tokens_map.json")));
  EXPECT_FALSE(fs::exists(path("out/ckpt/model.safetensors")));
  EXPECT_EQ(Tokenizer::load(path("out/ckpt"))->bos_id(), 256);
  // Copying a directory onto itself changes nothing.
  EXPECT_TRUE(r1::model::copy_tokenizer_files(path("out/ckpt"), path("out/ckpt")).empty());
  EXPECT_EQ(r1::read_file(path("out/ckpt/tokenizer.json")), tj);
  // No such directory, a file, a directory without a tokenizer: errors naming the path.
  EXPECT_THROW(r1::model::copy_tokenizer_files(path("out/nothing_here"), path("out/x")), r1::Error);
  EXPECT_THROW(r1::model::copy_tokenizer_files(path("src/tokenizer.json"), path("out/x")), r1::Error);
  fs::create_directories(path("empty"));
  r1::write_file_atomic(path("empty/tokenizer_config.json"), "{}");
  try {
    r1::model::copy_tokenizer_files(path("empty"), path("out/y"));
    ADD_FAILURE() << "a directory without tokenizer.json / tokenizer.model was accepted";
  } catch (const r1::Error& e) {
    EXPECT_NE(std::string(e.what()).find("no tokenizer.json or tokenizer.model"), std::string::npos) << e.what();
  }
}

TEST(Sentencepiece, SpecialTokensControlPiecesAndUserSymbols) {
  const auto tok = Tokenizer::load(std::string(R1_TEST_DATA) + "/tokenizers/spm_bpe");
  ASSERT_TRUE(tok->bos_id().has_value());
  ASSERT_TRUE(tok->eos_id().has_value());
  const int64_t bos = *tok->bos_id(), eos = *tok->eos_id();
  const auto plain = tok->encode("Hello world");
  EXPECT_EQ(tok->encode("Hello world", true), cat({bos}, plain));  // BOS by default, no EOS
  EXPECT_TRUE(tok->is_special(bos));
  EXPECT_EQ(tok->decode(cat(cat({bos}, plain), {eos})), "<s>Hello world</s>");
  EXPECT_EQ(tok->decode(cat(cat({bos}, plain), {eos}), true), "Hello world");
  // User-defined symbols are single pieces but not special.
  const auto think = tok->token_to_id("<think>");
  ASSERT_TRUE(think.has_value());
  EXPECT_FALSE(tok->is_special(*think));
  EXPECT_EQ(tok->id_to_token(*think), "<think>");
  EXPECT_FALSE(tok->token_to_id("certainly-not-a-piece").has_value());
  EXPECT_EQ(tok->token_to_id("<unk>"), 0);
}

}  // namespace
