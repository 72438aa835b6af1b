// See tensorboard.h.
#include "common/tensorboard.h"

#include <unistd.h>

#include <array>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>

#include "common/error.h"
#include "common/fs.h"

namespace r1::tensorboard {

namespace {

// The byte-at-a-time table of the reflected Castagnoli polynomial.
const std::array<uint32_t, 256>& crc_table() {
  static const std::array<uint32_t, 256> table = [] {
    std::array<uint32_t, 256> t{};
    for (uint32_t i = 0; i < 256; ++i) {
      uint32_t c = i;
      for (int bit = 0; bit < 8; ++bit) c = (c & 1) ? (c >> 1) ^ 0x82F63B78u : c >> 1;
      t[i] = c;
    }
    return t;
  }();
  return table;
}

void put_le(std::string& out, uint64_t value, int bytes) {
  for (int i = 0; i < bytes; ++i) out.push_back(static_cast<char>((value >> (8 * i)) & 0xFF));
}

bool safe_byte(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
         c == '-';
}

// This machine's name as it may appear in a file name.
std::string host_name() {
  char buf[256] = {};
  if (::gethostname(buf, sizeof buf - 1) != 0 || buf[0] == '\0') return "localhost";
  std::string host(buf);
  for (char& c : host) {
    if (!safe_byte(c)) c = '_';
  }
  return host;
}

// events.out.tfevents.<seconds>.<host>, with the seconds raised until the name sorts after every event file
// already in `dir` (a resume within the same second); when that is not near (a clock set back, another host's
// name), the greatest existing name + ".1".
std::string new_event_file_path(const std::string& dir) {
  const std::string prefix = "events.out.tfevents.";
  std::string last;  // the greatest existing event file name
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    const std::string name = entry.path().filename().string();
    if (name.rfind(prefix, 0) == 0 && name > last) last = name;
  }
  int64_t seconds =
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  const std::string host = host_name();
  std::string name = prefix + std::to_string(seconds) + "." + host;
  for (int tries = 0; name <= last && tries < 100; ++tries) name = prefix + std::to_string(++seconds) + "." + host;
  if (name <= last) name = last + ".1";  // far in the future or another host's name: sorts right after it
  return path_join(dir, name);
}

}  // namespace

uint32_t crc32c(const void* data, size_t size, uint32_t crc) {
  const auto& table = crc_table();
  const auto* p = static_cast<const unsigned char*>(data);
  crc = ~crc;
  for (size_t i = 0; i < size; ++i) crc = table[(crc ^ p[i]) & 0xFF] ^ (crc >> 8);
  return ~crc;
}

uint32_t masked_crc32c(const void* data, size_t size) {
  const uint32_t crc = crc32c(data, size);
  return ((crc >> 15) | (crc << 17)) + 0xa282ead8u;
}

namespace wire {

void put_varint(std::string& out, uint64_t value) {
  while (value >= 0x80) {
    out.push_back(static_cast<char>((value & 0x7F) | 0x80));
    value >>= 7;
  }
  out.push_back(static_cast<char>(value));
}

void put_key(std::string& out, uint32_t field, uint32_t wire_type) {
  put_varint(out, (static_cast<uint64_t>(field) << 3) | wire_type);
}

void put_varint_field(std::string& out, uint32_t field, uint64_t value) {
  put_key(out, field, 0);
  put_varint(out, value);
}

void put_double_field(std::string& out, uint32_t field, double value) {
  uint64_t bits;
  std::memcpy(&bits, &value, sizeof bits);
  put_key(out, field, 1);
  put_le(out, bits, 8);
}

void put_float_field(std::string& out, uint32_t field, float value) {
  uint32_t bits;
  std::memcpy(&bits, &value, sizeof bits);
  put_key(out, field, 5);
  put_le(out, bits, 4);
}

void put_bytes_field(std::string& out, uint32_t field, const std::string& bytes) {
  put_key(out, field, 2);
  put_varint(out, bytes.size());
  out += bytes;
}

}  // namespace wire

// Event field numbers.
namespace {
constexpr uint32_t kWallTime = 1, kStep = 2, kFileVersion = 3, kSummary = 5, kSessionLog = 6;
constexpr uint32_t kSummaryValue = 1, kValueTag = 1, kValueSimpleValue = 2;
constexpr uint32_t kSessionStatus = 1, kStatusStart = 1;

std::string event_head(double wall_time, int64_t step) {
  std::string e;
  wire::put_double_field(e, kWallTime, wall_time);
  if (step != 0) wire::put_varint_field(e, kStep, static_cast<uint64_t>(step));  // proto3: 0 is the default
  return e;
}
}  // namespace

std::string file_version_event(double wall_time) {
  std::string e = event_head(wall_time, 0);
  wire::put_bytes_field(e, kFileVersion, "brain.Event:2");
  return e;
}

std::string session_start_event(double wall_time, int64_t step) {
  std::string log;
  wire::put_varint_field(log, kSessionStatus, kStatusStart);
  std::string e = event_head(wall_time, step);
  wire::put_bytes_field(e, kSessionLog, log);
  return e;
}

std::string scalars_event(double wall_time, int64_t step, const Scalars& scalars) {
  std::string summary;
  for (const auto& [tag, value] : scalars) {
    std::string v;
    wire::put_bytes_field(v, kValueTag, tag);
    wire::put_float_field(v, kValueSimpleValue, static_cast<float>(value));
    wire::put_bytes_field(summary, kSummaryValue, v);
  }
  std::string e = event_head(wall_time, step);
  wire::put_bytes_field(e, kSummary, summary);
  return e;
}

std::string frame_record(const std::string& data) {
  std::string header;
  put_le(header, data.size(), 8);
  std::string out = header;
  put_le(out, masked_crc32c(header.data(), header.size()), 4);
  out += data;
  put_le(out, masked_crc32c(data.data(), data.size()), 4);
  return out;
}

std::string safe_run_dir(const std::string& run) {
  std::string out, level;
  auto close_level = [&] {
    if (level.empty() || level == "." || level == "..") level = "_";
    out += (out.empty() ? "" : "/") + level;
    level.clear();
  };
  for (char c : run) {
    if (c == '/') {
      close_level();
    } else {
      level.push_back(safe_byte(c) ? c : '_');
    }
  }
  close_level();
  return out;
}

EventFileWriter::EventFileWriter(const std::string& dir) {
  make_dirs(dir);
  path_ = new_event_file_path(dir);
  file_ = std::fopen(path_.c_str(), "wbx");  // x: never append to a file another writer holds
  R1_CHECK(file_ != nullptr, path_, ": cannot create the TensorBoard event file (", std::strerror(errno), ")");
  const double now = std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  write_record(file_version_event(now));
}

EventFileWriter::~EventFileWriter() {
  if (file_) std::fclose(file_);
}

void EventFileWriter::write_session_start(int64_t step, double wall_time) {
  write_record(session_start_event(wall_time, step));
}

void EventFileWriter::write_scalars(int64_t step, const Scalars& scalars, double wall_time) {
  write_record(scalars_event(wall_time, step, scalars));
}

void EventFileWriter::write_record(const std::string& event) {
  const std::string record = frame_record(event);
  const bool ok = std::fwrite(record.data(), 1, record.size(), file_) == record.size() && std::fflush(file_) == 0;
  R1_CHECK(ok, path_, ": cannot write to the TensorBoard event file (", std::strerror(errno), ")");
}

}  // namespace r1::tensorboard
