// libFuzzer target: the tokenizer.json loader and the encode/decode paths it builds.
//
// Input: a tokenizer.json text, optionally followed by a NUL byte and a text to encode (otherwise a fixed
// mixed-script sample is used). Loading may fail only with r1::Error; a loaded tokenizer must encode the
// text, decode its own ids, and stream-decode them without throwing anything else, crashing, or tripping
// ASan/UBSan. Build and run: see tests/fuzz/CMakeLists.txt; seeds are in tests/fuzz/corpus/tokenizer.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "common/error.h"
#include "model/tokenizer/tokenizer.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view all(reinterpret_cast<const char*>(data), size);
  const size_t nul = all.find('\0');
  const std::string_view json = all.substr(0, nul);
  const std::string text = nul == std::string_view::npos
                               ? std::string("Hello, world! 12345 深度求索 <think>x</think> \xF0\x9F\xA4\x96 caf\xC3\xA9\n\t")
                               : std::string(all.substr(nul + 1));
  std::unique_ptr<r1::model::Tokenizer> tok;
  try {
    tok = r1::model::Tokenizer::from_tokenizer_json(json, "fuzz/tokenizer.json");
  } catch (const r1::Error&) {
    return 0;  // rejected with a located error: fine
  }
  for (bool special : {false, true}) {
    std::vector<int64_t> ids;
    try {
      ids = tok->encode(text, special, special);
    } catch (const r1::Error&) {
      continue;  // a regex resource limit on a hostile pattern is reported, not a crash
    }
    // Everything below must succeed: an exception escaping here is a bug libFuzzer reports.
    for (int64_t id : ids) {
      if (id < 0 || id >= tok->vocab_size()) std::abort();  // encode produced an id it cannot decode
    }
    (void)tok->decode(ids, special);
    r1::model::StreamDecoder stream(*tok);
    for (int64_t id : ids) (void)stream.push(id);
    (void)stream.flush();
    if (!ids.empty()) (void)tok->decode_suffix(ids, ids.size() / 2);
  }
  return 0;
}
