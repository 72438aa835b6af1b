// Tests for common/tensorboard.h. No TensorBoard is installed here, so the checks are against published values
// and an independent reader (tensorboard_reader.h: its own CRC and proto decoder):
//   * CRC32C against its check value crc32c("123456789") = 0xE3069283 and the iSCSI (RFC 3720) vectors; the
//     masked CRC against the 12 bytes every TensorFlow-written event file begins with (length 24 = the
//     file_version record, masked CRC bytes a3 7f 4b 22);
//   * the bytes of an Event against a hand-encoded one (wire format), varints at their boundaries;
//   * a written file read back: both CRCs, file_version first, tags, steps, values (as float), START events;
//     a flipped byte or a torn tail is caught by the reader (so the round trip can fail);
//   * run names made path-safe; a second writer in the same directory sorts after the first.
#include <gtest/gtest.h>

#include <unistd.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>

#include "common/tensorboard.h"
#include "common/tensorboard_reader.h"

namespace r1 {
namespace {

using tensorboard::crc32c;
using tensorboard::masked_crc32c;

std::string fresh_dir(const std::string& name) {
  auto dir = std::filesystem::temp_directory_path() / ("r1_tensorboard_test_" + name + "_" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  return dir.string();
}

std::string bytes_of(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

std::string hex(const std::string& s) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  for (unsigned char c : s) {
    out += digits[c >> 4];
    out += digits[c & 15];
  }
  return out;
}

TEST(TensorBoard, Crc32cMatchesItsCheckValueAndTheIscsiVectors) {
  EXPECT_EQ(crc32c("123456789", 9), 0xE3069283u);
  const std::string zeros(32, '\0'), ones(32, '\xff');
  std::string ascending;
  for (int i = 0; i < 32; ++i) ascending.push_back(static_cast<char>(i));
  EXPECT_EQ(crc32c(zeros.data(), zeros.size()), 0x8A9136AAu);
  EXPECT_EQ(crc32c(ones.data(), ones.size()), 0x62A8AB43u);
  EXPECT_EQ(crc32c(ascending.data(), ascending.size()), 0x46DD794Eu);
  EXPECT_EQ(crc32c("", 0), 0u);
  // Continuing a CRC over a second piece equals the CRC of the whole.
  EXPECT_EQ(crc32c("56789", 5, crc32c("1234", 4)), 0xE3069283u);
  // The test reader's bitwise CRC agrees (it checks the files below).
  EXPECT_EQ(tbtest::crc32c_bitwise("123456789"), 0xE3069283u);
}

TEST(TensorBoard, MaskedCrcMatchesTheHeaderOfEveryTensorFlowEventFile) {
  // ((0xE3069283 >> 15) | (0xE3069283 << 17)) + 0xa282ead8, worked by hand.
  EXPECT_EQ(masked_crc32c("123456789", 9), 0xC78AB0E5u);
  // A TensorFlow event file opens with the 24-byte file_version record: 18 00 00 00 00 00 00 00 a3 7f 4b 22.
  const std::string length24("\x18\0\0\0\0\0\0\0", 8);
  EXPECT_EQ(masked_crc32c(length24.data(), 8), 0x224B7FA3u);
  const std::string record = tensorboard::frame_record(tensorboard::file_version_event(1.0e9));
  EXPECT_EQ(hex(record.substr(0, 12)), "1800000000000000a37f4b22");
  EXPECT_EQ(record.size(), 12u + 24u + 4u);
}

TEST(TensorBoard, EventBytesFollowTheWireFormat) {
  // Event{wall_time: 1.5, step: 3, summary {value {tag: "a", simple_value: 2}}}, encoded by hand:
  //   09 <1.5 as little-endian double> 10 03 2a 0a | 0a 08 | 0a 01 61 15 <2.0f little endian>
  const std::string e = tensorboard::scalars_event(1.5, 3, {{"a", 2.0}});
  EXPECT_EQ(hex(e), "09000000000000f83f" "1003" "2a0a" "0a08" "0a0161" "1500000040");
  // START at step 300 (varint ac 02): 09 <wall> 10 ac 02 32 02 08 01.
  EXPECT_EQ(hex(tensorboard::session_start_event(1.5, 300)), "09000000000000f83f" "10ac02" "32020801");
  // file_version: 09 <wall> 1a 0d "brain.Event:2"; step 0 is left out (the proto3 default).
  EXPECT_EQ(hex(tensorboard::file_version_event(1.5)), "09000000000000f83f" "1a0d" + hex("brain.Event:2"));
  std::string v;
  tensorboard::wire::put_varint(v, 127);
  tensorboard::wire::put_varint(v, 128);
  tensorboard::wire::put_varint(v, 16384);
  EXPECT_EQ(hex(v), "7f" "8001" "808001");
  v.clear();
  tensorboard::wire::put_varint_field(v, 2, static_cast<uint64_t>(int64_t{-1}));  // int64 -1: ten bytes
  EXPECT_EQ(hex(v), "10ffffffffffffffffff01");
}

TEST(TensorBoard, AWrittenFileReadsBackWithTagsStepsAndValues) {
  const std::string dir = fresh_dir("roundtrip");
  std::string path;
  const double inf = std::numeric_limits<double>::infinity();
  {
    tensorboard::EventFileWriter w(dir);
    path = w.path();
    w.write_session_start(1, 1700000000.25);
    w.write_scalars(1, {{"loss", 2.5}, {"reward/math", 0.125}, {"lr", 3e-6}}, 1700000001.5);
    w.write_scalars(2, {{"loss", 2.25}, {"reward/math", 0.5}, {"lr", 2e-6}, {"kl", inf}}, 1700000002.5);
    w.write_scalars(1000000, {{"loss", -1e30}}, 1700000003.5);
    // Flushed per record: the whole file is readable while the writer is still open.
    EXPECT_EQ(tbtest::read_event_file(path).size(), 5u);
  }
  const std::string name = std::filesystem::path(path).filename().string();
  char host[256] = {};
  ::gethostname(host, sizeof host - 1);
  EXPECT_EQ(name.rfind("events.out.tfevents.", 0), 0u) << name;
  EXPECT_NE(name.find(std::string(".") + host), std::string::npos) << name;

  const auto events = tbtest::read_event_file(path);
  ASSERT_EQ(events.size(), 5u);
  EXPECT_EQ(events[0].file_version, "brain.Event:2");
  EXPECT_GT(events[0].wall_time, 1.6e9);
  EXPECT_EQ(events[1].session_status, 1);
  EXPECT_EQ(events[1].step, 1);
  EXPECT_DOUBLE_EQ(events[1].wall_time, 1700000000.25);
  EXPECT_TRUE(events[1].values.empty());
  EXPECT_EQ(events[2].step, 1);
  EXPECT_EQ(events[2].session_status, -1);
  EXPECT_DOUBLE_EQ(events[2].wall_time, 1700000001.5);
  ASSERT_EQ(events[2].values.size(), 3u);
  EXPECT_EQ(events[2].values[0].first, "loss");
  EXPECT_EQ(events[2].values[0].second, 2.5f);
  EXPECT_EQ(events[2].values[1].first, "reward/math");
  EXPECT_EQ(events[2].values[1].second, 0.125f);
  EXPECT_EQ(events[2].values[2].first, "lr");
  EXPECT_EQ(events[2].values[2].second, static_cast<float>(3e-6));
  EXPECT_EQ(events[3].step, 2);
  ASSERT_EQ(events[3].values.size(), 4u);
  EXPECT_EQ(events[3].values[3].first, "kl");
  EXPECT_TRUE(std::isinf(events[3].values[3].second));
  EXPECT_EQ(events[4].step, 1000000);
  EXPECT_EQ(events[4].values[0].second, -1e30f);

  // The reader catches corruption: a flipped byte in a value, then a torn last record.
  const std::string good = bytes_of(path);
  std::string bad = good;
  bad[bad.size() - 8] ^= 0x01;
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bad;
  EXPECT_THROW(tbtest::read_event_file(path), std::runtime_error);
  std::ofstream(path, std::ios::binary | std::ios::trunc) << good.substr(0, good.size() - 3);
  EXPECT_THROW(tbtest::read_event_file(path), std::runtime_error);
  std::filesystem::remove_all(dir);
}

TEST(TensorBoard, ANewWriterSortsAfterTheFilesAlreadyThere) {
  const std::string dir = fresh_dir("order");
  auto new_file = [&] { return tensorboard::EventFileWriter(dir).path(); };
  const std::string a = new_file(), b = new_file(), c = new_file();  // within a second: later and later names
  EXPECT_GT(b, a);
  EXPECT_GT(c, b);
  // A file from "the future" (another host, a clock set back): a new file still sorts after it.
  const std::string future = dir + "/events.out.tfevents.9999999999.zz";
  std::ofstream(future).put('x');
  const std::string d = new_file(), e = new_file();
  EXPECT_GT(d, future);
  EXPECT_GT(e, d);
  EXPECT_EQ(tbtest::event_files(dir).size(), 6u);
  for (const auto& path : {a, b, c, d, e}) EXPECT_EQ(tbtest::read_event_file(path).size(), 1u) << path;
  std::filesystem::remove_all(dir);
}

TEST(TensorBoard, RunNamesBecomeSafeRelativeDirectories) {
  EXPECT_EQ(tensorboard::safe_run_dir("zero"), "zero");
  EXPECT_EQ(tensorboard::safe_run_dir("eval/base model"), "eval/base_model");
  EXPECT_EQ(tensorboard::safe_run_dir("eval/../x"), "eval/_/x");
  EXPECT_EQ(tensorboard::safe_run_dir("/a//b/."), "_/a/_/b/_");
  EXPECT_EQ(tensorboard::safe_run_dir(""), "_");
}

}  // namespace
}  // namespace r1
