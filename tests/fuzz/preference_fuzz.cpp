// libFuzzer target for the reward-model data readers (datasets/preference_dataset.cpp, with the chat-message list
// reader of datasets/sft_dataset.cpp and the JSON layer of common/json.cpp): parse_preference_pair and
// parse_pointwise_example on arbitrary JSON text, the untrusted rows of a preference or pointwise JSONL file.
//
// Input: the whole input is one JSONL line, parsed strictly as for_each_jsonl parses data lines (no comments);
// text that is not JSON is a located r1::Error and ends the run. The value (object or not) then goes through both
// readers. A row a reader accepts must satisfy its header's contract: every conversation non-empty, made of
// system / user / assistant turns and ending with an assistant turn; a margin finite; a label in [0, 1]; the
// origin the `where` passed in. A row it refuses must be an r1::Error naming that `where`. Any crash, sanitizer
// report, hang, other exception, or broken contract is a bug.
//
// Build and run (clang; see tests/fuzz/CMakeLists.txt):
//   CC=clang CXX=clang++ cmake -S . -B build-fuzz -G Ninja -DR1_FUZZ=ON -DR1_BUILD_TESTS=OFF
//   cmake --build build-fuzz --target preference_fuzz
//   build-fuzz/tests/fuzz/preference_fuzz -max_total_time=300 -timeout=5 -max_len=4096 \
//     -dict=tests/fuzz/preference.dict NEW_CORPUS_DIR tests/fuzz/corpus/preference
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.h"
#include "common/json.h"
#include "datasets/preference_dataset.h"

using namespace r1;

namespace {

const std::string kWhere = "prefs.jsonl:7";

void check_conversation(const std::vector<ChatMessage>& conv) {
  if (conv.empty() || conv.back().role != "assistant") std::abort();
  for (const ChatMessage& m : conv) {
    if (m.role != "system" && m.role != "user" && m.role != "assistant") std::abort();
  }
}

// Runs one reader; an r1::Error must name kWhere, anything else escapes to libFuzzer as a crash.
template <class Read>
void run_reader(Read read) {
  try {
    read();
  } catch (const Error& e) {
    if (std::string_view(e.what()).find(kWhere) == std::string_view::npos) std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  json::Document row;
  try {
    row = json::parse(text, kWhere, /*allow_comments=*/false);
  } catch (const Error& e) {
    if (std::string_view(e.what()).find(kWhere) == std::string_view::npos) std::abort();
    return 0;
  }
  run_reader([&] {
    const data::PreferencePair pair = data::parse_preference_pair(row, kWhere);
    check_conversation(pair.chosen);
    check_conversation(pair.rejected);
    if (pair.margin && !std::isfinite(*pair.margin)) std::abort();
    if (pair.origin != kWhere) std::abort();
  });
  run_reader([&] {
    const data::PointwiseExample ex = data::parse_pointwise_example(row, kWhere);
    check_conversation(ex.conversation);
    if (!(ex.label >= 0 && ex.label <= 1)) std::abort();
    if (ex.origin != kWhere) std::abort();
  });
  return 0;
}
