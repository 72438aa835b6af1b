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
#pragma once

#include <cstdint>
#include <map>
#include <memory>
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
  // back as uint8 with the same shape). Throws r1::Error naming file and tensor if missing.
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
  at::Tensor load(const std::string& name) const;       // stored dtype
  // Loads `name` converted to `dtype`; an F8_E4M3 tensor is dequantised with its "<name>_scale_inv"
  // sibling (128×128 blocks). Checks the shape when `expected_shape` is non-empty (error names the file,
  // tensor, expected and found shapes).
  at::Tensor load_dequantized(const std::string& name, at::ScalarType dtype,
                                 const std::vector<int64_t>& expected_shape = {}) const;

 private:
  std::string path_;
  std::vector<std::unique_ptr<SafetensorsFile>> files_;
  std::map<std::string, std::pair<size_t, size_t>> where_;  // name → (file index, tensor index)
};

// Writes tensors (any CPU dtype among F32/BF16/F16/F64/I64/I32/I16/I8/U8/BOOL) to one file atomically.
void save_safetensors(const std::string& path, const std::vector<std::pair<std::string, at::Tensor>>& tensors,
                      const std::map<std::string, std::string>& metadata = {{"format", "pt"}});

// Writes tensors into dir as model.safetensors, or as model-0000k-of-0000n.safetensors shards plus
// model.safetensors.index.json when their total exceeds max_shard_bytes. Each file is written atomically.
void save_checkpoint_tensors(const std::string& dir, const std::vector<std::pair<std::string, at::Tensor>>& tensors,
                             uint64_t max_shard_bytes = 5ull << 30);

// dtype string ↔ ATen dtype ("F8_E4M3" maps to kByte: FP8 travels as uint8 + scales, see kernels/).
at::ScalarType dtype_from_safetensors(const std::string& dtype, const std::string& where);
std::string dtype_to_safetensors(at::ScalarType dtype);
size_t dtype_size(const std::string& dtype);  // bytes per element; throws for unknown

}  // namespace r1::model
