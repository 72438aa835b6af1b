// See prompt_stream.h.
#include "datasets/prompt_stream.h"

#include "common/error.h"

namespace r1::data {

PromptStream::PromptStream(PromptDatasetSpec spec) : PromptStream(std::move(spec), Position()) {}

PromptStream::PromptStream(PromptDatasetSpec spec, Position start)
    : spec_(std::move(spec)), in_(spec_.path, std::ios::binary), pos_(start) {
  R1_CHECK(in_.good(), spec_.path, ": cannot open for reading");
  if (spec_.format == "mgsm") {
    lang_ = spec_.target_lang.empty() ? detail::mgsm_file_language(spec_.path) : spec_.target_lang;
  }
  if (pos_.offset > 0) {
    in_.seekg(static_cast<std::streamoff>(pos_.offset));
    R1_CHECK(in_.good(), spec_.path, ": cannot continue at byte ", pos_.offset, " (the file is shorter than when the "
             "position was saved: was it changed?)");
  }
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
