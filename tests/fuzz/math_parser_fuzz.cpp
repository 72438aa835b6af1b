// libFuzzer target for the math verifier (rewards/math/math_*.cpp): normalisation, tokenizer, parser,
// exact and numeric evaluation, comparison and answer extraction, on arbitrary bytes.
//
// The input is split at its first newline into a gold field and a completion; the target parses each
// half as a bare answer, compares them both ways, and verifies the completion against the gold with a
// small time budget. Any crash, sanitizer report or hang (libFuzzer's -timeout) is a bug: the
// verifier promises bounded work and no crash on any input.
//
// Build and run (clang; see tests/fuzz/CMakeLists.txt):
//   CC=clang CXX=clang++ cmake -S . -B build-fuzz -G Ninja -DR1_FUZZ=ON -DR1_BUILD_TESTS=OFF
//   cmake --build build-fuzz --target math_parser_fuzz
//   build-fuzz/tests/fuzz/math_parser_fuzz -max_total_time=300 -timeout=5 -max_len=4096 \
//     -dict=tests/fuzz/math.dict NEW_CORPUS_DIR tests/fuzz/corpus/math
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "rewards/math/math_exact.h"
#include "rewards/math/math_numeric.h"
#include "rewards/math/math_verify.h"

using namespace r1::rewards::math;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  size_t nl = input.find('\n');
  std::string_view gold = nl == std::string_view::npos ? input : input.substr(0, nl);
  std::string_view completion = nl == std::string_view::npos ? input : input.substr(nl + 1);

  Tree tree;
  if (parse_math(gold, tree)) {
    (void)to_string(tree);
    Budget budget(50.0);
    EvalOptions options;
    mpq_class exact;
    (void)eval_exact(tree, tree.root, options, budget, exact);
    Complex value;
    (void)eval_numeric(tree, tree.root, options, 0, budget, value);
  }
  VerifyOptions options;
  options.timeout_ms = 50.0;
  (void)answers_equivalent(gold, completion, options);
  (void)answers_equivalent(completion, gold, options);
  (void)verify(gold, completion, options);
  return 0;
}
