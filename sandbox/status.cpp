// Status names (shared by the library and the helper executable) and the small Result/Limits helpers.
#include "common/error.h"
#include "sandbox/sandbox.h"

namespace r1::sandbox {

const char* status_name(Status status) {
  switch (status) {
    case Status::ok: return "ok";
    case Status::runtime_error: return "runtime_error";
    case Status::timeout: return "timeout";
    case Status::memory_limit: return "memory_limit";
    case Status::output_limit: return "output_limit";
    case Status::compile_error: return "compile_error";
    case Status::sandbox_error: return "sandbox_error";
  }
  return "sandbox_error";
}

std::optional<Status> parse_status(const std::string& name) {
  for (Status s : {Status::ok, Status::runtime_error, Status::timeout, Status::memory_limit, Status::output_limit,
                   Status::compile_error, Status::sandbox_error}) {
    if (name == status_name(s)) return s;
  }
  return std::nullopt;
}

Limits default_compile_limits() {
  Limits l;
  l.wall_time_s = 30.0;
  l.cpu_time_s = 30.0;
  l.memory_bytes = 2LL << 30;
  l.total_memory_bytes = 2LL << 30;
  l.max_file_bytes = 128LL << 20;
  l.stdout_bytes = 64LL << 10;
  l.stderr_bytes = 64LL << 10;
  return l;
}

const Execution& Result::run() const {
  R1_CHECK(!runs.empty(), "sandbox: no run took place (", status_name(status), ": ", message, ")");
  return runs.front();
}

}  // namespace r1::sandbox
