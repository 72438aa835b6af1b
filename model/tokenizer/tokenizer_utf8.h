// UTF-8 helpers shared by the tokenizers: decoding one code point with a validity verdict, the lossy
// conversion that HF `tokenizers` applies after decoding (Rust's String::from_utf8_lossy), and the
// whitespace classes the reference libraries use.
//
// What it is not: a Unicode library. Normalisation (NFC, lowercase) lives in tokenizer_normalizer.cpp
// on ICU; character classes for pre-tokenisation live in the PCRE2 regexes.
//
// The non-obvious part is the lossy conversion: Rust replaces each *maximal subpart* of an ill-formed
// sequence (Unicode 15, section 3.9, "U+FFFD substitution of maximal subparts") with one U+FFFD, so
// "\xE6\xB7" (a truncated 3-byte character) becomes one U+FFFD, while "\xFF\xFE" becomes two. Byte-for-
// byte agreement with that rule is what makes decode() match the reference on partial characters.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace r1::model::utf8 {

// Decodes the code point starting at s[i]. Returns its length in bytes (1..4) and sets *cp; for an
// ill-formed sequence returns the length of its maximal subpart (>= 1) and sets *cp = -1.
size_t next(std::string_view s, size_t i, int32_t* cp);

// True when s is well-formed UTF-8.
bool is_valid(std::string_view s);

// s with every maximal ill-formed subpart replaced by U+FFFD (Rust's String::from_utf8_lossy).
std::string to_valid(std::string_view s);

// Appends the UTF-8 encoding of a code point (0..0x10FFFF, surrogates excluded by the caller).
void append(std::string& out, uint32_t cp);

// Unicode White_Space (Rust's char::is_whitespace, Oniguruma's \s).
bool is_white_space(int32_t cp);

// Python's str.isspace() (what Jinja's |trim strips): White_Space plus U+001C..U+001F.
bool is_python_space(int32_t cp);

// Python's str.strip(): removes is_python_space characters at both ends.
std::string python_strip(std::string_view s);

// Length in bytes of the longest prefix of s that ends on a complete character, treating a trailing
// *incomplete but so far valid* sequence (e.g. "\xE6\xB7") as not yet complete. Used by streaming decode.
size_t complete_prefix_length(std::string_view s);

}  // namespace r1::model::utf8
