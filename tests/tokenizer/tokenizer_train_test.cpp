// The byte-level BPE trainer (model/tokenizer/tokenizer_train.h): a hand-computed merge sequence, agreement with a
// naive recount-everything trainer on random corpora (checks the incremental pair counts and the tie
// rule), round trips of arbitrary bytes, digit splitting, atomic special tokens, determinism, compression,
// the files on disk loading through Tokenizer::load, and option errors.
#include <gtest/gtest.h>

#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <random>
#include <set>

#include "common/error.h"
#include "common/fs.h"
#include "common/json.h"
#include "model/tokenizer/tokenizer.h"
#include "model/tokenizer/tokenizer_pretokenizer.h"
#include "model/tokenizer/tokenizer_regex.h"
#include "model/tokenizer/tokenizer_train.h"
#include "model/tokenizer/tokenizer_utf8.h"

namespace {

using r1::model::BpeTrainer;
using r1::model::BpeTrainerOptions;
using r1::model::Tokenizer;
using Merges = std::vector<std::pair<std::string, std::string>>;
namespace fs = std::filesystem;

BpeTrainerOptions options(int64_t vocab_size, std::vector<std::string> specials = {}, int64_t min_frequency = 2,
                          bool split_digits = true) {
  BpeTrainerOptions o;
  o.vocab_size = vocab_size;
  o.special_tokens = std::move(specials);
  o.min_frequency = min_frequency;
  o.split_digits = split_digits;
  return o;
}

r1::model::BpeTrainResult train(const std::vector<std::string>& texts, const BpeTrainerOptions& o) {
  BpeTrainer t(o);
  for (const auto& s : texts) t.add_text(s);
  return t.train();
}

// The raw bytes of a token (its byte-level characters mapped back).
std::string token_bytes(const Tokenizer& tok, int64_t id) {
  const std::string s = tok.id_to_token(id);
  std::string out;
  for (size_t i = 0; i < s.size();) {
    int32_t cp;
    i += r1::model::utf8::next(s, i, &cp);
    const int b = r1::model::byte_level_byte(cp);
    EXPECT_GE(b, 0) << "token " << id << " '" << s << "' is not in the byte-level alphabet";
    out += static_cast<char>(b);
  }
  return out;
}

// A deliberately naive trainer: recount every pair of every word before each merge.
Merges naive_merges(const std::vector<std::string>& texts, int64_t vocab_size, int64_t min_frequency, bool split_digits) {
  r1::model::Regex re(r1::model::bpe_split_pattern(split_digits), "naive");
  std::map<std::vector<std::string>, int64_t> words;
  for (const std::string& t : texts) {
    for (const auto& [span, is_match] : r1::model::matches_to_splits(re.find_all(t), t.size())) {
      (void)is_match;
      if (span.second == span.first) continue;
      std::vector<std::string> syms;
      for (size_t i = span.first; i < span.second; ++i)
        syms.push_back(r1::model::byte_level_alphabet()[static_cast<uint8_t>(t[i])]);
      ++words[syms];
    }
  }
  std::set<std::string> vocab(r1::model::byte_level_alphabet().begin(), r1::model::byte_level_alphabet().end());
  Merges merges;
  while (static_cast<int64_t>(vocab.size()) < vocab_size) {
    std::map<std::pair<std::string, std::string>, int64_t> counts;  // ordered: ties go to the smallest pair
    for (const auto& [syms, n] : words)
      for (size_t i = 0; i + 1 < syms.size(); ++i) counts[{syms[i], syms[i + 1]}] += n;
    const std::pair<std::string, std::string>* best = nullptr;
    int64_t best_n = 0;
    for (const auto& [pair, n] : counts)
      if (n > best_n) best = &pair, best_n = n;
    if (best == nullptr || best_n < min_frequency) break;
    const auto [a, b] = *best;
    merges.emplace_back(a, b);
    vocab.insert(a + b);
    std::map<std::vector<std::string>, int64_t> next;
    for (const auto& [syms, n] : words) {
      std::vector<std::string> out;
      for (size_t i = 0; i < syms.size();) {
        if (i + 1 < syms.size() && syms[i] == a && syms[i + 1] == b) {
          out.push_back(a + b);
          i += 2;
        } else {
          out.push_back(syms[i++]);
        }
      }
      next[out] += n;
    }
    words = std::move(next);
  }
  return merges;
}

TEST(BpeTrainer, HandComputedMergeSequence) {
  // Pre-tokens "aaab", " aab", " ab" (byte-level: Ġ is the space). Pair counts: (a,a)=3, (a,b)=3,
  // (Ġ,a)=2 → tie, (a,a) wins on the smaller right string. Then: aa a b | Ġ aa b | Ġ a b gives (a,b)=2.
  // Then every pair occurs once: aa+ab, aa+b ("aa" < "Ġ"; "ab" < "b"), Ġ+aab, Ġ+ab.
  const auto r = train({"aaab aab ab"}, options(1000, {}, /*min_frequency=*/1));
  const Merges expected = {{"a", "a"}, {"a", "b"}, {"aa", "ab"}, {"aa", "b"}, {"Ġ", "aab"}, {"Ġ", "ab"}};
  EXPECT_EQ(r.merges, expected);
  EXPECT_EQ(r.vocab_size, 256 + 6);
  EXPECT_EQ(r.words, 3);
  const auto tok = Tokenizer::from_tokenizer_json(r.tokenizer_json, "golden.json");
  EXPECT_EQ(tok->encode("aaab aab ab"), (std::vector<int64_t>{258, 260, 261}));
  EXPECT_EQ(tok->id_to_token(256), "aa");
  EXPECT_EQ(tok->id_to_token(261), "Ġab");

  // min_frequency 2 stops after the second merge; vocab_size caps the count too.
  EXPECT_EQ(train({"aaab aab ab"}, options(1000)).merges, Merges(expected.begin(), expected.begin() + 2));
  EXPECT_EQ(train({"aaab aab ab"}, options(259, {}, 1)).merges, Merges(expected.begin(), expected.begin() + 3));
  EXPECT_TRUE(train({"aaab aab ab"}, options(256, {}, 1)).merges.empty());
}

TEST(BpeTrainer, MatchesANaiveTrainerOnRandomCorpora) {
  std::mt19937 rng(1234);
  const std::string alphabet[] = {"a", "b", "c", "ab", " ", "\n", "1", "2", "é", "!"};
  for (int trial = 0; trial < 20; ++trial) {
    std::vector<std::string> texts;
    const int n_texts = 1 + static_cast<int>(rng() % 8);
    for (int t = 0; t < n_texts; ++t) {
      std::string s;
      const int len = static_cast<int>(rng() % 80);
      for (int i = 0; i < len; ++i) s += alphabet[rng() % (trial % 2 == 0 ? 4 : 10)];
      texts.push_back(s);
    }
    const int64_t min_freq = 1 + trial % 3;
    const bool split = trial % 4 != 3;
    const auto r = train(texts, options(256 + 60, {}, min_freq, split));
    EXPECT_EQ(r.merges, naive_merges(texts, 256 + 60, min_freq, split)) << "trial " << trial;
  }
}

TEST(BpeTrainer, LongTextsAreCutWithoutChangingThePreTokens) {
  // Above 128 KiB a text is counted in chunks cut after newlines; the merges must equal those of the
  // naive trainer, which runs the regex over the whole text.
  std::mt19937 rng(11);
  const std::string parts[] = {"ab", " ab", "c", "\n", "\n\n", "  \n", " \n ", "\t", "!", "1", "\xe3\x80\x80", "\r\n", "é"};
  std::string text;
  while (text.size() < 400000) text += parts[rng() % 13];
  const auto r = train({text}, options(256 + 40, {}, 1));
  EXPECT_EQ(r.merges, naive_merges({text}, 256 + 40, 1, true));
  // A newline followed by whitespace right at the 64 KiB mark: "\n \n" is one pre-token, not "\n" + " \n".
  std::string edge;
  for (int i = 0; i < 21845; ++i) edge += "ab ";
  edge += "zz\n \nqq";
  while (edge.size() < 200000) edge += " ab";
  const auto e = train({edge}, options(256 + 30, {}, 1));
  EXPECT_EQ(e.merges, naive_merges({edge}, 256 + 30, 1, true));
  EXPECT_NE(std::find(e.merges.begin(), e.merges.end(), std::make_pair(std::string("ĊĠ"), std::string("Ċ"))),
            e.merges.end());
}

TEST(BpeTrainer, RoundTripsArbitraryUtf8AndInvalidBytes) {
  std::vector<std::string> corpus;
  for (int i = 0; i < 200; ++i)
    corpus.push_back("Héllo wörld, 深度求索 " + std::to_string(i * 37) + " 🙂🙂 it's a test\t\n  done.");
  const auto r = train(corpus, options(600, {"<|endoftext|>"}));
  const auto tok = Tokenizer::from_tokenizer_json(r.tokenizer_json, "rt.json");
  for (const std::string s : {"", "Héllo wörld", "深度求索深度 🙂 x", "  \n\n\t  spaces  ", "It'S 'll 've", "a<|endoftext|>b",
                              "naïve café — “quotes” ½ ⅓ ١٢٣"}) {
    EXPECT_EQ(tok->decode(tok->encode(s)), s) << s;
  }
  // Invalid UTF-8 keeps its bytes in the ids (decode shows them as U+FFFD, like HF).
  std::mt19937 rng(7);
  for (int trial = 0; trial < 50; ++trial) {
    std::string s;
    for (int i = 0; i < 40; ++i) s += static_cast<char>(rng() % 256);
    s += "Héllo";
    std::string bytes;
    for (int64_t id : tok->encode(s, false, false)) bytes += token_bytes(*tok, id);
    EXPECT_EQ(bytes, s);
    EXPECT_EQ(tok->decode(tok->encode(s, false, false)), r1::model::utf8::to_valid(s));
  }
}

TEST(BpeTrainer, DigitsStaySingleTokensWhenSplit) {
  std::vector<std::string> corpus;
  for (int i = 0; i < 500; ++i) corpus.push_back("x = " + std::to_string(1000 + i * 7) + " + 12 = 1234");
  const auto split = train(corpus, options(400));
  for (const auto& [a, b] : split.merges) {
    EXPECT_FALSE(std::isdigit(static_cast<unsigned char>(a.back())) && std::isdigit(static_cast<unsigned char>(b[0])))
        << a << " " << b;
  }
  const auto tok = Tokenizer::from_tokenizer_json(split.tokenizer_json, "digits.json");
  EXPECT_EQ(tok->encode("12345"), (std::vector<int64_t>{'1', '2', '3', '4', '5'}));
  // Without splitting, digit runs merge.
  const auto runs = train(corpus, options(400, {}, 2, /*split_digits=*/false));
  EXPECT_NE(std::find(runs.merges.begin(), runs.merges.end(), std::make_pair(std::string("1"), std::string("2"))),
            runs.merges.end());
  EXPECT_LT(Tokenizer::from_tokenizer_json(runs.tokenizer_json, "runs.json")->encode("1234").size(), 4u);
}

TEST(BpeTrainer, SpecialTokensAreAtomicWithIdsFrom256) {
  std::vector<std::string> corpus;
  for (int i = 0; i < 300; ++i) corpus.push_back("<think>reason</think> answer<|endoftext|><|endoftext|>");
  const auto r = train(corpus, options(300, {"<|endoftext|>", "<think>", "</think>"}));
  for (const auto& [a, b] : r.merges) {
    EXPECT_EQ((a + b).find("think"), std::string::npos) << a << " " << b;  // "think" only occurs inside specials
    EXPECT_EQ((a + b).find("endof"), std::string::npos) << a << " " << b;
  }
  const auto tok = Tokenizer::from_tokenizer_json(r.tokenizer_json, "sp.json");
  EXPECT_EQ(tok->token_to_id("<|endoftext|>"), 256);
  EXPECT_EQ(tok->token_to_id("<think>"), 257);
  EXPECT_EQ(tok->token_to_id("</think>"), 258);
  EXPECT_TRUE(tok->is_special(257));
  const auto ids = tok->encode("<think>reason</think><|endoftext|>");
  EXPECT_EQ(ids.front(), 257);
  EXPECT_EQ(ids.back(), 256);
  EXPECT_EQ(ids[ids.size() - 2], 258);
  EXPECT_EQ(tok->eos_id(), 256);
  const auto doc = r1::json::parse(r.tokenizer_json, "sp.json");
  ASSERT_EQ(doc["added_tokens"].Size(), 3u);
  EXPECT_TRUE(doc["added_tokens"][1]["special"].GetBool());
  EXPECT_EQ(doc["added_tokens"][1]["id"].GetInt(), 257);
}

TEST(BpeTrainer, DeterministicAndIndependentOfInputOrder) {
  std::vector<std::string> corpus;
  std::mt19937 rng(3);
  const char* words[] = {"the", " cat", " sat", " on", " mat", " at", " hat", " that", ",", " 42", "\n"};
  for (int i = 0; i < 400; ++i) {
    std::string s;
    for (int j = 0; j < 12; ++j) s += words[rng() % 11];
    corpus.push_back(s);
  }
  const std::string first = r1::model::train_byte_level_bpe(corpus, options(400));
  EXPECT_EQ(r1::model::train_byte_level_bpe(corpus, options(400)), first);
  std::shuffle(corpus.begin(), corpus.end(), rng);
  EXPECT_EQ(r1::model::train_byte_level_bpe(corpus, options(400)), first);
}

TEST(BpeTrainer, CompressesItsTrainingText) {
  std::string text;
  std::mt19937 rng(5);
  const char* words[] = {"Question", ":", " What", " is", " the", " sum", " of", " and", "?", " Answer", "\n"};
  for (int i = 0; i < 4000; ++i) {
    text += words[rng() % 11];
    if (i % 4 == 0) text += " " + std::to_string(rng() % 100);
  }
  const auto r = train({text}, options(512));
  EXPECT_GT(r.vocab_size, 280);  // stops early: the words run out of pairs occurring twice
  const auto tok = Tokenizer::from_tokenizer_json(r.tokenizer_json, "c.json");
  const size_t n = tok->encode(text).size();
  EXPECT_LT(n * 2, text.size()) << n << " tokens for " << text.size() << " bytes";
  EXPECT_EQ(tok->decode(tok->encode(text)), text);
}

TEST(BpeTrainer, SavedFilesLoadThroughTheNormalLoader) {
  const fs::path dir = fs::temp_directory_path() / ("r1_bpe_train_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  const auto r = train({"hello hello world <eos>", "hello there"}, options(270, {"<eos>", "<pad>"}));
  r1::model::TokenizerConfig config;
  config.eos_token = "<eos>";
  config.pad_token = "<pad>";
  r1::model::save_trained_tokenizer(dir.string(), r.tokenizer_json, config);
  EXPECT_EQ(r1::read_file((dir / "tokenizer.json").string()), r.tokenizer_json);
  const auto tok = Tokenizer::load(dir.string());
  EXPECT_EQ(tok->eos_id(), 256);
  EXPECT_EQ(tok->pad_id(), 257);
  EXPECT_EQ(tok->vocab_size(), r.vocab_size);
  const auto same = Tokenizer::from_tokenizer_json(r.tokenizer_json, "x.json");
  EXPECT_EQ(tok->encode("hello world<eos>"), same->encode("hello world<eos>"));
  const auto cfg = r1::json::parse(r1::read_file((dir / "tokenizer_config.json").string()), "cfg");
  EXPECT_EQ(std::string(cfg["tokenizer_class"].GetString()), "PreTrainedTokenizerFast");
  // An eos that is not in the vocabulary is refused before anything is written.
  config.eos_token = "<nope>";
  const fs::path bad = dir / "bad";
  EXPECT_THROW(r1::model::save_trained_tokenizer(bad.string(), r.tokenizer_json, config), r1::Error);
  EXPECT_FALSE(fs::exists(bad));
  fs::remove_all(dir);
}

TEST(BpeTrainer, BadOptionsAreClearErrors) {
  auto message = [](const BpeTrainerOptions& o) -> std::string {
    try {
      BpeTrainer t(o);
    } catch (const r1::Error& e) {
      return e.what();
    }
    return "";
  };
  EXPECT_NE(message(options(257, {"<a>", "<b>"})).find("vocab_size 257 is smaller than the 256 byte tokens + 2 special"),
            std::string::npos);
  EXPECT_NE(message(options(300, {"<a>", "<a>"})).find("'<a>' is repeated"), std::string::npos);
  EXPECT_NE(message(options(300, {"!"})).find("single byte token"), std::string::npos);
  EXPECT_NE(message(options(300, {""})).find("empty special token"), std::string::npos);
  EXPECT_NE(message(options(300, {}, 0)).find("min_frequency"), std::string::npos);
  EXPECT_EQ(message(options(258, {"<a>", "<b>"})), "");
}

TEST(BpeTrainer, PatternSplitsLikeQwen2) {
  r1::model::Regex re(r1::model::bpe_split_pattern(true), "t");
  auto pieces = [&](const std::string& s) {
    std::vector<std::string> out;
    for (const auto& [span, m] : r1::model::matches_to_splits(re.find_all(s), s.size())) {
      (void)m;
      out.push_back(s.substr(span.first, span.second - span.first));
    }
    return out;
  };
  EXPECT_EQ(pieces("Hello world's 123!!\n\n  x"),
            (std::vector<std::string>{"Hello", " world", "'s", " ", "1", "2", "3", "!!\n\n", " ", " x"}));
  r1::model::Regex runs(r1::model::bpe_split_pattern(false), "t");
  EXPECT_EQ(runs.find_all("a 123").size(), 3u);  // "a", " ", "123"
}

}  // namespace
