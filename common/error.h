// Errors for r1: one exception type and a check macro.
//
// Every failure caused by bad input (a recipe, checkpoint, dataset line, tokenizer file, model output)
// is reported by throwing r1::Error with a message that names the file and the place (line, key,
// tensor) and what was expected. The CLI catches r1::Error at the top and prints it without a stack
// trace; anything else reaching the top is a bug. Internal invariants use TORCH_CHECK / assert.
#pragma once

#include <sstream>
#include <stdexcept>
#include <string>
#include <utility>

namespace r1 {

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& what) : std::runtime_error(what) {}
};

// Concatenates the parts with operator<< into one message.
template <class... Parts>
std::string str_cat(Parts&&... parts) {
  std::ostringstream out;
  (out << ... << std::forward<Parts>(parts));
  return out.str();
}

template <class... Parts>
[[noreturn]] void fail(Parts&&... parts) {
  throw Error(str_cat(std::forward<Parts>(parts)...));
}

}  // namespace r1

// R1_CHECK(cond, "message parts", value, ...) throws r1::Error when cond is false.
#define R1_CHECK(cond, ...)          \
  do {                               \
    if (!(cond)) ::r1::fail(__VA_ARGS__); \
  } while (0)
