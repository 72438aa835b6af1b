// See fs.h. Plain POSIX calls so errors carry errno text and the path.
#include "common/fs.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "common/error.h"

namespace r1 {
namespace {
std::string errno_text() { return std::strerror(errno); }
}  // namespace

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  R1_CHECK(in.good(), path, ": cannot open for reading (", errno_text(), ")");
  std::ostringstream buf;
  buf << in.rdbuf();
  R1_CHECK(!in.bad(), path, ": read error");
  return buf.str();
}

void write_file_atomic(const std::string& path, std::string_view data) {
  const std::string tmp = path + ".tmp." + std::to_string(::getpid());
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  R1_CHECK(fd >= 0, path, ": cannot create temporary file ", tmp, " (", errno_text(), ")");
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      std::string err = errno_text();
      ::close(fd);
      ::unlink(tmp.c_str());
      fail(path, ": write failed (", err, ")");
    }
    done += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    std::string err = errno_text();
    ::unlink(tmp.c_str());
    fail(path, ": fsync/close failed (", err, ")");
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    std::string err = errno_text();
    ::unlink(tmp.c_str());
    fail(path, ": rename from ", tmp, " failed (", err, ")");
  }
  fsync_dir(std::filesystem::path(path).parent_path().string());
}

void make_dirs(const std::string& path) {
  std::error_code ec;
  std::filesystem::create_directories(path, ec);
  R1_CHECK(!ec, path, ": cannot create directory (", ec.message(), ")");
}

bool path_exists(const std::string& path) { return std::filesystem::exists(path); }

bool is_directory(const std::string& path) { return std::filesystem::is_directory(path); }

std::string path_join(const std::string& a, const std::string& b) {
  if (a.empty()) return b;
  if (a.back() == '/') return a + b;
  return a + "/" + b;
}

void fsync_dir(const std::string& dir) {
  int fd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return;
  ::fsync(fd);
  ::close(fd);
}

void replace_dir_atomic(const std::string& staging, const std::string& target) {
  namespace fs = std::filesystem;
  std::error_code ec;
  const std::string old = target + ".old." + std::to_string(::getpid());
  const bool had_target = fs::exists(target);
  if (had_target) {
    fs::rename(target, old, ec);
    R1_CHECK(!ec, target, ": cannot move aside for replacement (", ec.message(), ")");
  }
  fs::rename(staging, target, ec);
  if (ec) {
    if (had_target) fs::rename(old, target);
    fail(target, ": cannot move ", staging, " into place (", ec.message(), ")");
  }
  fsync_dir(fs::path(target).parent_path().string());
  if (had_target) fs::remove_all(old, ec);
}

void remove_all(const std::string& path) {
  std::error_code ec;
  std::filesystem::remove_all(path, ec);
}

}  // namespace r1
