// See prompt_stream.h.
#include "datasets/prompt_stream.h"

#include <cerrno>
#include <cstring>

#include "common/error.h"

namespace r1::data {

PromptStream::PromptStream(PromptDatasetSpec spec) : PromptStream(std::move(spec), Position()) {}

PromptStream::PromptStream(PromptDatasetSpec spec, Position start)
    : spec_(std::move(spec)), in_(spec_.path, std::ios::binary), pos_(start) {
  R1_CHECK(in_.good(), spec_.path, ": cannot open for reading (", std::strerror(errno), ")");
  if (spec_.format == "mgsm") {
    lang_ = spec_.target_lang.empty() ? detail::mgsm_file_language(spec_.path) : spec_.target_lang;
  }
  if (pos_.offset > 0) check_and_seek();
}

// A saved position must lie in the file and at the start of a line (or at the end of a file without a final
// newline): a file changed since the position was saved is an error, not a source that silently ends or a
// prompt read from the middle of a line. (seekg past the end succeeds, so the size is checked first.)
void PromptStream::check_and_seek() {
  in_.seekg(0, std::ios::end);
  const std::streamoff size = in_.tellg();
  R1_CHECK(in_.good() && static_cast<uint64_t>(size) >= pos_.offset, spec_.path, ": cannot continue at byte ",
           pos_.offset, " (line ", pos_.line + 1, "): the file has ", size,
           " bytes, it is shorter than when the position was saved (was it changed?)");
  if (static_cast<uint64_t>(size) > pos_.offset) {
    in_.seekg(static_cast<std::streamoff>(pos_.offset - 1));
    R1_CHECK(in_.get() == '\n', spec_.path, ": cannot continue at byte ", pos_.offset, " (line ", pos_.line + 1,
             "): it is not the start of a line (the file changed since the position was saved)");
  }
  in_.clear();
  in_.seekg(static_cast<std::streamoff>(pos_.offset));
}

std::optional<PromptExample> PromptStream::next() {
  std::string line;
  while (true) {
    if (spec_.limit >= 0 && static_cast<int64_t>(pos_.examples) >= spec_.limit) return std::nullopt;
    if (!std::getline(in_, line)) return std::nullopt;
    const bool had_newline = !in_.eof();
    pos_.offset += line.size() + (had_newline ? 1 : 0);
    ++pos_.line;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.find_first_not_of(" \t") == std::string::npos) continue;
    const std::string where = spec_.path + ":" + std::to_string(pos_.line);
    try {
      PromptExample ex = detail::parse_prompt_line(spec_, line, where, lang_);
      ++pos_.examples;
      return ex;
    } catch (const Error&) {
      if (!spec_.skip_bad_lines) throw;
      ++skipped_;
    }
  }
}

}  // namespace r1::data
