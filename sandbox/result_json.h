// A sandbox Result as JSON (for `r1 sandbox run --json` and logs).
//
// Program output is arbitrary bytes and JSON strings are Unicode: invalid UTF-8 sequences are replaced
// by U+FFFD and the execution says so ("stdout_lossy": true), so the JSON is always valid and a lossy
// rendering is never mistaken for the real bytes.
#pragma once

#include <string>

#include "sandbox/sandbox.h"

namespace r1::sandbox {

std::string result_to_json(const Result& result, bool pretty = false);

// Valid UTF-8: invalid bytes become U+FFFD; *lossy (if given) says whether any were replaced.
std::string to_valid_utf8(const std::string& bytes, bool* lossy = nullptr);

}  // namespace r1::sandbox
