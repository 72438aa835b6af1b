// See sentencepiece_shim.h: a thin C ABI over sentencepiece::SentencePieceProcessor.
#include "model/tokenizer/sentencepiece_shim/sentencepiece_shim.h"

#include <sentencepiece_processor.h>

#include <string>
#include <vector>

namespace {
sentencepiece::SentencePieceProcessor* sp(void* h) { return static_cast<sentencepiece::SentencePieceProcessor*>(h); }
void send(r1_spm_sink sink, void* ctx, const std::string& s) {
  if (sink) sink(ctx, s.data(), s.size());
}
}  // namespace

extern "C" {

void* r1_spm_open(const char* path, r1_spm_sink err, void* err_context) {
  auto* p = new sentencepiece::SentencePieceProcessor();
  const auto status = p->Load(path);
  if (!status.ok()) {
    send(err, err_context, status.ToString());
    delete p;
    return nullptr;
  }
  return p;
}

void r1_spm_close(void* handle) { delete sp(handle); }
int32_t r1_spm_piece_size(void* handle) { return sp(handle)->GetPieceSize(); }
int32_t r1_spm_bos_id(void* handle) { return sp(handle)->bos_id(); }
int32_t r1_spm_eos_id(void* handle) { return sp(handle)->eos_id(); }
int32_t r1_spm_pad_id(void* handle) { return sp(handle)->pad_id(); }

int32_t r1_spm_piece_to_id(void* handle, const char* piece, size_t size) {
  return sp(handle)->PieceToId(std::string(piece, size));
}

void r1_spm_id_to_piece(void* handle, int32_t id, r1_spm_sink out, void* context) {
  send(out, context, sp(handle)->IdToPiece(id));
}

int r1_spm_is_control(void* handle, int32_t id) { return sp(handle)->IsControl(id) ? 1 : 0; }
int r1_spm_is_unknown(void* handle, int32_t id) { return sp(handle)->IsUnknown(id) ? 1 : 0; }

int r1_spm_encode(void* handle, const char* text, size_t size, r1_spm_sink out, void* context, r1_spm_sink err,
                  void* err_context) {
  std::vector<int> ids;
  const auto status = sp(handle)->Encode(std::string(text, size), &ids);
  if (!status.ok()) {
    send(err, err_context, status.ToString());
    return 1;
  }
  std::vector<int32_t> ids32(ids.begin(), ids.end());
  if (out) out(context, reinterpret_cast<const char*>(ids32.data()), ids32.size() * sizeof(int32_t));
  return 0;
}

int r1_spm_decode(void* handle, const int32_t* ids, size_t n, r1_spm_sink out, void* context, r1_spm_sink err,
                  void* err_context) {
  std::vector<int> v(ids, ids + n);
  std::string text;
  const auto status = sp(handle)->Decode(v, &text);
  if (!status.ok()) {
    send(err, err_context, status.ToString());
    return 1;
  }
  send(out, context, text);
  return 0;
}
}
