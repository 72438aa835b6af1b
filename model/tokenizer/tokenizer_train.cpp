// See tokenizer_train.h. Data structures of the merge loop:
//   words      distinct pre-tokens (at least two bytes long) as symbol-id sequences, with frequencies;
//   pair_count (left id, right id) → occurrences weighted by word frequency, zero counts erased;
//   where      pair → words that contained it when it was counted (may go stale: a stale word is simply
//              found not to contain the pair any more);
//   heap       (count, pair) entries. A pair's entry may overstate its count (counts only shrink between
//              pushes, except that every increase pushes a fresh entry), so a popped entry whose count no
//              longer matches is re-pushed with the true count, and the first entry that matches is the
//              true maximum under the (count desc, left asc, right asc) order.
#include "model/tokenizer/tokenizer_train.h"

#include <rapidjson/prettywriter.h>
#include <rapidjson/stringbuffer.h>

#include <algorithm>
#include <set>
#include <unordered_map>
#include <unordered_set>

#include "common/error.h"
#include "common/fs.h"
#include "common/json.h"
#include "common/jsonl.h"
#include "model/tokenizer/tokenizer_pretokenizer.h"

namespace r1::model {
namespace {

using Writer = rapidjson::PrettyWriter<rapidjson::StringBuffer>;

constexpr int64_t kMaxVocab = int64_t{1} << 24;  // the loader's id limit

void str(Writer& w, const std::string& s) { w.String(s.data(), static_cast<rapidjson::SizeType>(s.size())); }

void byte_level_object(Writer& w, bool trim_offsets) {
  w.StartObject();
  w.Key("type"); w.String("ByteLevel");
  w.Key("add_prefix_space"); w.Bool(false);
  w.Key("trim_offsets"); w.Bool(trim_offsets);
  w.Key("use_regex"); w.Bool(false);
  w.EndObject();
}

void split_object(Writer& w, const std::string& pattern) {
  w.StartObject();
  w.Key("type"); w.String("Split");
  w.Key("pattern");
  w.StartObject();
  w.Key("Regex"); str(w, pattern);
  w.EndObject();
  w.Key("behavior"); w.String("Isolated");
  w.Key("invert"); w.Bool(false);
  w.EndObject();
}

uint64_t pair_key(int32_t a, int32_t b) {
  return (static_cast<uint64_t>(static_cast<uint32_t>(a)) << 32) | static_cast<uint32_t>(b);
}
int32_t left_of(uint64_t key) { return static_cast<int32_t>(key >> 32); }
int32_t right_of(uint64_t key) { return static_cast<int32_t>(key & 0xFFFFFFFFu); }

}  // namespace

std::string bpe_split_pattern(bool split_digits) {
  return std::string(R"((?i:'s|'t|'re|'ve|'m|'ll|'d)| ?\p{L}+|)") + (split_digits ? R"(\p{N})" : R"(\p{N}+)") +
         R"(| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
}

class BpeTrainer::Impl {
 public:
  explicit Impl(const BpeTrainerOptions& options) : specials_(options.special_tokens) {
    rapidjson::StringBuffer buf;
    Writer w(buf);
    split_object(w, bpe_split_pattern(options.split_digits));
    const json::Document doc = json::parse(std::string_view(buf.GetString(), buf.GetSize()), "BPE trainer split");
    split_ = make_pre_tokenizer(doc, "BPE trainer: pre_tokenizer");
    next_.assign(specials_.size(), 0);
  }

  void add_text(std::string_view text, int64_t weight) {
    size_t pos = 0;
    std::fill(next_.begin(), next_.end(), 0);
    bool first = true;
    while (pos < text.size()) {
      // Leftmost occurrence of any special token; the longest one when several start there.
      size_t best = std::string_view::npos, best_len = 0;
      for (size_t i = 0; i < specials_.size(); ++i) {
        if (first || (next_[i] != std::string_view::npos && next_[i] < pos)) next_[i] = text.find(specials_[i], pos);
        if (next_[i] == std::string_view::npos) continue;
        if (next_[i] < best || (next_[i] == best && specials_[i].size() > best_len)) {
          best = next_[i];
          best_len = specials_[i].size();
        }
      }
      first = false;
      if (best == std::string_view::npos) {
        count_segment(text.substr(pos), weight);
        break;
      }
      count_segment(text.substr(pos, best - pos), weight);
      pos = best + best_len;
    }
  }

  // A long segment (a whole text file) is cut into chunks of about kChunk bytes right after a '\n' that
  // is followed by a printable ASCII character: no pre-token spans such a point (a match never holds a
  // newline followed by a non-space, and the only lookahead, \s+(?!\S), cannot end there because
  // \s*[\r\n]+ is tried first), so the pieces are the same, without megabyte-sized piece vectors.
  void count_segment(std::string_view segment, int64_t weight) {
    constexpr size_t kChunk = size_t{1} << 16;
    while (segment.size() > 2 * kChunk) {
      size_t cut = kChunk;
      while (cut < segment.size() && !(segment[cut - 1] == '\n' && segment[cut] > 0x20 && segment[cut] < 0x7f)) ++cut;
      if (cut >= segment.size()) break;
      count_chunk(segment.substr(0, cut), weight);
      segment.remove_prefix(cut);
    }
    count_chunk(segment, weight);
  }

  void count_chunk(std::string_view segment, int64_t weight) {
    if (segment.empty()) return;
    pieces_.clear();
    pieces_.push_back(Piece{std::string(segment), false});
    split_->apply(pieces_);
    for (Piece& p : pieces_) counts_[std::move(p.text)] += weight;
  }

  const std::unordered_map<std::string, int64_t>& counts() const { return counts_; }

 private:
  std::vector<std::string> specials_;
  std::unique_ptr<PreTokenizer> split_;
  std::unordered_map<std::string, int64_t> counts_;
  std::vector<Piece> pieces_;
  std::vector<size_t> next_;
};

namespace {

// The merge loop over counted words (see the comment at the top of the file).
class MergeLoop {
 public:
  MergeLoop(const BpeTrainerOptions& options, const std::unordered_map<std::string, int64_t>& counts)
      : min_frequency_(options.min_frequency) {
    const auto& alphabet = byte_level_alphabet();
    for (int b = 0; b < 256; ++b) {
      tokens_.push_back(alphabet[b]);
      ids_.emplace(alphabet[b], b);
    }
    for (const std::string& s : options.special_tokens) {
      tokens_.push_back(s);
      specials_.insert(s);  // a merged token with this text would collide with the special in the vocab
    }
    // Words in byte order: the order does not change the result, but keeps memory layout reproducible.
    std::vector<std::pair<std::string_view, int64_t>> sorted;
    sorted.reserve(counts.size());
    for (const auto& [word, n] : counts)
      if (word.size() >= 2) sorted.emplace_back(word, n);
    std::sort(sorted.begin(), sorted.end());
    words_.reserve(sorted.size());
    freq_.reserve(sorted.size());
    for (const auto& [word, n] : sorted) {
      const int32_t w = static_cast<int32_t>(words_.size());
      std::vector<int32_t> syms(word.begin(), word.end());
      for (int32_t& s : syms) s = static_cast<uint8_t>(s);
      for (size_t i = 0; i + 1 < syms.size(); ++i) {
        const uint64_t p = pair_key(syms[i], syms[i + 1]);
        pair_count_[p] += n;
        std::vector<int32_t>& in = where_[p];
        if (in.empty() || in.back() != w) in.push_back(w);
      }
      words_.push_back(std::move(syms));
      freq_.push_back(n);
    }
    word_count_ = static_cast<int64_t>(counts.size());
    seen_.assign(words_.size(), 0);
    for (const auto& [p, n] : pair_count_)
      if (n >= min_frequency_) heap_.push_back({n, p});
    std::make_heap(heap_.begin(), heap_.end(), Lower{this});
  }

  BpeTrainResult run(int64_t vocab_size, const std::function<void(int64_t, int64_t)>& progress) {
    const int64_t initial = static_cast<int64_t>(tokens_.size());
    const int64_t wanted = vocab_size - initial;
    int64_t vocab = initial;
    std::vector<std::pair<int32_t, int32_t>> merges;
    while (vocab < vocab_size && !heap_.empty()) {
      std::pop_heap(heap_.begin(), heap_.end(), Lower{this});
      const Entry top = heap_.back();
      heap_.pop_back();
      if (forbidden_.count(top.pair)) continue;
      auto it = pair_count_.find(top.pair);
      const int64_t count = it == pair_count_.end() ? 0 : it->second;
      if (count != top.count) {
        if (count < top.count && count >= min_frequency_) push(count, top.pair);
        continue;  // a stale entry; a larger count has its own fresh entry
      }
      if (count < min_frequency_) break;
      const int32_t a = left_of(top.pair), b = right_of(top.pair);
      std::string merged = tokens_[a] + tokens_[b];
      if (specials_.count(merged)) {
        forbidden_.insert(top.pair);
        continue;
      }
      int32_t id;
      if (auto found = ids_.find(merged); found != ids_.end()) {
        id = found->second;
      } else {
        id = static_cast<int32_t>(tokens_.size());
        ids_.emplace(merged, id);
        tokens_.push_back(std::move(merged));
        ++vocab;
      }
      merges.emplace_back(a, b);
      apply_merge(top.pair, a, b, id);
      if (progress && merges.size() % 64 == 0) progress(vocab - initial, wanted);
    }
    if (progress) progress(vocab - initial, wanted);

    BpeTrainResult r;
    r.vocab_size = vocab;
    r.words = word_count_;
    for (const auto& [a, b] : merges) r.merges.emplace_back(tokens_[a], tokens_[b]);
    return r;
  }

  // Token strings by id (specials at their ids in raw form, the rest in byte-level form).
  const std::vector<std::string>& tokens() const { return tokens_; }

 private:
  struct Entry {
    int64_t count;
    uint64_t pair;
  };
  // Heap order: x below y when x has fewer occurrences, or as many and a larger (left, right) string pair.
  struct Lower {
    const MergeLoop* self;
    bool operator()(const Entry& x, const Entry& y) const {
      if (x.count != y.count) return x.count < y.count;
      const std::string& xa = self->tokens_[left_of(x.pair)];
      const std::string& ya = self->tokens_[left_of(y.pair)];
      if (int c = xa.compare(ya); c != 0) return c > 0;
      return self->tokens_[right_of(x.pair)] > self->tokens_[right_of(y.pair)];
    }
  };

  void push(int64_t count, uint64_t pair) {
    heap_.push_back({count, pair});
    std::push_heap(heap_.begin(), heap_.end(), Lower{this});
  }

  void apply_merge(uint64_t pair, int32_t a, int32_t b, int32_t id) {
    auto wit = where_.find(pair);
    if (wit == where_.end()) return;
    const std::vector<int32_t> in = std::move(wit->second);
    where_.erase(wit);
    ++stamp_;
    for (int32_t w : in) {
      if (seen_[w] == stamp_) continue;
      seen_[w] = stamp_;
      rewrite_word(w, a, b, id);
    }
    pair_count_.erase(pair);  // every occurrence was merged
  }

  void rewrite_word(int32_t w, int32_t a, int32_t b, int32_t id) {
    const std::vector<int32_t>& old = words_[w];
    scratch_.clear();
    bool changed = false;
    for (size_t i = 0; i < old.size();) {
      if (i + 1 < old.size() && old[i] == a && old[i + 1] == b) {
        scratch_.push_back(id);
        i += 2;
        changed = true;
      } else {
        scratch_.push_back(old[i++]);
      }
    }
    if (!changed) return;
    const int64_t f = freq_[w];
    deltas_.clear();
    for (size_t i = 0; i + 1 < old.size(); ++i) deltas_.emplace_back(pair_key(old[i], old[i + 1]), -f);
    for (size_t i = 0; i + 1 < scratch_.size(); ++i) deltas_.emplace_back(pair_key(scratch_[i], scratch_[i + 1]), f);
    std::sort(deltas_.begin(), deltas_.end(), [](const auto& x, const auto& y) { return x.first < y.first; });
    for (size_t i = 0; i < deltas_.size();) {
      const uint64_t p = deltas_[i].first;
      int64_t d = 0;
      for (; i < deltas_.size() && deltas_[i].first == p; ++i) d += deltas_[i].second;
      if (d == 0) continue;
      auto it = pair_count_.try_emplace(p, 0).first;
      it->second += d;
      R1_CHECK(it->second >= 0, "BPE trainer: internal error: negative pair count");
      const int64_t now = it->second;
      if (now == 0) pair_count_.erase(it);
      if (d > 0) {
        where_[p].push_back(w);
        if (now >= min_frequency_ && !forbidden_.count(p)) push(now, p);
      }
    }
    words_[w].swap(scratch_);
  }

  int64_t min_frequency_;
  std::vector<std::string> tokens_;
  std::unordered_map<std::string, int32_t> ids_;
  std::unordered_set<std::string> specials_;
  std::vector<std::vector<int32_t>> words_;
  std::vector<int64_t> freq_;
  int64_t word_count_ = 0;
  std::unordered_map<uint64_t, int64_t> pair_count_;
  std::unordered_map<uint64_t, std::vector<int32_t>> where_;
  std::unordered_set<uint64_t> forbidden_;
  std::vector<Entry> heap_;
  std::vector<uint32_t> seen_;
  uint32_t stamp_ = 0;
  std::vector<int32_t> scratch_;
  std::vector<std::pair<uint64_t, int64_t>> deltas_;
};

std::string write_tokenizer_json(const BpeTrainerOptions& options, const std::vector<std::string>& tokens,
                                 const std::vector<std::pair<std::string, std::string>>& merges) {
  rapidjson::StringBuffer buf;
  Writer w(buf);
  w.SetIndent(' ', 2);
  w.StartObject();
  w.Key("version"); w.String("1.0");
  w.Key("truncation"); w.Null();
  w.Key("padding"); w.Null();
  w.Key("added_tokens");
  w.StartArray();
  for (size_t i = 0; i < options.special_tokens.size(); ++i) {
    w.StartObject();
    w.Key("id"); w.Int(static_cast<int>(256 + i));
    w.Key("content"); str(w, options.special_tokens[i]);
    w.Key("single_word"); w.Bool(false);
    w.Key("lstrip"); w.Bool(false);
    w.Key("rstrip"); w.Bool(false);
    w.Key("normalized"); w.Bool(false);
    w.Key("special"); w.Bool(true);
    w.EndObject();
  }
  w.EndArray();
  w.Key("normalizer"); w.Null();
  w.Key("pre_tokenizer");
  w.StartObject();
  w.Key("type"); w.String("Sequence");
  w.Key("pretokenizers");
  w.StartArray();
  split_object(w, bpe_split_pattern(options.split_digits));
  byte_level_object(w, false);
  w.EndArray();
  w.EndObject();
  w.Key("post_processor"); byte_level_object(w, false);
  w.Key("decoder"); byte_level_object(w, true);
  w.Key("model");
  w.StartObject();
  w.Key("type"); w.String("BPE");
  w.Key("dropout"); w.Null();
  w.Key("unk_token"); w.Null();
  w.Key("continuing_subword_prefix"); w.Null();
  w.Key("end_of_word_suffix"); w.Null();
  w.Key("fuse_unk"); w.Bool(false);
  w.Key("byte_fallback"); w.Bool(false);
  w.Key("ignore_merges"); w.Bool(false);
  w.Key("vocab");
  w.StartObject();
  for (size_t id = 0; id < tokens.size(); ++id) {
    str(w, tokens[id]);
    w.Int(static_cast<int>(id));
  }
  w.EndObject();
  w.Key("merges");
  w.StartArray();
  for (const auto& [a, b] : merges) str(w, a + " " + b);  // byte-level tokens never contain a space
  w.EndArray();
  w.EndObject();
  w.EndObject();
  return std::string(buf.GetString(), buf.GetSize()) + "\n";
}

}  // namespace

BpeTrainer::BpeTrainer(BpeTrainerOptions options) : options_(std::move(options)) {
  const int64_t fixed = 256 + static_cast<int64_t>(options_.special_tokens.size());
  R1_CHECK(options_.vocab_size >= fixed, "BPE trainer: vocab_size ", options_.vocab_size,
           " is smaller than the 256 byte tokens + ", options_.special_tokens.size(), " special tokens (", fixed, ")");
  R1_CHECK(options_.vocab_size <= kMaxVocab, "BPE trainer: vocab_size ", options_.vocab_size, " exceeds ", kMaxVocab);
  R1_CHECK(options_.min_frequency >= 1, "BPE trainer: min_frequency must be >= 1, got ", options_.min_frequency);
  const auto& alphabet = byte_level_alphabet();
  std::set<std::string> seen(alphabet.begin(), alphabet.end());
  for (const std::string& s : options_.special_tokens) {
    R1_CHECK(!s.empty(), "BPE trainer: empty special token");
    R1_CHECK(seen.insert(s).second, "BPE trainer: special token '", s, "' is repeated or is a single byte token");
  }
  impl_ = std::make_unique<Impl>(options_);
}

BpeTrainer::~BpeTrainer() = default;

void BpeTrainer::add_text(std::string_view text, int64_t weight) {
  R1_CHECK(weight >= 1, "BPE trainer: a text's weight must be >= 1, got ", weight);
  impl_->add_text(text, weight);
  ++texts_;
  bytes_ += static_cast<int64_t>(text.size());
}

BpeTrainResult BpeTrainer::train(const std::function<void(int64_t, int64_t)>& progress) const {
  MergeLoop loop(options_, impl_->counts());
  BpeTrainResult r = loop.run(options_.vocab_size, progress);
  r.tokenizer_json = write_tokenizer_json(options_, loop.tokens(), r.merges);
  return r;
}

int64_t add_jsonl_texts(BpeTrainer& trainer, const std::string& path, const std::string& key) {
  int64_t lines = 0;
  for_each_jsonl(path, [&](size_t line, const json::Value& row) {
    trainer.add_text(json::get_string(row, key.c_str(), str_cat(path, ":", line)));
    ++lines;
  });
  return lines;
}

std::string train_byte_level_bpe(const std::vector<std::string>& texts, const BpeTrainerOptions& options) {
  BpeTrainer trainer(options);
  for (const std::string& t : texts) trainer.add_text(t);
  return trainer.train().tokenizer_json;
}

std::string make_tokenizer_config_json(const TokenizerConfig& config) {
  rapidjson::StringBuffer buf;
  Writer w(buf);
  w.SetIndent(' ', 2);
  w.StartObject();
  w.Key("tokenizer_class"); w.String("PreTrainedTokenizerFast");
  auto token = [&](const char* key, const std::optional<std::string>& v) {
    if (!v) return;
    w.Key(key);
    str(w, *v);
  };
  token("bos_token", config.bos_token);
  token("eos_token", config.eos_token);
  token("pad_token", config.pad_token);
  token("unk_token", config.unk_token);
  if (config.add_bos_token) { w.Key("add_bos_token"); w.Bool(*config.add_bos_token); }
  if (config.add_eos_token) { w.Key("add_eos_token"); w.Bool(*config.add_eos_token); }
  if (!config.chat_template.empty()) { w.Key("chat_template"); str(w, config.chat_template); }
  w.EndObject();
  return std::string(buf.GetString(), buf.GetSize()) + "\n";
}

void save_trained_tokenizer(const std::string& dir, const std::string& tokenizer_json, const TokenizerConfig& config) {
  TokenizerConfig check = config;
  check.origin = path_join(dir, "tokenizer_config.json");
  Tokenizer::from_tokenizer_json(tokenizer_json, path_join(dir, "tokenizer.json"), check);  // throws when bad
  make_dirs(dir);
  write_file_atomic(path_join(dir, "tokenizer.json"), tokenizer_json);
  write_file_atomic(path_join(dir, "tokenizer_config.json"), make_tokenizer_config_json(config));
}

}  // namespace r1::model
