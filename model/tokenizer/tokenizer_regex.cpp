// See tokenizer_regex.h. PCRE2 is compiled once per pattern (with JIT when the library has it); each
// thread keeps its own JIT stack, so one compiled Regex serves concurrent encode() calls.
#define PCRE2_CODE_UNIT_WIDTH 8
#include "model/tokenizer/tokenizer_regex.h"

#include <pcre2.h>

#include <cctype>
#include <memory>

#include "common/error.h"
#include "model/tokenizer/tokenizer_utf8.h"

namespace r1::model {
namespace {

// Unicode White_Space as a class body (what Oniguruma's \s matches).
constexpr const char* kWhiteSpaceBody =
    "\\t\\n\\x{0B}\\f\\r\\x{20}\\x{85}\\x{A0}\\x{1680}\\x{2000}-\\x{200A}\\x{2028}\\x{2029}\\x{202F}"
    "\\x{205F}\\x{3000}";

bool is_hex(char c) { return std::isxdigit(static_cast<unsigned char>(c)) != 0; }

std::string pcre2_message(int code) {
  PCRE2_UCHAR buf[256];
  pcre2_get_error_message(code, buf, sizeof(buf));
  return reinterpret_cast<const char*>(buf);
}

// Per-thread match context with a JIT stack large enough for long subjects.
struct ThreadMatchState {
  pcre2_match_context* context = nullptr;
  pcre2_jit_stack* jit_stack = nullptr;
  ThreadMatchState() {
    context = pcre2_match_context_create(nullptr);
    jit_stack = pcre2_jit_stack_create(32 * 1024, 8 * 1024 * 1024, nullptr);
    if (context != nullptr && jit_stack != nullptr) pcre2_jit_stack_assign(context, nullptr, jit_stack);
  }
  ~ThreadMatchState() {
    if (jit_stack != nullptr) pcre2_jit_stack_free(jit_stack);
    if (context != nullptr) pcre2_match_context_free(context);
  }
};

ThreadMatchState& thread_state() {
  thread_local ThreadMatchState state;
  return state;
}

}  // namespace

std::string translate_onig_pattern(const std::string& p) {
  std::string out;
  out.reserve(p.size() + 32);
  bool in_class = false;
  for (size_t i = 0; i < p.size(); ++i) {
    const char c = p[i];
    if (c == '\\' && i + 1 < p.size()) {
      const char e = p[i + 1];
      if (e == 's') {
        out += in_class ? std::string(kWhiteSpaceBody) : std::string("[") + kWhiteSpaceBody + "]";
        ++i;
      } else if (e == 'S' && !in_class) {
        out += std::string("[^") + kWhiteSpaceBody + "]";
        ++i;
      } else if (e == 'h' || (e == 'H' && !in_class)) {
        const char* body = "0-9a-fA-F";
        out += in_class ? std::string(body) : std::string(e == 'h' ? "[" : "[^") + body + "]";
        ++i;
      } else if (e == 'u' && i + 5 < p.size() && is_hex(p[i + 2]) &&
                 is_hex(p[i + 3]) && is_hex(p[i + 4]) && is_hex(p[i + 5])) {
        out += "\\x{" + p.substr(i + 2, 4) + "}";
        i += 5;
      } else {
        out += c;
        out += e;
        ++i;
      }
      continue;
    }
    if (!in_class && c == '[') {
      in_class = true;
      out += c;
      if (i + 1 < p.size() && p[i + 1] == '^') out += p[++i];
      if (i + 1 < p.size() && p[i + 1] == ']') out += p[++i];  // a leading ']' is a literal
      continue;
    }
    if (in_class && c == '[' && i + 1 < p.size() && p[i + 1] == ':') {  // POSIX class [:alpha:]
      const size_t close = p.find(":]", i + 2);
      if (close != std::string::npos) {
        out += p.substr(i, close + 2 - i);
        i = close + 1;
        continue;
      }
    }
    if (in_class && c == ']') in_class = false;
    out += c;
  }
  return out;
}

Regex::Regex(const std::string& onig_pattern, const std::string& where) : pattern_(onig_pattern) {
  const std::string translated = translate_onig_pattern(onig_pattern);
  int error = 0;
  PCRE2_SIZE offset = 0;
  pcre2_code* code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(translated.data()), translated.size(),
                                   PCRE2_UTF | PCRE2_UCP | PCRE2_MATCH_INVALID_UTF, &error, &offset, nullptr);
  if (code == nullptr) {
    fail(where, ": invalid regex '", onig_pattern, "': ", pcre2_message(error), " (at offset ", offset,
         " of the PCRE2 form '", translated, "')");
  }
  jit_ = pcre2_jit_compile(code, PCRE2_JIT_COMPLETE) == 0;
  code_ = code;
}

Regex::~Regex() {
  if (code_ != nullptr) pcre2_code_free(static_cast<pcre2_code*>(code_));
}

std::vector<Span> Regex::find_all(std::string_view s) const {
  auto* code = static_cast<pcre2_code*>(code_);
  std::unique_ptr<pcre2_match_data, decltype(&pcre2_match_data_free)> md(
      pcre2_match_data_create_from_pattern(code, nullptr), &pcre2_match_data_free);
  R1_CHECK(md != nullptr, "regex: out of memory");
  pcre2_match_context* ctx = thread_state().context;
  std::vector<Span> out;
  const auto* subject = reinterpret_cast<PCRE2_SPTR>(s.data());
  size_t last_end = 0;
  bool have_last = false;
  size_t last_match_end = 0;
  while (last_end <= s.size()) {
    const int rc = pcre2_match(code, subject, s.size(), last_end, 0, md.get(), ctx);
    if (rc == PCRE2_ERROR_NOMATCH) break;
    if (rc < 0) {
      fail("tokenizer regex '", pattern_, "' failed at byte ", last_end, " of a ", s.size(),
           "-byte input: ", pcre2_message(rc));
    }
    const PCRE2_SIZE* ov = pcre2_get_ovector_pointer(md.get());
    const size_t begin = ov[0], end = ov[1];
    if (begin == end && have_last && last_match_end == end) {
      // An empty match right after the previous match: step over one character and search again.
      if (last_end >= s.size()) break;
      int32_t cp;
      last_end += utf8::next(s, last_end, &cp);
      continue;
    }
    out.emplace_back(begin, end);
    last_end = end;
    have_last = true;
    last_match_end = end;
  }
  return out;
}

std::vector<Span> find_literal(std::string_view s, std::string_view literal) {
  std::vector<Span> out;
  if (literal.empty()) return out;
  size_t pos = 0;
  while ((pos = s.find(literal, pos)) != std::string_view::npos) {
    out.emplace_back(pos, pos + literal.size());
    pos += literal.size();
  }
  return out;
}

std::vector<std::pair<Span, bool>> matches_to_splits(const std::vector<Span>& matches, size_t n) {
  std::vector<std::pair<Span, bool>> out;
  if (n == 0) {
    out.push_back({{0, 0}, false});
    return out;
  }
  size_t prev = 0;
  for (const Span& m : matches) {
    if (prev != m.first) out.push_back({{prev, m.first}, false});
    out.push_back({m, true});
    prev = m.second;
  }
  if (prev != n) out.push_back({{prev, n}, false});
  return out;
}

}  // namespace r1::model
