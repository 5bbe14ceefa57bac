#include <gtest/gtest.h>
#include <rapidcheck.h>

#include <vector>

#include "domain/python_text.hpp"
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

// Every error carries pydantic's `input`: the value, the whole body for a missing field, null
// where there is none; inputs over 256 characters (code points) are left out.
TEST(BodyReader, EveryErrorNamesItsInput) {
  auto details = [](const Validation& v) { return json::parse(v.response().body).at("detail").as_array(); };
  Validation v;
  BodyReader body(R"({"duration_ms": -1, "a": 1})", v);
  body.integer("duration_ms", 1, 100, true);
  body.required_string("workload_id", 1, 255);
  v.add("query", "limit", "missing", "Field required");
  const auto d = details(v);
  ASSERT_EQ(d.size(), 3u);
  EXPECT_EQ(d[0].at("input"), json::value(-1));
  EXPECT_EQ(d[1].at("input"), json::parse(R"({"duration_ms": -1, "a": 1})"));
  EXPECT_TRUE(d[2].at("input").is_null());

  std::string chars256, chars257;
  for (int i = 0; i < 256; ++i) chars256 += "\xc3\xa9";
  chars257 = chars256 + "\xc3\xa9";
  Validation lengths;
  BodyReader long_body("{\"a\":\"" + chars256 + "\",\"b\":\"" + chars257 + "\"}", lengths);
  long_body.required_string("a", 1, 3);
  long_body.required_string("b", 1, 3);
  long_body.required_string("c", 1, 3);  // missing: the body, as JSON over 256 characters
  const auto l = details(lengths);
  ASSERT_EQ(l.size(), 3u);
  EXPECT_EQ(l[0].at("input").as_string(), chars256);  // 256 characters (512 bytes): echoed
  EXPECT_FALSE(l[1].as_object().contains("input"));
  EXPECT_FALSE(l[2].as_object().contains("input"));
}


// A required field sent as null is there, with the wrong type (pydantic: int_type, decimal_type,
// dict_type, string_type with input null), not missing; an optional one is simply absent.
TEST(BodyReader, NullInARequiredFieldIsItsTypeError) {
  Validation v;
  BodyReader body(R"({"n": null, "amount": null, "data": null, "s": null, "m": null, "o": null})", v);
  EXPECT_FALSE(body.integer("n", 1, 100, true));
  EXPECT_FALSE(body.eth_amount("amount", true));
  EXPECT_FALSE(body.optional_object("data", true));
  EXPECT_TRUE(body.required_string("s", 1, 10).empty());
  EXPECT_FALSE(body.integer("m", 1, 100, false));
  EXPECT_FALSE(body.optional_object("o", false));
  EXPECT_FALSE(body.integer("absent", 1, 100, true));
  const auto d = json::parse(v.response().body).at("detail").as_array();
  ASSERT_EQ(d.size(), 5u);
  const char* types[] = {"int_type", "decimal_type", "dict_type", "string_type"};
  for (std::size_t i = 0; i < 4; ++i) {
    EXPECT_EQ(d[i].at("type").as_string(), types[i]);
    EXPECT_TRUE(d[i].at("input").is_null());
  }
  EXPECT_EQ(d[4].at("type").as_string(), "missing");
  EXPECT_EQ(d[4].at("loc").as_array()[1].as_string(), "absent");
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

// Booleans as pydantic's lax mode reads them: a float with no fraction as its integer (1.0 is
// true, 0.0 false, 2.0 unable to interpret), one with a fraction no boolean at all.
TEST(BodyReader, BooleansFromWholeFloats) {
  Validation v;
  BodyReader body(R"({"a": 1.0, "b": 0.0, "c": -0.0, "d": 1e0, "e": 2.0, "f": 1.5})", v);
  EXPECT_EQ(body.optional_bool("a"), true);
  EXPECT_EQ(body.optional_bool("b"), false);
  EXPECT_EQ(body.optional_bool("c"), false);
  EXPECT_EQ(body.optional_bool("d"), true);
  EXPECT_TRUE(v.ok());
  EXPECT_FALSE(body.optional_bool("e"));
  EXPECT_FALSE(body.optional_bool("f"));
  const auto doc = json::parse(v.response().body);
  const auto& errors = doc.at("detail").as_array();
  ASSERT_EQ(errors.size(), 2u);
  EXPECT_EQ(errors[0].at("type").as_string(), "bool_parsing");
  EXPECT_EQ(errors[1].at("type").as_string(), "bool_type");
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

// A JSON number whose digits (or exponent) a double does not hold is refused as an amount,
// not taken rounded; one it holds exactly is taken as written.
TEST(BodyReader, AmountsADoubleDoesNotHoldAreRefused) {
  Validation v;
  BodyReader body(R"({"a": 1.000000000000000001, "b": 0.123456789012345678, "c": 1e-999999999, "d": 0.30, "e": 1.5e-3})", v);
  EXPECT_FALSE(body.eth_amount("a", true));
  EXPECT_FALSE(body.eth_amount("b", true));
  EXPECT_FALSE(body.eth_amount("c", true));
  EXPECT_EQ(format_eth(body.eth_amount("d", true)->magnitude), "0.3");
  EXPECT_EQ(format_eth(body.eth_amount("e", true)->magnitude), "0.0015");
  const auto detail = json::parse(v.response().body).at("detail").as_array();
  ASSERT_EQ(detail.size(), 3u);
  for (const auto& e : detail) {
    EXPECT_EQ(e.at("type").as_string(), "string_type") << e;
    EXPECT_NE(e.at("msg").as_string().find("would not be taken exactly"), std::string::npos) << e;
  }
}

// A key named twice is refused, whichever copy a parser would keep.
TEST(BodyReader, AKeyNamedTwiceIsRefused) {
  for (const std::string text : {R"({"a": "x", "b": 1, "a": "y"})", R"({"m": {"k": 1, "k": 1}})"}) {
    Validation v;
    BodyReader body(text, v);
    EXPECT_FALSE(body.parsed()) << text;
    const auto e = json::parse(v.response().body).at("detail").at(0);
    EXPECT_EQ(e.at("type").as_string(), "duplicate_key") << e;
    EXPECT_NE(e.at("msg").as_string().find(text.find("\"a\"") != std::string::npos ? "\"a\" twice" : "\"k\" twice"),
              std::string::npos)
        << e;
  }
}

// The search for the key named twice looks each key up in a hash set of its object's: a body
// of 200,000 keys (a megabyte and a half) whose last one repeats the first is found in one
// pass, where comparing each key with every one before it took minutes of an HTTP thread.
TEST(BodyReader, AKeyNamedTwiceAmongManyIsFoundInOnePass) {
  std::string text = "{";
  for (int i = 0; i < 200'000; ++i) text += "\"k" + std::to_string(i) + "\":0,";
  text += "\"k0\":1}";
  Validation v;
  BodyReader body(text, v);
  EXPECT_FALSE(body.parsed());
  const auto e = json::parse(v.response().body).at("detail").at(0);
  EXPECT_EQ(e.at("type").as_string(), "duplicate_key") << e;
  EXPECT_NE(e.at("msg").as_string().find("\"k0\" twice"), std::string::npos) << e;
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

// Malformed JSON is reported where the reference's framework reports it: loc ["body", <char
// offset>], the offset in code points; the message gives the reason, the line and the column.
TEST(BodyReader, MalformedJsonSaysWhereAndWhy) {
  auto first = [](const std::string& text) {
    Validation v;
    BodyReader body(text, v);
    EXPECT_FALSE(body.parsed());
    return json::parse(v.response().body).at("detail").as_array().at(0).as_object();
  };
  const auto comma = first("{\"a\": 1,}");
  EXPECT_EQ(comma.at("type").as_string(), "json_invalid");
  EXPECT_EQ(comma.at("loc"), json::parse(R"(["body", 8])"));
  EXPECT_EQ(comma.at("msg").as_string(), "JSON decode error: syntax error at line 1 column 9 (char 8)");
  // The framework's input ({}) and context (the parser's reason).
  EXPECT_EQ(comma.at("input"), json::object{});
  EXPECT_EQ(comma.at("ctx"), json::parse(R"({"error": "syntax error"})"));

  // Code points, not bytes; lines counted (Python: "line 2 column 7 (char 15)").
  const auto later = first("{\"\xc3\xa9\": 1,\n \"b\": }");
  EXPECT_EQ(later.at("loc").as_array().at(1), json::value(15));
  EXPECT_NE(later.at("msg").as_string().find("at line 2 column 7 (char 15)"), std::string::npos) << later;

  const auto cut = first("{\"a\": [1, 2");
  EXPECT_EQ(cut.at("loc").as_array().at(1), json::value(11));
  EXPECT_NE(cut.at("msg").as_string().find("incomplete"), std::string::npos) << cut;

  const auto empty = first("");
  EXPECT_EQ(empty.at("loc").as_array().at(1), json::value(0));

  // Half a surrogate pair in an escape (which Python's parser takes) can be no UTF-8 text: the
  // message says so instead of "syntax error".
  for (const std::string text : {R"({"notes":"x\ud800y"})", R"({"notes":"\ud800"})", R"({"notes":"\udc00"})",
                                 R"({"notes":"\ud800\u0041"})", R"({"notes":"ok \ud83d\ude00 then \udfff"})"}) {
    const auto lone = first(text);
    EXPECT_NE(lone.at("msg").as_string().find("half of a UTF-16 surrogate pair"), std::string::npos) << text << " " << lone;
  }
  // A whole pair is a character, and an escaped backslash starts no escape.
  for (const std::string text : {R"({"notes":"\ud83d\ude00"})", R"({"notes":"\\ud800"})"}) {
    Validation v;
    BodyReader body(text, v);
    EXPECT_TRUE(body.parsed()) << text;
  }
  const auto other = first(R"({"notes":"\\ud800" x})");
  EXPECT_EQ(other.at("msg").as_string().find("surrogate"), std::string::npos) << other;
}

// A UTF-8 byte-order mark ahead of the JSON is skipped, as the reference's json.loads skips it
// in bytes (some Windows and .NET clients write one); malformed JSON after it is placed as
// though it were not there, and a mark anywhere else is no white space.
TEST(BodyReader, AByteOrderMarkAheadIsSkipped) {
  const std::string bom = "\xEF\xBB\xBF";
  Validation ok;
  BodyReader marked(bom + R"({"orchestrator_id": "o1"})", ok);
  ASSERT_TRUE(marked.parsed());
  EXPECT_TRUE(ok.ok());
  ASSERT_NE(marked.field("orchestrator_id"), nullptr);
  EXPECT_EQ(*marked.field("orchestrator_id"), json::value("o1"));
  Validation bad;
  BodyReader cut(bom + "{\"a\": 1,}", bad);
  EXPECT_FALSE(cut.parsed());
  const auto e = json::parse(bad.response().body).at("detail").as_array().at(0).as_object();
  EXPECT_EQ(e.at("loc"), json::parse(R"(["body", 8])"));
  for (const std::string& text : {bom + bom + "{}", " " + bom + "{}", "{}" + bom}) {
    Validation v;
    BodyReader twice(text, v);
    EXPECT_FALSE(twice.parsed()) << text;
  }
}

// A small JSON body read with `headers`: its status (200 when the reading found nothing
// wrong) and whether it was read as an object.
struct HeaderedReading {
  int status = 0;
  bool parsed = false;
};
HeaderedReading read_with_headers(std::vector<Header> headers) {
  Request request;
  request.body = R"({"a": "x"})";
  request.headers = std::move(headers);
  Validation v;
  BodyReader body(request, v);
  return {v.ok() ? 200 : v.response().status, body.parsed()};
}

// A coded (compressed) body, or one declared in another charset than UTF-8, is 415: it is
// neither read as it is nor decoded.
TEST(BodyReader, CodedBodiesAndOtherCharsetsAre415) {
  auto status = [](std::vector<Header> headers) { return read_with_headers(std::move(headers)).status; };
  EXPECT_EQ(status({{"Content-Encoding", "gzip"}}), 415);
  EXPECT_EQ(status({{"Content-Encoding", "br"}, {"Content-Type", "application/json"}}), 415);
  EXPECT_EQ(status({{"Content-Type", "application/json; charset=utf-16"}}), 415);
  EXPECT_EQ(status({{"Content-Type", "application/json; charset=\"latin1\""}}), 415);
  EXPECT_EQ(status({{"Content-Encoding", "identity"}, {"Content-Type", "application/json; charset=UTF-8"}}), 200);
  EXPECT_EQ(status({{"Content-Type", "application/json;charset=utf-8"}}), 200);
  EXPECT_EQ(status({}), 200);
  // Only a parameter named charset is one: another whose name ends so is not read.
  EXPECT_EQ(status({{"Content-Type", "application/json; xcharset=foo"}}), 200);
  EXPECT_EQ(status({{"Content-Type", "application/json; v=1; Charset = \"utf-16\""}}), 415);
}

// The media types FastAPI reads as JSON: none or an empty value, application/json and any
// application/…+json (+json alone too); others are no object to read fields from.
TEST(BodyReader, MediaTypesAreReadAsFastApiReadsThem) {
  auto parsed = [](std::vector<Header> headers) { return read_with_headers(std::move(headers)).parsed; };
  EXPECT_TRUE(parsed({{"Content-Type", ""}}));
  EXPECT_TRUE(parsed({{"Content-Type", "application/+json"}}));
  EXPECT_TRUE(parsed({{"Content-Type", "Application/Merge-Patch+JSON; charset=utf-8"}}));
  EXPECT_FALSE(parsed({{"Content-Type", "text/plain"}}));
  EXPECT_FALSE(parsed({{"Content-Type", "application/jsonx"}}));
  EXPECT_FALSE(parsed({{"Content-Type", "application/json/x"}}));
}

// No body at all is a missing body (FastAPI reads an empty one as none), not malformed JSON.
TEST(BodyReader, AnEmptyRequestBodyIsMissing) {
  Request request;
  request.body = "";
  Validation v;
  BodyReader body(request, v);
  EXPECT_FALSE(body.parsed());
  const auto detail = json::parse(v.response().body).at("detail");
  EXPECT_EQ(detail, json::parse(R"([{"type":"missing","loc":["body"],"msg":"Field required","input":null}])"));
  Request spaces;
  spaces.body = " ";
  Validation w;
  BodyReader blank(spaces, w);
  EXPECT_EQ(json::parse(w.response().body).at("detail").at(0).at("type").as_string(), "json_invalid");
  // A JSON null is no body either, as FastAPI reads it.
  Request null_body;
  null_body.body = "null";
  Validation n;
  BodyReader none(null_body, n);
  EXPECT_FALSE(none.parsed());
  EXPECT_EQ(json::parse(n.response().body).at("detail"),
            json::parse(R"([{"type":"missing","loc":["body"],"msg":"Field required","input":null}])"));
}

// An integer field's errors carry pydantic's types: a fraction, text, another type.
TEST(BodyReader, IntegerErrorsArePydanticsTypes) {
  Validation v;
  BodyReader body(R"({"a": 1000.5, "b": "ten", "c": [1], "e": 2.0})", v);
  for (const char* key : {"a", "b", "c"}) EXPECT_FALSE(body.integer(key, 1, 100000, true)) << key;
  EXPECT_EQ(body.integer("e", 1, 10, true), 2);
  const auto detail = json::parse(v.response().body).at("detail").as_array();
  ASSERT_EQ(detail.size(), 3u);
  EXPECT_EQ(detail[0].at("type").as_string(), "int_from_float");
  EXPECT_EQ(detail[0].at("msg").as_string(), "Input should be a valid integer, got a number with a fractional part");
  EXPECT_EQ(detail[1].at("type").as_string(), "int_parsing");
  EXPECT_EQ(detail[2].at("type").as_string(), "int_type");
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
  BodyReader body(R"({"a": -1e20, "b": "-99999999999999999999", "c": 1e20, "d": "99999999999999999999", "e": 18446744073709551615,
                      "f": 1e16})",
                  v);
  for (const char* key : {"a", "b", "c", "d", "e", "f"}) EXPECT_FALSE(body.integer(key, 1, 100, true)) << key;
  auto doc = json::parse(v.response().body);
  const auto& detail = doc.at("detail").as_array();
  ASSERT_EQ(detail.size(), 6u);
  // pydantic 2.13: a whole float past 64 bits is no integer it reads (int_parsing_size); one
  // below is compared with the bounds like any integer.
  EXPECT_EQ(detail[0].at("type").as_string(), "int_parsing_size");
  EXPECT_EQ(detail[0].at("msg").as_string(), "Unable to parse input string as an integer, exceeded maximum size");
  EXPECT_EQ(detail[1].at("type").as_string(), "greater_than_equal");
  EXPECT_EQ(detail[2].at("type").as_string(), "int_parsing_size");
  EXPECT_EQ(detail[3].at("type").as_string(), "less_than_equal");
  EXPECT_EQ(detail[4].at("type").as_string(), "less_than_equal");
  EXPECT_EQ(detail[5].at("type").as_string(), "less_than_equal");
}

// pydantic's lax int takes a whole float up to 2^63, and a field its validator holds above 0
// has no upper bound: past 64 bits it reads as the int64 maximum. A bool, which pydantic
// reads as 0 or 1, is refused (int_type): an integer field sent true is a mistake.
TEST(BodyReader, IntegersTakeLargeWholeFloatsButNoBools) {
  Validation v;
  BodyReader body(R"({"t": true, "f": false, "big": 1e16, "ts": 99999999999999999999999, "tb": true, "zero": 0, "neg": "-5",
                      "huge": 1e20, "frac": 1.5})",
                  v);
  EXPECT_EQ(body.integer("big", 1, std::numeric_limits<std::int64_t>::max(), true), 10'000'000'000'000'000);
  EXPECT_EQ(body.timestamp_integer("ts", "Value error, ts must be positive"), std::numeric_limits<std::int64_t>::max());
  EXPECT_TRUE(v.ok()) << v.response().body;
  EXPECT_FALSE(body.integer("t", 1, 100, true));
  EXPECT_FALSE(body.positive_integer("f", 100, true));
  EXPECT_FALSE(body.timestamp_integer("tb", "Value error, tb must be positive"));
  EXPECT_FALSE(body.timestamp_integer("zero", "Value error, zero must be positive"));
  EXPECT_FALSE(body.timestamp_integer("neg", "Value error, neg must be positive"));
  EXPECT_FALSE(body.timestamp_integer("huge", "Value error, huge must be positive"));
  EXPECT_FALSE(body.timestamp_integer("frac", "Value error, frac must be positive"));
  EXPECT_FALSE(body.timestamp_integer("absent", "Value error, absent must be positive"));
  const auto detail = json::parse(v.response().body).at("detail").as_array();
  ASSERT_EQ(detail.size(), 8u) << detail;
  for (int i : {0, 1, 2}) EXPECT_EQ(detail[i].at("type").as_string(), "int_type") << detail[i];
  EXPECT_EQ(detail[3].at("type").as_string(), "value_error");
  EXPECT_EQ(detail[3].at("msg").as_string(), "Value error, zero must be positive");
  EXPECT_EQ(detail[3].at("input"), json::value(0));
  EXPECT_EQ(detail[4].at("msg").as_string(), "Value error, neg must be positive");
  EXPECT_EQ(detail[5].at("type").as_string(), "int_parsing_size");
  EXPECT_EQ(detail[6].at("type").as_string(), "int_from_float");
  EXPECT_EQ(detail[7].at("type").as_string(), "missing");
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
  EXPECT_EQ(q.integer("limit", 1, 500), 99);  // FastAPI reads a repeated scalar's last value
  EXPECT_EQ(q.boolean("active_only"), true);
  EXPECT_EQ(q.string("name"), "a b");
  EXPECT_TRUE(v.ok());
  Validation bad;
  QueryReader q2("limit=0&flag=maybe", bad);
  EXPECT_FALSE(q2.integer("limit", 1, 500));
  EXPECT_FALSE(q2.boolean("flag"));
  EXPECT_FALSE(bad.ok());
}

// Starlette's parse_qsl: a stray '%', '[' or raw byte anywhere is text, and never makes the
// other parameters disappear (a listing without its filter or limit).
TEST(QueryReader, MalformedEscapesAreTextAndTheRestStillApplies) {
  Validation v;
  QueryReader q("orchestrator_id=o%201&x=%&y=%zz&z=a[1]|{}&w=%4&plus=a+b%2Bc&&bare&limit=3", v);
  EXPECT_EQ(q.string("orchestrator_id"), "o 1");
  EXPECT_EQ(q.integer("limit", 1, 500), 3);
  EXPECT_EQ(q.string("x"), "%");
  EXPECT_EQ(q.string("y"), "%zz");
  EXPECT_EQ(q.string("z"), "a[1]|{}");
  EXPECT_EQ(q.string("w"), "%4");
  EXPECT_EQ(q.string("plus"), "a b+c");
  EXPECT_EQ(q.string("bare"), "");
  EXPECT_TRUE(v.ok());
  Validation raw;
  QueryReader q2("name=caf\xc3\xa9&bad=\xff&limit=2", raw);
  EXPECT_EQ(q2.string("name"), "caf\xc3\xa9");
  EXPECT_EQ(q2.string("bad"), "\xef\xbf\xbd");
  EXPECT_EQ(q2.integer("limit", 1, 5), 2);
}

// pydantic's lax integers from text, in a query or a JSON string: a sign, surrounding
// whitespace and a zero fraction are fine; anything else is int_parsing, and a well-formed
// integer past int64 is out of range on its side.
TEST(QueryReader, IntegersAsPydanticReadsThem) {
  Validation v;
  // As pydantic 2.13 (the reference installs pydantic>=2.5, so the newest) reads them.
  QueryReader q("a=%2B3&b=3.0&c=%203%20&d=-0&e=1_0&f=3.5&g=3e2&h=%2B-3&i=99999999999999999999&j=-99999999999999999999&k=&l=7.", v);
  EXPECT_EQ(q.integer("a", -10, 10), 3);
  EXPECT_EQ(q.integer("b", -10, 10), 3);
  EXPECT_EQ(q.integer("c", -10, 10), 3);
  EXPECT_EQ(q.integer("d", -10, 10), 0);
  EXPECT_EQ(q.integer("e", -10, 10), 10);
  EXPECT_TRUE(v.ok());
  for (const char* bad : {"f", "g", "h", "i", "j", "k", "l"}) EXPECT_FALSE(q.integer(bad, -10, 10)) << bad;
  const auto doc = json::parse(v.response().body);
  const auto& errors = doc.at("detail").as_array();
  ASSERT_EQ(errors.size(), 7u);
  EXPECT_EQ(errors[3].at("type").as_string(), "less_than_equal");
  EXPECT_EQ(errors[4].at("type").as_string(), "greater_than_equal");
  // pydantic's words for the bound passed.
  EXPECT_EQ(errors[3].at("msg").as_string(), "Input should be less than or equal to 10");
  EXPECT_EQ(errors[4].at("msg").as_string(), "Input should be greater than or equal to -10");
  EXPECT_EQ(errors[5].at("type").as_string(), "int_parsing");
  EXPECT_EQ(errors[6].at("type").as_string(), "int_parsing");
}

// A float field (health_timeout) takes numeric text and booleans as pydantic's lax mode does.
// As pydantic 2.13 reads them (the reference installs pydantic>=2.5, so the newest).
TEST(BodyReader, NumbersFromText) {
  Validation v;
  BodyReader body(R"({"a": "5", "b": " 0.5 ", "c": "+2.5", "d": "1e1", "e": "five", "f": "", "g": "nan", "h": "+-1", "i": [1],
                      "j": true, "k": "1_0", "l": "\u00a05", "m": "1_e1", "n": "1e400", "o": "-1e400", "p": "5_", "q": "1__0"})",
                  v);
  EXPECT_EQ(body.optional_number("a", 0.1, 60), 5.0);
  EXPECT_EQ(body.optional_number("j", 0.1, 60), 1.0);  // lax mode takes a bool as a float
  EXPECT_EQ(body.optional_number("b", 0.1, 60), 0.5);
  EXPECT_EQ(body.optional_number("c", 0.1, 60), 2.5);
  EXPECT_EQ(body.optional_number("d", 0.1, 60), 10.0);
  EXPECT_EQ(body.optional_number("k", 0.1, 60), 10.0);  // underscores left out
  EXPECT_EQ(body.optional_number("l", 0.1, 60), 5.0);   // a no-break space trimmed
  EXPECT_EQ(body.optional_number("m", 0.1, 60), 10.0);
  EXPECT_TRUE(v.ok());
  for (const char* bad : {"e", "f", "g", "h", "i", "n", "o", "p", "q"}) EXPECT_FALSE(body.optional_number(bad, 0.1, 60)) << bad;
  const auto doc = json::parse(v.response().body);
  const auto& errors = doc.at("detail").as_array();
  ASSERT_EQ(errors.size(), 9u);
  EXPECT_EQ(errors[0].at("type").as_string(), "float_parsing");
  EXPECT_EQ(errors[2].at("type").as_string(), "less_than_equal");  // NaN fails le, checked first
  EXPECT_EQ(errors[2].at("msg").as_string(), "Input should be less than or equal to 60");
  EXPECT_EQ(errors[4].at("type").as_string(), "float_type");
  EXPECT_EQ(errors[5].at("type").as_string(), "less_than_equal");     // 1e400: an infinity
  EXPECT_EQ(errors[6].at("type").as_string(), "greater_than_equal");  // -1e400
  EXPECT_EQ(errors[7].at("type").as_string(), "float_parsing");
  EXPECT_EQ(errors[8].at("type").as_string(), "float_parsing");
}

// Integers from text trim Unicode whitespace too, as pydantic does.
TEST(QueryReader, IntegersTrimUnicodeWhitespace) {
  Validation v;
  QueryReader q("days=%C2%A030&b=%E3%80%8030", v);
  EXPECT_EQ(q.integer("days", 1, 365), 30);
  EXPECT_EQ(q.integer("b", 1, 365), 30);
  EXPECT_TRUE(v.ok());
}

TEST(PercentDecode, AsPythonsUnquote) {
  EXPECT_EQ(percent_decode("/api/orchestrators/a%2Fb%zz%", false), "/api/orchestrators/a/b%zz%");
  EXPECT_EQ(percent_decode("a+b", false), "a+b");
  EXPECT_EQ(percent_decode("a+b", true), "a b");
  EXPECT_EQ(percent_decode("%e2%82%ac%41", false), "\xe2\x82\xac" "A");
  EXPECT_EQ(percent_decode("%C3", false), "\xef\xbf\xbd");
}

// str.strip() of Python 3.11 on each (the values printed by Python itself).
TEST(PythonText, StripIsPythonsStrip) {
  const std::pair<const char*, const char*> cases[] = {
      {"  a b  ", "a b"},
      {"\xc2\xa0x\xc2\xa0", "x"},                         // U+00A0
      {"\xe3\x80\x80x\xe2\x80\x83", "x"},                 // U+3000, U+2003
      {"\x0b\x0c\x1cx\x1f\xc2\x85", "x"},                 // \v \f U+001C, U+001F, U+0085
      {"\xe2\x80\x8bx", "\xe2\x80\x8bx"},                 // U+200B is not whitespace
      {"\xc3\xa9", "\xc3\xa9"},                             // a letter
      {"\xe2\x80\xa8\xe2\x80\xa9", ""},                   // U+2028, U+2029
      {"x\xa0", "x\xa0"},                                   // a stray byte is no space
  };
  for (const auto& [in, out] : cases) EXPECT_EQ(lpops::python_strip(in), out) << in;
}

// pydantic (2.13) trims a number's text of Unicode's White_Space, which U+001C..U+001F are
// not: "\x1c5" is int_parsing / float_parsing there, though Python's strip() takes them.
TEST(PythonText, NumbersAreTrimmedAsPydanticTrims) {
  int side = 0;
  for (const char* five : {"\x0b" "5", "\xc2\x85" "5", "\xc2\xa0" "5", "\xe3\x80\x80" "5", " 5\t"}) {
    EXPECT_EQ(lpops::lax_int(five, side), 5) << five;
    EXPECT_EQ(lpops::lax_float(five), 5.0) << five;
  }
  for (const char* refused : {"\x1c" "5", "5\x1f", "\x1d" "5.5", "\xe2\x80\x8b" "5"}) {
    EXPECT_FALSE(lpops::lax_int(refused, side)) << refused;
    EXPECT_FALSE(lpops::lax_float(refused)) << refused;
  }
}

// A float's text with underscores is read untrimmed (pydantic 2.13: str.trim().parse() first,
// then the text with its underscores left out, not trimmed).
TEST(PythonText, FloatsWithUnderscoresAreNotTrimmed) {
  const std::vector<std::pair<std::string, std::optional<double>>> cases = {
      {"1_0", 10.0}, {"1_0.5", 10.5}, {"1_e1", 10.0}, {"+_8", 8.0}, {"8._5", 8.5}, {"1_.5", 1.5}, {" 1.5 ", 1.5},
      {" 1_0", std::nullopt}, {"1_0 ", std::nullopt}, {"\xc2\xa0" "1_0", std::nullopt}, {"_1", std::nullopt},
      {"1_", std::nullopt}, {"1__0", std::nullopt}};
  for (const auto& [text, value] : cases) EXPECT_EQ(lpops::lax_float(text), value) << text;
}

// str.lower() of Python 3.11 on each (the values printed by Python itself), and bytes that
// are not UTF-8 kept.
TEST(PythonText, LowerIsPythonsLower) {
  const std::pair<const char*, const char*> cases[] = {
      {"\xc3\x89" "COLE", "\xc3\xa9" "cole"},  // ÉCOLE
      {"\xc4\xb0" "D", "i\xcc\x87" "d"},  // İD
      {"\xce\x9f\xce\x94\xce\x9f\xce\xa3", "\xce\xbf\xce\xb4\xce\xbf\xcf\x82"},  // ΟΔΟΣ
      {"\xce\xa3\xce\x91", "\xcf\x83\xce\xb1"},  // ΣΑ
      {"\xce\x9f\xce\x94\xce\x9f\xce\xa3.\xce\xa7", "\xce\xbf\xce\xb4\xce\xbf\xcf\x83.\xcf\x87"},  // ΟΔΟΣ.Χ (not word-final)
      {"\xce\xa3", "\xcf\x83"},  // Σ alone
      {"\xce\x91\xce\xa3\xcc\x81", "\xce\xb1\xcf\x82\xcc\x81"},  // ΑΣ + combining acute
      {"\xef\xbc\xa1\xef\xbc\xa2", "\xef\xbd\x81\xef\xbd\x82"},  // fullwidth AB
      {"\xf0\x90\x90\x80x", "\xf0\x90\x90\xa8x"},  // Deseret
      {"Stra\xc3\x9f" "e", "stra\xc3\x9f" "e"},  // Straße
      {"\xe1\xba\x9e", "\xc3\x9f"},  // capital sharp s
      {"\xc7\x84", "\xc7\x86"},  // DŽ
      {"Node-7_A", "node-7_a"},  // ASCII
      {"A\xff\xc3" "B", "a\xff\xc3" "b"},
  };
  for (const auto& [in, out] : cases) EXPECT_EQ(lpops::python_lower(in), out) << in;
}

}  // namespace
}  // namespace lpops::net
