// TensorBoard event files, written by hand: CRC32C, the few protobuf wire-format pieces an `Event` needs, the
// record framing, and a writer of one event file. No LibTorch, no protobuf library.
//
// An event file is a sequence of records, each
//     uint64 length (little endian) | uint32 masked_crc32c(the 8 length bytes) | data | uint32 masked_crc32c(data)
// with masked(crc) = ((crc >> 15) | (crc << 17)) + 0xa282ead8, and data a serialized tensorflow `Event`:
//     wall_time double = 1; step int64 = 2; file_version string = 3 ("brain.Event:2" in the first record);
//     summary Summary = 5 (value: repeated Value = 1; Value: tag string = 1, simple_value float = 2);
//     session_log SessionLog = 6 (status enum = 1, START = 1).
// Debian's libprotobuf with the upstream .proto files would also work, but it needs a protoc step in the build
// for five fields; this encoder (varints, fixed32, fixed64, length-delimited fields) is a page. No TensorBoard is
// installed here to read the files back: tests/common/tensorboard_test.cpp checks CRC32C against its published
// check values, the bytes of an event against a hand-encoded one, and decodes written files with an independent
// reader (its own CRC, its own proto decoder).
//
// A writer's file is one "session": rl/run_dir.cpp opens a new file per stage per process (and on a resume) and
// starts it with a SessionLog START event; see there for how that keeps resumed curves from forking.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>
#include <utility>
#include <vector>

namespace r1::tensorboard {

// CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), continuing from `crc` (0 to start).
uint32_t crc32c(const void* data, size_t size, uint32_t crc = 0);
// The masked CRC of event-file records.
uint32_t masked_crc32c(const void* data, size_t size);

// Protobuf wire format: each put_* appends one field (key + payload) to `out`.
namespace wire {
void put_varint(std::string& out, uint64_t value);
void put_key(std::string& out, uint32_t field, uint32_t wire_type);  // 0 varint, 1 fixed64, 2 bytes, 5 fixed32
void put_varint_field(std::string& out, uint32_t field, uint64_t value);  // int64 / enum (negative: 10 bytes)
void put_double_field(std::string& out, uint32_t field, double value);
void put_float_field(std::string& out, uint32_t field, float value);
void put_bytes_field(std::string& out, uint32_t field, const std::string& bytes);  // string or sub-message
}  // namespace wire

using Scalars = std::vector<std::pair<std::string, double>>;  // tag → value (stored as float)

// Serialized Event messages.
std::string file_version_event(double wall_time);
std::string session_start_event(double wall_time, int64_t step);
std::string scalars_event(double wall_time, int64_t step, const Scalars& scalars);

// One framed record holding `data`.
std::string frame_record(const std::string& data);

// A run name made safe as a relative directory: '/' separates levels (TensorBoard shows "a/b" as a run);
// every other byte outside [A-Za-z0-9._-] becomes '_', and an empty, "." or ".." level becomes "_".
std::string safe_run_dir(const std::string& run);

// Writes one event file: a new file in `dir` (created with mkdir -p), named
// events.out.tfevents.<unix seconds>.<hostname> — the seconds raised past any event file already in `dir` so
// that the new file sorts after them (TensorBoard reads a run's files in name order; when that is not near, the
// greatest existing name + ".1"). Starts with the
// file_version record; every record is flushed as it is written, so TensorBoard shows a run live.
class EventFileWriter {
 public:
  explicit EventFileWriter(const std::string& dir);
  ~EventFileWriter();
  EventFileWriter(const EventFileWriter&) = delete;
  EventFileWriter& operator=(const EventFileWriter&) = delete;

  void write_session_start(int64_t step, double wall_time);
  void write_scalars(int64_t step, const Scalars& scalars, double wall_time);
  const std::string& path() const { return path_; }

 private:
  void write_record(const std::string& event);

  std::string path_;
  std::FILE* file_ = nullptr;
};

}  // namespace r1::tensorboard
