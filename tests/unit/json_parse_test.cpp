#include <gtest/gtest.h>
#include <rapidcheck.h>

#include <bit>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <utility>
#include <vector>

#include "domain/canonical_json.hpp"
#include "domain/json_parse.hpp"

namespace lpops {
namespace {

namespace json = boost::json;

double strtod_of(const std::string& text) { return std::strtod(text.c_str(), nullptr); }

double parsed_double(const std::string& text) {
  boost::system::error_code ec;
  const json::value v = parse_json(text, ec);
  EXPECT_FALSE(ec) << text << ": " << ec.message();
  return v.is_double() ? v.get_double() : std::nan("");
}

TEST(JsonParse, SameDecimalValueComparesValuesNotTexts) {
  for (const auto& [a, b] : std::vector<std::pair<std::string, std::string>>{
           {"1.50", "15e-1"}, {"0.001", "1e-03"}, {"100", "1e2"}, {"-0.0", "0"}, {"0e999", "0"}, {"1E+2", "100.000"}, {"0.1", "0.1"}})
    EXPECT_TRUE(same_decimal_value(a, b)) << a << " " << b;
  for (const auto& [a, b] : std::vector<std::pair<std::string, std::string>>{
           {"1.000000000000000001", "1"}, {"1e-400", "0"}, {"-1", "1"}, {"0.1", "0.10000000000000001"}, {"1", "x"}, {"1e", "1"}})
    EXPECT_FALSE(same_decimal_value(a, b)) << a << " " << b;
}

// The top-level fields whose number a double does not hold as written, and the keys read
// against those kept (a key named twice is read twice and kept once).
TEST(JsonParse, NotesInexactNumbersAndRepeatedKeys) {
  boost::system::error_code ec;
  JsonNumberNotes notes;
  parse_json(R"({"a": 0.1, "b": 1.000000000000000001, "c": 1e-400, "d": 2.5e3, "e": {"f": 1.000000000000000001}, "g": 12})", ec,
             stored_json_options(), &notes);
  ASSERT_FALSE(ec);
  EXPECT_EQ(notes.inexact_fields, (std::vector<std::string>{"b", "c"}));
  EXPECT_EQ(notes.keys_read, notes.keys_kept);
  JsonNumberNotes twice;
  parse_json(R"({"a": 1, "b": {"x": 1, "x": 2}, "a": 3})", ec, stored_json_options(), &twice);
  ASSERT_FALSE(ec);
  EXPECT_EQ(twice.keys_read, 5u);
  EXPECT_EQ(twice.keys_kept, 3u);
}

// Numbers Boost.JSON 1.81's own parser reads one unit in the last place off; Python's
// float() (like strtod) rounds them correctly.
TEST(JsonParse, DoublesAreCorrectlyRounded) {
  for (const std::string text : {"0.09999999999999999", "0.021672980046384814", "100.00000000000001",
                                 "0.9999999999999999", "1000.0000000000001", "2.2250738585072011e-308",
                                 "1.7976931348623157e308", "5e-324", "-0.30000000000000004", "9007199254740993.0"}) {
    const double got = parsed_double(text);
    EXPECT_EQ(std::bit_cast<std::uint64_t>(got), std::bit_cast<std::uint64_t>(strtod_of(text))) << text;
  }
  EXPECT_EQ(python_json(parse_json("{\"a\":0.09999999999999999}")), "{\"a\":0.09999999999999999}");
}

TEST(JsonParse, EveryDoubleReadsBackFromItsShortestAndLongestText) {
  EXPECT_TRUE(rc::check("shortest and %.17g texts read back exactly", [](std::uint64_t bits) {
    const double d = std::bit_cast<double>(bits);
    RC_PRE(std::isfinite(d));
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.17g", d);
    std::string text = buf;
    if (text.find_first_of(".eE") == std::string::npos) text += ".0";  // a JSON integer otherwise
    RC_ASSERT(std::bit_cast<std::uint64_t>(parsed_double(text)) == bits);
    // Many digits, as a client may send them.
    std::snprintf(buf, sizeof buf, "%.25e", d);
    RC_ASSERT(std::bit_cast<std::uint64_t>(parsed_double(buf)) == std::bit_cast<std::uint64_t>(std::strtod(buf, nullptr)));
  }));
  EXPECT_TRUE(rc::check("16-17 significant digits read as strtod reads them", [](std::uint64_t digits, std::int16_t exp) {
    // Exponents over the whole range of doubles and past it (±330: infinities and zeros).
    const std::string text = "0." + std::to_string(digits % 100000000000000000ull) + "e" + std::to_string(exp % 331);
    RC_ASSERT(std::bit_cast<std::uint64_t>(parsed_double(text)) == std::bit_cast<std::uint64_t>(strtod_of(text)));
  }));
}

// Integer literals past 64 bits become doubles; those nested below the top level are counted
// (free-form data that would otherwise be stored rounded), a float of the same size is not.
TEST(JsonParse, NestedIntegersPast64BitsAreCounted) {
  const std::vector<std::pair<std::string, std::size_t>> cases = {
      {R"({"a":18446744073709551615,"b":-9223372036854775808})", 0},  // 64 bits: exact
      {R"({"a":18446744073709551616})", 0},                            // top level: the field's type decides
      {R"({"d":{"summary":{"services_up":18446744073709551616}}})", 1},
      {R"({"d":[1,-9223372036854775809,2e30,1.8446744073709551616e19,123456789012345678901234567890]})", 2},
      {R"({"d":{"x":1e400,"y":18446744073709551616.0}})", 0}};
  for (const auto& [text, expected] : cases) {
    boost::system::error_code ec;
    JsonNumberNotes notes;
    notes.nested_big_integers = 99;
    parse_json(text, ec, stored_json_options(), &notes);
    ASSERT_FALSE(ec) << text;
    EXPECT_EQ(notes.nested_big_integers, expected) << text;
  }
}

// The elements of a named top-level array, as the bytes they are in the text.
// The first number no JSON text can hold, by its place: segments for a validation error's loc,
// a dotted path for a message.
TEST(JsonParse, TheFirstNonFiniteNumberIsFoundByItsPlace) {
  const auto doc = parse_json(R"({"a":[1,{"b":2}],"data":{"list":[0.5,-1e999,1e400],"x":1e400},"z":1e400})");
  const auto loc = first_non_finite_loc(doc);
  ASSERT_TRUE(loc);
  EXPECT_EQ(json::serialize(loc->first), R"(["data","list",1])");
  EXPECT_TRUE(std::isinf(loc->second) && loc->second < 0);
  const auto dotted = first_non_finite(doc);
  ASSERT_TRUE(dotted);
  EXPECT_EQ(dotted->first, "data.list.1");
  EXPECT_EQ(first_non_finite(doc, "q")->first, "q.data.list.1");
  const auto top = parse_json("1e400");
  ASSERT_TRUE(first_non_finite_loc(top));
  EXPECT_TRUE(first_non_finite_loc(top)->first.empty());
  EXPECT_EQ(first_non_finite(top)->first, "");
  EXPECT_FALSE(first_non_finite_loc(parse_json(R"({"a":[1,2.5,{"b":-0.0}],"c":"1e400"})")));
  EXPECT_FALSE(first_non_finite(parse_json("[]")));
}

TEST(JsonParse, RawArrayElementsAreTheirBytes) {
  const std::string text = R"({"x":{"entries":[9]}, "entries" : [ {"a":"],\"}"} ,[1, [2]],"s",3 , {"b" : 1,"b":2}],"y":[]})";
  const auto elements = raw_array_elements(text, "entries");
  ASSERT_TRUE(elements.has_value());
  EXPECT_EQ(*elements, (std::vector<std::string_view>{R"({"a":"],\"}"})", "[1, [2]]", "\"s\"", "3", R"({"b" : 1,"b":2})"}));
  EXPECT_TRUE(raw_array_elements(R"({"entries":[]})", "entries")->empty());
  EXPECT_FALSE(raw_array_elements(R"({"entries":{"a":1}})", "entries").has_value());
  EXPECT_FALSE(raw_array_elements(R"({"\u0065ntries":[1]})", "entries").has_value());  // spelt with an escape
  EXPECT_FALSE(raw_array_elements(R"({"x":{"entries":[1]}})", "entries").has_value());  // not at the top level
  EXPECT_FALSE(raw_array_elements(R"(["entries",[1]])", "entries").has_value());
}

// An array deeper in, by the keys on the way: only the members of the objects the path goes
// through are looked at, and where the array is in the text comes back.
TEST(JsonParse, RawArrayAtFollowsAPathOfKeys) {
  const std::string_view path[] = {"book", "workloads"};
  const std::string text =
      R"({"workloads":[0],"x":{"book":{"workloads":[1]}},"book" : { "a":{"workloads":[2]}, "workloads" : [ {"id":"]"} , {"id":2} ] ,"b":1},"c":[]})";
  const auto found = raw_array_at(text, path);
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->elements, (std::vector<std::string_view>{R"({"id":"]"})", R"({"id":2})"}));
  EXPECT_EQ(text[found->open], '[');
  EXPECT_EQ(text[found->close], ']');
  EXPECT_EQ(text.substr(found->open, found->close + 1 - found->open), R"([ {"id":"]"} , {"id":2} ])");
  EXPECT_FALSE(found->empty_element);
  // The text with the array emptied is the rest of the document.
  std::string rest = text.substr(0, found->open + 1) + text.substr(found->close);
  EXPECT_EQ(json::parse(rest).at("book").at("workloads"), json::array());
  EXPECT_EQ(json::parse(rest).at("book").at("b"), 1);

  EXPECT_TRUE(raw_array_at(R"({"book":{"workloads":[]}})", path)->elements.empty());
  EXPECT_FALSE(raw_array_at(R"({"book":{"workloads":[]}})", path)->empty_element);
  // Not there: only deeper, only in another object, or the object under "book" closes first.
  EXPECT_FALSE(raw_array_at(R"({"book":{"a":{"workloads":[1]}}})", path).has_value());
  EXPECT_FALSE(raw_array_at(R"({"x":{"book":{"workloads":[1]}}})", path).has_value());
  EXPECT_FALSE(raw_array_at(R"({"book":{"a":1},"workloads":[1]})", path).has_value());
  EXPECT_FALSE(raw_array_at(R"({"book":[{"workloads":[1]}]})", path).has_value());  // "book" is no object
  EXPECT_FALSE(raw_array_at(R"({"book":{"workloads":{"a":1}}})", path).has_value());
  // A comma with nothing on one side is no JSON array.
  for (std::string_view bad : {R"({"book":{"workloads":[,]}})", R"({"book":{"workloads":[1,,2]}})",
                               R"({"book":{"workloads":[1, ]}})", R"({"book":{"workloads":[ ,1]}})"})
    EXPECT_TRUE(raw_array_at(bad, path)->empty_element) << bad;
}

// Everything else is boost::json::parse's: shapes, integers, errors, options.
TEST(JsonParse, OtherwiseAsBoostJsonParse) {
  for (const std::string text : {"{\"a\":[1,-2,18446744073709551615,9223372036854775808,true,null,\"x\\u00e9\"],\"b\":{}}",
                                 "  [ ]  ", "\"s\"", "-0", "12", "{\"k\":1,\"k\":2}", "1e400", "-1e400", "1e-400"}) {
    boost::system::error_code ours_ec, boost_ec;
    const json::value ours = parse_json(text, ours_ec);
    const json::value theirs = json::parse(text, boost_ec);
    EXPECT_EQ(ours_ec, boost_ec) << text;
    EXPECT_EQ(json::serialize(ours), json::serialize(theirs)) << text;
    EXPECT_EQ(ours.kind(), theirs.kind()) << text;
  }
  for (const std::string text : {"", "{", "[1,]", "{\"a\":1} x", "01", "1.", "[1] [2]", "\"\\ud800\"x", "nul"}) {
    boost::system::error_code ours_ec, boost_ec;
    parse_json(text, ours_ec);
    json::parse(text, boost_ec);
    EXPECT_TRUE(ours_ec) << text;
    EXPECT_EQ(static_cast<bool>(ours_ec), static_cast<bool>(boost_ec)) << text;
  }
  json::parse_options shallow;
  shallow.max_depth = 3;
  boost::system::error_code ec;
  parse_json("[[[1]]]", ec, shallow);
  EXPECT_FALSE(ec);
  parse_json("[[[[1]]]]", ec, shallow);
  EXPECT_EQ(ec, json::error::too_deep);
  EXPECT_THROW(parse_json("{"), boost::system::system_error);
}

}  // namespace
}  // namespace lpops
