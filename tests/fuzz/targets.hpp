#pragma once
// Fuzz targets: the node's readers of untrusted bytes (request bodies, amounts, times, the
// reference's data files, journal and audit lines, snapshots, RLP and ABI data), each fed
// arbitrary input and checked for more than not crashing: a reader that accepts its input
// must agree with the general parser, or give back what it read when the value is written
// out again.
//
// Two drivers run them: tests/fuzz/libfuzzer_main.cpp (coverage-guided, built with clang by
// scripts/fuzz.sh) and the test suite's FuzzReplay tests (every input of tests/fuzz/corpus
// and a fixed number of mutations of each, under the ordinary build and ASan/UBSan).
#include <span>
#include <string>
#include <string_view>

namespace lpops::fuzz {

struct Target {
  const char* name;
  void (*run)(std::string_view input);
};

std::span<const Target> targets();

// Called by a target whose property does not hold; the driver reports it with the input.
// The libFuzzer driver aborts (the input is saved as a crash); the test driver throws.
[[noreturn]] void fail(const std::string& what);

}  // namespace lpops::fuzz
