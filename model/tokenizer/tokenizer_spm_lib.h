// Access to libsentencepiece through the dlopen()ed shim (see sentencepiece_shim/sentencepiece_shim.h for why
// r1 never links libsentencepiece directly). SentencePieceLib mirrors the handful of
// sentencepiece::SentencePieceProcessor calls the tokenizer needs; errors become r1::Error.
//
// The shim is looked for, in order: $R1_SENTENCEPIECE_SHIM; the path the build tree recorded; next to the
// running executable (libr1_sentencepiece.so); ../lib relative to it.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace r1::model {

class SentencePieceLib {
 public:
  explicit SentencePieceLib(const std::string& model_path);  // loads the .model file; throws r1::Error
  ~SentencePieceLib();
  SentencePieceLib(const SentencePieceLib&) = delete;
  SentencePieceLib& operator=(const SentencePieceLib&) = delete;

  int GetPieceSize() const;
  int bos_id() const;
  int eos_id() const;
  int pad_id() const;
  int PieceToId(const std::string& piece) const;
  std::string IdToPiece(int id) const;
  bool IsControl(int id) const;
  bool IsUnknown(int id) const;
  void Encode(const std::string& text, std::vector<int>* ids) const;    // throws on failure
  void Decode(const std::vector<int>& ids, std::string* text) const;  // throws on failure

  // The shim's path (after the search), for messages.
  static std::string shim_path();

  struct Api;  // the shim's function table (defined in tokenizer_spm_lib.cpp)

 private:
  const Api* api_;
  void* handle_ = nullptr;
  std::string path_;
};

}  // namespace r1::model
