// See duplicates.h. Hashes are 64-bit FNV-1a; a collision between two different kept texts of one prompt
// (odds ~n²/2^64) would drop a sample, never keep a duplicate.
#include "datasets/filters/duplicates.h"

#include <algorithm>

#include "rewards/text_words.h"

namespace r1::data {
namespace {

uint64_t fnv1a(std::string_view s, uint64_t h = 1469598103934665603ull) {
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

}  // namespace

std::string normalize_whitespace(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  bool space = false;
  for (char c : text) {
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v') {
      space = !out.empty();
      continue;
    }
    if (space) out += ' ';
    space = false;
    out += c;
  }
  return out;
}

std::vector<uint64_t> shingles(std::string_view text, size_t shingle_size) {
  // The think tags are markup, not words: two completions sharing nothing but "<think></think>" must not
  // look alike.
  std::string untagged(text);
  for (const char* tag : {"</think>", "<think>"})
    for (size_t at = 0; (at = untagged.find(tag, at)) != std::string::npos;)
      untagged.replace(at, std::string_view(tag).size(), " ");
  std::vector<rewards::Word> words;
  rewards::split_words(untagged, words);
  std::vector<std::string> lowered;
  lowered.reserve(words.size());
  for (const rewards::Word& w : words) {
    std::string s(w.text);
    for (char& c : s)
      if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    lowered.push_back(std::move(s));
  }
  std::vector<uint64_t> out;
  const size_t k = std::max<size_t>(1, std::min(shingle_size, lowered.size()));
  for (size_t i = 0; i + k <= lowered.size(); ++i) {
    uint64_t h = 1469598103934665603ull;
    for (size_t j = 0; j < k; ++j) h = fnv1a(std::string_view("\x1f", 1), fnv1a(lowered[i + j], h));
    out.push_back(h);
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

double jaccard(const std::vector<uint64_t>& a, const std::vector<uint64_t>& b) {
  if (a.empty() && b.empty()) return 1.0;
  size_t i = 0, j = 0, common = 0;
  while (i < a.size() && j < b.size()) {
    if (a[i] == b[j]) {
      ++common, ++i, ++j;
    } else if (a[i] < b[j]) {
      ++i;
    } else {
      ++j;
    }
  }
  return static_cast<double>(common) / static_cast<double>(a.size() + b.size() - common);
}

bool DuplicateIndex::is_duplicate(std::string_view group, std::string_view text) const {
  auto it = groups_.find(fnv1a(group));
  if (it == groups_.end()) return false;
  const Group& g = it->second;
  if (g.exact.count(fnv1a(normalize_whitespace(text)))) return true;
  if (!options_.near) return false;
  const std::vector<uint64_t> mine = shingles(text, static_cast<size_t>(options_.shingle_size));
  if (mine.empty()) return false;  // no words (all digits or symbols): only exact copies are duplicates
  for (const auto& other : g.shingle_sets)
    if (!other.empty() && jaccard(mine, other) >= options_.near_threshold) return true;
  return false;
}

void DuplicateIndex::remember(std::string_view group, std::string_view text) {
  Group& g = groups_[fnv1a(group)];
  g.exact.insert(fnv1a(normalize_whitespace(text)));
  if (options_.near) g.shingle_sets.push_back(shingles(text, static_cast<size_t>(options_.shingle_size)));
}

void DuplicateIndex::forget(std::string_view group) { groups_.erase(fnv1a(group)); }

}  // namespace r1::data
