// The coverage-guided driver (libFuzzer): one target, named by LPOPS_FUZZ_TARGET. Built and
// run by scripts/fuzz.sh; a broken property aborts, so libFuzzer saves the input.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "tests/fuzz/targets.hpp"

namespace lpops::fuzz {
[[noreturn]] void fail(const std::string& what) {
  std::fprintf(stderr, "lpops fuzz: property broken: %s\n", what.c_str());
  std::abort();
}
}  // namespace lpops::fuzz

namespace {
const lpops::fuzz::Target* chosen = nullptr;
}

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  const char* name = std::getenv("LPOPS_FUZZ_TARGET");
  for (const auto& t : lpops::fuzz::targets())
    if (name && std::string_view(name) == t.name) chosen = &t;
  if (!chosen) {
    std::fprintf(stderr, "LPOPS_FUZZ_TARGET must name one of:");
    for (const auto& t : lpops::fuzz::targets()) std::fprintf(stderr, " %s", t.name);
    std::fprintf(stderr, "\n");
    std::exit(2);
  }
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  chosen->run(std::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}
