// Decoders of HF tokenizer.json ("decoder": {...}): token strings → text.
//
// Supported types: ByteLevel (byte-level alphabet back to bytes; a token with a character outside the
// alphabet, e.g. "<｜User｜>", contributes its own UTF-8 bytes), ByteFallback ("<0xE6>" tokens back to
// bytes, U+FFFD per byte when a run is not valid UTF-8), Fuse, Strip, Replace, Metaspace, and Sequence.
// Anything else is a clear error naming the type.
//
// Like the reference, every token goes through the decoder chain, added tokens included, and the
// ByteLevel decoder applies Rust's from_utf8_lossy to the bytes it produced.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "common/json.h"

namespace r1::model {

class Decoder {
 public:
  virtual ~Decoder() = default;
  // Rewrites the token list in place (a decoder may fuse tokens into one).
  virtual void decode_chain(std::vector<std::string>& tokens) const = 0;
};

// Builds the decoder described by v (null → nullptr). `where` names the file and key for errors.
std::unique_ptr<Decoder> make_decoder(const json::Value& v, const std::string& where);

}  // namespace r1::model
