// A file written as a stream and published atomically: the data goes to PATH.tmp.<pid>, commit() flushes,
// fsyncs and renames it over PATH (then fsyncs the directory), so a reader or a crash never sees half a
// file and a failed run leaves PATH as it was. Destroying the writer before commit() removes the temp file.
// The streaming sibling of write_file_atomic (common/fs.h), for outputs too large to hold in memory.
#pragma once

#include <cstdio>
#include <string>
#include <string_view>

namespace r1 {

class AtomicFileWriter {
 public:
  explicit AtomicFileWriter(std::string path);  // throws r1::Error naming the path when it cannot create it
  ~AtomicFileWriter();
  AtomicFileWriter(const AtomicFileWriter&) = delete;
  AtomicFileWriter& operator=(const AtomicFileWriter&) = delete;

  void write(std::string_view data);
  void commit();
  const std::string& path() const { return path_; }

 private:
  std::string path_, tmp_;
  std::FILE* file_ = nullptr;
};

}  // namespace r1
