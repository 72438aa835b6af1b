// See text_words.h. The block table is ordered by code point and searched linearly by range start;
// it is short, and ASCII / Latin-1 (most text) is decided before the table is touched.
#include "rewards/text_words.h"

#include <algorithm>
#include <array>
#include <unordered_set>

namespace r1::rewards {
namespace {

struct Block {
  uint32_t first, last;
  Script script;
};

// Letter blocks (non-letter code points inside them are listed as None first where they matter).
const Block kBlocks[] = {
    {0x00AA, 0x00AA, Script::Latin},      {0x00BA, 0x00BA, Script::Latin},
    {0x00C0, 0x00D6, Script::Latin},      {0x00D8, 0x00F6, Script::Latin},
    {0x00F8, 0x02AF, Script::Latin},      {0x0370, 0x03FF, Script::Greek},
    {0x0400, 0x052F, Script::Cyrillic},   {0x0531, 0x058F, Script::Armenian},
    {0x0591, 0x05F4, Script::Hebrew},     {0x060C, 0x060C, Script::None},
    {0x061B, 0x061F, Script::None},       {0x0660, 0x0669, Script::None},
    {0x066A, 0x066D, Script::None},       {0x06D4, 0x06D4, Script::None},
    {0x06F0, 0x06F9, Script::None},       {0x0600, 0x06FF, Script::Arabic},
    {0x0750, 0x077F, Script::Arabic},     {0x08A0, 0x08FF, Script::Arabic},
    {0x0964, 0x096F, Script::None},       {0x0900, 0x097F, Script::Devanagari},
    {0x09E6, 0x09EF, Script::None},       {0x0980, 0x09FF, Script::Bengali},
    {0x0A66, 0x0A6F, Script::None},       {0x0A00, 0x0A7F, Script::Gurmukhi},
    {0x0AE6, 0x0AEF, Script::None},       {0x0A80, 0x0AFF, Script::Gujarati},
    {0x0B66, 0x0B6F, Script::None},       {0x0B00, 0x0B7F, Script::Oriya},
    {0x0BE6, 0x0BEF, Script::None},       {0x0B80, 0x0BFF, Script::Tamil},
    {0x0C66, 0x0C6F, Script::None},       {0x0C00, 0x0C7F, Script::Telugu},
    {0x0CE6, 0x0CEF, Script::None},       {0x0C80, 0x0CFF, Script::Kannada},
    {0x0D66, 0x0D6F, Script::None},       {0x0D00, 0x0D7F, Script::Malayalam},
    {0x0D80, 0x0DFF, Script::Sinhala},    {0x0E3F, 0x0E3F, Script::None},
    {0x0E50, 0x0E5B, Script::None},       {0x0E00, 0x0E7F, Script::Thai},
    {0x0ED0, 0x0ED9, Script::None},       {0x0E80, 0x0EFF, Script::Lao},
    {0x0F00, 0x0FFF, Script::Tibetan},    {0x1040, 0x1049, Script::None},
    {0x1000, 0x109F, Script::Myanmar},    {0x10A0, 0x10FF, Script::Georgian},
    {0x1100, 0x11FF, Script::Hangul},     {0x1200, 0x139F, Script::Ethiopic},
    {0x17E0, 0x17E9, Script::None},       {0x1780, 0x17FF, Script::Khmer},
    {0x1810, 0x1819, Script::None},       {0x1800, 0x18AF, Script::Mongolian},
    {0x1C80, 0x1C8F, Script::Cyrillic},   {0x1E00, 0x1EFF, Script::Latin},
    {0x1F00, 0x1FFF, Script::Greek},      {0x2C60, 0x2C7F, Script::Latin},
    {0x2D00, 0x2D2F, Script::Georgian},   {0x2DE0, 0x2DFF, Script::Cyrillic},
    {0x3005, 0x3005, Script::Han},        {0x3007, 0x3007, Script::Han},
    {0x3021, 0x3029, Script::Han},        {0x3041, 0x309F, Script::Hiragana},
    {0x30A0, 0x30FF, Script::Katakana},   {0x3131, 0x318F, Script::Hangul},
    {0x31F0, 0x31FF, Script::Katakana},   {0x3400, 0x4DBF, Script::Han},
    {0x4E00, 0x9FFF, Script::Han},        {0xA640, 0xA69F, Script::Cyrillic},
    {0xA720, 0xA7FF, Script::Latin},      {0xA960, 0xA97F, Script::Hangul},
    {0xAC00, 0xD7AF, Script::Hangul},     {0xD7B0, 0xD7FF, Script::Hangul},
    {0xF900, 0xFAFF, Script::Han},        {0xFB1D, 0xFB4F, Script::Hebrew},
    {0xFB50, 0xFDFF, Script::Arabic},     {0xFE70, 0xFEFF, Script::Arabic},
    {0xFF21, 0xFF3A, Script::Latin},      {0xFF41, 0xFF5A, Script::Latin},
    {0xFF66, 0xFF9F, Script::Katakana},   {0xFFA0, 0xFFDC, Script::Hangul},
    {0x20000, 0x323AF, Script::Han},
};

bool is_combining_mark(uint32_t cp) {
  return (cp >= 0x0300 && cp <= 0x036F) || (cp >= 0x1AB0 && cp <= 0x1AFF) || (cp >= 0x1DC0 && cp <= 0x1DFF) ||
         (cp >= 0x20D0 && cp <= 0x20FF) || (cp >= 0xFE20 && cp <= 0xFE2F);
}

bool starts_with(std::string_view s, size_t i, std::string_view prefix) {
  return s.size() >= i + prefix.size() && s.compare(i, prefix.size(), prefix) == 0;
}

}  // namespace

const char* script_name(Script s) {
  static const char* const kNames[] = {"none",    "latin",    "greek",    "cyrillic", "armenian", "hebrew",
                                       "arabic",  "devanagari", "bengali", "gurmukhi", "gujarati", "oriya",
                                       "tamil",   "telugu",   "kannada",  "malayalam", "sinhala", "thai",
                                       "lao",     "tibetan",  "myanmar",  "georgian", "hangul",   "ethiopic",
                                       "khmer",   "mongolian", "hiragana", "katakana", "han",     "other"};
  return kNames[static_cast<size_t>(s)];
}

uint32_t next_code_point(std::string_view s, size_t& i) {
  unsigned char c = static_cast<unsigned char>(s[i]);
  if (c < 0x80) {
    ++i;
    return c;
  }
  int len = (c >= 0xF0 && c <= 0xF4) ? 4 : (c >= 0xE0) ? 3 : (c >= 0xC2 && c <= 0xDF) ? 2 : 0;
  if (len == 0 || i + static_cast<size_t>(len) > s.size()) {
    ++i;
    return 0xFFFD;
  }
  uint32_t cp = c & (len == 2 ? 0x1F : len == 3 ? 0x0F : 0x07);
  for (int k = 1; k < len; ++k) {
    unsigned char d = static_cast<unsigned char>(s[i + static_cast<size_t>(k)]);
    if ((d & 0xC0) != 0x80) {
      ++i;
      return 0xFFFD;
    }
    cp = (cp << 6) | (d & 0x3F);
  }
  i += static_cast<size_t>(len);
  return cp;
}

Script script_of(uint32_t cp) {
  if (cp < 0x80) return ((cp | 0x20) >= 'a' && (cp | 0x20) <= 'z') ? Script::Latin : Script::None;
  if (cp < 0xAA || cp == 0xD7 || cp == 0xF7) return Script::None;
  for (const Block& b : kBlocks) {
    if (cp < b.first) continue;
    if (cp <= b.last) return b.script;
  }
  if (cp == 0xFFFD) return Script::None;
  // Symbols, punctuation and spacing blocks are not letters; anything else is an unknown script.
  if ((cp >= 0x2000 && cp <= 0x2BFF) || (cp >= 0x3000 && cp <= 0x303F) || (cp >= 0xFF00 && cp <= 0xFF65) ||
      (cp >= 0xFE30 && cp <= 0xFE4F) || (cp >= 0x1F000 && cp <= 0x1FAFF) || cp < 0x0370)
    return Script::None;
  return Script::Other;
}

bool is_per_character_script(Script s) {
  return s == Script::Han || s == Script::Hiragana || s == Script::Katakana || s == Script::Hangul;
}

std::string strip_markup(std::string_view t) {
  std::string out;
  out.reserve(t.size());
  size_t i = 0, n = t.size();
  while (i < n) {
    if (starts_with(t, i, "```")) {  // fenced code: to the closing fence (or the end)
      size_t close = t.find("```", i + 3);
      i = close == std::string_view::npos ? n : close + 3;
      out += ' ';
      continue;
    }
    if (starts_with(t, i, "$$")) {
      size_t close = t.find("$$", i + 2);
      i = close == std::string_view::npos ? n : close + 2;
      out += ' ';
      continue;
    }
    if (starts_with(t, i, "\\[") || starts_with(t, i, "\\(")) {
      size_t close = t.find(t[i + 1] == '[' ? "\\]" : "\\)", i + 2);
      i = close == std::string_view::npos ? n : close + 2;
      out += ' ';
      continue;
    }
    if (t[i] == '$') {  // inline math on one line
      size_t j = i + 1;
      while (j < n && t[j] != '$' && t[j] != '\n') ++j;
      if (j < n && t[j] == '$') {
        i = j + 1;
        out += ' ';
        continue;
      }
      ++i;
      continue;
    }
    if (t[i] == '\\') {  // \command
      size_t j = i + 1;
      while (j < n && ((t[j] | 0x20) >= 'a' && (t[j] | 0x20) <= 'z')) ++j;
      i = j > i + 1 ? j : i + 2;
      out += ' ';
      continue;
    }
    out += t[i++];
  }
  return out;
}

void split_words(std::string_view text, std::vector<Word>& out) {
  size_t i = 0, n = text.size();
  size_t word_start = 0;
  Script current = Script::None;
  auto close_word = [&](size_t end) {
    if (current != Script::None) out.push_back(Word{current, text.substr(word_start, end - word_start)});
    current = Script::None;
  };
  while (i < n) {
    size_t start = i;
    uint32_t cp = next_code_point(text, i);
    if (is_combining_mark(cp) && current != Script::None) continue;  // accents stay in their word
    Script s = script_of(cp);
    if (s == Script::None) {
      close_word(start);
      continue;
    }
    if (is_per_character_script(s)) {
      close_word(start);
      out.push_back(Word{s, text.substr(start, i - start)});
      continue;
    }
    if (s != current) {
      close_word(start);
      current = s;
      word_start = start;
    }
  }
  close_word(n);
}

void language_words(std::string_view text, std::string& stripped, std::vector<Word>& words) {
  stripped = strip_markup(text);
  words.clear();
  split_words(stripped, words);
}

size_t count_in_scripts(const std::vector<Word>& words, const std::vector<Script>& target) {
  size_t hits = 0;
  for (const Word& w : words)
    if (std::find(target.begin(), target.end(), w.script) != target.end()) ++hits;
  return hits;
}

NgramCounts count_ngrams(const std::vector<Word>& words, size_t n) {
  NgramCounts c;
  if (n == 0 || words.size() < n) return c;
  std::vector<std::string> lowered;
  lowered.reserve(words.size());
  for (const Word& w : words) {
    std::string s(w.text);
    for (char& ch : s)
      if (ch >= 'A' && ch <= 'Z') ch = static_cast<char>(ch - 'A' + 'a');
    lowered.push_back(std::move(s));
  }
  std::unordered_set<std::string> distinct;
  c.total = lowered.size() - n + 1;
  std::string key;
  for (size_t i = 0; i < c.total; ++i) {
    key.clear();
    for (size_t k = 0; k < n; ++k) {
      key += lowered[i + k];
      key += '\x1f';
    }
    distinct.insert(key);
  }
  c.distinct = distinct.size();
  return c;
}

std::string_view chain_of_thought(std::string_view c) {
  size_t open = c.find("<think>");
  if (open != std::string_view::npos) {
    size_t begin = open + 7;
    size_t close = c.find("</think>", begin);
    return c.substr(begin, close == std::string_view::npos ? std::string_view::npos : close - begin);
  }
  size_t close = c.find("</think>");
  if (close != std::string_view::npos) return c.substr(0, close);
  return c;
}

std::vector<Script> scripts_of_language(const std::string& code_in) {
  std::string code;
  for (char c : code_in) {
    if (c == '-' || c == '_') break;
    code += static_cast<char>((c >= 'A' && c <= 'Z') ? c - 'A' + 'a' : c);
  }
  static const char* const kLatin[] = {"en", "de", "fr", "es", "it", "pt", "nl", "sv", "da", "no", "nb", "nn",
                                       "fi", "pl", "cs", "sk", "hu", "ro", "tr", "id", "ms", "vi", "sw", "tl",
                                       "ca", "hr", "sl", "et", "lv", "lt", "af", "eu", "gl", "is", "ga", "cy",
                                       "sq", "az", "uz", "yo", "ha", "ig", "zu", "xh", "so", "mt", "lb", "bs",
                                       "la", "eo", "jv", "su", "fil", "tk", "qu", "mi", "sm", "haw"};
  for (const char* l : kLatin)
    if (code == l) return {Script::Latin};
  static const std::pair<const char*, Script> kOther[] = {
      {"ru", Script::Cyrillic}, {"uk", Script::Cyrillic}, {"be", Script::Cyrillic}, {"bg", Script::Cyrillic},
      {"sr", Script::Cyrillic}, {"mk", Script::Cyrillic}, {"kk", Script::Cyrillic}, {"ky", Script::Cyrillic},
      {"tg", Script::Cyrillic}, {"mn", Script::Cyrillic}, {"el", Script::Greek},    {"hy", Script::Armenian},
      {"he", Script::Hebrew},   {"yi", Script::Hebrew},   {"ar", Script::Arabic},   {"fa", Script::Arabic},
      {"ur", Script::Arabic},   {"ps", Script::Arabic},   {"ug", Script::Arabic},   {"hi", Script::Devanagari},
      {"mr", Script::Devanagari}, {"ne", Script::Devanagari}, {"sa", Script::Devanagari}, {"bn", Script::Bengali},
      {"as", Script::Bengali},  {"pa", Script::Gurmukhi}, {"gu", Script::Gujarati}, {"or", Script::Oriya},
      {"ta", Script::Tamil},    {"te", Script::Telugu},   {"kn", Script::Kannada},  {"ml", Script::Malayalam},
      {"si", Script::Sinhala},  {"th", Script::Thai},     {"lo", Script::Lao},      {"bo", Script::Tibetan},
      {"my", Script::Myanmar},  {"ka", Script::Georgian}, {"ko", Script::Hangul},   {"am", Script::Ethiopic},
      {"ti", Script::Ethiopic}, {"km", Script::Khmer},    {"zh", Script::Han}};
  for (const auto& [l, s] : kOther)
    if (code == l) return {s};
  if (code == "ja") return {Script::Han, Script::Hiragana, Script::Katakana};
  return {};
}

std::vector<Script> detect_scripts(std::string_view text, std::string* label) {
  std::vector<Word> words;
  split_words(strip_markup(text), words);
  std::array<size_t, static_cast<size_t>(Script::Other) + 1> counts{};
  for (const Word& w : words) ++counts[static_cast<size_t>(w.script)];
  if (words.empty()) return {};
  size_t kana = counts[static_cast<size_t>(Script::Hiragana)] + counts[static_cast<size_t>(Script::Katakana)];
  size_t han = counts[static_cast<size_t>(Script::Han)];
  if (kana > 0 && kana + han >= words.size() / 2) {
    if (label) *label = "ja";
    return {Script::Han, Script::Hiragana, Script::Katakana};
  }
  size_t best = 1;
  for (size_t s = 1; s < counts.size(); ++s)
    if (counts[s] > counts[best]) best = s;
  Script top = static_cast<Script>(best);
  if (label) *label = top == Script::Han ? "zh" : top == Script::Hangul ? "ko" : script_name(top);
  return {top};
}

}  // namespace r1::rewards
