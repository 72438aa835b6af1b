// See root_fs.h. Runs in init, root of its own user namespace, before any untrusted code exists; a
// failure anywhere aborts the run with a sandbox_error naming the step.
#include "sandbox/helper/root_fs.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <stdexcept>
#include <vector>

namespace r1::sandbox::helper {

namespace {

struct SetupError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

void check(bool ok, const std::string& what) {
  if (!ok) throw SetupError(what + ": " + errno_text(errno));
}

// The statfs flags a remount inside a user namespace must keep (the kernel refuses to clear locked ones).
unsigned long kept_flags(const std::string& path) {
  struct statfs sf;
  if (statfs(path.c_str(), &sf) != 0) return 0;
  unsigned long flags = 0;
  if (sf.f_flags & ST_NOSUID) flags |= MS_NOSUID;
  if (sf.f_flags & ST_NODEV) flags |= MS_NODEV;
  if (sf.f_flags & ST_NOEXEC) flags |= MS_NOEXEC;
  if (sf.f_flags & ST_NOATIME) flags |= MS_NOATIME;
  if (sf.f_flags & ST_NODIRATIME) flags |= MS_NODIRATIME;
  if (sf.f_flags & ST_RELATIME) flags |= MS_RELATIME;
  if (sf.f_flags & ST_RDONLY) flags |= MS_RDONLY;
  return flags;
}

// Bind `source` onto `target` (which exists), then remount it with `extra` flags (read-only etc.).
void bind(const std::string& source, const std::string& target, unsigned long extra) {
  if (mount(source.c_str(), target.c_str(), nullptr, MS_BIND, nullptr) != 0) {
    // A non-recursive bind is refused when locked mounts sit below the source; then take them along.
    check(errno == EINVAL && mount(source.c_str(), target.c_str(), nullptr, MS_BIND | MS_REC, nullptr) == 0,
          "bind " + source);
  }
  const unsigned long flags = MS_REMOUNT | MS_BIND | extra | kept_flags(target);
  check(mount(nullptr, target.c_str(), nullptr, flags, nullptr) == 0, "remount " + target);
}

void make_dir(const std::string& path, mode_t mode) {
  check(mkdir(path.c_str(), mode) == 0 || errno == EEXIST, "mkdir " + path);
  check(chmod(path.c_str(), mode) == 0, "chmod " + path);
}

void make_empty_file(const std::string& path) {
  const int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
  check(fd >= 0, "create " + path);
  close(fd);
}

void write_file(const std::string& path, const std::string& content, mode_t mode, const Identity* owner) {
  const int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, mode);
  check(fd >= 0, "create " + path);
  const bool ok = write_all(fd, content.data(), content.size()) && fchmod(fd, mode) == 0 &&
                  (owner == nullptr || fchown(fd, owner->uid, owner->gid) == 0);
  const int err = errno;
  close(fd);
  errno = err;
  check(ok, "write " + path);
}

void mount_tmpfs(const std::string& target, int64_t size, mode_t mode, const Identity* owner) {
  char options[160];
  size = std::max<int64_t>(size, 1 << 20);  // "size=0" would mean unlimited
  std::snprintf(options, sizeof options, "size=%lld,nr_inodes=16384,mode=%o", static_cast<long long>(size),
                static_cast<unsigned>(mode));
  std::string opts = options;
  if (owner != nullptr) opts += ",uid=" + std::to_string(owner->uid) + ",gid=" + std::to_string(owner->gid);
  check(mount("r1-sandbox", target.c_str(), "tmpfs", MS_NOSUID | MS_NODEV, opts.c_str()) == 0, "tmpfs " + target);
}

// Mirror one host path into the new root: a symlink stays a symlink; a directory or file is bound
// read-only. Missing paths are skipped.
void mirror(const std::string& host_path, const std::string& target) {
  struct stat st;
  if (lstat(host_path.c_str(), &st) != 0) return;
  if (S_ISLNK(st.st_mode)) {
    char link[4096];
    const ssize_t n = readlink(host_path.c_str(), link, sizeof link - 1);
    check(n >= 0, "readlink " + host_path);
    link[n] = '\0';
    check(symlink(link, target.c_str()) == 0, "symlink " + target);
  } else if (S_ISDIR(st.st_mode)) {
    make_dir(target, 0755);
    bind(host_path, target, MS_RDONLY | MS_NOSUID | MS_NODEV);
  } else if (S_ISREG(st.st_mode)) {
    make_empty_file(target);
    bind(host_path, target, MS_RDONLY | MS_NOSUID | MS_NODEV);
  }
}

bool etc_entry_allowed(const char* name) {
  static const char* const kAllowed[] = {"ld.so.cache", "ld.so.conf", "ld.so.conf.d", "alternatives", "localtime"};
  for (const char* allowed : kAllowed) {
    if (std::strcmp(name, allowed) == 0) return true;
  }
  return std::strncmp(name, "python3", 7) == 0;  // Debian's /etc/python3.X/sitecustomize.py
}

const char* pick_mount_point() {
  for (const char* dir : {"/tmp", "/mnt", "/media", "/srv", "/opt", "/var/tmp"}) {
    struct stat st;
    if (lstat(dir, &st) == 0 && S_ISDIR(st.st_mode)) return dir;
  }
  return nullptr;
}

void make_parents(const std::string& root, const std::string& relative, const Identity& owner) {
  size_t pos = 0;
  while ((pos = relative.find('/', pos)) != std::string::npos) {
    const std::string dir = root + "/" + relative.substr(0, pos);
    if (mkdir(dir.c_str(), 0755) == 0) {
      check(chown(dir.c_str(), owner.uid, owner.gid) == 0, "chown " + dir);
    } else {
      check(errno == EEXIST, "mkdir " + dir);
    }
    ++pos;
  }
}

}  // namespace

std::string build_root_fs(const Job& job, const Identity& program) {
  try {
    check(mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) == 0, "make mounts private");
    const char* mount_point = pick_mount_point();
    if (mount_point == nullptr) throw SetupError("no directory to mount the sandbox root on (/tmp, /mnt, ...)");
    const std::string root = mount_point;
    mount_tmpfs(root, 16 << 20, 0755, nullptr);

    for (const char* dir : {"usr", "bin", "sbin", "lib", "lib32", "lib64", "libx32"}) {
      mirror(std::string("/") + dir, root + "/" + dir);
    }

    make_dir(root + "/etc", 0755);
    if (DIR* etc = opendir("/etc")) {
      std::vector<std::string> names;
      while (dirent* entry = readdir(etc)) {
        if (etc_entry_allowed(entry->d_name)) names.emplace_back(entry->d_name);
      }
      closedir(etc);
      for (const auto& name : names) mirror("/etc/" + name, root + "/etc/" + name);
    }

    make_dir(root + "/dev", 0755);
    for (const char* node : {"null", "zero", "full", "random", "urandom"}) {
      const std::string host = std::string("/dev/") + node;
      struct stat st;
      if (stat(host.c_str(), &st) != 0 || !S_ISCHR(st.st_mode)) continue;
      make_empty_file(root + "/dev/" + node);
      bind(host, root + "/dev/" + node, MS_NOSUID | MS_NOEXEC);
    }
    const int64_t disk = job.compile_argv.empty() ? job.limits.max_file_bytes
                                                  : std::max(job.limits.max_file_bytes, job.compile_limits.max_file_bytes);
    int64_t files_bytes = 0;
    for (const File& f : job.files) files_bytes += static_cast<int64_t>(f.content.size()) + 4096;
    make_dir(root + "/dev/shm", 01777);
    mount_tmpfs(root + "/dev/shm", disk, 01777, nullptr);
    make_dir(root + "/work", 0755);
    mount_tmpfs(root + "/work", disk + files_bytes + (1 << 20), 0755, &program);
    make_dir(root + "/tmp", 01777);
    mount_tmpfs(root + "/tmp", disk, 01777, nullptr);

    make_dir(root + "/.old-root", 0700);
    check(syscall(SYS_pivot_root, root.c_str(), (root + "/.old-root").c_str()) == 0, "pivot_root");
    check(chdir("/") == 0, "chdir /");
    check(umount2("/.old-root", MNT_DETACH) == 0, "detach the host root");
    check(rmdir("/.old-root") == 0, "rmdir /.old-root");

    const std::string user_line = program.uid == 0 ? "" : "sandbox:x:" + std::to_string(program.uid) + ":" +
                                                              std::to_string(program.gid) + ":sandbox:/work:/bin/sh\n";
    write_file("/etc/passwd",
               "root:x:0:0:root:/root:/bin/sh\n" + user_line + "nobody:x:65534:65534:nobody:/nonexistent:/bin/false\n",
               0644, nullptr);
    const std::string group_line = program.gid == 0 ? "" : "sandbox:x:" + std::to_string(program.gid) + ":\n";
    write_file("/etc/group", "root:x:0:\n" + group_line + "nogroup:x:65534:\n", 0644, nullptr);
    write_file("/etc/hosts", "127.0.0.1 localhost sandbox\n::1 localhost\n", 0644, nullptr);
    write_file("/etc/hostname", "sandbox\n", 0644, nullptr);

    for (const File& f : job.files) {
      if (!valid_job_path(f.path)) throw SetupError("invalid file path '" + f.path + "'");
      make_parents("/work", f.path, program);
      write_file("/work/" + f.path, f.content, f.executable ? 0755 : 0644, &program);
    }
    check(mount(nullptr, "/", nullptr, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV, nullptr) == 0,
          "remount / read-only");
    return {};
  } catch (const SetupError& e) {
    return e.what();
  }
}

}  // namespace r1::sandbox::helper
