// Reading the reference's data files entry by entry gives what reading them whole gives.
#include <gtest/gtest.h>

#include <functional>
#include <random>
#include <string>
#include <vector>

#include "domain/json_parse.hpp"
#include "domain/reference_import.hpp"

namespace lpops {
namespace {

namespace json = boost::json;
namespace ri = reference_import;

// The members a whole-document parse reads, as split_object() reports them.
struct Whole {
  bool ok = false;
  std::vector<ri::Member> members;
  std::size_t big = 0;
};
Whole read_whole(std::string_view text) {
  Whole w;
  boost::system::error_code ec;
  JsonNumberNotes notes;
  const json::value v = parse_json(text, ec, stored_json_options(), &notes);
  w.big = notes.nested_big_integers;
  if (ec || !v.is_object()) return w;
  w.ok = true;
  for (const auto& kv : v.get_object()) w.members.push_back({std::string(kv.key()), json::serialize(kv.value()), std::nullopt});
  return w;
}

void expect_same(std::string_view text) {
  const Whole whole = read_whole(text);
  std::size_t big = 0;
  const auto split = ri::split_object(text, stored_json_options(), big);
  if (!whole.ok) {
    EXPECT_FALSE(split) << text;
    return;
  }
  ASSERT_TRUE(split) << text;
  ASSERT_EQ(split->size(), whole.members.size()) << text;
  for (std::size_t i = 0; i < split->size(); ++i) {
    EXPECT_EQ((*split)[i].key, whole.members[i].key) << text;
    EXPECT_EQ((*split)[i].json, whole.members[i].json) << text;
  }
  EXPECT_EQ(big, whole.big) << text;
}

// A registry record's health report is held to what a push may carry (64 KiB of data, room for
// the report's own fields): it is journaled again with every change of its record.
TEST(RegistryEntry, AHealthReportPastAPushsBoundIsAProblem) {
  const auto with_report = [](std::size_t pad) {
    return json::value(json::object{{"address", "0x" + std::string(40, '1')},
                                    {"forwarder_health", json::object{{"source", "f"}, {"data", json::object{{"pad", std::string(pad, 'x')}}}}}});
  };
  EXPECT_TRUE(std::holds_alternative<ri::RegistryEntry>(ri::read_registry_entry("o1", with_report(60'000))));
  const auto big = ri::read_registry_entry("o1", with_report(2u << 20));
  ASSERT_TRUE(std::holds_alternative<ri::Problems>(big));
  const auto& problems = std::get<ri::Problems>(big);
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_EQ(problems[0].field, "forwarder_health");
}

TEST(SplitObject, ReadsWhatAWholeParseReads) {
  for (const char* text : {
           "{}", " \n{ \t}\r\n", R"({"a":1})", R"({"a" : 1 , "b":[1,2,{"c":"}],{"}] })",
           R"({"w1":{"notes":"a \"quoted\" } brace, and a comma","n":null,"t":true,"f":false,"x":-1.5e-3}})",
           R"({"k\u00e9y":"v","\"q\"":{"":""},"back\\slash":"\\"})",
           R"({"b1":"1.5","b2":2,"b3":123456789012345678901234,"b4":{"deep":123456789012345678901234}})",
           R"({"a":[[[[[]]]]],"b":{"c":{"d":{}}}})",
           "{\"u\":\"\xc3\xa9\xe2\x9c\x93\"}",
       })
    expect_same(text);
  // A number no JSON text carries is kept as read (its serialisation would not read back).
  std::size_t big = 0;
  const auto inf = ri::split_object(R"({"q":{"x":1e400},"r":{"x":1}})", stored_json_options(), big);
  ASSERT_TRUE(inf);
  ASSERT_TRUE((*inf)[0].non_finite);
  EXPECT_TRUE(first_non_finite(*(*inf)[0].non_finite));
  EXPECT_FALSE((*inf)[1].non_finite);
}

TEST(SplitObject, RefusesWhatAWholeParseRefusesAndKeysNamedTwice) {
  for (const char* text : {"", "[]", "1", "\"s\"", "{", "{\"a\"}", "{\"a\":}", "{\"a\":1,}", "{\"a\":1 \"b\":2}",
                           "{\"a\":1}x", "{\"a\":1}}", "{\"a\":[1}", "{\"a\":\"open}", "{a:1}", "{\"a\":01}",
                           "{\"a\":\"\\x\"}", "{\"a\":\"\xff\"}", "{\"a\":1}{\"b\":2}",
                           // a ']' closing nothing where the ',' belongs
                           "{\"a\":\"x\"] \"b\":1}", "{\"a\":1]}", "{\"a\":[1]] \"b\":2}"}) {
    std::size_t big = 0;
    EXPECT_FALSE(ri::split_object(text, stored_json_options(), big)) << text;
    EXPECT_FALSE(read_whole(text).ok) << text;
  }
  std::size_t big = 0;
  EXPECT_FALSE(ri::split_object(R"({"a":1,"b":2,"a":3})", stored_json_options(), big));  // left to the whole parse
}

// The depth limit is the file's: an entry nested to the limit reads, one level more does not.
TEST(SplitObject, NestingCountsTheFilesLevel) {
  for (std::size_t depth : {kMaxStoredJsonDepth - 1, kMaxStoredJsonDepth, kMaxStoredJsonDepth + 1}) {
    // The file's object is one level; the entry's arrays the rest.
    const std::string value = std::string(depth - 1, '[') + std::string(depth - 1, ']');
    const std::string text = "{\"deep\":" + value + "}";
    expect_same(text);
    std::size_t big = 0;
    EXPECT_EQ(ri::split_object(text, stored_json_options(), big).has_value(), depth <= kMaxStoredJsonDepth) << depth;
    EXPECT_EQ(read_whole(text).ok, depth <= kMaxStoredJsonDepth) << depth;
  }
}

// Random documents of the reference's shapes, with the spacing json.dump(indent=2) writes
// and none: entry by entry equals whole.
TEST(SplitObject, RandomDocumentsReadAlike) {
  std::mt19937 rng(11);
  auto pick = [&](int n) { return static_cast<int>(rng() % static_cast<unsigned>(n)); };
  std::function<json::value(int)> make = [&](int depth) -> json::value {
    switch (depth > 3 ? pick(4) : pick(7)) {
      case 0: return json::value(nullptr);
      case 1: return json::value(pick(2) == 0);
      case 2: return json::value(static_cast<std::int64_t>(rng()) - (1LL << 31));
      case 3: {
        std::string s;
        for (int i = pick(12); i > 0; --i) s += "ab{}[],:\"\\ \n\x01\xc3\xa9"[pick(14)];
        return json::value(s);
      }
      case 4: return json::value(static_cast<double>(pick(100000)) / 7.0);
      case 5: {
        json::array a;
        for (int i = pick(4); i > 0; --i) a.push_back(make(depth + 1));
        return a;
      }
      default: {
        json::object o;
        for (int i = pick(4); i > 0; --i) o["k" + std::to_string(pick(50)) + std::string(pick(2) ? "\"," : "")] = make(depth + 1);
        return o;
      }
    }
  };
  for (int round = 0; round < 300; ++round) {
    json::object file;
    for (int i = pick(6); i > 0; --i) file["id-" + std::to_string(round) + "-" + std::to_string(i)] = make(0);
    const std::string compact = json::serialize(file);
    expect_same(compact);
    // Indented, as Python writes it (spaces and newlines between every token).
    std::string spaced;
    bool in_string = false;
    for (std::size_t i = 0; i < compact.size(); ++i) {
      const char c = compact[i];
      spaced += c;
      if (in_string) {
        if (c == '\\') spaced += compact[++i];
        else if (c == '"') in_string = false;
      } else if (c == '"') {
        in_string = true;
      } else if (c == '{' || c == '[' || c == ',' || c == ':') {
        spaced += "\n  ";
      }
    }
    expect_same(spaced);
  }
}

}  // namespace
}  // namespace lpops
