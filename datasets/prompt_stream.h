// A prompt dataset read one example at a time (datasets/prompt_dataset.h's formats and row normalisation),
// so memory does not grow with the file, and resumable: position() says where the next example starts
// (byte offset, line, examples read so far) and a stream opened at a saved position continues there.
// Used by the rejection-sampling stage, which may walk millions of prompts and restarts after a kill, and by
// load_prompt_dataset (which drains a stream: one reader of prompt files).
#pragma once

#include <cstdint>
#include <fstream>
#include <optional>
#include <string>

#include "datasets/prompt_dataset.h"

namespace r1::data {

class PromptStream {
 public:
  struct Position {
    uint64_t offset = 0;    // byte offset of the next line
    uint64_t line = 0;      // lines read (the next line is line + 1)
    uint64_t examples = 0;  // examples returned so far (counts toward spec.limit)
  };

  // Opens spec.path (an r1::Error naming it when it cannot) at its start, or at `start`, which must be a line
  // start within the file (else an r1::Error: the file changed since the position was saved).
  explicit PromptStream(PromptDatasetSpec spec);
  PromptStream(PromptDatasetSpec spec, Position start);

  // The next example, or nullopt at the end of the file or after spec.limit examples. A malformed line is an
  // r1::Error naming file:line, or is skipped (and counted) with spec.skip_bad_lines.
  std::optional<PromptExample> next();

  Position position() const { return pos_; }
  size_t skipped_bad_lines() const { return skipped_; }

 private:
  void check_and_seek();

  PromptDatasetSpec spec_;
  std::ifstream in_;
  Position pos_;
  std::string lang_;  // mgsm: the language of the file
  size_t skipped_ = 0;
};

namespace detail {
// One line of a prompt dataset in its format (prompt_dataset.cpp, which knows the formats): the example, or
// an r1::Error naming `where`. Blank lines are the caller's business.
PromptExample parse_prompt_line(const PromptDatasetSpec& spec, const std::string& line, const std::string& where,
                                const std::string& mgsm_lang);
std::string mgsm_file_language(const std::string& path);
}  // namespace detail

}  // namespace r1::data
