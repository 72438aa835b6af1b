// safetensors reader and writer. See safetensors.h for the exact rules accepted and produced.
//
// Reading: mmap the file read-only, validate the whole header (every offset against the buffer size,
// with overflow-checked arithmetic) before any tensor byte is touched, then copy tensors out on request,
// so a returned tensor never depends on the mapping's lifetime. JSON is parsed with RapidJSON's iterative
// parser: the recursive one would overflow the stack on a header of a million nested brackets.
//
// Writing: the header is serialised by hand in serde_json's compact style (the reference writer's), so
// re-saving a file written by HF reproduces it byte for byte; the data is streamed from the tensors into
// "<path>.tmp.<pid>" (no whole-file buffer in memory: shards are gigabytes), fsync'ed and renamed, and
// the directory fsync'ed (common/fs.h's fsync_dir). common/fs.h's write_file_atomic is the same protocol
// for in-memory strings and is used for the index.
//
// Sharded checkpoints: model.safetensors.index.json maps each name to its shard; every shard is opened
// once and each listed name must exist in its shard.
#include "model/safetensors.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <rapidjson/document.h>
#include <rapidjson/error/en.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <limits>
#include <regex>
#include <sstream>

#include "common/error.h"
#include "common/fs.h"
#include "common/json.h"
#include "kernels/fp8_quant.h"

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "safetensors IO assumes a little-endian host");

namespace r1::model {
namespace {

constexpr uint64_t kMaxHeaderBytes = 100'000'000;  // the reference implementation's limit
constexpr const char* kMetadataKey = "__metadata__";
constexpr const char* kIndexName = "model.safetensors.index.json";
constexpr const char* kSingleName = "model.safetensors";

struct DtypeEntry {
  const char* name;
  at::ScalarType scalar;
  size_t size;
  int writer_rank;  // the reference writer orders tensors by this, descending (its Dtype enum order)
};

// The reference's Dtype enum order: BOOL, U8, I8, F8_E5M2, F8_E4M3, I16, U16, F16, BF16, I32, U32, F32,
// F64, I64, U64. Only the relative order of the dtypes we support matters.
constexpr DtypeEntry kDtypes[] = {
    {"BOOL", at::kBool, 1, 0},     {"U8", at::kByte, 1, 1},   {"I8", at::kChar, 1, 2},
    {"F8_E4M3", at::kByte, 1, 4},  {"I16", at::kShort, 2, 5}, {"F16", at::kHalf, 2, 7},
    {"BF16", at::kBFloat16, 2, 8}, {"I32", at::kInt, 4, 9},   {"F32", at::kFloat, 4, 11},
    {"F64", at::kDouble, 8, 12},   {"I64", at::kLong, 8, 13},
};

const DtypeEntry* find_dtype(const std::string& name) {
  for (const auto& d : kDtypes) {
    if (name == d.name) return &d;
  }
  return nullptr;
}

std::string shape_str(const std::vector<int64_t>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

std::string errno_text() { return std::strerror(errno); }

// a * b with overflow detection.
bool mul_overflows(uint64_t a, uint64_t b, uint64_t* out) { return __builtin_mul_overflow(a, b, out); }

TensorInfo parse_tensor_entry(const std::string& name, const rapidjson::Value& v, uint64_t buffer_size,
                              const std::string& origin) {
  const std::string where = str_cat(origin, ": tensor '", name, "'");
  R1_CHECK(v.IsObject(), where, ": header entry must be an object, got ", json::type_name(v));
  TensorInfo info;
  info.name = name;

  const rapidjson::Value* dtype = json::find(v, "dtype");
  R1_CHECK(dtype != nullptr && dtype->IsString(), where, ": missing or non-string 'dtype'");
  info.dtype.assign(dtype->GetString(), dtype->GetStringLength());
  const DtypeEntry* entry = find_dtype(info.dtype);
  R1_CHECK(entry != nullptr, where, ": unknown dtype '", info.dtype,
           "' (known: F32, F16, BF16, F64, I64, I32, I16, I8, U8, BOOL, F8_E4M3)");

  const rapidjson::Value* shape = json::find(v, "shape");
  R1_CHECK(shape != nullptr && shape->IsArray(), where, ": missing or non-array 'shape'");
  uint64_t numel = 1;
  for (const auto& dim : shape->GetArray()) {
    R1_CHECK(dim.IsUint64() && dim.GetUint64() <= uint64_t(std::numeric_limits<int64_t>::max()), where,
             ": shape entries must be non-negative integers");
    info.shape.push_back(static_cast<int64_t>(dim.GetUint64()));
    R1_CHECK(!mul_overflows(numel, dim.GetUint64(), &numel), where, ": shape ", shape_str(info.shape),
             "... overflows");
  }
  uint64_t nbytes = 0;
  R1_CHECK(!mul_overflows(numel, entry->size, &nbytes), where, ": shape ", shape_str(info.shape),
           " overflows in bytes");

  const rapidjson::Value* offsets = json::find(v, "data_offsets");
  R1_CHECK(offsets != nullptr && offsets->IsArray() && offsets->Size() == 2 && (*offsets)[0].IsUint64() &&
               (*offsets)[1].IsUint64(),
           where, ": 'data_offsets' must be [begin, end] with non-negative integers");
  info.begin = (*offsets)[0].GetUint64();
  info.end = (*offsets)[1].GetUint64();
  R1_CHECK(info.begin <= info.end, where, ": data_offsets [", info.begin, ", ", info.end, "] are reversed");
  R1_CHECK(info.end - info.begin == nbytes, where, ": data_offsets [", info.begin, ", ", info.end, "] hold ",
           info.end - info.begin, " bytes but ", info.dtype, " ", shape_str(info.shape), " needs ", nbytes);
  R1_CHECK(info.end <= buffer_size, where, ": data_offsets [", info.begin, ", ", info.end,
           "] run past the data buffer of ", buffer_size, " bytes (file truncated or header lies)");
  return info;
}

void check_no_overlap(const std::vector<TensorInfo>& tensors, const std::string& origin) {
  std::vector<const TensorInfo*> by_begin;
  for (const auto& t : tensors) {
    if (t.end > t.begin) by_begin.push_back(&t);
  }
  std::sort(by_begin.begin(), by_begin.end(),
            [](const TensorInfo* a, const TensorInfo* b) { return a->begin < b->begin; });
  for (size_t i = 1; i < by_begin.size(); ++i) {
    const TensorInfo& prev = *by_begin[i - 1];
    const TensorInfo& cur = *by_begin[i];
    R1_CHECK(cur.begin >= prev.end, origin, ": tensor '", cur.name, "' bytes [", cur.begin, ", ", cur.end,
             ") overlap tensor '", prev.name, "' bytes [", prev.begin, ", ", prev.end, ")");
  }
}

// serde_json's string escaping: ", \ and control characters; everything else (UTF-8 included) verbatim.
void append_json_string(std::string& out, const std::string& s) {
  static const char* hex = "0123456789abcdef";
  out += '"';
  for (unsigned char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20) {
          out += "\\u00";
          out += hex[c >> 4];
          out += hex[c & 0xF];
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  out += '"';
}

struct PreparedTensor {
  std::string name;
  const DtypeEntry* dtype;
  at::Tensor data;  // contiguous CPU
  uint64_t nbytes;
};

std::vector<PreparedTensor> prepare_tensors(const std::string& path,
                                            const std::vector<std::pair<std::string, at::Tensor>>& tensors,
                                            const std::set<std::string>& stored_as_f8_e4m3) {
  std::vector<PreparedTensor> out;
  std::set<std::string> seen;
  for (const auto& [name, tensor] : tensors) {
    const std::string where = str_cat(path, ": tensor '", name, "'");
    R1_CHECK(!name.empty(), path, ": a tensor has an empty name");
    R1_CHECK(name != kMetadataKey, where, ": the name is reserved for metadata");
    R1_CHECK(seen.insert(name).second, where, ": duplicate name");
    R1_CHECK(tensor.defined(), where, ": undefined tensor");
    const std::string st = stored_as_f8_e4m3.count(name) ? "F8_E4M3" : dtype_to_safetensors(tensor.scalar_type());
    if (st == "F8_E4M3") {
      R1_CHECK(tensor.scalar_type() == at::kByte, where, ": F8_E4M3 must be carried as uint8, got ",
               tensor.scalar_type());
    }
    at::Tensor data = tensor.detach().to(at::kCPU).contiguous();
    out.push_back({name, find_dtype(st), data, static_cast<uint64_t>(data.nbytes())});
  }
  for (const auto& name : stored_as_f8_e4m3) {
    R1_CHECK(seen.count(name), path, ": tensor '", name, "' is marked F8_E4M3 but not given");
  }
  std::sort(out.begin(), out.end(), [](const PreparedTensor& a, const PreparedTensor& b) {
    if (a.dtype->writer_rank != b.dtype->writer_rank) return a.dtype->writer_rank > b.dtype->writer_rank;
    return a.name < b.name;
  });
  return out;
}

std::string serialise_header(const std::vector<PreparedTensor>& tensors,
                             const std::map<std::string, std::string>& metadata) {
  std::string h = "{";
  bool first = true;
  if (!metadata.empty()) {
    h += "\"__metadata__\":{";
    for (auto it = metadata.begin(); it != metadata.end(); ++it) {
      if (it != metadata.begin()) h += ',';
      append_json_string(h, it->first);
      h += ':';
      append_json_string(h, it->second);
    }
    h += '}';
    first = false;
  }
  uint64_t offset = 0;
  for (const auto& t : tensors) {
    if (!first) h += ',';
    first = false;
    append_json_string(h, t.name);
    h += ":{\"dtype\":\"";
    h += t.dtype->name;
    h += "\",\"shape\":[";
    for (int64_t d = 0; d < t.data.dim(); ++d) h += (d ? "," : "") + std::to_string(t.data.size(d));
    h += "],\"data_offsets\":[" + std::to_string(offset) + "," + std::to_string(offset + t.nbytes) + "]}";
    offset += t.nbytes;
  }
  h += '}';
  h.append((8 - h.size() % 8) % 8, ' ');
  return h;
}

// An open temporary file that becomes `path` on commit() and is removed otherwise.
class AtomicFileWriter {
 public:
  explicit AtomicFileWriter(std::string path) : path_(std::move(path)) {
    tmp_ = path_ + ".tmp." + std::to_string(::getpid());
    fd_ = ::open(tmp_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    R1_CHECK(fd_ >= 0, path_, ": cannot create temporary file ", tmp_, " (", errno_text(), ")");
  }
  ~AtomicFileWriter() {
    if (fd_ >= 0) ::close(fd_);
    if (!committed_) ::unlink(tmp_.c_str());
  }
  void write(const void* data, size_t size) {
    const char* p = static_cast<const char*>(data);
    while (size > 0) {
      const ssize_t n = ::write(fd_, p, std::min<size_t>(size, 1u << 30));
      if (n < 0 && errno == EINTR) continue;
      R1_CHECK(n > 0, path_, ": write failed (", errno_text(), ")");
      p += n;
      size -= static_cast<size_t>(n);
    }
  }
  void commit() {
    R1_CHECK(::fsync(fd_) == 0, path_, ": fsync failed (", errno_text(), ")");
    const int rc = ::close(fd_);
    fd_ = -1;
    R1_CHECK(rc == 0, path_, ": close failed (", errno_text(), ")");
    R1_CHECK(::rename(tmp_.c_str(), path_.c_str()) == 0, path_, ": rename from ", tmp_, " failed (",
             errno_text(), ")");
    committed_ = true;
    fsync_dir(std::filesystem::path(path_).parent_path().string());
  }

 private:
  std::string path_, tmp_;
  int fd_ = -1;
  bool committed_ = false;
};

void write_prepared(const std::string& path, const std::vector<PreparedTensor>& tensors,
                    const std::map<std::string, std::string>& metadata) {
  const std::string header = serialise_header(tensors, metadata);
  uint8_t length[8];
  const uint64_t n = header.size();
  for (int i = 0; i < 8; ++i) length[i] = static_cast<uint8_t>(n >> (8 * i));
  AtomicFileWriter file(path);
  file.write(length, sizeof length);
  file.write(header.data(), header.size());
  for (const auto& t : tensors) file.write(t.data.data_ptr(), t.nbytes);
  file.commit();
}

std::string shard_name(size_t k, size_t n) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "model-%05zu-of-%05zu.safetensors", k, n);
  return buf;
}

// Removes model-XXXXX-of-YYYYY.safetensors files in dir that are not in `keep`.
void remove_stale_shards(const std::string& dir, const std::set<std::string>& keep) {
  static const std::regex shard_re(R"(model-\d{5}-of-\d{5}\.safetensors)");
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    const std::string name = entry.path().filename().string();
    if (std::regex_match(name, shard_re) && !keep.count(name)) remove_all(entry.path().string());
  }
}

// Index file names may not escape the checkpoint directory.
void check_shard_file_name(const std::string& file, const std::string& index_path, const std::string& tensor) {
  const std::filesystem::path p(file);
  bool ok = !file.empty() && !p.is_absolute();
  for (const auto& part : p) ok = ok && part != "..";
  R1_CHECK(ok, index_path, ": tensor '", tensor, "': shard file name '", file,
           "' must be a relative path inside the checkpoint directory");
}

}  // namespace

// ---- dtype helpers -------------------------------------------------------------------------------

at::ScalarType dtype_from_safetensors(const std::string& dtype, const std::string& where) {
  const DtypeEntry* d = find_dtype(dtype);
  R1_CHECK(d != nullptr, where, ": unknown safetensors dtype '", dtype, "'");
  return d->scalar;
}

std::string dtype_to_safetensors(at::ScalarType dtype) {
  switch (dtype) {
    case at::kFloat: return "F32";
    case at::kHalf: return "F16";
    case at::kBFloat16: return "BF16";
    case at::kDouble: return "F64";
    case at::kLong: return "I64";
    case at::kInt: return "I32";
    case at::kShort: return "I16";
    case at::kChar: return "I8";
    case at::kByte: return "U8";
    case at::kBool: return "BOOL";
    default: fail("safetensors: unsupported tensor dtype ", dtype);
  }
}

size_t dtype_size(const std::string& dtype) {
  const DtypeEntry* d = find_dtype(dtype);
  R1_CHECK(d != nullptr, "safetensors: unknown dtype '", dtype, "'");
  return d->size;
}

// ---- header parsing ------------------------------------------------------------------------------

SafetensorsHeader parse_safetensors_header(const uint8_t* bytes, size_t file_size, const std::string& origin) {
  R1_CHECK(file_size >= 8, origin, ": file of ", file_size, " bytes is too small for the 8-byte header length");
  uint64_t n = 0;
  for (int i = 0; i < 8; ++i) n |= uint64_t(bytes[i]) << (8 * i);
  R1_CHECK(n > 0, origin, ": header length is 0");
  R1_CHECK(n <= kMaxHeaderBytes, origin, ": header length ", n, " exceeds the ", kMaxHeaderBytes, "-byte limit");
  R1_CHECK(n <= file_size - 8, origin, ": header length ", n, " runs past the end of the file (", file_size,
           " bytes): truncated or not a safetensors file");
  const char* text = reinterpret_cast<const char*>(bytes + 8);
  R1_CHECK(text[0] == '{', origin, ": header does not start with '{'");

  rapidjson::Document doc;
  doc.Parse<rapidjson::kParseIterativeFlag>(text, n);  // trailing padding is whitespace; anything else errs
  R1_CHECK(!doc.HasParseError(), origin, ": header JSON is invalid at byte ", doc.GetErrorOffset(), ": ",
           rapidjson::GetParseError_En(doc.GetParseError()));
  R1_CHECK(doc.IsObject(), origin, ": header is not a JSON object");

  SafetensorsHeader header;
  header.data_start = 8 + n;
  const uint64_t buffer_size = file_size - header.data_start;
  std::set<std::string> seen;
  for (const auto& member : doc.GetObject()) {
    const std::string key(member.name.GetString(), member.name.GetStringLength());
    R1_CHECK(seen.insert(key).second, origin, ": tensor '", key, "' appears twice in the header");
    if (key == kMetadataKey) {
      R1_CHECK(member.value.IsObject(), origin, ": __metadata__ must be an object");
      for (const auto& kv : member.value.GetObject()) {
        const std::string mk(kv.name.GetString(), kv.name.GetStringLength());
        R1_CHECK(kv.value.IsString(), origin, ": __metadata__ key '", mk, "' must map to a string, got ",
                 json::type_name(kv.value));
        header.metadata[mk] = std::string(kv.value.GetString(), kv.value.GetStringLength());
      }
      continue;
    }
    header.tensors.push_back(parse_tensor_entry(key, member.value, buffer_size, origin));
  }
  check_no_overlap(header.tensors, origin);
  return header;
}

// ---- SafetensorsFile -----------------------------------------------------------------------------

SafetensorsFile::SafetensorsFile(const std::string& path) : path_(path) {
  fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  R1_CHECK(fd_ >= 0, path, ": cannot open (", errno_text(), ")");
  struct stat st {};
  if (::fstat(fd_, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd_);
    fd_ = -1;
    fail(path, ": not a regular file");
  }
  map_size_ = static_cast<size_t>(st.st_size);
  if (map_size_ > 0) {
    void* p = ::mmap(nullptr, map_size_, PROT_READ, MAP_PRIVATE, fd_, 0);
    if (p == MAP_FAILED) {
      const std::string err = errno_text();
      ::close(fd_);
      fd_ = -1;
      fail(path, ": mmap failed (", err, ")");
    }
    map_ = static_cast<const uint8_t*>(p);
  }
  ::close(fd_);  // the mapping stays valid without the descriptor
  fd_ = -1;
  try {
    SafetensorsHeader header = parse_safetensors_header(map_, map_size_, path);
    tensors_ = std::move(header.tensors);
    metadata_ = std::move(header.metadata);
    data_start_ = header.data_start;
  } catch (...) {
    if (map_ != nullptr) ::munmap(const_cast<uint8_t*>(map_), map_size_);
    map_ = nullptr;
    throw;
  }
  for (size_t i = 0; i < tensors_.size(); ++i) index_[tensors_[i].name] = i;
}

SafetensorsFile::~SafetensorsFile() {
  if (map_ != nullptr) ::munmap(const_cast<uint8_t*>(map_), map_size_);
  if (fd_ >= 0) ::close(fd_);
}

const TensorInfo* SafetensorsFile::find(const std::string& name) const {
  auto it = index_.find(name);
  return it == index_.end() ? nullptr : &tensors_[it->second];
}

at::Tensor SafetensorsFile::load(const std::string& name) const {
  const TensorInfo* info = find(name);
  R1_CHECK(info != nullptr, path_, ": tensor '", name, "' not found");
  const std::string where = str_cat(path_, ": tensor '", name, "'");
  at::Tensor out = at::empty(info->shape, at::TensorOptions().dtype(dtype_from_safetensors(info->dtype, where)));
  const uint8_t* src = map_ + data_start_ + info->begin;
  const size_t nbytes = info->end - info->begin;
  if (info->dtype == "BOOL") {
    for (size_t i = 0; i < nbytes; ++i) {
      R1_CHECK(src[i] <= 1, where, ": BOOL byte ", i, " is ", int(src[i]), ", not 0 or 1");
    }
  }
  if (nbytes > 0) std::memcpy(out.data_ptr(), src, nbytes);
  return out;
}

// ---- Checkpoint ----------------------------------------------------------------------------------

Checkpoint::Checkpoint(const std::string& path) : path_(path) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::is_directory(path, ec)) {
    R1_CHECK(fs::exists(path, ec), path, ": checkpoint not found");
    files_.push_back(std::make_unique<SafetensorsFile>(path));
    const auto& tensors = files_[0]->tensors();
    for (size_t i = 0; i < tensors.size(); ++i) where_[tensors[i].name] = {0, i};
    return;
  }
  const std::string index_path = path_join(path, kIndexName);
  if (!fs::exists(index_path, ec)) {
    const std::string single = path_join(path, kSingleName);
    R1_CHECK(fs::exists(single, ec), path, ": directory has neither ", kSingleName, " nor ", kIndexName);
    files_.push_back(std::make_unique<SafetensorsFile>(single));
    const auto& tensors = files_[0]->tensors();
    for (size_t i = 0; i < tensors.size(); ++i) where_[tensors[i].name] = {0, i};
    return;
  }
  const json::Document index = json::parse_file(index_path, false);
  R1_CHECK(index.IsObject(), index_path, ": expected a JSON object");
  const json::Value& weight_map = json::get(index, "weight_map", index_path);
  R1_CHECK(weight_map.IsObject(), index_path, ": 'weight_map' must be an object");
  std::map<std::string, size_t> file_index;
  for (const auto& entry : weight_map.GetObject()) {
    const std::string name(entry.name.GetString(), entry.name.GetStringLength());
    R1_CHECK(entry.value.IsString(), index_path, ": weight_map['", name, "'] must be a file name string");
    const std::string file(entry.value.GetString(), entry.value.GetStringLength());
    check_shard_file_name(file, index_path, name);
    auto it = file_index.find(file);
    if (it == file_index.end()) {
      const std::string shard_path = path_join(path, file);
      R1_CHECK(fs::exists(shard_path, ec), index_path, ": tensor '", name, "': shard ", shard_path,
               " does not exist");
      files_.push_back(std::make_unique<SafetensorsFile>(shard_path));
      it = file_index.emplace(file, files_.size() - 1).first;
    }
    const SafetensorsFile& shard = *files_[it->second];
    const TensorInfo* info = shard.find(name);
    R1_CHECK(info != nullptr, index_path, ": tensor '", name, "' is mapped to ", shard.path(),
             " but that file does not contain it");
    R1_CHECK(!where_.count(name), index_path, ": tensor '", name, "' is listed twice");
    where_[name] = {it->second, static_cast<size_t>(info - shard.tensors().data())};
  }
}

std::vector<std::string> Checkpoint::names() const {
  std::vector<std::string> out;
  out.reserve(where_.size());
  for (const auto& kv : where_) out.push_back(kv.first);
  return out;
}

bool Checkpoint::contains(const std::string& name) const { return where_.count(name) > 0; }

const TensorInfo& Checkpoint::info(const std::string& name) const {
  auto it = where_.find(name);
  R1_CHECK(it != where_.end(), path_, ": tensor '", name, "' not found in the checkpoint");
  return files_[it->second.first]->tensors()[it->second.second];
}

const std::string& Checkpoint::file_of(const std::string& name) const {
  auto it = where_.find(name);
  R1_CHECK(it != where_.end(), path_, ": tensor '", name, "' not found in the checkpoint");
  return files_[it->second.first]->path();
}

at::Tensor Checkpoint::load(const std::string& name) const {
  auto it = where_.find(name);
  R1_CHECK(it != where_.end(), path_, ": tensor '", name, "' not found in the checkpoint");
  return files_[it->second.first]->load(name);
}

at::Tensor Checkpoint::load_checked(const std::string& name, const std::string& expected_dtype,
                                    const std::vector<int64_t>& expected_shape) const {
  const TensorInfo& ti = info(name);
  const std::string where = str_cat(file_of(name), ": tensor '", name, "'");
  R1_CHECK(ti.dtype == expected_dtype, where, ": expected dtype ", expected_dtype, ", found ", ti.dtype);
  R1_CHECK(expected_shape.empty() || ti.shape == expected_shape, where, ": expected shape ",
           shape_str(expected_shape), ", found ", shape_str(ti.shape));
  return load(name);
}

at::Tensor Checkpoint::load_checked(const std::string& name, at::ScalarType expected_dtype,
                                    const std::vector<int64_t>& expected_shape) const {
  return load_checked(name, dtype_to_safetensors(expected_dtype), expected_shape);
}

at::Tensor Checkpoint::load_dequantized(const std::string& name, at::ScalarType dtype,
                                        const std::vector<int64_t>& expected_shape) const {
  const TensorInfo& ti = info(name);
  const std::string where = str_cat(file_of(name), ": tensor '", name, "'");
  R1_CHECK(at::isFloatingType(dtype), where, ": load_dequantized needs a floating target dtype, got ", dtype);
  R1_CHECK(expected_shape.empty() || ti.shape == expected_shape, where, ": expected shape ",
           shape_str(expected_shape), ", found ", shape_str(ti.shape));
  if (ti.dtype == "F8_E4M3") {
    const std::string scale_name = name + "_scale_inv";
    R1_CHECK(contains(scale_name), where, ": F8_E4M3 weight needs its block scales '", scale_name,
             "', which the checkpoint does not have");
    R1_CHECK(ti.shape.size() == 2, where, ": F8_E4M3 weight must be 2-D [N, K], found ", shape_str(ti.shape));
    const TensorInfo& si = info(scale_name);
    const std::string scale_where = str_cat(file_of(scale_name), ": tensor '", scale_name, "'");
    R1_CHECK(si.dtype == "F32" || si.dtype == "BF16" || si.dtype == "F16", scale_where,
             ": expected dtype F32 (or BF16/F16), found ", si.dtype);
    const std::vector<int64_t> blocks = {(ti.shape[0] + kernels::kFp8Block - 1) / kernels::kFp8Block,
                                         (ti.shape[1] + kernels::kFp8Block - 1) / kernels::kFp8Block};
    R1_CHECK(si.shape == blocks, scale_where, ": expected shape ", shape_str(blocks), " (128x128 blocks of ",
             shape_str(ti.shape), "), found ", shape_str(si.shape));
    kernels::Fp8Blocks q{load(name), load(scale_name).to(at::kFloat)};
    return kernels::dequantize_weight_128x128(q, dtype);
  }
  const at::ScalarType stored = dtype_from_safetensors(ti.dtype, where);
  R1_CHECK(at::isFloatingType(stored), where, ": expected a floating-point (or F8_E4M3) weight, found ",
           ti.dtype);
  at::Tensor t = load(name);
  return t.scalar_type() == dtype ? t : t.to(dtype);
}

// ---- writing -------------------------------------------------------------------------------------

void save_safetensors(const std::string& path, const std::vector<std::pair<std::string, at::Tensor>>& tensors,
                      const std::map<std::string, std::string>& metadata,
                      const std::set<std::string>& stored_as_f8_e4m3) {
  write_prepared(path, prepare_tensors(path, tensors, stored_as_f8_e4m3), metadata);
}

void save_checkpoint_tensors(const std::string& dir, const std::vector<std::pair<std::string, at::Tensor>>& tensors,
                             uint64_t max_shard_bytes, const std::set<std::string>& stored_as_f8_e4m3) {
  R1_CHECK(max_shard_bytes > 0, dir, ": max_shard_bytes must be positive");
  make_dirs(dir);
  std::vector<std::vector<std::pair<std::string, at::Tensor>>> shards(1);
  uint64_t shard_bytes = 0, total_bytes = 0;
  for (const auto& nt : tensors) {
    R1_CHECK(nt.second.defined(), dir, ": tensor '", nt.first, "': undefined tensor");
    const uint64_t nbytes = nt.second.nbytes();
    if (!shards.back().empty() && shard_bytes + nbytes > max_shard_bytes) {
      shards.emplace_back();
      shard_bytes = 0;
    }
    shards.back().push_back(nt);
    shard_bytes += nbytes;
    total_bytes += nbytes;
  }
  const std::map<std::string, std::string> metadata = {{"format", "pt"}};
  auto marked_in = [&](const std::vector<std::pair<std::string, at::Tensor>>& shard) {
    std::set<std::string> marked;
    for (const auto& nt : shard) {
      if (stored_as_f8_e4m3.count(nt.first)) marked.insert(nt.first);
    }
    return marked;
  };
  std::set<std::string> given;
  for (const auto& nt : tensors) given.insert(nt.first);
  for (const auto& name : stored_as_f8_e4m3) {
    R1_CHECK(given.count(name), dir, ": tensor '", name, "' is marked F8_E4M3 but not given");
  }

  if (shards.size() == 1) {
    save_safetensors(path_join(dir, kSingleName), shards[0], metadata, marked_in(shards[0]));
    remove_all(path_join(dir, kIndexName));
    remove_stale_shards(dir, {});
    return;
  }
  // Reject duplicates across shards before writing anything (within a shard save_safetensors checks).
  R1_CHECK(given.size() == tensors.size(), dir, ": duplicate tensor names");
  std::map<std::string, std::string> weight_map;
  std::set<std::string> written;
  for (size_t k = 0; k < shards.size(); ++k) {
    const std::string file = shard_name(k + 1, shards.size());
    save_safetensors(path_join(dir, file), shards[k], metadata, marked_in(shards[k]));
    for (const auto& nt : shards[k]) weight_map[nt.first] = file;
    written.insert(file);
  }
  std::string index = "{\n  \"metadata\": {\n    \"total_size\": " + std::to_string(total_bytes) +
                      "\n  },\n  \"weight_map\": {";
  bool first = true;
  for (const auto& [name, file] : weight_map) {
    index += first ? "\n    " : ",\n    ";
    first = false;
    append_json_string(index, name);
    index += ": ";
    append_json_string(index, file);
  }
  index += "\n  }\n}\n";
  write_file_atomic(path_join(dir, kIndexName), index);
  remove_all(path_join(dir, kSingleName));
  remove_stale_shards(dir, written);
}

}  // namespace r1::model
