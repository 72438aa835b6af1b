// See tokenizer_bpe.h.
#include "model/tokenizer/tokenizer_bpe.h"

#include <mutex>
#include <queue>

#include "common/error.h"
#include "model/tokenizer/tokenizer_utf8.h"

namespace r1::model {
namespace {

// Largest id accepted in a vocab: far above any real tokenizer (~1M), low enough that a corrupt file
// cannot make the id → token table exhaust memory.
constexpr int64_t kMaxTokenId = (int64_t{1} << 24) - 1;

std::string json_str(const json::Value& v) { return std::string(v.GetString(), v.GetStringLength()); }

std::string byte_token(uint8_t b) {
  static const char* hex = "0123456789ABCDEF";
  std::string s = "<0x";
  s += hex[b >> 4];
  s += hex[b & 15];
  s += '>';
  return s;
}

}  // namespace

BpeModel::BpeModel(const json::Value& v, const std::string& where) {
  R1_CHECK(v.IsObject(), where, ": expected an object, got ", json::type_name(v));
  if (const json::Value* type = json::find(v, "type"); type != nullptr) {
    R1_CHECK(type->IsString() && json_str(*type) == "BPE", where, ".type: only BPE models are supported, got ",
             type->IsString() ? "'" + json_str(*type) + "'" : std::string(json::type_name(*type)));
  }
  if (auto dropout = json::opt_double(v, "dropout", where)) {
    R1_CHECK(*dropout == 0.0, where, ".dropout: BPE dropout (", *dropout, ") makes encoding random; not supported");
  }
  fuse_unk_ = json::opt_bool(v, "fuse_unk", where).value_or(false);
  byte_fallback_ = json::opt_bool(v, "byte_fallback", where).value_or(false);
  ignore_merges_ = json::opt_bool(v, "ignore_merges", where).value_or(false);
  continuing_subword_prefix_ = json::opt_string(v, "continuing_subword_prefix", where).value_or("");
  end_of_word_suffix_ = json::opt_string(v, "end_of_word_suffix", where).value_or("");

  const json::Value& vocab = json::get(v, "vocab", where);
  R1_CHECK(vocab.IsObject(), where, ".vocab: expected an object {token: id}, got ", json::type_name(vocab));
  vocab_.reserve(vocab.MemberCount());
  int64_t max_id = -1;
  for (auto it = vocab.MemberBegin(); it != vocab.MemberEnd(); ++it) {
    const std::string token = json_str(it->name);
    R1_CHECK(it->value.IsInt64(), where, ".vocab['", token, "']: expected an integer id, got ",
             json::type_name(it->value));
    const int64_t id = it->value.GetInt64();
    R1_CHECK(id >= 0 && id <= kMaxTokenId, where, ".vocab['", token, "']: id ", id, " out of range [0, ", kMaxTokenId, "]");
    vocab_[token] = static_cast<int32_t>(id);
    max_id = std::max(max_id, id);
  }
  // Real vocabularies are dense; a few huge ids would make the id → token table waste memory.
  R1_CHECK(max_id < 2 * static_cast<int64_t>(vocab_.size()) + 65536, where, ".vocab: ids are too sparse (largest id ",
           max_id, " for ", vocab_.size(), " tokens)");
  vocab_r_.assign(static_cast<size_t>(max_id + 1), std::string());
  has_id_.assign(static_cast<size_t>(max_id + 1), 0);
  for (const auto& [token, id] : vocab_) {
    vocab_r_[id] = token;
    has_id_[id] = 1;
  }
  small_char_id_.assign(0x800, -1);
  for (const auto& [token, id] : vocab_) {
    int32_t cp;
    if (!token.empty() && utf8::next(token, 0, &cp) == token.size() && cp >= 0 && cp < 0x800) small_char_id_[cp] = id;
  }

  if (auto unk = json::opt_string(v, "unk_token", where)) {
    auto it = vocab_.find(*unk);
    R1_CHECK(it != vocab_.end(), where, ".unk_token: '", *unk, "' is not in ", where, ".vocab");
    unk_id_ = it->second;
  }

  const json::Value* merges = json::find(v, "merges");
  if (merges == nullptr || merges->IsNull()) return;
  R1_CHECK(merges->IsArray(), where, ".merges: expected an array, got ", json::type_name(*merges));
  merges_.reserve(merges->Size());
  const size_t prefix_len = continuing_subword_prefix_.size();
  for (rapidjson::SizeType i = 0; i < merges->Size(); ++i) {
    const json::Value& m = (*merges)[i];
    std::string a, b;
    if (m.IsString()) {
      const std::string s = json_str(m);
      const size_t space = s.find(' ');
      R1_CHECK(space != std::string::npos, where, ".merges[", i, "]: '", s, "' is not two tokens separated by a space");
      a = s.substr(0, space);
      b = s.substr(space + 1);
    } else if (m.IsArray() && m.Size() == 2 && m[0].IsString() && m[1].IsString()) {
      a = json_str(m[0]);
      b = json_str(m[1]);
    } else {
      fail(where, ".merges[", i, "]: expected \"a b\" or [\"a\", \"b\"], got ", json::dump(m));
    }
    auto ia = vocab_.find(a), ib = vocab_.find(b);
    R1_CHECK(ia != vocab_.end(), where, ".merges[", i, "]: token '", a, "' is not in ", where, ".vocab");
    R1_CHECK(ib != vocab_.end(), where, ".merges[", i, "]: token '", b, "' is not in ", where, ".vocab");
    const std::string merged =
        a + (prefix_len > 0 && b.compare(0, prefix_len, continuing_subword_prefix_) == 0 ? b.substr(prefix_len) : b);
    auto im = vocab_.find(merged);
    R1_CHECK(im != vocab_.end(), where, ".merges[", i, "]: merged token '", merged, "' is not in ", where, ".vocab");
    merges_[pair_key(ia->second, ib->second)] = Merge{static_cast<int32_t>(i), im->second};
  }
}

std::optional<int32_t> BpeModel::lookup(std::string_view s) const {
  auto it = vocab_.find(std::string(s));
  if (it == vocab_.end()) return std::nullopt;
  return it->second;
}

std::optional<int32_t> BpeModel::token_to_id(std::string_view token) const { return lookup(token); }

const std::string* BpeModel::id_to_token(int32_t id) const {
  if (id < 0 || id >= static_cast<int32_t>(vocab_r_.size()) || !has_id_[id]) return nullptr;
  return &vocab_r_[id];
}

void BpeModel::tokenize(const std::string& piece, std::vector<int32_t>& out) const {
  if (piece.empty()) return;
  if (ignore_merges_) {
    if (auto id = lookup(piece)) {
      out.push_back(*id);
      return;
    }
  }
  const bool cacheable = piece.size() <= kCacheMaxPieceBytes;
  if (cacheable) {
    std::shared_lock lock(cache_mutex_);
    auto it = cache_.find(piece);
    if (it != cache_.end()) {
      out.insert(out.end(), it->second.begin(), it->second.end());
      return;
    }
  }
  std::vector<int32_t> ids;
  merge_word(piece, ids);
  out.insert(out.end(), ids.begin(), ids.end());
  if (cacheable) {
    std::unique_lock lock(cache_mutex_);
    if (cache_.size() >= kCacheCapacity) cache_.clear();
    cache_.emplace(piece, std::move(ids));
  }
}

void BpeModel::merge_word(const std::string& w, std::vector<int32_t>& out) const {
  struct Symbol {
    int32_t id;
    int32_t prev, next;
    bool removed;
  };
  std::vector<Symbol> symbols;
  symbols.reserve(w.size());
  auto add = [&symbols](int32_t id) {
    const int32_t n = static_cast<int32_t>(symbols.size());
    if (n > 0) symbols.back().next = n;
    symbols.push_back({id, n - 1, -1, false});
  };

  // 1. One symbol per character (with the reference's unk / byte-fallback rules).
  int32_t pending_unk = -1;  // an unknown character waiting to be emitted (fuse_unk merges a run)
  size_t i = 0;
  const bool decorate = !continuing_subword_prefix_.empty() || !end_of_word_suffix_.empty();
  while (i < w.size()) {
    int32_t cp;
    const size_t len = utf8::next(w, i, &cp);
    const bool is_first = i == 0, is_last = i + len >= w.size();
    std::optional<int32_t> id;
    std::string decorated;
    if (!decorate && cp >= 0 && cp < 0x800) {
      if (small_char_id_[cp] >= 0) id = small_char_id_[cp];
    } else {
      decorated.assign(w, i, len);
      if (!is_first) decorated.insert(0, continuing_subword_prefix_);
      if (is_last) decorated += end_of_word_suffix_;
      id = lookup(decorated);
    }
    if (id) {
      if (pending_unk >= 0) {
        add(pending_unk);
        pending_unk = -1;
      }
      add(*id);
    } else {
      bool handled = false;
      if (byte_fallback_) {
        if (decorated.empty()) decorated.assign(w, i, len);
        std::vector<int32_t> bytes;
        for (char c : decorated) {
          auto b = lookup(byte_token(static_cast<uint8_t>(c)));
          if (!b) break;
          bytes.push_back(*b);
        }
        if (bytes.size() == decorated.size()) {
          for (int32_t b : bytes) add(b);
          handled = true;
        }
      }
      if (!handled && unk_id_) {
        if (pending_unk >= 0 && !fuse_unk_) add(pending_unk);
        pending_unk = *unk_id_;
      }
    }
    i += len;
  }
  if (pending_unk >= 0) add(pending_unk);

  // 2. Merge the lowest-ranked pair first, leftmost among equals.
  struct Candidate {
    int32_t rank, pos, new_id;
    bool operator<(const Candidate& o) const {  // priority_queue is a max-heap: invert
      return rank != o.rank ? rank > o.rank : pos > o.pos;
    }
  };
  std::priority_queue<Candidate> queue;
  auto find_merge = [this](int32_t a, int32_t b) -> const Merge* {
    auto it = merges_.find(pair_key(a, b));
    return it == merges_.end() ? nullptr : &it->second;
  };
  for (size_t k = 0; k + 1 < symbols.size(); ++k) {
    if (const Merge* m = find_merge(symbols[k].id, symbols[k + 1].id))
      queue.push({m->rank, static_cast<int32_t>(k), m->new_id});
  }
  while (!queue.empty()) {
    const Candidate top = queue.top();
    queue.pop();
    Symbol& left = symbols[top.pos];
    if (left.removed || left.next < 0) continue;
    Symbol& right = symbols[left.next];
    const Merge* current = find_merge(left.id, right.id);
    if (current == nullptr || current->new_id != top.new_id) continue;  // stale entry
    left.id = top.new_id;
    right.removed = true;
    left.next = right.next;
    if (right.next >= 0) symbols[right.next].prev = top.pos;
    if (left.prev >= 0) {
      if (const Merge* m = find_merge(symbols[left.prev].id, left.id)) queue.push({m->rank, left.prev, m->new_id});
    }
    if (left.next >= 0) {
      if (const Merge* m = find_merge(left.id, symbols[left.next].id)) queue.push({m->rank, top.pos, m->new_id});
    }
  }
  for (const Symbol& s : symbols)
    if (!s.removed) out.push_back(s.id);
}

}  // namespace r1::model
