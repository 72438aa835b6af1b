// A reader of TensorBoard event files for the tests, written independently of common/tensorboard.cpp: its own
// bit-at-a-time CRC32C, its own protobuf decoding. It checks both masked CRCs of every record, refuses a torn
// record, an unknown field or a wrong wire type (so a writer that adds or misplaces a field fails), and decodes
// the Event fields r1 writes: wall_time, step, file_version, summary simple values, session_log status.
// Also: the view TensorBoard builds of one run's files (name order, purge on SessionLog START).
// Included by tests/common and tests/rl (as "common/tensorboard_reader.h").
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace r1::tbtest {

struct Event {
  double wall_time = 0;
  int64_t step = 0;
  std::string file_version;
  std::vector<std::pair<std::string, float>> values;  // summary values (tag, simple_value)
  int session_status = -1;                             // -1: no session_log
};

inline uint32_t crc32c_bitwise(const std::string& bytes) {
  uint32_t crc = 0xFFFFFFFFu;
  for (unsigned char b : bytes) {
    crc ^= b;
    for (int i = 0; i < 8; ++i) crc = (crc >> 1) ^ (0x82F63B78u & (0u - (crc & 1u)));
  }
  return ~crc;
}

inline uint32_t masked(uint32_t crc) { return ((crc >> 15) | (crc << 17)) + 0xa282ead8u; }

inline uint64_t read_le(const std::string& s, size_t at, int bytes) {
  uint64_t v = 0;
  for (int i = 0; i < bytes; ++i) v |= static_cast<uint64_t>(static_cast<unsigned char>(s[at + i])) << (8 * i);
  return v;
}

// A cursor over one protobuf message.
class ProtoReader {
 public:
  explicit ProtoReader(const std::string& bytes) : s_(bytes) {}
  bool done() const { return at_ >= s_.size(); }
  uint64_t varint() {
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      need(1);
      const auto b = static_cast<unsigned char>(s_[at_++]);
      v |= static_cast<uint64_t>(b & 0x7F) << shift;
      if (!(b & 0x80)) return v;
    }
    throw std::runtime_error("varint longer than 10 bytes");
  }
  // The next key: field number and wire type.
  std::pair<uint32_t, uint32_t> key() {
    const uint64_t k = varint();
    return {static_cast<uint32_t>(k >> 3), static_cast<uint32_t>(k & 7)};
  }
  uint64_t fixed(int bytes) {
    need(bytes);
    const uint64_t v = read_le(s_, at_, bytes);
    at_ += bytes;
    return v;
  }
  std::string bytes() {
    const uint64_t n = varint();
    need(n);
    std::string out = s_.substr(at_, n);
    at_ += n;
    return out;
  }

 private:
  void need(uint64_t n) const {
    if (at_ + n > s_.size()) throw std::runtime_error("message truncated");
  }
  const std::string& s_;
  size_t at_ = 0;
};

inline void expect_wire(uint32_t field, uint32_t got, uint32_t want, const char* message) {
  if (got != want) {
    throw std::runtime_error(std::string(message) + " field " + std::to_string(field) + ": wire type " +
                             std::to_string(got) + ", expected " + std::to_string(want));
  }
}

inline Event decode_event(const std::string& data) {
  Event e;
  ProtoReader r(data);
  while (!r.done()) {
    auto [field, type] = r.key();
    if (field == 1) {
      expect_wire(field, type, 1, "Event");
      const uint64_t bits = r.fixed(8);
      std::memcpy(&e.wall_time, &bits, 8);
    } else if (field == 2) {
      expect_wire(field, type, 0, "Event");
      e.step = static_cast<int64_t>(r.varint());
    } else if (field == 3) {
      expect_wire(field, type, 2, "Event");
      e.file_version = r.bytes();
    } else if (field == 5) {
      expect_wire(field, type, 2, "Event");
      const std::string summary = r.bytes();
      ProtoReader s(summary);
      while (!s.done()) {
        auto [sf, st] = s.key();
        if (sf != 1) throw std::runtime_error("Summary: unexpected field " + std::to_string(sf));
        expect_wire(sf, st, 2, "Summary");
        const std::string value = s.bytes();
        ProtoReader v(value);
        std::pair<std::string, float> tv;
        bool has_tag = false, has_value = false;
        while (!v.done()) {
          auto [vf, vt] = v.key();
          if (vf == 1) {
            expect_wire(vf, vt, 2, "Value");
            tv.first = v.bytes();
            has_tag = true;
          } else if (vf == 2) {
            expect_wire(vf, vt, 5, "Value");
            const auto bits = static_cast<uint32_t>(v.fixed(4));
            std::memcpy(&tv.second, &bits, 4);
            has_value = true;
          } else {
            throw std::runtime_error("Value: unexpected field " + std::to_string(vf));
          }
        }
        if (!has_tag || !has_value) throw std::runtime_error("Value without tag or simple_value");
        e.values.push_back(tv);
      }
    } else if (field == 6) {
      expect_wire(field, type, 2, "Event");
      const std::string log = r.bytes();
      ProtoReader l(log);
      e.session_status = 0;
      while (!l.done()) {
        auto [lf, lt] = l.key();
        if (lf != 1) throw std::runtime_error("SessionLog: unexpected field " + std::to_string(lf));
        expect_wire(lf, lt, 0, "SessionLog");
        e.session_status = static_cast<int>(l.varint());
      }
    } else {
      throw std::runtime_error("Event: unexpected field " + std::to_string(field));
    }
  }
  return e;
}

// Every event of a file; throws std::runtime_error on a bad CRC, a torn record or a bad message.
inline std::vector<Event> read_event_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) throw std::runtime_error(path + ": cannot open");
  std::stringstream ss;
  ss << f.rdbuf();
  const std::string s = ss.str();
  std::vector<Event> out;
  size_t at = 0;
  while (at < s.size()) {
    if (s.size() - at < 12) throw std::runtime_error(path + ": torn record header");
    const std::string header = s.substr(at, 8);
    if (read_le(s, at + 8, 4) != masked(crc32c_bitwise(header))) throw std::runtime_error(path + ": bad length CRC");
    const uint64_t n = read_le(s, at, 8);
    if (s.size() - at - 12 < n + 4) throw std::runtime_error(path + ": torn record");
    const std::string data = s.substr(at + 12, n);
    if (read_le(s, at + 12 + n, 4) != masked(crc32c_bitwise(data))) throw std::runtime_error(path + ": bad data CRC");
    out.push_back(decode_event(data));
    at += 12 + n + 4;
  }
  return out;
}

// The event files of one run directory (not its sub-runs), in name order: the order TensorBoard reads them.
inline std::vector<std::string> event_files(const std::string& dir) {
  std::vector<std::string> out;
  if (!std::filesystem::is_directory(dir)) return out;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    const std::string name = entry.path().filename().string();
    if (entry.is_regular_file() && name.find("tfevents") != std::string::npos) out.push_back(entry.path().string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

// What TensorBoard shows of a run: its files read in name order, each SessionLog START at step s dropping the
// points read so far at steps >= s. A point at a step the view already holds would be drawn twice (a forked
// curve): it is counted in `duplicates` (and the later value kept).
struct RunView {
  std::map<std::string, std::map<int64_t, float>> points;  // tag → step → value
  size_t duplicates = 0;
  size_t starts = 0;  // SessionLog START events read
};

// honour_starts = false: the view of a reader that ignored START events (to show what they prevent).
inline RunView tensorboard_view(const std::string& dir, bool honour_starts = true) {
  RunView view;
  for (const auto& file : event_files(dir)) {
    for (const auto& e : read_event_file(file)) {
      if (e.session_status == 1 && honour_starts) {
        ++view.starts;
        for (auto& [tag, points] : view.points) points.erase(points.lower_bound(e.step), points.end());
      }
      for (const auto& [tag, value] : e.values) {
        auto& points = view.points[tag];
        view.duplicates += points.count(e.step);
        points[e.step] = value;
      }
    }
  }
  return view;
}

}  // namespace r1::tbtest
