// See tokenizer_utf8.h. The decoder follows Table 3-7 of the Unicode standard (well-formed byte
// sequences) so that overlong forms, surrogates and code points above U+10FFFF are all ill-formed, and
// an ill-formed sequence consumes exactly its maximal subpart.
#include "model/tokenizer/tokenizer_utf8.h"

namespace r1::model::utf8 {
namespace {

// For a lead byte: total length and the allowed range of the second byte (later bytes are 80..BF).
struct Lead {
  int len;
  uint8_t lo, hi;
};

Lead lead_of(uint8_t b) {
  if (b < 0x80) return {1, 0, 0};
  if (b >= 0xC2 && b <= 0xDF) return {2, 0x80, 0xBF};
  if (b == 0xE0) return {3, 0xA0, 0xBF};
  if ((b >= 0xE1 && b <= 0xEC) || b == 0xEE || b == 0xEF) return {3, 0x80, 0xBF};
  if (b == 0xED) return {3, 0x80, 0x9F};
  if (b == 0xF0) return {4, 0x90, 0xBF};
  if (b >= 0xF1 && b <= 0xF3) return {4, 0x80, 0xBF};
  if (b == 0xF4) return {4, 0x80, 0x8F};
  return {0, 0, 0};  // 80..C1, F5..FF: never a lead
}

// Length of the valid prefix of the sequence at s[i] (== lead.len when complete) without reading past
// the end of s.
size_t valid_prefix(std::string_view s, size_t i, const Lead& lead) {
  size_t k = 1;
  while (static_cast<int>(k) < lead.len && i + k < s.size()) {
    const uint8_t c = static_cast<uint8_t>(s[i + k]);
    const uint8_t lo = k == 1 ? lead.lo : 0x80, hi = k == 1 ? lead.hi : 0xBF;
    if (c < lo || c > hi) break;
    ++k;
  }
  return k;
}

}  // namespace

size_t next(std::string_view s, size_t i, int32_t* cp) {
  const uint8_t b = static_cast<uint8_t>(s[i]);
  if (b < 0x80) {
    *cp = b;
    return 1;
  }
  const Lead lead = lead_of(b);
  if (lead.len == 0) {
    *cp = -1;
    return 1;
  }
  const size_t k = valid_prefix(s, i, lead);
  if (static_cast<int>(k) < lead.len) {
    *cp = -1;
    return k;
  }
  int32_t v = b & (0xFF >> (lead.len + 1));
  for (int j = 1; j < lead.len; ++j) v = (v << 6) | (static_cast<uint8_t>(s[i + j]) & 0x3F);
  *cp = v;
  return k;
}

bool is_valid(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    if (static_cast<uint8_t>(s[i]) < 0x80) {
      ++i;
      continue;
    }
    int32_t cp;
    i += next(s, i, &cp);
    if (cp < 0) return false;
  }
  return true;
}

std::string to_valid(std::string_view s) {
  if (is_valid(s)) return std::string(s);
  std::string out;
  out.reserve(s.size() + 8);
  size_t i = 0;
  while (i < s.size()) {
    int32_t cp;
    const size_t n = next(s, i, &cp);
    if (cp < 0) {
      out += "\xEF\xBF\xBD";  // U+FFFD
    } else {
      out.append(s.data() + i, n);
    }
    i += n;
  }
  return out;
}

void append(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

bool is_white_space(int32_t cp) {
  if (cp >= 0x09 && cp <= 0x0D) return true;
  switch (cp) {
    case 0x20: case 0x85: case 0xA0: case 0x1680: case 0x2028: case 0x2029: case 0x202F: case 0x205F:
    case 0x3000:
      return true;
    default:
      return cp >= 0x2000 && cp <= 0x200A;
  }
}

bool is_python_space(int32_t cp) { return is_white_space(cp) || (cp >= 0x1C && cp <= 0x1F); }

std::string python_strip(std::string_view s) {
  size_t begin = 0, end = s.size();
  while (begin < end) {
    int32_t cp;
    const size_t n = next(s, begin, &cp);
    if (!is_python_space(cp)) break;
    begin += n;
  }
  // Walk back over whole characters: find the start of the last character each time.
  while (end > begin) {
    size_t start = end - 1;
    while (start > begin && (static_cast<uint8_t>(s[start]) & 0xC0) == 0x80 && end - start < 4) --start;
    int32_t cp;
    const size_t n = next(s, start, &cp);
    if (start + n != end || !is_python_space(cp)) break;
    end = start;
  }
  return std::string(s.substr(begin, end - begin));
}

size_t complete_prefix_length(std::string_view s) {
  // Only the last <= 3 bytes can be an incomplete sequence.
  const size_t from = s.size() > 3 ? s.size() - 3 : 0;
  for (size_t i = from; i < s.size(); ++i) {
    const uint8_t b = static_cast<uint8_t>(s[i]);
    if ((b & 0xC0) == 0x80) continue;  // continuation byte
    const Lead lead = lead_of(b);
    if (lead.len <= 1) continue;
    const size_t k = valid_prefix(s, i, lead);
    if (i + k == s.size() && static_cast<int>(k) < lead.len) return i;  // valid so far, cut short by the end
  }
  return s.size();
}

}  // namespace r1::model::utf8
