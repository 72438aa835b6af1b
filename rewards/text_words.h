// Words and writing systems of model text, for the language-consistency and repetition rewards (and the
// readability filters of datasets/filters/, which count words the same way through the helpers below).
//
// A "word" follows the rule of the R1 paper's language-consistency reward as the issue states it:
// each CJK ideograph, kana and hangul syllable is one word (those scripts do not separate words with
// spaces); a maximal run of letters of any other single script is one word ("naïve", "Привет"); digits,
// punctuation, symbols, LaTeX math ($...$, $$...$$, \(...\), \[...\]), LaTeX commands (\frac) and fenced
// code (```...```) are not words. Scripts are told apart by Unicode block (a table below), which is
// enough to tell the languages R1 cares about apart at the script level — it cannot tell English from
// French (both Latin); see docs/rewards.md. Invalid UTF-8 bytes are skipped, never fatal.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace r1::rewards {

enum class Script : uint8_t {
  None,  // not a letter: digits, punctuation, spaces, symbols
  Latin, Greek, Cyrillic, Armenian, Hebrew, Arabic, Devanagari, Bengali, Gurmukhi, Gujarati, Oriya, Tamil,
  Telugu, Kannada, Malayalam, Sinhala, Thai, Lao, Tibetan, Myanmar, Georgian, Hangul, Ethiopic, Khmer,
  Mongolian, Hiragana, Katakana, Han,
  Other,  // a letter of a script not in the table
};

const char* script_name(Script s);

// Decodes the code point at text[i] and advances i (by 1 and returns U+FFFD on an invalid byte).
uint32_t next_code_point(std::string_view text, size_t& i);
Script script_of(uint32_t code_point);
// Han, kana and hangul: one word per character.
bool is_per_character_script(Script s);

struct Word {
  Script script;
  std::string_view text;
};

// Removes fenced code blocks, LaTeX math and LaTeX command names (keeping the rest of the text).
std::string strip_markup(std::string_view text);
// Splits already stripped text into words (appends to out).
void split_words(std::string_view text, std::vector<Word>& out);

// The words the language reward counts: `stripped` = strip_markup(text), `words` = split_words(stripped)
// (views into `stripped`, which the caller keeps alive and unchanged while it uses them).
void language_words(std::string_view text, std::string& stripped, std::vector<Word>& words);
// How many of `words` are written in one of the `target` scripts (the language reward's numerator).
size_t count_in_scripts(const std::vector<Word>& words, const std::vector<Script>& target);

// n-gram repetition as the repetition reward counts it: words lower-cased (ASCII letters), every run of n
// consecutive words is an n-gram; `total` n-grams of which `distinct` differ (both 0 when there are fewer
// than n words).
struct NgramCounts {
  size_t total = 0;
  size_t distinct = 0;
};
NgramCounts count_ngrams(const std::vector<Word>& words, size_t n);

// The chain of thought of a completion: inside <think>...</think> when present, the text before a lone
// </think> (the prompt opened the block), else the whole completion.
std::string_view chain_of_thought(std::string_view completion);

// The set of scripts of a language code ("en", "zh", "ja", "ru", "pt-BR", ...); empty if unknown.
std::vector<Script> scripts_of_language(const std::string& code);
// The dominant writing system of a text (e.g. a prompt), as a language code for logs and a script set:
// Han with kana -> "ja", Han -> "zh", Hangul -> "ko", Latin -> "latin", Cyrillic -> "cyrillic", ...
// Empty when the text has no words.
std::vector<Script> detect_scripts(std::string_view text, std::string* label = nullptr);

}  // namespace r1::rewards
