// JSON Lines: a reader that yields (line number, parsed object) and reports malformed lines with
// "file:line: ..." (or collects them when the caller chooses to skip bad lines), and an append-only
// writer that flushes each line so a killed run loses at most the line being written.
#pragma once

#include <cstdio>
#include <functional>
#include <string>

#include "common/json.h"

namespace r1 {

struct JsonlOptions {
  bool skip_bad_lines = false;  // false: the first malformed line throws r1::Error naming file:line
  bool require_object = true;   // each line must be a JSON object
};

// Calls fn(line_number, object) for every non-blank line. Returns the number of lines skipped as bad
// (only possible with skip_bad_lines); each skipped line is reported through on_bad (if given).
size_t for_each_jsonl(const std::string& path, const std::function<void(size_t, const json::Value&)>& fn,
                      const JsonlOptions& options = {},
                      const std::function<void(size_t, const std::string&)>& on_bad = {});

// Rewrites the file keeping only the object lines for which keep() is true (atomically, and only when
// something is dropped); a line that does not parse as an object, or a last line without its newline
// (a write torn by a kill), is dropped too. Returns the number of lines dropped; a missing file is 0.
// Used on resume to forget what a killed run logged after its last checkpoint.
size_t filter_jsonl(const std::string& path, const std::function<bool(const json::Value&)>& keep);

// Appends lines to a file (created if missing). Each write_line is flushed.
class JsonlWriter {
 public:
  JsonlWriter() = default;
  explicit JsonlWriter(const std::string& path, bool append = true);
  ~JsonlWriter();
  JsonlWriter(const JsonlWriter&) = delete;
  JsonlWriter& operator=(const JsonlWriter&) = delete;
  JsonlWriter(JsonlWriter&& other) noexcept;
  JsonlWriter& operator=(JsonlWriter&& other) noexcept;

  void write_line(const json::Value& v);
  void write_raw_line(const std::string& line);  // line must be one JSON document without '\n'
  bool is_open() const { return file_ != nullptr; }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  std::FILE* file_ = nullptr;
};

}  // namespace r1
