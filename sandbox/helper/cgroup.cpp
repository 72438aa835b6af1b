// See cgroup.h. The memory hierarchy is found from /proc/self/mountinfo and /proc/self/cgroup (v1 line
// with "memory" in its controller list, else the v2 "0::" line if that cgroup offers the memory
// controller to its children).
#include "sandbox/helper/cgroup.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <vector>

#include "sandbox/helper/util.h"

namespace r1::sandbox::helper {

namespace {

struct Hierarchy {
  std::string dir;  // the helper's own cgroup directory in that hierarchy
  bool v2 = false;
};

std::string read_small(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

bool write_small(const std::string& path, const std::string& text) {
  const int fd = open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) return false;
  const bool ok = write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  close(fd);
  return ok;
}

bool has_word(const std::string& list, const std::string& word, char sep) {
  std::stringstream ss(list);
  for (std::string item; std::getline(ss, item, sep);) {
    if (item == word) return true;
  }
  return false;
}

// The mount point of the v1 memory hierarchy and of cgroup2, from mountinfo.
void find_mounts(std::string* v1_memory, std::string* v2) {
  std::istringstream in(read_small("/proc/self/mountinfo"));
  for (std::string line; std::getline(in, line);) {
    const size_t dash = line.find(" - ");
    if (dash == std::string::npos) continue;
    std::istringstream left(line.substr(0, dash)), right(line.substr(dash + 3));
    std::string id, parent, devno, root, mount_point, fstype, source, options;
    left >> id >> parent >> devno >> root >> mount_point;
    right >> fstype >> source >> options;
    if (fstype == "cgroup" && has_word(options, "memory", ',') && v1_memory->empty()) *v1_memory = mount_point;
    if (fstype == "cgroup2" && v2->empty()) *v2 = mount_point;
  }
}

bool find_hierarchy(Hierarchy* h) {
  std::string v1_mount, v2_mount;
  find_mounts(&v1_mount, &v2_mount);
  std::istringstream in(read_small("/proc/self/cgroup"));
  std::string v1_path, v2_path;
  bool have_v2 = false;
  for (std::string line; std::getline(in, line);) {
    const size_t a = line.find(':'), b = line.find(':', a + 1);
    if (a == std::string::npos || b == std::string::npos) continue;
    const std::string controllers = line.substr(a + 1, b - a - 1), path = line.substr(b + 1);
    if (has_word(controllers, "memory", ',')) v1_path = path;
    if (line.compare(0, 3, "0::") == 0) {
      v2_path = path;
      have_v2 = true;
    }
  }
  if (!v1_mount.empty() && !v1_path.empty()) {
    h->dir = v1_mount + (v1_path == "/" ? "" : v1_path);
    h->v2 = false;
    return access(h->dir.c_str(), W_OK) == 0;
  }
  if (!v2_mount.empty() && have_v2) {
    h->dir = v2_mount + (v2_path == "/" ? "" : v2_path);
    h->v2 = true;
    // The memory controller must be handed down to our children (cgroup.subtree_control).
    std::string enabled = read_small(h->dir + "/cgroup.subtree_control");
    enabled = enabled.substr(0, enabled.find('\n'));
    return has_word(enabled, "memory", ' ') && access(h->dir.c_str(), W_OK) == 0;
  }
  return false;
}

int g_counter = 0;

}  // namespace

bool SandboxCgroup::create(int64_t memory_limit_bytes) {
  if (geteuid() != 0) return false;
  Hierarchy h;
  if (!find_hierarchy(&h)) return false;
  const std::string dir = h.dir + "/r1-sandbox-" + std::to_string(getpid()) + "-" + std::to_string(g_counter++);
  if (mkdir(dir.c_str(), 0700) != 0) return false;
  const std::string limit = std::to_string(memory_limit_bytes);
  bool ok;
  if (h.v2) {
    ok = write_small(dir + "/memory.max", limit) && (write_small(dir + "/memory.swap.max", "0") || true);
  } else {
    ok = write_small(dir + "/memory.limit_in_bytes", limit);
    (void)write_small(dir + "/memory.memsw.limit_in_bytes", limit);  // no swap beyond it, where swap exists
  }
  const int fd = ok ? open((dir + "/cgroup.procs").c_str(), O_WRONLY | O_CLOEXEC) : -1;
  if (fd < 0) {
    rmdir(dir.c_str());
    return false;
  }
  dir_ = dir;
  v2_ = h.v2;
  procs_fd_ = fd;
  return true;
}

int64_t SandboxCgroup::oom_kills() const {
  if (procs_fd_ < 0) return 0;
  const std::string text = read_small(dir_ + (v2_ ? "/memory.events" : "/memory.oom_control"));
  std::istringstream in(text);
  for (std::string key; in >> key;) {
    int64_t value = 0;
    in >> value;
    if (key == "oom_kill") return value;
  }
  return 0;
}

SandboxCgroup::~SandboxCgroup() {
  if (procs_fd_ >= 0) close(procs_fd_);
  if (dir_.empty()) return;
  // Exited processes leave the cgroup asynchronously: retry briefly.
  for (int attempt = 0; attempt < 50 && rmdir(dir_.c_str()) != 0 && errno == EBUSY; ++attempt) usleep(2000);
}

int64_t sandbox_memory_limit(const Job& job) {
  int64_t limit = job.limits.total_memory_bytes;
  if (!job.compile_argv.empty()) limit = std::max(limit, job.compile_limits.total_memory_bytes);
  return limit;
}

bool join_cgroup(int procs_fd) { return procs_fd < 0 || write(procs_fd, "0", 1) == 1; }

void remove_stale_cgroups() {
  Hierarchy h;
  if (geteuid() != 0 || !find_hierarchy(&h)) return;
  DIR* dir = opendir(h.dir.c_str());
  if (dir == nullptr) return;
  std::vector<std::string> stale;
  while (dirent* e = readdir(dir)) {
    const std::string name = e->d_name;
    if (name.compare(0, 11, "r1-sandbox-") != 0) continue;
    const long pid = std::strtol(name.c_str() + 11, nullptr, 10);
    if (pid > 0 && kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH) stale.push_back(h.dir + "/" + name);
  }
  closedir(dir);
  for (const auto& path : stale) rmdir(path.c_str());
}

}  // namespace r1::sandbox::helper
