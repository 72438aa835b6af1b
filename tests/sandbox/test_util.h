// Helpers shared by the sandbox tests: run a program in one call, and look at the host from outside the
// sandbox (processes by a marker in their command line or by parentage, our mounts, our descriptors).
#pragma once

#include <dirent.h>
#include <unistd.h>

#include <fstream>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "sandbox/sandbox.h"

namespace r1::sandbox::testing {

// A request to run `source` in `language` under `limits`; the caller sets the rest.
inline Request request_for(const std::string& language, const std::string& source, Limits limits = {}) {
  Request r;
  r.language = language;
  r.source = source;
  r.limits = limits;
  return r;
}

inline Result run_program(const std::string& language, const std::string& source, Limits limits = {},
                          std::vector<std::string> inputs = {}, std::vector<std::string> args = {}) {
  Request r = request_for(language, source, limits);
  r.inputs = std::move(inputs);
  r.args = std::move(args);
  return run(r);
}

inline Limits quick_limits(double wall_s = 5.0) {
  Limits l;
  l.wall_time_s = wall_s;
  l.cpu_time_s = wall_s;
  return l;
}

// A token unique to this test process and call, for markers and file names.
inline std::string unique_token(const std::string& prefix) {
  static std::mt19937_64 rng(std::random_device{}());
  return prefix + "-" + std::to_string(getpid()) + "-" + std::to_string(rng() % 1000000000ULL);
}

inline std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Host processes whose command line contains `marker`.
inline std::vector<int> host_processes_with(const std::string& marker) {
  std::vector<int> pids;
  DIR* proc = opendir("/proc");
  if (proc == nullptr) return pids;
  while (dirent* e = readdir(proc)) {
    const std::string name = e->d_name;
    if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::string cmdline = read_text("/proc/" + name + "/cmdline");
    for (char& c : cmdline) {
      if (c == '\0') c = ' ';
    }
    if (cmdline.find(marker) != std::string::npos && std::stoi(name) != getpid()) pids.push_back(std::stoi(name));
  }
  closedir(proc);
  return pids;
}

// One line of /proc/PID/stat, the fields the lifetime tests look at.
struct HostProcess {
  int pid = 0;
  int ppid = 0;
  int pgrp = 0;      // process group
  char state = '?';  // 'Z' for a zombie
  std::string comm;  // at most 15 bytes: "r1-sandbox-help" for every helper process
};

inline bool all_digits(const std::string& s) {
  return !s.empty() && s.find_first_not_of("0123456789") == std::string::npos;
}

// Parses "PID (COMM) STATE PPID PGRP ..."; COMM may itself hold spaces and parentheses, so it ends at the
// last ')'. False when the process vanished before it was read.
inline bool parse_stat(const std::string& stat, HostProcess* p) {
  const size_t open = stat.find('(');
  const size_t close = stat.rfind(')');
  if (open == std::string::npos || close == std::string::npos || close < open) return false;
  std::istringstream rest(stat.substr(close + 1));
  p->pid = std::stoi(stat.substr(0, open));
  p->comm = stat.substr(open + 1, close - open - 1);
  return static_cast<bool>(rest >> p->state >> p->ppid >> p->pgrp);
}

// Every process of the host that /proc shows (a snapshot: processes may come and go while it is taken).
inline std::vector<HostProcess> host_process_table() {
  std::vector<HostProcess> table;
  DIR* proc = opendir("/proc");
  if (proc == nullptr) return table;
  while (dirent* e = readdir(proc)) {
    HostProcess p;
    const std::string stat_path = std::string("/proc/") + e->d_name + "/stat";
    if (all_digits(e->d_name) && parse_stat(read_text(stat_path), &p)) table.push_back(p);
  }
  closedir(proc);
  return table;
}

// The processes below `root` (children, their children, ...), root excluded.
inline std::vector<HostProcess> descendants_of(int root) {
  const std::vector<HostProcess> table = host_process_table();
  std::set<int> tree = {root};
  std::vector<HostProcess> found;
  for (bool grew = true; grew;) {  // parents may be listed after their children: repeat until stable
    grew = false;
    for (const HostProcess& p : table) {
      if (tree.count(p.ppid) != 0 && tree.insert(p.pid).second) {
        found.push_back(p);
        grew = true;
      }
    }
  }
  return found;
}

// Zombies anywhere below `root`: children of ours, of our helper processes, or of theirs.
inline std::vector<HostProcess> zombies_below(int root) {
  std::vector<HostProcess> zombies;
  for (const HostProcess& p : descendants_of(root)) {
    if (p.state == 'Z') zombies.push_back(p);
  }
  return zombies;
}

inline std::string describe(const std::vector<HostProcess>& processes) {
  std::string text;
  for (const HostProcess& p : processes) {
    text += std::to_string(p.pid) + " (" + p.comm + ") state " + p.state + " ppid " + std::to_string(p.ppid) + "\n";
  }
  return text;
}

// The number of descriptors this process has open (the directory stream's own is not counted).
inline int open_fd_count() {
  DIR* fds = opendir("/proc/self/fd");
  if (fds == nullptr) return -1;
  int n = 0;
  while (dirent* e = readdir(fds)) n += all_digits(e->d_name);
  closedir(fds);
  return n - 1;
}

// Lines of the host's mount table that came from a sandbox (its tmpfs mounts are named "r1-sandbox").
inline int host_sandbox_mounts() {
  std::istringstream in(read_text("/proc/self/mountinfo"));
  int n = 0;
  for (std::string line; std::getline(in, line);) n += line.find("r1-sandbox") != std::string::npos;
  return n;
}

inline bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

}  // namespace r1::sandbox::testing
