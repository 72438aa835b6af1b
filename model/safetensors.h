// safetensors reading and writing (the Hugging Face checkpoint format).
//
// File layout: u64 little-endian header length N, N bytes of JSON header
//   {"__metadata__": {str: str}, "<name>": {"dtype": "F32", "shape": [..], "data_offsets": [begin, end]}, ...}
// then the data buffer; offsets are relative to the buffer start. Files are memory-mapped; every header
// field is validated against the file size before any byte is read (a truncated file or a header that
// lies about sizes is an r1::Error naming the file and the tensor, never a crash).
//
// A checkpoint is a directory holding model.safetensors or shards listed in model.safetensors.index.json
// ({"metadata": {...}, "weight_map": {"<name>": "model-00001-of-00002.safetensors"}}), or a single file.
// FP8 (F8_E4M3) weights with a sibling "<name>_scale_inv" ([ceil(N/128), ceil(K/128)] fp32, the
// DeepSeek-V3 release format) are dequantised on load by load_dequantized().
//
// What the reader accepts, exactly: header length 1..100 MB (the reference implementation's cap) and
// within the file; the header starts with '{' and is one JSON object (parsed iteratively, so deeply nested
// junk cannot overflow the stack); no duplicate keys; "__metadata__" maps strings to strings; each tensor
// has a known dtype, a shape of non-negative integers whose byte size does not overflow, and data_offsets
// [begin, end] with end - begin == numel * dtype_size, end within the data buffer, and no two non-empty
// tensors overlapping (in any order). Departure from the reference reader: gaps between tensors and
// trailing bytes after the last one are tolerated (the reference rejects them); nothing is read from them.
//
// What the writer produces matches the reference writer byte for byte (checked in the tests by
// re-saving the golden fixtures): tensors ordered by dtype (8-byte types first, BOOL last, the reference's
// order, so every tensor is aligned to its element size) then by name, the header listed in data order
// with "__metadata__" first (omitted when empty), compact JSON padded with spaces to a multiple of 8 bytes,
// little-endian data. Files are written to a temporary sibling, fsync'ed and renamed into place.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <ATen/ATen.h>

namespace r1::model {

struct TensorInfo {
  std::string name;
  std::string dtype;           // safetensors dtype string: "F32", "BF16", "F16", "F8_E4M3", "I64", ...
  std::vector<int64_t> shape;
  uint64_t begin = 0, end = 0;  // byte offsets into the data buffer
};

// The validated header of a safetensors file.
struct SafetensorsHeader {
  std::vector<TensorInfo> tensors;              // in header order
  std::map<std::string, std::string> metadata;  // "__metadata__", empty when absent
  size_t data_start = 0;                        // byte offset of the data buffer in the file (8 + N)
};

// Parses and validates the header of a safetensors file held in bytes[0, file_size) (only the first
// 8 + N bytes are read). `origin` names the file in errors. Throws r1::Error; never reads out of bounds.
// This is what SafetensorsFile runs after mapping the file, and what the fuzz target exercises.
SafetensorsHeader parse_safetensors_header(const uint8_t* bytes, size_t file_size, const std::string& origin);

// One memory-mapped .safetensors file.
class SafetensorsFile {
 public:
  explicit SafetensorsFile(const std::string& path);  // maps and validates; throws r1::Error
  ~SafetensorsFile();
  SafetensorsFile(const SafetensorsFile&) = delete;
  SafetensorsFile& operator=(const SafetensorsFile&) = delete;

  const std::string& path() const { return path_; }
  const std::vector<TensorInfo>& tensors() const { return tensors_; }
  const std::map<std::string, std::string>& metadata() const { return metadata_; }
  const TensorInfo* find(const std::string& name) const;
  // Copies the tensor out of the mapping into an owned CPU tensor of its stored dtype (F8_E4M3 comes
  // back as uint8 with the same shape). Throws r1::Error naming file and tensor if missing (or, for BOOL,
  // if a byte is neither 0 nor 1).
  at::Tensor load(const std::string& name) const;

 private:
  std::string path_;
  int fd_ = -1;
  const uint8_t* map_ = nullptr;
  size_t map_size_ = 0;
  size_t data_start_ = 0;
  std::vector<TensorInfo> tensors_;
  std::map<std::string, size_t> index_;
  std::map<std::string, std::string> metadata_;
};

// A checkpoint: a directory (single file or sharded with an index) or one .safetensors file.
class Checkpoint {
 public:
  explicit Checkpoint(const std::string& path);
  const std::string& path() const { return path_; }
  std::vector<std::string> names() const;  // every tensor name, sorted
  bool contains(const std::string& name) const;
  const TensorInfo& info(const std::string& name) const;  // throws naming the checkpoint if missing
  // The file holding `name` (for error messages); throws like info().
  const std::string& file_of(const std::string& name) const;
  at::Tensor load(const std::string& name) const;       // stored dtype
  // Loads `name` and checks that it is stored exactly as `expected_dtype` (a safetensors dtype string,
  // e.g. "I64") with `expected_shape` (not checked when empty); the error names the file, the tensor,
  // and the expected and found dtype or shape.
  at::Tensor load_checked(const std::string& name, const std::string& expected_dtype,
                          const std::vector<int64_t>& expected_shape = {}) const;
  at::Tensor load_checked(const std::string& name, at::ScalarType expected_dtype,
                          const std::vector<int64_t>& expected_shape = {}) const;
  // Loads `name` converted to the floating-point `dtype`; an F8_E4M3 tensor is dequantised with its
  // "<name>_scale_inv" sibling (128×128 blocks, ragged at the edges). Checks the shape when
  // `expected_shape` is non-empty (error names the file, tensor, expected and found shapes). A stored
  // integer or BOOL tensor is an error (a weight was expected).
  at::Tensor load_dequantized(const std::string& name, at::ScalarType dtype,
                                 const std::vector<int64_t>& expected_shape = {}) const;

 private:
  std::string path_;
  std::vector<std::unique_ptr<SafetensorsFile>> files_;
  std::map<std::string, std::pair<size_t, size_t>> where_;  // name → (file index, tensor index)
};

// Writes tensors (any CPU dtype among F32/BF16/F16/F64/I64/I32/I16/I8/U8/BOOL) to one file atomically.
// uint8 tensors whose names are in `stored_as_f8_e4m3` are tagged F8_E4M3 (FP8 travels as uint8).
// Names must be unique, non-empty and not "__metadata__". Non-contiguous or non-CPU tensors are copied.
void save_safetensors(const std::string& path, const std::vector<std::pair<std::string, at::Tensor>>& tensors,
                      const std::map<std::string, std::string>& metadata = {{"format", "pt"}},
                      const std::set<std::string>& stored_as_f8_e4m3 = {});

// Writes tensors into dir as model.safetensors, or as model-0000k-of-0000n.safetensors shards plus
// model.safetensors.index.json when their total exceeds max_shard_bytes. Each file is written atomically.
// Shards are filled greedily in the caller's order (a tensor larger than the limit gets a shard of its
// own, as HF does). Stale files of an earlier save into the same dir (another shard count, or an index
// left over when the new save is a single file) are removed after the new files are in place.
void save_checkpoint_tensors(const std::string& dir, const std::vector<std::pair<std::string, at::Tensor>>& tensors,
                             uint64_t max_shard_bytes = 5ull << 30,
                             const std::set<std::string>& stored_as_f8_e4m3 = {});

// dtype string ↔ ATen dtype ("F8_E4M3" maps to kByte: FP8 travels as uint8 + scales, see kernels/).
at::ScalarType dtype_from_safetensors(const std::string& dtype, const std::string& where);
std::string dtype_to_safetensors(at::ScalarType dtype);
size_t dtype_size(const std::string& dtype);  // bytes per element; throws for unknown

}  // namespace r1::model
