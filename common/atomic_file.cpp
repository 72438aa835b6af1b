// See atomic_file.h.
#include "common/atomic_file.h"

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "common/error.h"
#include "common/fs.h"

namespace r1 {

AtomicFileWriter::AtomicFileWriter(std::string path)
    : path_(std::move(path)), tmp_(path_ + ".tmp." + std::to_string(::getpid())) {
  file_ = std::fopen(tmp_.c_str(), "wb");
  R1_CHECK(file_ != nullptr, path_, ": cannot create temporary file ", tmp_, " (", std::strerror(errno), ")");
}

AtomicFileWriter::~AtomicFileWriter() {
  if (file_ != nullptr) {
    std::fclose(file_);
    std::remove(tmp_.c_str());
  }
}

void AtomicFileWriter::write(std::string_view data) {
  R1_CHECK(file_ != nullptr, path_, ": write after commit");
  R1_CHECK(std::fwrite(data.data(), 1, data.size(), file_) == data.size(), path_, ": write to ", tmp_,
           " failed (", std::strerror(errno), ")");
}

void AtomicFileWriter::commit() {
  R1_CHECK(file_ != nullptr, path_, ": committed twice");
  std::FILE* f = file_;
  file_ = nullptr;
  const bool ok = std::fflush(f) == 0 && ::fsync(::fileno(f)) == 0;
  const std::string err = ok ? "" : std::strerror(errno);
  if (std::fclose(f) != 0 || !ok) {
    std::remove(tmp_.c_str());
    fail(path_, ": flush/fsync of ", tmp_, " failed (", err, ")");
  }
  if (std::rename(tmp_.c_str(), path_.c_str()) != 0) {
    const std::string rename_err = std::strerror(errno);
    std::remove(tmp_.c_str());
    fail(path_, ": rename from ", tmp_, " failed (", rename_err, ")");
  }
  fsync_dir(std::filesystem::path(path_).parent_path().string());
}

}  // namespace r1
