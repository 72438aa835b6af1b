// See tokenizer_added.h. The matcher is a byte trie, so finding the longest token at a position costs one
// walk that usually stops after a byte or two, however many added tokens share a prefix such as "<|"
// (Llama 3 has 256 of them).
#include "model/tokenizer/tokenizer_added.h"

#include <algorithm>

#include "common/error.h"
#include "model/tokenizer/tokenizer_utf8.h"

namespace r1::model {
namespace {

// Start of the character that ends at `end` (walks back over at most 3 continuation bytes).
size_t previous_char_start(std::string_view s, size_t end, size_t floor) {
  size_t start = end - 1;
  while (start > floor && end - start < 4 && (static_cast<uint8_t>(s[start]) & 0xC0) == 0x80) --start;
  int32_t cp;
  if (start + utf8::next(s, start, &cp) != end) return end - 1;  // not a whole character: one byte
  return start;
}

int32_t code_point_at(std::string_view s, size_t i) {
  int32_t cp;
  utf8::next(s, i, &cp);
  return cp;
}

}  // namespace

void AddedVocabulary::add(AddedToken token) {
  R1_CHECK(!token.content.empty(), "added token ", token.id, ": empty content");
  by_id_[token.id] = tokens_.size();
  by_content_[token.content] = tokens_.size();
  id_limit_ = std::max(id_limit_, token.id + 1);
  tokens_.push_back(std::move(token));
}

void AddedVocabulary::build_matcher(Matcher& m, const std::vector<std::pair<std::string, size_t>>& patterns) {
  m.nodes.assign(1, Matcher::Node());
  for (const auto& [pattern, index] : patterns) {
    int32_t node = 0;
    for (char c : pattern) {
      const uint8_t b = static_cast<uint8_t>(c);
      auto& kids = m.nodes[node].children;
      auto it = std::lower_bound(kids.begin(), kids.end(), std::make_pair(b, int32_t{-1}));
      if (it == kids.end() || it->first != b) {
        const int32_t child = static_cast<int32_t>(m.nodes.size());
        it = kids.insert(it, {b, child});
        m.nodes.emplace_back();  // may reallocate: `kids` is not used after this
        node = child;
      } else {
        node = it->second;
      }
    }
    if (node != 0) m.nodes[node].token = static_cast<int32_t>(index);  // a later duplicate wins
  }
}

size_t AddedVocabulary::Matcher::longest_at(std::string_view text, size_t i, int32_t* token) const {
  size_t best = 0;
  int32_t node = 0;
  for (size_t k = i; k < text.size(); ++k) {
    const auto& kids = nodes[node].children;
    const uint8_t b = static_cast<uint8_t>(text[k]);
    auto it = std::lower_bound(kids.begin(), kids.end(), std::make_pair(b, int32_t{-1}));
    if (it == kids.end() || it->first != b) break;
    node = it->second;
    if (nodes[node].token >= 0) {
      best = k + 1 - i;
      *token = nodes[node].token;
    }
  }
  return best;
}

void AddedVocabulary::build(const Normalizer* normalizer) {
  std::vector<std::pair<std::string, size_t>> raw, normalized;
  for (size_t i = 0; i < tokens_.size(); ++i) {
    const AddedToken& t = tokens_[i];
    if (t.normalized && normalizer != nullptr) {
      std::string content = t.content;
      normalizer->normalize(content);
      normalized.emplace_back(content, i);
    } else if (t.normalized) {
      normalized.emplace_back(t.content, i);
    } else {
      raw.emplace_back(t.content, i);
    }
  }
  build_matcher(raw_, raw);
  build_matcher(normalized_, normalized);
  if (!word_char_) word_char_ = std::make_unique<Regex>(R"([\p{Alphabetic}\p{N}_])", "added tokens (word characters)");
}

void AddedVocabulary::split_with(const Matcher& m, std::string_view text, bool at_start, bool parse_special,
                                 std::vector<Segment>& out) const {
  auto push_text = [&](size_t begin, size_t end) {
    if (end > begin) out.push_back({-1, std::string(text.substr(begin, end - begin)), at_start && begin == 0});
  };
  auto is_word_char = [this, &text](size_t begin, size_t end) {
    return !word_char_->find_all(text.substr(begin, end - begin)).empty();
  };
  size_t pos = 0, start_offset = 0;
  const size_t n = text.size();
  while (pos < n && m.nodes.size() > 1) {
    // Leftmost-longest match at or after pos.
    size_t match_at = n, match_len = 0;
    int32_t token_index = -1;
    for (size_t i = pos; i < n; ++i) {
      match_len = m.longest_at(text, i, &token_index);
      if (match_len > 0) {
        match_at = i;
        break;
      }
    }
    if (match_at == n) break;
    size_t start = match_at, stop = match_at + match_len;
    pos = stop;
    const AddedToken& token = tokens_[static_cast<size_t>(token_index)];
    if (!parse_special && token.special) continue;
    if (token.single_word) {
      const bool word_before = start > 0 && is_word_char(previous_char_start(text, start, 0), start);
      bool word_after = false;
      if (stop < n) {
        int32_t cp;
        word_after = is_word_char(stop, stop + utf8::next(text, stop, &cp));
      }
      if (word_before || word_after) continue;
    }
    if (token.lstrip) {
      while (start > start_offset) {
        const size_t prev = previous_char_start(text, start, start_offset);
        if (!utf8::is_white_space(code_point_at(text, prev))) break;
        start = prev;
      }
    }
    if (token.rstrip) {
      while (stop < n) {
        int32_t cp;
        const size_t len = utf8::next(text, stop, &cp);
        if (!utf8::is_white_space(cp)) break;
        stop += len;
      }
      pos = std::max(pos, stop);
    }
    push_text(start_offset, start);
    out.push_back({token.id, std::string(), false});
    start_offset = stop;
  }
  push_text(start_offset, n);
}

std::vector<Segment> AddedVocabulary::split(std::string_view text, const Normalizer* normalizer, bool parse_special) const {
  std::vector<Segment> first;
  split_with(raw_, text, true, parse_special, first);
  if (normalizer == nullptr && normalized_.nodes.size() <= 1) return first;
  std::vector<Segment> out;
  out.reserve(first.size());
  for (Segment& seg : first) {
    if (seg.id >= 0) {
      out.push_back(std::move(seg));
      continue;
    }
    if (normalizer != nullptr) normalizer->normalize(seg.text);
    split_with(normalized_, seg.text, seg.at_start, parse_special, out);
  }
  return out;
}

const AddedToken* AddedVocabulary::by_id(int32_t id) const {
  auto it = by_id_.find(id);
  return it == by_id_.end() ? nullptr : &tokens_[it->second];
}

std::optional<int32_t> AddedVocabulary::by_content(std::string_view content) const {
  auto it = by_content_.find(std::string(content));
  if (it == by_content_.end()) return std::nullopt;
  return tokens_[it->second].id;
}

}  // namespace r1::model
