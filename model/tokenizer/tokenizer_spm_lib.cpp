// See tokenizer_spm_lib.h.
#include "model/tokenizer/tokenizer_spm_lib.h"

#include <dlfcn.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <mutex>

#include "common/error.h"
#include "model/tokenizer/sentencepiece_shim/sentencepiece_shim.h"

namespace r1::model {

struct SentencePieceLib::Api {
  decltype(&r1_spm_open) open;
  decltype(&r1_spm_close) close;
  decltype(&r1_spm_piece_size) piece_size;
  decltype(&r1_spm_bos_id) bos_id;
  decltype(&r1_spm_eos_id) eos_id;
  decltype(&r1_spm_pad_id) pad_id;
  decltype(&r1_spm_piece_to_id) piece_to_id;
  decltype(&r1_spm_id_to_piece) id_to_piece;
  decltype(&r1_spm_is_control) is_control;
  decltype(&r1_spm_is_unknown) is_unknown;
  decltype(&r1_spm_encode) encode;
  decltype(&r1_spm_decode) decode;
};

namespace {

void append_sink(void* ctx, const char* data, size_t size) { static_cast<std::string*>(ctx)->append(data, size); }

std::vector<std::string> candidate_paths() {
  std::vector<std::string> out;
  if (const char* env = std::getenv("R1_SENTENCEPIECE_SHIM"); env && *env) out.emplace_back(env);
#ifdef R1_SPM_SHIM_PATH
  out.emplace_back(R1_SPM_SHIM_PATH);
#endif
  char exe[4096];
  ssize_t n = ::readlink("/proc/self/exe", exe, sizeof(exe) - 1);
  if (n > 0) {
    std::string dir(exe, static_cast<size_t>(n));
    dir = dir.substr(0, dir.find_last_of('/'));
    out.push_back(dir + "/libr1_sentencepiece.so");
    out.push_back(dir + "/../lib/libr1_sentencepiece.so");
  }
  return out;
}

struct Loaded {
  SentencePieceLib::Api* api = nullptr;
  std::string path, error;
};

template <class F>
F sym(void* lib, const char* name, std::string& error) {
  void* p = ::dlsym(lib, name);
  if (p == nullptr && error.empty()) error = std::string("missing symbol ") + name;
  return reinterpret_cast<F>(p);
}

}  // namespace

static const Loaded& load_api() {
  static Loaded loaded;
  static std::once_flag once;
  std::call_once(once, [] {
    std::string tried;
    for (const std::string& path : candidate_paths()) {
      if (::access(path.c_str(), R_OK) != 0) {
        tried += "\n  " + path + " (absent)";
        continue;
      }
      // RTLD_LOCAL keeps sentencepiece's bundled protobuf out of the global scope; RTLD_DEEPBIND makes it
      // resolve its own symbols before LibTorch's libprotobuf.
      void* lib = ::dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL | RTLD_DEEPBIND);
      if (lib == nullptr) {
        tried += "\n  " + path + " (" + ::dlerror() + ")";
        continue;
      }
      auto* api = new SentencePieceLib::Api();
      std::string error;
      api->open = sym<decltype(api->open)>(lib, "r1_spm_open", error);
      api->close = sym<decltype(api->close)>(lib, "r1_spm_close", error);
      api->piece_size = sym<decltype(api->piece_size)>(lib, "r1_spm_piece_size", error);
      api->bos_id = sym<decltype(api->bos_id)>(lib, "r1_spm_bos_id", error);
      api->eos_id = sym<decltype(api->eos_id)>(lib, "r1_spm_eos_id", error);
      api->pad_id = sym<decltype(api->pad_id)>(lib, "r1_spm_pad_id", error);
      api->piece_to_id = sym<decltype(api->piece_to_id)>(lib, "r1_spm_piece_to_id", error);
      api->id_to_piece = sym<decltype(api->id_to_piece)>(lib, "r1_spm_id_to_piece", error);
      api->is_control = sym<decltype(api->is_control)>(lib, "r1_spm_is_control", error);
      api->is_unknown = sym<decltype(api->is_unknown)>(lib, "r1_spm_is_unknown", error);
      api->encode = sym<decltype(api->encode)>(lib, "r1_spm_encode", error);
      api->decode = sym<decltype(api->decode)>(lib, "r1_spm_decode", error);
      if (!error.empty()) {
        tried += "\n  " + path + " (" + error + ")";
        delete api;
        continue;
      }
      loaded.api = api;
      loaded.path = path;
      return;
    }
    loaded.error = "the sentencepiece support library libr1_sentencepiece.so could not be loaded; tried:" + tried +
                   "\nBuild the r1_sentencepiece target or set R1_SENTENCEPIECE_SHIM to its path.";
  });
  return loaded;
}

std::string SentencePieceLib::shim_path() { return load_api().path; }

SentencePieceLib::SentencePieceLib(const std::string& model_path) : path_(model_path) {
  const Loaded& l = load_api();
  R1_CHECK(l.api != nullptr, model_path, ": ", l.error);
  api_ = l.api;
  std::string err;
  handle_ = api_->open(model_path.c_str(), append_sink, &err);
  R1_CHECK(handle_ != nullptr, model_path, ": not a loadable sentencepiece model: ", err);
}

SentencePieceLib::~SentencePieceLib() {
  if (handle_) api_->close(handle_);
}

int SentencePieceLib::GetPieceSize() const { return api_->piece_size(handle_); }
int SentencePieceLib::bos_id() const { return api_->bos_id(handle_); }
int SentencePieceLib::eos_id() const { return api_->eos_id(handle_); }
int SentencePieceLib::pad_id() const { return api_->pad_id(handle_); }
int SentencePieceLib::PieceToId(const std::string& piece) const {
  return api_->piece_to_id(handle_, piece.data(), piece.size());
}
std::string SentencePieceLib::IdToPiece(int id) const {
  std::string out;
  api_->id_to_piece(handle_, id, append_sink, &out);
  return out;
}
bool SentencePieceLib::IsControl(int id) const { return api_->is_control(handle_, id) != 0; }
bool SentencePieceLib::IsUnknown(int id) const { return api_->is_unknown(handle_, id) != 0; }

void SentencePieceLib::Encode(const std::string& text, std::vector<int>* ids) const {
  std::string bytes, err;
  R1_CHECK(api_->encode(handle_, text.data(), text.size(), append_sink, &bytes, append_sink, &err) == 0, path_,
           ": sentencepiece encode failed: ", err);
  const size_t n = bytes.size() / sizeof(int32_t);
  ids->resize(n);
  for (size_t i = 0; i < n; ++i) {
    int32_t v;
    std::memcpy(&v, bytes.data() + i * sizeof(int32_t), sizeof(v));
    (*ids)[i] = v;
  }
}

void SentencePieceLib::Decode(const std::vector<int>& ids, std::string* text) const {
  std::vector<int32_t> v(ids.begin(), ids.end());
  std::string err;
  text->clear();
  R1_CHECK(api_->decode(handle_, v.data(), v.size(), append_sink, text, append_sink, &err) == 0, path_,
           ": sentencepiece decode failed: ", err);
}

}  // namespace r1::model
