#pragma once
// Reading and validating JSON request bodies and query strings. Failures collect into
// the reference's 422 shape: {"detail":[{"type","loc","msg","input","ctx"?}...]}.
#include <boost/json.hpp>

#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "domain/money.hpp"
#include "net/http_types.hpp"

namespace lpops::net {

namespace json = boost::json;

Response json_response(int status, const json::value& body);
Response detail_response(int status, std::string_view detail);

// Number of Unicode code points in valid UTF-8 text.
std::size_t code_points(std::string_view utf8);

// `bytes` as valid UTF-8: each maximal ill-formed subsequence becomes U+FFFD, as Python's
// bytes.decode("utf-8", "replace") (and so the reference's URL decoding) does. For text
// taken from a URL or a header that a JSON response may echo.
std::string replace_invalid_utf8(std::string_view bytes);

// Percent-decoding as Python's urllib.parse.unquote does it (the reference's): %XX escapes
// become bytes, any other '%' stays as it is; with `plus_as_space` (form fields), '+' is a
// space. The result's bytes that are not UTF-8 become U+FFFD.
std::string percent_decode(std::string_view text, bool plus_as_space);

// The reference's address pattern ^0x[a-fA-F0-9]{40}$ (a lower-case x; no checksum).
bool is_address(std::string_view s);

class Validation {
 public:
  // `ctx` is pydantic's context of the error, the values its message names ({"max_length": 3},
  // {"ge": 0.1}): given by the caller for bounds, whose number type follows the field's. Left
  // empty, it is filled for the types whose context the message holds: value_error
  // ({"error": {}}, a ValueError as the reference's framework encodes it), string_pattern_mismatch
  // ({"pattern"}) and literal_error ({"expected"}).
  void add(std::string_view where, std::string_view field, std::string_view type, std::string msg,
           const json::value* input = nullptr, json::object ctx = {});
  // The same at a deeper place: loc is `loc` as given (["body", "<key>", "<field>"]).
  void add_at(json::array loc, std::string_view type, std::string msg, const json::value* input = nullptr,
              json::object ctx = {});
  bool ok() const { return errors_.empty() && !refusal_; }
  std::size_t error_count() const { return errors_.size(); }
  Response response() const;  // 422, or the refusal's status
  // A refusal that is not a field's error (413: too large to record); response() gives it.
  void refuse(int status, std::string detail);

 private:
  json::array errors_;
  std::optional<std::pair<int, std::string>> refusal_;
};

// A body is stored in one journal record (at most 8 MiB), perhaps a field of it twice: the
// JSON of a body, as the node writes it, may not exceed this (413 otherwise).
inline constexpr std::size_t kMaxStoredBodyBytes = 3u << 20;

class BodyReader {
 public:
  // Parses an object body; a non-object or malformed body is a 422 in `v`.
  BodyReader(const std::string& text, Validation& v);
  // The same for a request, whose Content-Type, when given, must be JSON (application/json or
  // application/*+json), as the reference's framework requires: any other type is a 422. A
  // form or text/plain POST (which a browser sends cross-site without asking) never writes.
  BodyReader(const Request& request, Validation& v);
  bool parsed() const { return object_ != nullptr; }
  const json::object& object() const { return *object_; }

  std::string required_string(std::string_view key, std::size_t min_chars, std::size_t max_chars);
  std::optional<std::string> optional_string(std::string_view key, std::size_t max_chars, std::size_t min_chars = 0);
  // A string field with a default and no null (a field typed `str = default`): absent gives
  // `fallback`, null is a 422.
  std::string string_or(std::string_view key, std::size_t max_chars, std::string fallback);
  std::optional<bool> optional_bool(std::string_view key);
  std::optional<double> optional_number(std::string_view key, double min, double max);
  std::optional<std::int64_t> integer(std::string_view key, std::int64_t min, std::int64_t max, bool required) {
    return integer(key, min, max, required, false);
  }
  // An integer in (0, max]: pydantic's gt=0, whose error names 0 ("greater than 0").
  std::optional<std::int64_t> positive_integer(std::string_view key, std::int64_t max, bool required) {
    return integer(key, 1, max, required, true);
  }
  // A required integer that a validator of the reference's holds above 0 (its `value_error`
  // with `not_positive_message`, "Value error, …"), with no upper bound: one past the 64-bit
  // range reads as the int64 maximum, as a Python integer compares.
  std::optional<std::int64_t> timestamp_integer(std::string_view key, std::string not_positive_message);
  // A decimal ETH amount: a string, an integer, or (as the reference takes it) a float read
  // through its shortest form; with exact_only, a float is a 422 (its digits are not the
  // sender's: 0.123456789012345678 arrives as 0.12345678901234568).
  std::optional<SignedWei> eth_amount(std::string_view key, bool required, bool exact_only = false);
  std::optional<json::object> optional_object(std::string_view key, bool required = false);
  std::optional<std::vector<std::string>> optional_string_list(
      std::string_view key, std::size_t max_items, std::size_t max_chars = std::numeric_limits<std::size_t>::max());
  Validation& validation() { return v_; }
  // The body as parsed, and one of its fields as sent (null pointer when absent): the input
  // of an error found after reading.
  const json::value* document() const { return &doc_; }
  const json::value* field(std::string_view key) const { return parsed() ? find(key) : nullptr; }

 private:
  void parse(const std::string& text, bool mark_skipped = false);
  const json::value* find(std::string_view key) const;
  std::optional<std::int64_t> integer(std::string_view key, std::int64_t min, std::int64_t max, bool required,
                                      bool above_zero);
  std::optional<std::int64_t> read_integer(std::string_view key, const json::value& v, int& side);
  json::value doc_;
  const json::object* object_ = nullptr;
  std::vector<std::string> inexact_fields_;  // JsonNumberNotes::inexact_fields
  std::vector<std::string> big_integer_fields_;  // JsonNumberNotes::big_integer_fields
  Validation& v_;
};

class QueryReader {
 public:
  QueryReader(std::string_view query, Validation& v);
  std::optional<std::string> string(std::string_view key, std::size_t max_chars = 1024);
  // A filter as the reference tests it (`if value:`): absent or empty is no filter. No length
  // limit past the request line's: a long value simply matches nothing.
  std::optional<std::string> filter(std::string_view key) const;
  std::optional<std::int64_t> integer(std::string_view key, std::int64_t min, std::int64_t max) { return integer(key, min, max, false); }
  // A log position or size ≥ min with no upper bound: an integer past the int64 range reads as
  // the int64 maximum, as the reference's Python integers compare (`since_seq` past the end is
  // an empty page, `before_seq` past the end is every checkpoint).
  std::optional<std::int64_t> position(std::string_view key, std::int64_t min);
  std::optional<bool> boolean(std::string_view key);
  bool has(std::string_view key) const { return params_.find(key) != params_.end(); }

 private:
  std::optional<std::int64_t> integer(std::string_view key, std::int64_t min, std::int64_t max, bool saturate);
  std::map<std::string, std::string, std::less<>> params_;  // a name given twice: its last value
  Validation& v_;
};

}  // namespace lpops::net
