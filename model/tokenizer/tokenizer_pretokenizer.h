// Pre-tokenizers of HF tokenizer.json ("pre_tokenizer": {...}): cut normalised text into pieces that
// the model (BPE) encodes independently, and apply the byte-level alphabet.
//
// Supported types: Split (String or Regex pattern; behaviours Isolated, Removed, MergedWithPrevious,
// MergedWithNext, Contiguous; invert), ByteLevel (add_prefix_space, use_regex with GPT-2's pattern),
// Digits, Metaspace (replacement, prepend_scheme always/first/never, split), Whitespace,
// WhitespaceSplit, and Sequence of these. Anything else is a clear error naming the type.
//
// The byte-level alphabet (GPT-2's bytes_to_unicode) maps each byte to one printable character: the 188
// printable Latin-1 bytes map to themselves and the other 68 to U+0100.. in byte order, so "Ġ" (U+0120)
// is the space byte 0x20. Pieces are rewritten into that alphabet before BPE, and decode maps back.
//
// Departure: the reference keeps offsets; here a piece is only its text plus one bit — whether it begins
// at byte 0 of the input (Metaspace's "first" scheme needs exactly that).
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/json.h"
#include "model/tokenizer/tokenizer_regex.h"

namespace r1::model {

struct Piece {
  std::string text;
  bool at_start = false;  // begins at byte 0 of the original input
};

class PreTokenizer {
 public:
  virtual ~PreTokenizer() = default;
  // Replaces each piece by its sub-pieces (empty pieces are dropped).
  virtual void apply(std::vector<Piece>& pieces) const = 0;
  // True when this pre-tokenizer (or a part of it) maps text to the byte-level alphabet.
  virtual bool byte_level() const { return false; }
};

// Builds the pre-tokenizer described by v (null → nullptr). `where` names the file and key for errors.
std::unique_ptr<PreTokenizer> make_pre_tokenizer(const json::Value& v, const std::string& where);

enum class SplitBehavior { kRemoved, kIsolated, kMergedWithPrevious, kMergedWithNext, kContiguous };
SplitBehavior parse_split_behavior(const std::string& name, const std::string& where);

// Applies a behaviour to alternating (span, is_match) splits; returns the spans to keep (may be empty).
std::vector<Span> apply_split_behavior(const std::vector<std::pair<Span, bool>>& splits, SplitBehavior behavior);

// GPT-2 byte-level alphabet: the UTF-8 form of the character for each byte, and the inverse (-1 when a
// code point is not in the alphabet).
const std::array<std::string, 256>& byte_level_alphabet();
int byte_level_byte(int32_t code_point);
// Rewrites raw bytes into the alphabet.
std::string to_byte_level(std::string_view bytes);

}  // namespace r1::model
