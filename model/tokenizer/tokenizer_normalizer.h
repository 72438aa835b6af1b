// Normalizers of HF tokenizer.json ("normalizer": {...}): text → text before pre-tokenisation.
//
// Supported types: NFC, NFD, NFKC, NFKD (ICU), Lowercase (ICU root-locale full case mapping, like Rust's
// str::to_lowercase), Strip, Prepend, Replace (String or Regex pattern) and Sequence of these. Anything
// else (Precompiled sentencepiece charsmaps, BertNormalizer, ...) is a clear error naming the type.
//
// What it is not: offset tracking. The reference keeps an alignment from normalised to original bytes;
// r1 only needs ids, so normalizers rewrite the string in place.
//
// Invalid UTF-8 is left as it is: only its well-formed runs are normalised.
#pragma once

#include <memory>
#include <string>

#include "common/json.h"

namespace r1::model {

class Normalizer {
 public:
  virtual ~Normalizer() = default;
  virtual void normalize(std::string& s) const = 0;
};

// Builds the normalizer described by v (null → nullptr). `where` names the file and key for errors.
std::unique_ptr<Normalizer> make_normalizer(const json::Value& v, const std::string& where);

// Unicode normalisation of a string: form is "NFC", "NFD", "NFKC" or "NFKD".
std::string unicode_normalize(const std::string& s, const std::string& form);

}  // namespace r1::model
