#include <gtest/gtest.h>
#include <rapidcheck.h>

#include <vector>

#include "net/body.hpp"

namespace lpops::net {
namespace {

TEST(BodyReader, CollectsEveryErrorInTheReferenceShape) {
  Validation v;
  BodyReader body(R"({"orchestrator_id": 5, "duration_ms": -1, "notes": "x"})", v);
  body.required_string("orchestrator_id", 1, 128);
  body.integer("duration_ms", 1, 100, true);
  body.required_string("workload_id", 1, 255);
  ASSERT_FALSE(v.ok());
  auto doc = json::parse(v.response().body);
  const auto& detail = doc.at("detail").as_array();
  ASSERT_EQ(detail.size(), 3u);
  EXPECT_EQ(detail[0].at("type").as_string(), "string_type");
  EXPECT_EQ(detail[0].at("loc").as_array()[1].as_string(), "orchestrator_id");
  EXPECT_EQ(detail[2].at("type").as_string(), "missing");
  EXPECT_EQ(v.response().status, 422);
}

TEST(BodyReader, LengthsCountCodePoints) {
  Validation v;
  BodyReader body("{\"id\":\"\xc3\xa9\xc3\xa9\xc3\xa9\"}", v);  // three characters, six bytes
  EXPECT_EQ(body.required_string("id", 1, 3), "\xc3\xa9\xc3\xa9\xc3\xa9");
  EXPECT_TRUE(v.ok());
  body.required_string("id", 1, 2);
  EXPECT_FALSE(v.ok());
}

TEST(BodyReader, IntegersAcceptWholeFloatsAndNumericStrings) {
  Validation v;
  BodyReader body(R"({"a": 5.0, "b": "7", "c": 5.5, "d": 1e300, "e": "9999999999999999999999"})", v);
  EXPECT_EQ(body.integer("a", 0, 10, true), 5);
  EXPECT_EQ(body.integer("b", 0, 10, true), 7);
  EXPECT_TRUE(v.ok());
  EXPECT_FALSE(body.integer("c", 0, 10, true));
  EXPECT_FALSE(body.integer("d", 0, 10, true));
  EXPECT_FALSE(body.integer("e", 0, 10, true));
  EXPECT_FALSE(v.ok());
}

TEST(BodyReader, EthAmountsFromStringsAndNumbers) {
  Validation v;
  BodyReader body(R"({"a": "0.1", "b": 0.1, "c": 1e-7, "d": 3, "e": [1]})", v);
  EXPECT_EQ(format_eth(body.eth_amount("a", true)->magnitude), "0.1");
  EXPECT_EQ(format_eth(body.eth_amount("b", true)->magnitude), "0.1");
  EXPECT_EQ(format_eth(body.eth_amount("c", true)->magnitude), "0.0000001");
  EXPECT_EQ(format_eth(body.eth_amount("d", true)->magnitude), "3");
  EXPECT_TRUE(v.ok());
  EXPECT_FALSE(body.eth_amount("e", true));
  EXPECT_FALSE(v.ok());
}

TEST(BodyReader, RejectsDeepNestingAndNonObjects) {
  Validation deep;
  BodyReader nested(std::string(100, '[') + std::string(100, ']'), deep);
  EXPECT_FALSE(deep.ok());
  Validation arr;
  BodyReader list("[1,2]", arr);
  EXPECT_FALSE(arr.ok());
  EXPECT_FALSE(list.parsed());
}

// A JSON number past 64 bits reaches the reader as a double, digits possibly gone: an amount
// is refused rather than rounded (a string keeps every digit).
TEST(BodyReader, AmountsTooLargeForAJsonNumberAreRefusedNotRounded) {
  Validation v;
  BodyReader body(R"({"a": 100000000000000000000001, "b": -9223372036854775809, "c": 1e20, "d": 5, "e": 0.5,
                     "f": "100000000000000000000001", "g": 9223372036854775807})", v);
  for (const char* key : {"a", "b", "c"}) EXPECT_FALSE(body.eth_amount(key, true)) << key;
  EXPECT_EQ(v.response().status, 422);
  auto doc = json::parse(v.response().body);
  EXPECT_EQ(doc.at("detail").as_array().size(), 3u);
  Validation ok;
  BodyReader fine(R"({"d": 5, "e": 0.5, "f": "100000000000000000000001", "g": 9223372036854775807})", ok);
  EXPECT_EQ(format_eth(fine.eth_amount("d", true).value()), "5");
  EXPECT_EQ(format_eth(fine.eth_amount("e", true).value()), "0.5");
  EXPECT_EQ(format_eth(fine.eth_amount("f", true).value()), "100000000000000000000001");
  EXPECT_EQ(format_eth(fine.eth_amount("g", true).value()), "9223372036854775807");
  EXPECT_TRUE(ok.ok());
}

TEST(BodyReader, OutOfRangeIntegersSayWhichSide) {
  Validation v;
  BodyReader body(R"({"a": -1e20, "b": "-99999999999999999999", "c": 1e20, "d": "99999999999999999999", "e": 18446744073709551615})",
                  v);
  for (const char* key : {"a", "b", "c", "d", "e"}) EXPECT_FALSE(body.integer(key, 1, 100, true)) << key;
  auto doc = json::parse(v.response().body);
  const auto& detail = doc.at("detail").as_array();
  ASSERT_EQ(detail.size(), 5u);
  EXPECT_EQ(detail[0].at("type").as_string(), "greater_than_equal");
  EXPECT_EQ(detail[1].at("type").as_string(), "greater_than_equal");
  EXPECT_EQ(detail[2].at("type").as_string(), "less_than_equal");
  EXPECT_EQ(detail[3].at("type").as_string(), "less_than_equal");
  EXPECT_EQ(detail[4].at("type").as_string(), "less_than_equal");
}

// Python's bytes.decode("utf-8", "replace"), byte for byte (the vectors were made with it).
TEST(ReplaceInvalidUtf8, MatchesPythonsReplacement) {
  const std::string r = "\xef\xbf\xbd";
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"\xff\xfe", r + r},
      {"a\xc3\xa9" "b", "a\xc3\xa9" "b"},
      {"\xe2\x82", r},
      {"\xe2\x82\xac", "\xe2\x82\xac"},
      {"\xed\xa0\x80", r + r + r},  // a surrogate
      {"\xf0\x9f\x98", r},
      {"\xf0\x9f\x98\x80", "\xf0\x9f\x98\x80"},
      {"\xc0\xaf", r + r},  // overlong
      {"\xf4\x90\x80\x80", r + r + r + r},  // past U+10FFFF
      {"\xe0\x80\xaf", r + r + r},
      {"\xf0\x80\x80\xaf", r + r + r + r},
      {"\x80", r},
      {"abc\xe2(\xa1", "abc" + r + "(" + r},
      {"\xf8\x88\x80\x80\x80", r + r + r + r + r},
      {r, r},
      {std::string("a\0b", 3), std::string("a\0b", 3)},
  };
  for (const auto& [in, out] : cases) EXPECT_EQ(replace_invalid_utf8(in), out) << json::serialize(json::string(out));
}

TEST(ReplaceInvalidUtf8, AnyBytesComeOutValidAndValidTextUnchanged) {
  EXPECT_TRUE(rc::check("any bytes come out as valid UTF-8", [](const std::vector<std::uint8_t>& bytes) {
    const std::string out = replace_invalid_utf8(std::string(bytes.begin(), bytes.end()));
    // A JSON parser that checks UTF-8 takes it as a string.
    boost::system::error_code ec;
    json::parse(json::serialize(json::string(out)), ec);
    RC_ASSERT(!ec);
    RC_ASSERT(replace_invalid_utf8(out) == out);
  }));
  EXPECT_TRUE(rc::check("valid UTF-8 is left as it is", [](const std::vector<std::uint32_t>& raw) {
    std::string text;
    for (std::uint32_t c : raw) {
      c %= 0x110000;
      if (c >= 0xD800 && c <= 0xDFFF) c -= 0x800;  // no surrogates
      if (c < 0x80) {
        text += static_cast<char>(c);
      } else if (c < 0x800) {
        text += static_cast<char>(0xC0 | (c >> 6));
        text += static_cast<char>(0x80 | (c & 0x3F));
      } else if (c < 0x10000) {
        text += static_cast<char>(0xE0 | (c >> 12));
        text += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
        text += static_cast<char>(0x80 | (c & 0x3F));
      } else {
        text += static_cast<char>(0xF0 | (c >> 18));
        text += static_cast<char>(0x80 | ((c >> 12) & 0x3F));
        text += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
        text += static_cast<char>(0x80 | (c & 0x3F));
      }
    }
    RC_ASSERT(replace_invalid_utf8(text) == text);
  }));
}

// A query value that is not UTF-8 (percent-encoded bytes) comes back as valid JSON text.
TEST(QueryReader, BytesThatAreNotUtf8BecomeReplacementCharacters) {
  Validation v;
  QueryReader q("limit=%FF%FE&name=%C3%A9%FF", v);
  EXPECT_EQ(q.string("name", 10), "\xc3\xa9\xef\xbf\xbd");
  EXPECT_FALSE(q.integer("limit", 1, 10));
  const std::string body = v.response().body;
  boost::system::error_code ec;
  auto doc = json::parse(body, ec);
  ASSERT_FALSE(ec) << body;
  EXPECT_EQ(doc.at("detail").as_array()[0].at("input").as_string(), "\xef\xbf\xbd\xef\xbf\xbd");
}

TEST(QueryReader, ParsesAndValidates) {
  Validation v;
  QueryReader q("limit=20&active_only=yes&name=a%20b&limit=99", v);
  EXPECT_EQ(q.integer("limit", 1, 500), 20);
  EXPECT_EQ(q.boolean("active_only"), true);
  EXPECT_EQ(q.string("name"), "a b");
  EXPECT_TRUE(v.ok());
  Validation bad;
  QueryReader q2("limit=0&flag=maybe", bad);
  EXPECT_FALSE(q2.integer("limit", 1, 500));
  EXPECT_FALSE(q2.boolean("flag"));
  EXPECT_FALSE(bad.ok());
}

}  // namespace
}  // namespace lpops::net
