// The byte format between run() and the helper executable: a Job (the request resolved against the
// language table: every file, both argvs, the exact environment) goes in, a Result comes back.
//
// Not a public format and not versioned beyond a magic number: both ends are built from this file in the
// same build. It is a flat little-endian encoding (u32 lengths, i64/f64 scalars) with bounds checks on
// every read, because the helper reads it before it trusts anything and a truncated message must become
// an error, never an out-of-bounds read. Shared by the library and the helper (which does not link
// r1_common: only header-only pieces of it).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "sandbox/sandbox.h"

namespace r1::sandbox {

struct Job {
  std::vector<File> files;                // the main source file first
  std::vector<std::string> compile_argv;  // empty: no compile step
  std::vector<std::string> run_argv;
  std::vector<std::string> env;           // "NAME=value"
  std::vector<std::string> inputs;        // at least one
  bool stop_on_failure = false;
  std::string fd3_data;
  Limits limits;
  Limits compile_limits;
  Isolation isolation = Isolation::namespaces;
  bool python_zygote = false;  // run_argv is the python language's and may run in a warm interpreter
};

// A job file path is relative, has no empty, "." or ".." components, no NUL and is < 1024 bytes.
bool valid_job_path(const std::string& path);

std::string encode_job(const Job& job);
Job decode_job(std::string_view bytes);  // throws r1::Error on malformed input
std::string encode_result(const Result& result);
Result decode_result(std::string_view bytes);  // throws r1::Error on malformed input

}  // namespace r1::sandbox
