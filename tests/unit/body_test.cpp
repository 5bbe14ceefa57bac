#include <gtest/gtest.h>

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
