// Test helper: the message of the r1::Error a call throws, "" when it throws none (any other exception
// escapes to the test). For checking that an error names the file, key or value it should.
#pragma once

#include <functional>
#include <string>

#include "common/error.h"

namespace r1::testing {

inline std::string error_of(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

}  // namespace r1::testing
