// See code_compare.h.
#include "rewards/code/code_compare.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <vector>

namespace r1::rewards {

namespace {

using Tokens = std::vector<std::string_view>;

std::vector<Tokens> tokenize(std::string_view text) {
  std::vector<Tokens> lines;
  size_t pos = 0;
  while (pos <= text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(pos, end - pos);
    Tokens tokens;
    size_t i = 0;
    while (i < line.size()) {
      while (i < line.size() && std::isspace(static_cast<unsigned char>(line[i]))) ++i;
      const size_t start = i;
      while (i < line.size() && !std::isspace(static_cast<unsigned char>(line[i]))) ++i;
      if (i > start) tokens.push_back(line.substr(start, i - start));
    }
    lines.push_back(std::move(tokens));
    if (end == text.size()) break;
    pos = end + 1;
  }
  while (!lines.empty() && lines.back().empty()) lines.pop_back();
  return lines;
}

bool parse_number(std::string_view token, double* out) {
  if (token.empty() || token.size() > 64) return false;
  const std::string s(token);
  char* end = nullptr;
  errno = 0;
  const double v = std::strtod(s.c_str(), &end);
  if (end != s.c_str() + s.size() || errno == ERANGE || !std::isfinite(v)) return false;
  // strtod also reads "inf", "nan" and hex floats; a judge's numbers are decimal.
  for (char c : s) {
    if (!(std::isdigit(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '+' || c == 'e' || c == 'E')) {
      return false;
    }
  }
  *out = v;
  return true;
}

std::string clip(std::string_view s) {
  return s.size() <= 40 ? std::string(s) : std::string(s.substr(0, 37)) + "...";
}

}  // namespace

OutputMatch compare_output(std::string_view expected, std::string_view actual, double float_tolerance) {
  const std::vector<Tokens> want = tokenize(expected), got = tokenize(actual);
  OutputMatch m;
  if (want.size() != got.size()) {
    m.reason = "expected " + std::to_string(want.size()) + " lines, got " + std::to_string(got.size());
    return m;
  }
  for (size_t l = 0; l < want.size(); ++l) {
    const std::string where = "line " + std::to_string(l + 1);
    if (want[l].size() != got[l].size()) {
      m.reason = where + ": expected " + std::to_string(want[l].size()) + " tokens, got " + std::to_string(got[l].size());
      return m;
    }
    for (size_t t = 0; t < want[l].size(); ++t) {
      if (want[l][t] == got[l][t]) continue;
      double a = 0, b = 0;
      if (float_tolerance > 0 && parse_number(want[l][t], &b) && parse_number(got[l][t], &a) &&
          std::fabs(a - b) <= float_tolerance * std::max(1.0, std::fabs(b))) {
        continue;
      }
      m.reason = where + " token " + std::to_string(t + 1) + ": expected '" + clip(want[l][t]) + "', got '" +
                 clip(got[l][t]) + "'";
      return m;
    }
  }
  m.equal = true;
  return m;
}

}  // namespace r1::rewards
