#pragma once
// Canonical JSON as the reference hashes it: Python's json.dumps(sort_keys=True,
// separators=(",", ":"), ensure_ascii=False). Keys sorted by code point at every level,
// raw UTF-8, short escapes for \" \\ \n \r \t \b \f, other control characters as
// lower-case \u00xx, DEL and U+2028 raw, floats in Python's repr ("1e-05", "1e+16", "0.5").
// Not RFC 8785: the point is byte-equality with what the reference's verifiers compute.
#include <boost/json.hpp>

#include <initializer_list>
#include <string>
#include <string_view>

namespace lpops {

std::string canonical_json(const boost::json::value& v);
// The same text without sorting: members in their own order, as the reference's responses are
// written (json.dumps(ensure_ascii=False, separators=(",", ":"))): floats as "5.0", not "5E0".
std::string python_json(const boost::json::value& v);
// Appends json::serialize(o), byte for byte, without building it in a string of its own.
void append_serialized(std::string& out, const boost::json::object& o);
// Appends `s` as a canonical JSON string (quotes included).
void append_canonical_string(std::string& out, std::string_view s);
// Appends the canonical form of `o` (no copy of it into a value first).
void append_canonical_json(std::string& out, const boost::json::object& o);
// The canonical form of `o` without the top-level members named in `skip` (no copy).
std::string canonical_json_without(const boost::json::object& o, std::initializer_list<std::string_view> skip);
// JSON text (valid UTF-8, as the writers above give it) as json.dumps(ensure_ascii=True) writes
// it: DEL and every non-ASCII character inside its strings as a lower-case \uXXXX escape, a
// character past U+FFFF as its UTF-16 surrogate pair. The value it reads as is unchanged.
// Text that is ASCII already (no byte over 0x7e) is left as it is; returns whether it changed.
bool make_ascii_json(std::string& text);

}  // namespace lpops
