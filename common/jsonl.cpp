// See jsonl.h.
#include "common/jsonl.h"

#include <cerrno>
#include <cstring>
#include <fstream>

#include "common/error.h"
#include "common/fs.h"

namespace r1 {

size_t for_each_jsonl(const std::string& path, const std::function<void(size_t, const json::Value&)>& fn,
                      const JsonlOptions& options, const std::function<void(size_t, const std::string&)>& on_bad) {
  std::ifstream in(path, std::ios::binary);
  R1_CHECK(in.good(), path, ": cannot open for reading (", std::strerror(errno), ")");
  std::string line;
  size_t line_no = 0, bad = 0;
  while (std::getline(in, line)) {
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.find_first_not_of(" \t") == std::string::npos) continue;
    std::string origin = path + ":" + std::to_string(line_no);
    try {
      json::Document doc = json::parse(line, origin, /*allow_comments=*/false);
      R1_CHECK(!options.require_object || doc.IsObject(), origin, ": expected a JSON object, got ",
               json::type_name(doc));
      fn(line_no, doc);
    } catch (const Error& e) {
      if (!options.skip_bad_lines) throw;
      ++bad;
      if (on_bad) on_bad(line_no, e.what());
    }
  }
  return bad;
}

JsonlWriter::JsonlWriter(const std::string& path, bool append) : path_(path) {
  file_ = std::fopen(path.c_str(), append ? "ab" : "wb");
  R1_CHECK(file_ != nullptr, path, ": cannot open for writing (", std::strerror(errno), ")");
}

JsonlWriter::~JsonlWriter() {
  if (file_) std::fclose(file_);
}

JsonlWriter::JsonlWriter(JsonlWriter&& other) noexcept : path_(std::move(other.path_)), file_(other.file_) {
  other.file_ = nullptr;
}

JsonlWriter& JsonlWriter::operator=(JsonlWriter&& other) noexcept {
  if (this != &other) {
    if (file_) std::fclose(file_);
    path_ = std::move(other.path_);
    file_ = other.file_;
    other.file_ = nullptr;
  }
  return *this;
}

size_t filter_jsonl(const std::string& path, const std::function<bool(const json::Value&)>& keep) {
  if (!path_exists(path)) return 0;
  const std::string text = read_file(path);
  std::string kept;
  size_t dropped = 0;
  for (size_t pos = 0; pos < text.size();) {
    const size_t newline = text.find('\n', pos);
    const bool complete = newline != std::string::npos;
    const std::string line = text.substr(pos, complete ? newline - pos : std::string::npos);
    pos = complete ? newline + 1 : text.size();
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    json::Document doc;
    doc.Parse<rapidjson::kParseFullPrecisionFlag | rapidjson::kParseNanAndInfFlag>(line.data(), line.size());
    if (!complete || doc.HasParseError() || !doc.IsObject() || !keep(doc)) {
      ++dropped;
      continue;
    }
    kept += line;
    kept += '\n';
  }
  if (dropped > 0) write_file_atomic(path, kept);
  return dropped;
}

void JsonlWriter::write_line(const json::Value& v) { write_raw_line(json::dump(v)); }

void JsonlWriter::write_raw_line(const std::string& line) {
  R1_CHECK(file_ != nullptr, "JsonlWriter: write to a closed writer");
  R1_CHECK(std::fwrite(line.data(), 1, line.size(), file_) == line.size() && std::fputc('\n', file_) != EOF &&
               std::fflush(file_) == 0,
           path_, ": write failed (", std::strerror(errno), ")");
}

}  // namespace r1
