// The fuzz targets (tests/fuzz/targets.hpp) in the test suite: every input of
// tests/fuzz/corpus/<target>/ (the seeds, and inputs a fuzzing run found worth keeping), then a
// fixed number of mutations of them from a fixed seed, so each run checks the same inputs
// (LPOPS_FUZZ_MUTATIONS changes how many). A broken property or a crash fails the test.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "tests/fuzz/targets.hpp"
#include "tests/support/temp_dir.hpp"

namespace lpops::fuzz {

struct PropertyBroken : std::runtime_error {
  using std::runtime_error::runtime_error;
};

[[noreturn]] void fail(const std::string& what) { throw PropertyBroken(what); }

namespace {

std::vector<std::string> corpus(const std::string& target) {
  std::vector<std::filesystem::path> files;
  const std::filesystem::path dir = std::filesystem::path(LPOPS_TESTS_DIR) / "fuzz" / "corpus" / target;
  if (std::filesystem::is_directory(dir))
    for (const auto& e : std::filesystem::directory_iterator(dir))
      if (e.is_regular_file()) files.push_back(e.path());
  std::sort(files.begin(), files.end());
  std::vector<std::string> out;
  for (const auto& f : files) out.push_back(testing::read_file_bytes(f.string()));
  return out;
}

// Bytes that change how a parser reads what follows them.
constexpr std::string_view kTokens[] = {"\"", "\\", "{", "}", "[", "]", ",", ":", "0", "-", "e", ".", " ", "\\u", "\\ud800",
                                        "\xff", "\xc3", "\xe2\x82", "null", "1e400", "99999999999999999999999", "%", "+", "_",
                                        "\x80", "T", "Z", "+00:00", "\r\n", "\r\n\r\n", ": ", "\n"};

std::string mutate(std::string s, const std::vector<std::string>& seeds, std::mt19937_64& rng) {
  auto pick = [&](std::size_t n) { return n ? static_cast<std::size_t>(rng() % n) : 0; };
  const int steps = 1 + static_cast<int>(rng() % 4);
  for (int i = 0; i < steps; ++i) {
    const std::size_t at = pick(s.size() + 1);
    switch (rng() % 7) {
      case 0:
        if (!s.empty()) s[pick(s.size())] ^= static_cast<char>(1u << (rng() % 8));
        break;
      case 1:
        s.insert(at, 1, static_cast<char>(rng() & 0xff));
        break;
      case 2:
        if (!s.empty()) s.erase(pick(s.size()), 1 + pick(std::min<std::size_t>(8, s.size())));
        break;
      case 3:
        s.insert(at, kTokens[pick(std::size(kTokens))]);
        break;
      case 4: {  // a piece of the input repeated
        if (s.empty()) break;
        const std::size_t from = pick(s.size()), len = 1 + pick(std::min<std::size_t>(32, s.size() - from));
        s.insert(at, s.substr(from, len));
        break;
      }
      case 5: {  // spliced with another seed
        const std::string& other = seeds[pick(seeds.size())];
        if (other.empty()) break;
        const std::size_t from = pick(other.size());
        s = s.substr(0, at) + other.substr(from, 1 + pick(std::min<std::size_t>(64, other.size() - from)));
        break;
      }
      default:
        if (at < s.size()) s.resize(at);  // cut short
        break;
    }
  }
  return s;
}

std::string shown(const std::string& input) {
  std::string out;
  for (unsigned char c : input.substr(0, 400)) {
    if (c >= 0x20 && c < 0x7f && c != '\\') out += static_cast<char>(c);
    else {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    }
  }
  return input.size() > 400 ? out + "… (" + std::to_string(input.size()) + " bytes)" : out;
}

class FuzzReplay : public ::testing::TestWithParam<Target> {};

TEST_P(FuzzReplay, CorpusAndMutationsKeepTheProperties) {
  const Target& t = GetParam();
  const std::vector<std::string> seeds = corpus(t.name);
  ASSERT_FALSE(seeds.empty()) << "no inputs in tests/fuzz/corpus/" << t.name;
  int failures = 0;
  auto run = [&](const std::string& input, const char* what) {
    try {
      t.run(input);
    } catch (const PropertyBroken& e) {
      ADD_FAILURE() << t.name << " (" << what << "): " << e.what() << "\n  input: " << shown(input);
      ++failures;
    }
  };
  for (const auto& s : seeds) run(s, "corpus");
  const char* env = std::getenv("LPOPS_FUZZ_MUTATIONS");
  const long mutations = env ? std::strtol(env, nullptr, 10) : 20000;
  std::mt19937_64 rng(0x6c706f7073ULL ^ std::hash<std::string_view>{}(t.name));
  for (long i = 0; i < mutations && failures < 5; ++i) {
    const std::string input = mutate(seeds[static_cast<std::size_t>(rng() % seeds.size())], seeds, rng);
    run(input, "mutation");
  }
}

INSTANTIATE_TEST_SUITE_P(Targets, FuzzReplay, ::testing::ValuesIn(targets().begin(), targets().end()),
                         [](const ::testing::TestParamInfo<Target>& info) { return std::string(info.param.name); });

}  // namespace
}  // namespace lpops::fuzz
