// Tokenizer of normalised answers for the math parser (math_parser.h).
//
// Tokens point into the normalised string (string_view), so the string must outlive them. The lexer
// decides the two things that need raw characters: number literals (digits, a decimal point, an
// exponent, thousands groups "7,425,000" / "7 425 000") and LaTeX groups whose content is not math
// (\text{...}, \operatorname{...}, \begin{...}). Everything else is a one- or two-character operator,
// a bracket, a letter, a word (2+ letters or non-ASCII bytes) or a \command.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace r1::rewards::math {

enum class Tok : unsigned char {
  Eof,
  Number,    // "7425000" with separators kept: "7,425,000"
  Letter,    // one ASCII letter
  Word,      // 2+ ASCII letters, a run of non-ASCII bytes, or an \operatorname{...} name
  Command,   // \name (text = name without the backslash)
  Text,      // \text{...} content (trimmed, never empty)
  Op,        // + - * / ^ _ ! = < > <= >= != == , ; | ' : % and other single characters
  Open,      // ( [ { \{
  Close,     // ) ] } \}
  RowSep,    // \\ (matrix rows)
  ColSep,    // & (matrix columns)
  EnvBegin,  // \begin{name}: text = name
  EnvEnd,    // \end{name}
};

struct Token {
  Tok type = Tok::Eof;
  std::string_view text;
  bool space_before = false;  // whitespace separated it from the previous token
};

// Splits `text` into tokens (ending with one Eof). False when there are more than max_tokens tokens.
bool tokenize(std::string_view text, size_t max_tokens, std::vector<Token>& out);

}  // namespace r1::rewards::math
