// Small pieces shared by the helper's files: the init→helper message, fd and clock helpers, and the
// program identity. Not a public header: only sandbox/helper/*.cpp include it.
//
// The message is one fixed-size struct written with a single write() (< PIPE_BUF, hence atomic), so the
// helper never sees half a message even when the writer is killed mid-way.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace r1::sandbox::helper {

enum MsgType : uint32_t {
  kPhaseStart = 1,  // init is about to fork phase `phase` (0 = compile, 1.. = runs)
  kPhaseEnd = 2,    // the phase's process exited (and every process it left was killed and reaped)
  kSetupError = 3,  // building the sandbox failed; text says where
};

struct Msg {
  uint32_t type = 0;
  int32_t phase = 0;
  int32_t wait_status = 0;  // from wait4 of the phase's main process
  int32_t exec_errno = 0;   // != 0: the phase child failed before exec (step in text)
  int64_t utime_us = 0, stime_us = 0;
  int64_t maxrss_kb = 0;
  char text[256] = {};
};
static_assert(sizeof(Msg) < 512, "messages must stay far below PIPE_BUF");

void send_msg(int fd, const Msg& msg);  // best effort (the helper may be gone)
Msg make_msg(MsgType type, int phase, std::string_view text = {});

// The other direction, on the ack pipe: the helper acknowledges each kPhaseStart with the phase number
// once it credits the output pipes to that phase, and init forks the phase's program only then (see
// supervisor.h, "Output of each phase"). Four bytes in one write(), so atomic like the messages.
bool send_ack(int fd, int32_t phase);  // false (errno set) when init is gone
// Waits for the acknowledgement of `phase`; false (errno set; EPROTO for another phase number, EPIPE at
// EOF) when none comes.
bool wait_for_ack(int fd, int32_t phase);

// Who the program runs as, decided by how the user namespace was mapped.
struct Identity {
  bool switch_ids = false;  // setgroups/setresgid/setresuid to uid/gid before exec
  uid_t uid = 0;            // as seen by the program (inside the user namespace when there is one)
  gid_t gid = 0;
};

// Overwrites the job's input bytes, fd-3 data and file contents in this process's memory (see
// PhaseEnv::scrub). The job object is this process's private copy.
void scrub_bytes(const std::string& s);

// write() until done or error (EINTR retried). false on error.
bool write_all(int fd, const void* data, size_t size);
// Reads until EOF; false on error.
bool read_all(int fd, std::string* out);

double monotonic_s();
std::string errno_text(int err);  // "No such file or directory (ENOENT)"-like, via strerror

// Every descriptor from `from` upwards is closed (close_range, or a loop when the kernel lacks it).
void close_fds_from(int from);

// The pids of this process's children, live or zombie, from /proc/*/stat (a snapshot). Read it only while
// exited children are not reaped automatically: then a listed pid stays ours until we wait for it.
std::vector<pid_t> child_pids();

// Signal name for messages ("SIGKILL"); "signal N" for unknown ones.
std::string signal_name(int sig);

}  // namespace r1::sandbox::helper
