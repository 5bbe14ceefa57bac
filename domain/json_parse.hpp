#pragma once
// JSON text -> boost::json::value with every non-integer number correctly rounded, as
// Python's json module reads it. Boost.JSON 1.81's own parser reads some 16-17 digit numbers
// one unit in the last place off (0.09999999999999999 as 0.1): an amount, a duration or a
// health timeout would then be stored as another value than the one sent, and a journal or
// audit line written from a double could read back as a different one. Same options, errors
// and value shapes as boost::json::parse otherwise.
#include <boost/json.hpp>

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace lpops {

// Nesting: a request body may nest up to kMaxBodyJsonDepth levels (deeper is a 422); what the
// node stores wraps a body in a few levels of its own (a journal record, an effect, an
// orchestrator record, a health report), so its own files are read with room to spare. A
// stored record must never be refused on reading for a depth its request was accepted with.
inline constexpr std::size_t kMaxBodyJsonDepth = 128;
inline constexpr std::size_t kMaxStoredJsonDepth = 1024;
boost::json::parse_options stored_json_options();

// Options default to stored_json_options().
boost::json::value parse_json(std::string_view text, boost::system::error_code& ec,
                              const boost::json::parse_options& options = stored_json_options());
// What the parser notes of a text beyond its value: numbers a double does not hold as
// written, and keys named twice.
struct JsonNumberNotes {
  // Integer literals past 64 bits (which become doubles) inside an object or array that is
  // itself inside another.
  std::size_t nested_big_integers = 0;
  // The keys of the top-level object whose value is a number with a fraction or an exponent
  // that the double it becomes does not equal (more significant digits than a double holds,
  // or an exponent past its range: 1.000000000000000001, 1e-400, 1e400).
  std::vector<std::string> inexact_fields;
  // The keys of the top-level object whose value is an integer literal past 64 bits (no
  // fraction, no exponent): pydantic reads such a one as a Python integer, not as a float.
  std::vector<std::string> big_integer_fields;
  // Keys read in all, and kept in the value: fewer kept means an object named a key twice
  // (the value keeps the last), which duplicate_json_key then names.
  std::size_t keys_read = 0;
  std::size_t keys_kept = 0;
};
boost::json::value parse_json(std::string_view text, boost::system::error_code& ec, const boost::json::parse_options& options,
                              JsonNumberNotes* notes);
// Whether two decimal number texts (JSON's grammar, or a double's shortest form) have the
// same value: "1.50" and "15e-1" do, "1.000000000000000001" and "1" do not.
bool same_decimal_value(std::string_view a, std::string_view b);
// Throws boost::system::system_error when the text is not JSON.
boost::json::value parse_json(std::string_view text);

// Where and why a text is not JSON, for an error message: the offset of the first byte the
// parser could not take (the text's end when it stops short), as a byte offset, a code point
// offset (as Python counts a position) and a line and column (1-based, the column in code
// points), and the reason in words: the parser's, or a plainer one for a \u escape holding
// half a UTF-16 surrogate pair, which no UTF-8 text can carry.
struct JsonErrorPlace {
  std::size_t byte = 0;
  std::size_t chars = 0;
  std::size_t line = 1;
  std::size_t column = 1;
  std::string reason;
};
JsonErrorPlace json_error_place(std::string_view text, const boost::system::error_code& ec,
                                const boost::json::parse_options& options = stored_json_options());

// The path ("data.x", "items.3") of the first number in `v` that is not finite (the parser
// reads 1e400 as an infinity, which no JSON text can carry), and the number, if any.
std::optional<std::pair<std::string, double>> first_non_finite(const boost::json::value& v, const std::string& path = {});
// The same path as segments, as a validation error's `loc` names it: keys as strings, list
// positions as integers (["data", "list", 2]).
std::optional<std::pair<boost::json::array, double>> first_non_finite_loc(const boost::json::value& v);

// The first key that one object of the text names twice (parsers disagree on which copy
// counts, so a signed record with one is ambiguous); nullopt when none does, and when the
// text is not JSON (parse_json says why).
std::optional<std::string> duplicate_json_key(std::string_view text);

// The elements of the array that the top-level object of `text` (valid JSON) names `key`,
// as the bytes they are in the text (surrounding whitespace dropped): what a verifier must
// check when it is handed entries it may not re-serialise. nullopt when there is no such
// array (the key spelt with escapes does not count).
std::optional<std::vector<std::string_view>> raw_array_elements(std::string_view text, std::string_view key);
// The same for an array deeper in: `path` names the keys from the top-level object down
// ({"book", "workloads"}: the array the object under "book" names "workloads"), each but the
// last naming an object. Also where the array is in the text: text[open] is its '[',
// text[close] its ']'. For valid JSON only (the pieces are parsed by the caller).
struct RawArray {
  std::size_t open = 0, close = 0;
  std::vector<std::string_view> elements;
  bool empty_element = false;  // a comma with no element before or after it: not JSON
};
std::optional<RawArray> raw_array_at(std::string_view text, std::span<const std::string_view> path);

}  // namespace lpops
