// libFuzzer target for the safetensors header parser (model/safetensors.cpp).
//
// Property: for any byte string, parse_safetensors_header either throws r1::Error or returns tensors
// whose [begin, end) ranges lie inside the buffer; the target then reads every byte of every range, so
// an offset the validation let through wrongly is an AddressSanitizer report (libFuzzer hands us a heap
// buffer of exactly `size` bytes). Then the same bytes go through the real entry point, SafetensorsFile
// on a memfd, loading every tensor (the mmap path and the BOOL check). Anything other than r1::Error
// escaping is a crash, which is the bug this target exists to find.
//
// Build and run (clang): see tests/fuzz/CMakeLists.txt; seeds in tests/fuzz/corpus/safetensors/.
#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <string>

#include "common/error.h"
#include "model/safetensors.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    const r1::model::SafetensorsHeader header = r1::model::parse_safetensors_header(data, size, "fuzz");
    unsigned sum = 0;
    for (const auto& t : header.tensors) {
      for (uint64_t i = t.begin; i < t.end; ++i) sum += data[header.data_start + i];
    }
    if (sum == 0xFFFFFFFFu) __builtin_trap();  // keeps the reads from being optimised away
  } catch (const r1::Error&) {
    return 0;
  }
  const int fd = ::memfd_create("safetensors_fuzz", MFD_CLOEXEC);
  if (fd < 0) return 0;
  if (::write(fd, data, size) == static_cast<ssize_t>(size)) {
    try {
      r1::model::SafetensorsFile file("/proc/self/fd/" + std::to_string(fd));
      for (const auto& t : file.tensors()) (void)file.load(t.name);
    } catch (const r1::Error&) {
    }
  }
  ::close(fd);
  return 0;
}
