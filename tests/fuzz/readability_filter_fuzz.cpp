// libFuzzer target for the R1 readability filters (datasets/filters/, with rewards/text_words.cpp, whose word
// counting they share): completion splitting, language shares, paragraphs, code-block detection with display
// math, n-gram repetition and the duplicate index, on arbitrary bytes.
//
// Input: the first byte picks options (bits: missing_think = answer, near duplicates off, a target language
// from a short list, single letters counted); the rest is split at its first NUL byte into a prompt and a
// completion (no NUL: an empty prompt). The completion is filtered twice through apply() (the second time
// it must be a duplicate when the first kept it), then a prefix of it as a third sample. Any crash,
// sanitizer report, hang, or r1::Error (the target language codes used are all valid) is a bug.
//
// Build and run (clang; see tests/fuzz/CMakeLists.txt):
//   CC=clang CXX=clang++ cmake -S . -B build-fuzz -G Ninja -DR1_FUZZ=ON -DR1_BUILD_TESTS=OFF
//   cmake --build build-fuzz --target readability_filter_fuzz
//   build-fuzz/tests/fuzz/readability_filter_fuzz -max_total_time=300 -timeout=5 -max_len=8192 \
//     NEW_CORPUS_DIR tests/fuzz/corpus/readability
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>
#include <vector>

#include "datasets/filters/readability_filter.h"

using namespace r1::data;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const uint8_t flags = data[0];
  const std::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);
  const size_t nul = rest.find('\0');
  const std::string_view prompt = nul == std::string_view::npos ? std::string_view() : rest.substr(0, nul);
  const std::string_view completion = nul == std::string_view::npos ? rest : rest.substr(nul + 1);

  FilterOptions options;
  if (flags & 1) options.missing_think = MissingThink::Answer;
  if (flags & 2) options.duplicate.near = false;
  if (flags & 4) options.mixed_language.ignore_single_letters = false;
  if (flags & 8) options.code_block.min_indented_lines = 1;
  static const char* const kLangs[] = {"", "en", "zh", "ja", "ru", "ar", "ko", "hi"};
  ReadabilityFilter filter(options);
  FilterInput in;
  in.completion = completion;
  in.prompt = prompt;
  in.target_lang = kLangs[(flags >> 4) & 7];
  in.truncated = (flags & 0x80) != 0;

  const std::vector<Filter> first = filter.apply(in);
  const std::vector<Filter> second = filter.apply(in);
  const bool second_is_duplicate = !second.empty() && second.back() == Filter::Duplicate;
  if (first.empty() && !second_is_duplicate) std::abort();  // a kept sample must make its copy a duplicate
  if (!first.empty() && first != second) std::abort();     // a dropped one is not remembered
  in.completion = completion.substr(0, completion.size() / 2);
  filter.apply(in);
  if (filter.stats().rows != 3 || filter.stats().kept + filter.stats().dropped != 3) std::abort();
  return 0;
}
