// C ABI of the sentencepiece shim (libr1_sentencepiece.so), the only code that links libsentencepiece.
//
// Why a shim: Debian's libsentencepiece.so exports its own bundled copy of protobuf-lite (~750 symbols),
// and LibTorch loads the system libprotobuf.so. With both in the global symbol scope, libprotobuf's static
// initialisers bind to sentencepiece's copies and the process crashes before main(). So r1 never links
// libsentencepiece: model/tokenizer/tokenizer_spm.cpp dlopen()s this shim with RTLD_LOCAL | RTLD_DEEPBIND, which keeps
// sentencepiece's symbols out of the global scope and makes it bind to its own protobuf first.
//
// Strings come back through a sink callback (no ownership crosses the boundary); errors come back as a
// message through the same kind of sink and a non-zero return.
#pragma once

#include <cstddef>
#include <cstdint>

extern "C" {

typedef void (*r1_spm_sink)(void* context, const char* data, size_t size);

// Loads a .model file; returns a handle or null (the error text goes to err).
void* r1_spm_open(const char* path, r1_spm_sink err, void* err_context);
void r1_spm_close(void* handle);

int32_t r1_spm_piece_size(void* handle);
int32_t r1_spm_bos_id(void* handle);
int32_t r1_spm_eos_id(void* handle);
int32_t r1_spm_pad_id(void* handle);
int32_t r1_spm_piece_to_id(void* handle, const char* piece, size_t size);
void r1_spm_id_to_piece(void* handle, int32_t id, r1_spm_sink out, void* context);
int r1_spm_is_control(void* handle, int32_t id);
int r1_spm_is_unknown(void* handle, int32_t id);

// text → ids (written through `out` as int32 values); returns 0 on success.
int r1_spm_encode(void* handle, const char* text, size_t size, r1_spm_sink out, void* context, r1_spm_sink err,
                  void* err_context);
// ids → text; returns 0 on success.
int r1_spm_decode(void* handle, const int32_t* ids, size_t n, r1_spm_sink out, void* context, r1_spm_sink err,
                  void* err_context);
}
