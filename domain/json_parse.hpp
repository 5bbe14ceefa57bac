#pragma once
// JSON text -> boost::json::value with every non-integer number correctly rounded, as
// Python's json module reads it. Boost.JSON 1.81's own parser reads some 16-17 digit numbers
// one unit in the last place off (0.09999999999999999 as 0.1): an amount, a duration or a
// health timeout would then be stored as another value than the one sent, and a journal or
// audit line written from a double could read back as a different one. Same options, errors
// and value shapes as boost::json::parse otherwise.
#include <boost/json.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace lpops {

boost::json::value parse_json(std::string_view text, boost::system::error_code& ec,
                              const boost::json::parse_options& options = {});
// Throws boost::system::system_error when the text is not JSON.
boost::json::value parse_json(std::string_view text);

// The first key that one object of the text names twice (parsers disagree on which copy
// counts, so a signed record with one is ambiguous); nullopt when none does, and when the
// text is not JSON (parse_json says why).
std::optional<std::string> duplicate_json_key(std::string_view text);

}  // namespace lpops
