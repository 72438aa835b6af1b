// The pieces of the tokenizer.json pipeline one at a time: split behaviours (the reference documentation's
// "The-final--countdown" example), the Oniguruma → PCRE2 translation and find_iter semantics,
// pre-tokenizers (GPT-2 byte level, Digits, Metaspace), normalizers (NFC, Lowercase, Strip, Prepend,
// Replace), UTF-8 helpers (Rust's lossy conversion), decoders and the BPE merge loop.
#include <gtest/gtest.h>

#include "common/error.h"
#include "common/json.h"
#include "model/tokenizer/tokenizer.h"
#include "model/tokenizer/tokenizer_decoder.h"
#include "model/tokenizer/tokenizer_normalizer.h"
#include "model/tokenizer/tokenizer_pretokenizer.h"
#include "model/tokenizer/tokenizer_regex.h"
#include "model/tokenizer/tokenizer_utf8.h"

namespace {

using namespace r1::model;

std::vector<std::string> pre_tokenize(const std::string& json, const std::string& text) {
  const auto doc = r1::json::parse(json, "test");
  const auto pre = make_pre_tokenizer(doc, "test");
  std::vector<Piece> pieces = {{text, true}};
  pre->apply(pieces);
  std::vector<std::string> out;
  for (const auto& p : pieces) out.push_back(p.text);
  return out;
}

std::string split_json(const char* behavior) {
  return std::string(R"({"type": "Split", "pattern": {"String": "-"}, "behavior": ")") + behavior + R"(", "invert": false})";
}

TEST(SplitBehavior, ReferenceDocumentationExample) {
  using V = std::vector<std::string>;
  const std::string text = "The-final--countdown";
  EXPECT_EQ(pre_tokenize(split_json("Removed"), text), (V{"The", "final", "countdown"}));
  EXPECT_EQ(pre_tokenize(split_json("Isolated"), text), (V{"The", "-", "final", "-", "-", "countdown"}));
  EXPECT_EQ(pre_tokenize(split_json("MergedWithPrevious"), text), (V{"The-", "final-", "-", "countdown"}));
  EXPECT_EQ(pre_tokenize(split_json("MergedWithNext"), text), (V{"The", "-final", "-", "-countdown"}));
  EXPECT_EQ(pre_tokenize(split_json("Contiguous"), text), (V{"The", "-", "final", "--", "countdown"}));
  // invert: the pattern marks what to keep together; the rest are delimiters.
  EXPECT_EQ(pre_tokenize(R"({"type": "Split", "pattern": {"Regex": "[a-z]+"}, "behavior": "Removed", "invert": true})",
                         "ab12cd"),
            (V{"ab", "cd"}));
  EXPECT_THROW(pre_tokenize(split_json("Sideways"), text), r1::Error);
}

TEST(Regex, TranslatesOnigurumaSpecifics) {
  // \s is Unicode White_Space: U+180E (MONGOLIAN VOWEL SEPARATOR) is not space, U+0085 and U+3000 are.
  Regex ws("\\s+", "test");
  EXPECT_TRUE(ws.find_all("\xE1\xA0\x8E").empty());
  EXPECT_EQ(ws.find_all("a\xC2\x85\xE3\x80\x80" "b"), (std::vector<Span>{{1, 6}}));
  // \S outside a class is its complement; inside a class \s expands in place.
  Regex not_ws("\\S+", "test");
  EXPECT_EQ(not_ws.find_all("ab \xE1\xA0\x8E"), (std::vector<Span>{{0, 2}, {3, 6}}));
  Regex cls("[^\\s\\p{L}]+", "test");
  EXPECT_EQ(cls.find_all("a1 2"), (std::vector<Span>{{1, 2}, {3, 4}}));
  // \uHHHH (DeepSeek-V3's pattern writes \u3040) becomes \x{HHHH}.
  EXPECT_EQ(translate_onig_pattern("[\\u3040-\\u309F]"), "[\\x{3040}-\\x{309F}]");
  Regex kana("[一-龥\\u3040-ゟ゠-ヿ]+", "test");
  EXPECT_EQ(kana.find_all("ab日本のテキストcd"), (std::vector<Span>{{2, 23}}));
  EXPECT_THROW(Regex("(unclosed", "tokenizer.json: pre_tokenizer.pattern.Regex"), r1::Error);
}

TEST(Regex, EmptyMatchesFollowFindIterSemantics) {
  // x* matches empty everywhere; an empty match right after a match is skipped by one character.
  Regex r("x*", "test");
  EXPECT_EQ(r.find_all("axxb"), (std::vector<Span>{{0, 0}, {1, 3}, {4, 4}}));
  // Invalid UTF-8 never matches and never stalls the scan.
  Regex letters("\\p{L}+", "test");
  EXPECT_EQ(letters.find_all("ab\xFF\xFE" "cd"), (std::vector<Span>{{0, 2}, {4, 6}}));
}

TEST(Regex, RealPreTokenizerPatternsCompile) {
  // Qwen2, Llama 3 (possessive ?+ in tiktoken's form), DeepSeek-V3.
  for (const char* p : {
           R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)",
           R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?+\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]++[\r\n]*|\s*[\r\n]|\s+(?!\S)|\s+)",
           R"([!"#$%&'()*+,\-./:;<=>?@\[\\\]^_`{|}~][A-Za-z]+|[^\r\n\p{L}\p{P}\p{S}]?[\p{L}\p{M}]+| ?[\p{P}\p{S}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)"}) {
    Regex r(p, "test");
    EXPECT_FALSE(r.find_all("Hello, world! 123 深度").empty());
  }
}

TEST(PreTokenizer, ByteLevelWithGpt2Regex) {
  using V = std::vector<std::string>;
  const char* no_prefix = R"({"type": "ByteLevel", "add_prefix_space": false, "use_regex": true})";
  EXPECT_EQ(pre_tokenize(no_prefix, "Hello my friend, how is your day going?"),
            (V{"Hello", "Ġmy", "Ġfriend", ",", "Ġhow", "Ġis", "Ġyour", "Ġday", "Ġgoing", "?"}));
  const char* prefix = R"({"type": "ByteLevel", "add_prefix_space": true, "use_regex": true})";
  EXPECT_EQ(pre_tokenize(prefix, "Hello  there"), (V{"ĠHello", "Ġ", "Ġthere"}));
  // Every byte maps into the alphabet, including newlines and non-ASCII.
  EXPECT_EQ(pre_tokenize(R"({"type": "ByteLevel", "add_prefix_space": false, "use_regex": false})", "a\nü"),
            (V{"aĊÃ¼"}));
}

TEST(PreTokenizer, DigitsAndMetaspace) {
  using V = std::vector<std::string>;
  EXPECT_EQ(pre_tokenize(R"({"type": "Digits", "individual_digits": true})", "Call 123 please"),
            (V{"Call ", "1", "2", "3", " please"}));
  EXPECT_EQ(pre_tokenize(R"({"type": "Digits", "individual_digits": false})", "Call 123 please"),
            (V{"Call ", "123", " please"}));
  EXPECT_EQ(pre_tokenize(R"({"type": "Metaspace", "replacement": "▁", "prepend_scheme": "always", "split": true})",
                         "Hey friend!"),
            (V{"▁Hey", "▁friend!"}));
  EXPECT_EQ(pre_tokenize(R"({"type": "Metaspace", "replacement": "▁", "prepend_scheme": "never", "split": false})",
                         "Hey friend!"),
            (V{"Hey▁friend!"}));
  EXPECT_THROW(pre_tokenize(R"({"type": "BertPreTokenizer"})", "x"), r1::Error);
}

std::string normalize(const std::string& json, std::string text) {
  const auto doc = r1::json::parse(json, "test");
  make_normalizer(doc, "test")->normalize(text);
  return text;
}

TEST(Normalizer, UnicodeFormsCaseAndEdits) {
  EXPECT_EQ(normalize(R"({"type": "NFC"})", "e\xCC\x81"), "\xC3\xA9");        // e + combining acute → é
  EXPECT_EQ(normalize(R"({"type": "NFD"})", "\xC3\xA9"), "e\xCC\x81");
  EXPECT_EQ(normalize(R"({"type": "NFKC"})", "\xEF\xBC\xA1"), "A");           // fullwidth A
  EXPECT_EQ(normalize(R"({"type": "NFC"})", "ok\xFF" "e\xCC\x81"), "ok\xFF\xC3\xA9");  // invalid byte kept
  EXPECT_EQ(normalize(R"({"type": "Lowercase"})", "HeLLo ÄÖ İ"), "hello äö i\xCC\x87");
  EXPECT_EQ(normalize(R"({"type": "Strip", "strip_left": true, "strip_right": true})", " \u3000 hi \n"), "hi");
  EXPECT_EQ(normalize(R"({"type": "Prepend", "prepend": "▁"})", "hi"), "▁hi");
  EXPECT_EQ(normalize(R"({"type": "Prepend", "prepend": "▁"})", ""), "");
  EXPECT_EQ(normalize(R"({"type": "Replace", "pattern": {"String": " "}, "content": "▁"})", "a b  c"), "a▁b▁▁c");
  EXPECT_EQ(normalize(R"({"type": "Replace", "pattern": {"Regex": "\\s+"}, "content": " "})", "a \t\n b"), "a b");
  EXPECT_EQ(normalize(R"({"type": "Sequence", "normalizers": [{"type": "NFKC"}, {"type": "Lowercase"}]})", "ＡB"), "ab");
  try {
    normalize(R"({"type": "Precompiled", "precompiled_charsmap": "AAAA"})", "x");
    FAIL();
  } catch (const r1::Error& e) {
    EXPECT_NE(std::string(e.what()).find("unsupported normalizer type 'Precompiled'"), std::string::npos) << e.what();
  }
}

TEST(Utf8, LossyConversionReplacesMaximalSubparts) {
  // Rust's from_utf8_lossy: a truncated sequence is one U+FFFD, each stray byte its own.
  EXPECT_EQ(utf8::to_valid("a\xE6\xB7" "b"), "a\xEF\xBF\xBD" "b");
  EXPECT_EQ(utf8::to_valid("\xFF\xFE"), "\xEF\xBF\xBD\xEF\xBF\xBD");
  EXPECT_EQ(utf8::to_valid("\xC0\xAF"), "\xEF\xBF\xBD\xEF\xBF\xBD");          // overlong
  EXPECT_EQ(utf8::to_valid("\xED\xA0\x80"), "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");  // surrogate
  EXPECT_EQ(utf8::to_valid("\xF4\x90\x80\x80"), "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");  // > U+10FFFF
  EXPECT_EQ(utf8::to_valid("深"), "深");
  EXPECT_EQ(utf8::complete_prefix_length("ab\xE6\xB7"), 2u);
  EXPECT_EQ(utf8::complete_prefix_length("ab\xE6\xB7\xB1"), 5u);
  EXPECT_EQ(utf8::complete_prefix_length("ab\xFF"), 3u);  // invalid, not incomplete
  EXPECT_EQ(utf8::python_strip("\x1c \t x \xE3\x80\x80"), "x");
}

std::string decode_with(const std::string& json, std::vector<std::string> tokens) {
  const auto doc = r1::json::parse(json, "test");
  make_decoder(doc, "test")->decode_chain(tokens);
  std::string out;
  for (const auto& t : tokens) out += t;
  return out;
}

TEST(Decoder, Llama2StyleChainAndByteLevel) {
  const char* llama2 = R"({"type": "Sequence", "decoders": [
      {"type": "Replace", "pattern": {"String": "▁"}, "content": " "}, {"type": "ByteFallback"},
      {"type": "Fuse"}, {"type": "Strip", "content": " ", "start": 1, "stop": 0}]})";
  EXPECT_EQ(decode_with(llama2, {"▁Hello", "<0xE6>", "<0xB7>", "<0xB1>", "▁world"}), "Hello深 world");
  // A byte run that is not UTF-8 gives one U+FFFD per byte token.
  EXPECT_EQ(decode_with(llama2, {"▁a", "<0xE6>", "<0xB7>", "b"}), "a\xEF\xBF\xBD\xEF\xBF\xBD" "b");
  // ByteLevel: alphabet characters back to bytes; a token outside the alphabet passes through as UTF-8.
  EXPECT_EQ(decode_with(R"({"type": "ByteLevel"})", {"Hello", "Ġworld", "<｜User｜>", "æ·±"}), "Hello world<｜User｜>深");
  EXPECT_EQ(decode_with(R"({"type": "ByteLevel"})", {"æ·"}), "\xEF\xBF\xBD");  // half a character
  EXPECT_EQ(decode_with(R"({"type": "Metaspace", "replacement": "▁", "prepend_scheme": "always"})", {"▁Hey", "▁friend"}),
            "Hey friend");
  EXPECT_THROW(decode_with(R"({"type": "WordPiece"})", {"x"}), r1::Error);
}

// A tokenizer.json around a given BPE model (no pre-tokenizer: the whole text is one piece).
std::unique_ptr<Tokenizer> bpe(const std::string& model_json) {
  return Tokenizer::from_tokenizer_json(R"({"model": )" + model_json + "}", "test.json");
}

TEST(BpeModel, LowestRankFirstLeftmostOnTies) {
  auto tok = bpe(R"({"type": "BPE", "vocab": {"a": 0, "b": 1, "c": 2, "aa": 3, "ab": 4, "bc": 5, "abc": 6},
                      "merges": ["a a", ["b", "c"], "a bc"]})");
  EXPECT_EQ(tok->encode("aaa"), (std::vector<int64_t>{3, 0}));      // leftmost pair merges first
  EXPECT_EQ(tok->encode("abc"), (std::vector<int64_t>{6}));         // b c (rank 1) then a bc (rank 2)
  EXPECT_EQ(tok->encode("aabc"), (std::vector<int64_t>{3, 5}));     // a a (rank 0) blocks a bc
  EXPECT_EQ(tok->decode({3, 5}), "aa bc");                          // no decoder: tokens joined by spaces
}

TEST(BpeModel, FlagsIgnoreMergesByteFallbackUnk) {
  auto ignore = bpe(R"({"type": "BPE", "ignore_merges": true, "vocab": {"a": 0, "b": 1, "ab": 2, "abab": 3},
                         "merges": ["a b"]})");
  EXPECT_EQ(ignore->encode("abab"), (std::vector<int64_t>{3}));  // whole piece in vocab: no merging
  EXPECT_EQ(ignore->encode("aba"), (std::vector<int64_t>{2, 0}));

  auto fallback = bpe(R"({"type": "BPE", "byte_fallback": true, "unk_token": "<unk>",
                           "vocab": {"<unk>": 0, "a": 1, "<0xC3>": 2, "<0xA9>": 3}, "merges": []})");
  EXPECT_EQ(fallback->encode("aé"), (std::vector<int64_t>{1, 2, 3}));
  EXPECT_EQ(fallback->encode("a深"), (std::vector<int64_t>{1, 0}));  // bytes missing → unk

  auto fused = bpe(R"({"type": "BPE", "unk_token": "<unk>", "fuse_unk": true, "vocab": {"<unk>": 0, "a": 1}, "merges": []})");
  EXPECT_EQ(fused->encode("a??a?"), (std::vector<int64_t>{1, 0, 1, 0}));
  auto unfused = bpe(R"({"type": "BPE", "unk_token": "<unk>", "vocab": {"<unk>": 0, "a": 1}, "merges": []})");
  EXPECT_EQ(unfused->encode("a??a?"), (std::vector<int64_t>{1, 0, 0, 1, 0}));
  auto no_unk = bpe(R"({"type": "BPE", "vocab": {"a": 1}, "merges": []})");
  EXPECT_EQ(no_unk->encode("a?a"), (std::vector<int64_t>{1, 1}));  // dropped, as the reference does

  auto prefixed = bpe(R"({"type": "BPE", "continuing_subword_prefix": "##",
                           "vocab": {"a": 0, "##b": 1, "ab": 2, "##c": 3, "abc": 4}, "merges": ["a ##b", "ab ##c"]})");
  EXPECT_EQ(prefixed->encode("abc"), (std::vector<int64_t>{4}));
}

TEST(BpeModel, LaterDuplicateMergeWinsAndBothMergeForms) {
  // "b c" appears at rank 0 and again at rank 2; the reference keeps rank 2, so "a b" (rank 1) wins.
  auto tok = bpe(R"({"type": "BPE", "vocab": {"a": 0, "b": 1, "c": 2, "ab": 3, "bc": 4},
                      "merges": [["b", "c"], "a b", "b c"]})");
  EXPECT_EQ(tok->encode("abc"), (std::vector<int64_t>{3, 2}));
}

}  // namespace
