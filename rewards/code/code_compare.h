// Comparing a program's stdout with the expected output of a stdin/stdout test (Codeforces-style).
//
// Both texts are split into lines ("\r\n" and "\n"); trailing lines that are empty or only whitespace
// are dropped; the remaining lines must be equally many, and line i of both must have the same
// whitespace-separated tokens. With a float tolerance > 0, two tokens that both parse completely as
// finite numbers are also equal when |actual - expected| <= tol * max(1, |expected|) (absolute for
// small values, relative for large ones, like most judges' checkers). What this does not forgive:
// a missing or extra line, tokens split differently ("1 2" vs "12"), case.
#pragma once

#include <string>
#include <string_view>

namespace r1::rewards {

struct OutputMatch {
  bool equal = false;
  std::string reason;  // the first difference, for logs ("line 2 token 1: expected '5', got '6'")
};

OutputMatch compare_output(std::string_view expected, std::string_view actual, double float_tolerance = 0.0);

}  // namespace r1::rewards
