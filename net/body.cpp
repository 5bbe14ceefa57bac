#include "net/body.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <limits>

#include "domain/canonical_json.hpp"
#include "domain/json_parse.hpp"
#include "domain/orchestrator.hpp"
#include "domain/python_text.hpp"

namespace lpops::net {
namespace {

// The shortest decimal that reads back as this double, as Python's str(float) gives.
std::string shortest_decimal(double d) {
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof buf, d);
  return std::string(buf, res.ptr);
}

// pydantic's text for a bound an integer passed: the side it passed, and that bound.
std::string range_message(bool low, std::int64_t min, std::int64_t max) {
  return low ? "Input should be greater than or equal to " + std::to_string(min)
             : "Input should be less than or equal to " + std::to_string(max);
}

json::object range_ctx(bool low, std::int64_t min, std::int64_t max) {
  return low ? json::object{{"ge", min}} : json::object{{"le", max}};
}

}  // namespace

Response json_response(int status, const json::value& body) {
  Response r;
  r.status = status;
  r.body = python_json(body);
  return r;
}

Response detail_response(int status, std::string_view detail) {
  return json_response(status, json::object{{"detail", detail}});
}

std::size_t code_points(std::string_view s) {
  std::size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

std::string replace_invalid_utf8(std::string_view bytes) {
  static constexpr std::string_view kReplacement = "\xEF\xBF\xBD";
  std::string out;
  out.reserve(bytes.size());
  const auto byte = [&](std::size_t i) { return static_cast<unsigned char>(bytes[i]); };
  std::size_t i = 0;
  while (i < bytes.size()) {
    const unsigned char lead = byte(i);
    if (lead < 0x80) {
      out += static_cast<char>(lead);
      ++i;
      continue;
    }
    // The sequence's length and the range of its second byte (Unicode Table 3-7).
    std::size_t length = 0;
    unsigned char low = 0x80, high = 0xBF;
    if (lead >= 0xC2 && lead <= 0xDF) length = 2;
    else if (lead == 0xE0) length = 3, low = 0xA0;
    else if ((lead >= 0xE1 && lead <= 0xEC) || lead == 0xEE || lead == 0xEF) length = 3;
    else if (lead == 0xED) length = 3, high = 0x9F;
    else if (lead == 0xF0) length = 4, low = 0x90;
    else if (lead >= 0xF1 && lead <= 0xF3) length = 4;
    else if (lead == 0xF4) length = 4, high = 0x8F;
    // How many bytes form a well-formed prefix of the sequence.
    std::size_t good = length == 0 ? 0 : 1;
    while (good > 0 && good < length && i + good < bytes.size()) {
      const unsigned char c = byte(i + good);
      const bool fits = good == 1 ? (c >= low && c <= high) : (c >= 0x80 && c <= 0xBF);
      if (!fits) break;
      ++good;
    }
    if (length > 0 && good == length) {
      out.append(bytes.substr(i, length));
      i += length;
    } else {
      out += kReplacement;  // one for the maximal ill-formed subsequence
      i += std::max<std::size_t>(good, 1);
    }
  }
  return out;
}

namespace {

// Whether an object or list is at most 256 characters as JSON text, without writing out a
// large one whole (a missing field's input is the body, up to megabytes): past 1,024 bytes
// it is over 256 characters whatever they are.
bool short_json(const json::value& v) {
  json::serializer sr;
  sr.reset(&v);
  char buf[1025];
  sr.read(buf, sizeof buf);
  return sr.done() && code_points(python_json(v)) <= 256;
}

}  // namespace

void Validation::add(std::string_view where, std::string_view field, std::string_view type, std::string msg,
                     const json::value* input, json::object ctx) {
  json::array loc{json::value(where)};
  if (!field.empty()) loc.push_back(json::value(field));
  add_at(std::move(loc), type, std::move(msg), input, std::move(ctx));
}

namespace {

// pydantic's context for the error types whose message is its template filled in.
json::object implied_ctx(std::string_view type, std::string_view msg) {
  json::object ctx;
  if (type == "value_error") {
    ctx["error"] = json::object{};
  } else if (type == "string_pattern_mismatch") {
    constexpr std::string_view lead = "String should match pattern '";
    if (msg.starts_with(lead) && msg.ends_with('\'') && msg.size() > lead.size())
      ctx["pattern"] = msg.substr(lead.size(), msg.size() - lead.size() - 1);
  } else if (type == "literal_error") {
    constexpr std::string_view lead = "Input should be ";
    if (msg.starts_with(lead)) ctx["expected"] = msg.substr(lead.size());
  }
  return ctx;
}

}  // namespace

void Validation::add_at(json::array loc, std::string_view type, std::string msg, const json::value* input,
                        json::object ctx) {
  if (ctx.empty()) ctx = implied_ctx(type, msg);
  json::object e;
  e["type"] = type;
  e["loc"] = std::move(loc);
  e["msg"] = std::move(msg);
  // Every error names its input, as pydantic's do (null when there is none: a query field
  // that is missing, a body that is no JSON); an input longer than 256 characters (a string,
  // or an object or list as JSON text) is left out rather than sent back in full.
  if (!input) {
    e["input"] = nullptr;
  } else if (input->is_double() && !std::isfinite(input->get_double())) {
    // JSON has no infinities: one would serialise as the invalid token Infinity.
    e["input"] = input->get_double() > 0 ? "Infinity" : "-Infinity";
  } else if (input->is_string() ? code_points(input->get_string()) <= 256
                                : !(input->is_object() || input->is_array()) || short_json(*input)) {
    e["input"] = *input;
  }
  if (!ctx.empty()) e["ctx"] = std::move(ctx);
  errors_.push_back(std::move(e));
}

Response Validation::response() const {
  if (refusal_) return detail_response(refusal_->first, refusal_->second);
  return json_response(422, json::object{{"detail", errors_}});
}

void Validation::refuse(int status, std::string detail) {
  if (!refusal_) refusal_.emplace(status, std::move(detail));
}

namespace {

// pydantic's lax booleans: true/false, yes/no, on/off, t/f, y/n, 1/0, in any case.
std::optional<bool> lax_bool(std::string_view text) {
  std::string s(text);
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  for (const char* t : {"true", "1", "yes", "on", "t", "y"})
    if (s == t) return true;
  for (const char* f : {"false", "0", "no", "off", "f", "n"})
    if (s == f) return false;
  return std::nullopt;
}


}  // namespace

BodyReader::BodyReader(const std::string& text, Validation& v) : v_(v) { parse(text); }

void BodyReader::parse(const std::string& text, bool mark_skipped) {
  // A UTF-8 byte-order mark ahead of the JSON (some Windows and .NET clients write one) is
  // skipped, once, as the reference's json.loads skips it in bytes; positions count after it.
  if (!mark_skipped && text.starts_with("\xEF\xBB\xBF")) return parse(text.substr(3), true);
  boost::system::error_code ec;
  json::parse_options opts;
  opts.max_depth = kMaxBodyJsonDepth;
  JsonNumberNotes notes;
  doc_ = parse_json(text, ec, opts, &notes);
  if (ec) {
    // As the reference's framework reports it: the position (in code points) after "body".
    const auto place = json_error_place(text, ec, opts);
    // Its input is {} and its context the parser's reason, as the framework gives them.
    const json::value nothing = json::object{};
    v_.add_at(json::array{json::value("body"), json::value(place.chars)}, "json_invalid",
              "JSON decode error: " + place.reason + " at line " + std::to_string(place.line) + " column " +
                  std::to_string(place.column) + " (char " + std::to_string(place.chars) + ")",
              &nothing, {{"error", place.reason}});
    return;
  }
  // A key named twice in one object: parsers disagree on which copy counts (Python's keeps the
  // last, others the first), so whatever inspected the body on its way may have read another
  // request than this one. Refused rather than guessed.
  if (notes.keys_kept != notes.keys_read) {
    const auto key = duplicate_json_key(text);
    v_.add("body", "", "duplicate_key",
           "JSON object names the key \"" + replace_invalid_utf8(key.value_or("?")) +
               "\" twice (parsers disagree on which copy counts): send each key once");
    return;
  }
  inexact_fields_ = std::move(notes.inexact_fields);
  big_integer_fields_ = std::move(notes.big_integer_fields);
  // Free-form data (a health report's, a metadata object's) is stored as sent; an integer
  // past 64 bits there would be stored as a rounded float. (A top-level field's type says how
  // such a number is taken: an amount asks for a string, an integer field reports its range.)
  if (notes.nested_big_integers > 0) {
    v_.add("body", "", "int_parsing_size",
           "Input should not hold integers past 64 bits inside an object or array (they would not be stored exactly; send "
           "such a number as a string)");
    return;
  }
  // The parser reads a number too large for a double (1e400) as an infinity, which no JSON
  // text can carry: stored, it would make the journal record unreadable. Refuse it here.
  if (auto found = first_non_finite_loc(doc_)) {
    const json::value inf(found->second);
    json::array loc{json::value("body")};
    for (auto& segment : found->first) loc.push_back(std::move(segment));
    v_.add_at(std::move(loc), "finite_number", "Input should be a finite number", &inf);
    return;
  }
  // A JSON null is no body, as the reference's framework reads it.
  if (doc_.is_null()) {
    v_.add("body", "", "missing", "Field required");
    return;
  }
  if (!doc_.is_object()) {
    v_.add("body", "", "model_attributes_type", "Input should be a valid dictionary or object to extract fields from", &doc_);
    return;
  }
  // Written back out, a body can grow (1e15 becomes 1000000000000000.0): a large one is
  // measured as the journal would hold it, so that no request can make a record too large to
  // store (which would stop the node).
  if (text.size() > (256u << 10) && python_json(doc_).size() > kMaxStoredBodyBytes) {
    v_.refuse(413, "Request body too large to record: its JSON is over " + std::to_string(kMaxStoredBodyBytes) +
                       " bytes as stored");
    return;
  }
  object_ = &doc_.get_object();
}

namespace {

// "application/json", "application/merge-patch+json; charset=utf-8", ... (case-insensitive).
bool is_json_media_type(std::string_view value) {
  std::string type(value.substr(0, value.find(';')));
  while (!type.empty() && (type.back() == ' ' || type.back() == '\t')) type.pop_back();
  while (!type.empty() && (type.front() == ' ' || type.front() == '\t')) type.erase(0, 1);
  for (auto& c : type) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  constexpr std::string_view kApplication = "application/";
  if (!type.starts_with(kApplication)) return false;
  const std::string_view subtype = std::string_view(type).substr(kApplication.size());
  return subtype == "json" || subtype.ends_with("+json");  // FastAPI's test: application/+json too
}

// The value of a media type's `charset` parameter (lower-case, unquoted), if it names one.
std::optional<std::string> charset_of(std::string_view value) {
  std::size_t begin = value.find(';');
  while (begin != std::string_view::npos) {
    const std::size_t end = value.find(';', begin + 1);
    const std::string_view param = trimmed(value.substr(begin + 1, end == std::string_view::npos ? std::string_view::npos : end - begin - 1));
    begin = end;
    const auto eq = param.find('=');
    if (eq == std::string_view::npos || lower_ascii(std::string(trimmed(param.substr(0, eq)))) != "charset") continue;
    std::string charset = lower_ascii(std::string(trimmed(param.substr(eq + 1))));
    if (charset.size() >= 2 && charset.front() == '"' && charset.back() == '"') charset = charset.substr(1, charset.size() - 2);
    return charset;
  }
  return std::nullopt;
}

}  // namespace

BodyReader::BodyReader(const Request& request, Validation& v) : v_(v) {
  // No body at all is a missing one, as the reference's framework reads it (a body of only
  // white space is malformed JSON instead).
  if (request.body.empty()) {
    v_.add("body", "", "missing", "Field required");
    return;
  }
  // A compressed (or otherwise coded) body is not read: taken as it is, a body labelled gzip
  // that is plain JSON would be acted on, and a gzipped one would read as malformed JSON.
  if (const std::string* coding = request.header("Content-Encoding")) {
    const std::string c = lower_ascii(std::string(trimmed(*coding)));
    if (!c.empty() && c != "identity") {
      v_.refuse(415, "Content-Encoding " + replace_invalid_utf8(coding->substr(0, 64)) +
                         " is not supported: send the body uncompressed");
      return;
    }
  }
  const std::string* type = request.header("Content-Type");
  // An empty value is none: FastAPI reads such a body as JSON.
  if (type && type->empty()) type = nullptr;
  // JSON is UTF-8 (RFC 8259): a body declared in another charset would be misread.
  if (type) {
    if (const auto charset = charset_of(*type);
        charset && *charset != "utf-8" && *charset != "utf8" && *charset != "us-ascii" && *charset != "ascii") {
      v_.refuse(415, "charset " + replace_invalid_utf8(charset->substr(0, 64)) + " is not supported: send JSON as UTF-8");
      return;
    }
  }
  if (type && !request.body.empty() && !is_json_media_type(*type)) {
    v_.add("body", "", "model_attributes_type",
           "Input should be a valid dictionary or object to extract fields from (Content-Type must be application/json, not " +
               replace_invalid_utf8(*type) + ")");
    return;
  }
  parse(request.body);
}

const json::value* BodyReader::find(std::string_view key) const {
  if (!object_) return nullptr;
  auto it = object_->find(key);
  return it == object_->end() ? nullptr : &it->value();
}

std::string BodyReader::required_string(std::string_view key, std::size_t min_chars, std::size_t max_chars) {
  if (!parsed()) return {};
  const json::value* v = find(key);
  if (!v) {
    v_.add("body", key, "missing", "Field required", &doc_);
    return {};
  }
  // An explicit null is no string (pydantic: string_type), not a missing field.
  if (v->is_null()) {
    v_.add("body", key, "string_type", "Input should be a valid string", v);
    return {};
  }
  auto s = optional_string(key, max_chars, min_chars);
  return s.value_or(std::string{});
}

std::string BodyReader::string_or(std::string_view key, std::size_t max_chars, std::string fallback) {
  if (!parsed()) return fallback;
  const json::value* v = find(key);
  if (!v) return fallback;
  if (v->is_null()) {
    v_.add("body", key, "string_type", "Input should be a valid string", v);
    return fallback;
  }
  return optional_string(key, max_chars).value_or(std::move(fallback));
}

std::optional<std::string> BodyReader::optional_string(std::string_view key, std::size_t max_chars,
                                                       std::size_t min_chars) {
  const json::value* v = find(key);
  if (!v || v->is_null()) return std::nullopt;
  if (!v->is_string()) {
    v_.add("body", key, "string_type", "Input should be a valid string", v);
    return std::nullopt;
  }
  std::string s(v->get_string());
  std::size_t n = code_points(s);
  if (n < min_chars) {
    v_.add("body", key, "string_too_short", "String should have at least " + std::to_string(min_chars) + " character" + (min_chars == 1 ? "" : "s"), v,
           {{"min_length", min_chars}});
    return std::nullopt;
  }
  if (n > max_chars) {
    v_.add("body", key, "string_too_long", "String should have at most " + std::to_string(max_chars) + " characters", v,
           {{"max_length", max_chars}});
    return std::nullopt;
  }
  return s;
}

std::optional<bool> BodyReader::optional_bool(std::string_view key) {
  const json::value* v = find(key);
  if (!v || v->is_null()) return std::nullopt;
  if (v->is_bool()) return v->get_bool();
  // The reference's validation (pydantic, lax mode) also takes 0/1 and the usual strings.
  if (v->is_int64() || v->is_uint64()) {
    const std::int64_t n = v->is_int64() ? v->get_int64() : -1;  // a uint64 here is over 2^63: neither 0 nor 1
    if (n == 0 || n == 1) return n == 1;
    v_.add("body", key, "bool_parsing", "Input should be a valid boolean, unable to interpret input", v);
    return std::nullopt;
  }
  if (v->is_string()) {
    if (auto b = lax_bool(v->get_string())) return b;
    v_.add("body", key, "bool_parsing", "Input should be a valid boolean, unable to interpret input", v);
    return std::nullopt;
  }
  // A float with no fraction is read as its integer (1.0 is true, 0.0 false, 2.0 no boolean);
  // one with a fraction is no boolean at all, as pydantic has it.
  if (v->is_double() && std::isfinite(v->get_double()) && std::trunc(v->get_double()) == v->get_double()) {
    const double d = v->get_double();
    if (d == 0 || d == 1) return d == 1;
    v_.add("body", key, "bool_parsing", "Input should be a valid boolean, unable to interpret input", v);
    return std::nullopt;
  }
  v_.add("body", key, "bool_type", "Input should be a valid boolean", v);
  return std::nullopt;
}

std::optional<double> BodyReader::optional_number(std::string_view key, double min, double max) {
  const json::value* v = find(key);
  if (!v || v->is_null()) return std::nullopt;
  double d;
  if (v->is_bool()) d = v->get_bool() ? 1 : 0;  // pydantic's lax float takes a bool
  else if (v->is_double()) d = v->get_double();
  else if (v->is_int64()) d = static_cast<double>(v->get_int64());
  else if (v->is_uint64()) d = static_cast<double>(v->get_uint64());
  else if (v->is_string()) {
    const auto parsed = lax_float(v->get_string());  // as pydantic's lax mode reads it
    if (!parsed) {
      v_.add("body", key, "float_parsing", "Input should be a valid number, unable to parse string as a number", v);
      return std::nullopt;
    }
    d = *parsed;
  } else {
    v_.add("body", key, "float_type", "Input should be a valid number", v);
    return std::nullopt;
  }
  // pydantic's constraint errors, checked as it checks them (le first; NaN fails it).
  if (!(d <= max)) {
    v_.add("body", key, "less_than_equal", "Input should be less than or equal to " + shortest_decimal(max), v,
           {{"le", max}});
    return std::nullopt;
  }
  if (!(d >= min)) {
    v_.add("body", key, "greater_than_equal", "Input should be greater than or equal to " + shortest_decimal(min), v,
           {{"ge", min}});
    return std::nullopt;
  }
  return d;
}

// An integer field's value as pydantic's lax int reads it: an integer, a float with no
// fraction or text that is one. Not a bool, which pydantic takes as 0 or 1: an integer field
// sent true (a duration, a block number) is a mistake to refuse, not one to act on. `side` is +1 / -1 for an integer out of int64's range; with
// neither a value nor a side, the field's type error has been added.
std::optional<std::int64_t> BodyReader::read_integer(std::string_view key, const json::value& v, int& side) {
  side = 0;
  if (v.is_int64()) return v.get_int64();
  if (v.is_uint64()) {
    side = 1;
    return std::nullopt;
  }
  if (v.is_double()) {
    const double d = v.get_double();
    // An integer literal past 64 bits, which the parser holds as a double: an integer to
    // pydantic (a Python int), out of range here.
    if (std::find(big_integer_fields_.begin(), big_integer_fields_.end(), key) != big_integer_fields_.end()) {
      side = d < 0 ? -1 : 1;
      return std::nullopt;
    }
    // Below 2^63 in magnitude, pydantic's float_as_int range (beyond it, its int_parsing_size).
    if (std::isfinite(d) && d == std::floor(d)) {
      if (std::fabs(d) < 9223372036854775808.0) return static_cast<std::int64_t>(d);
      v_.add("body", key, "int_parsing_size", "Unable to parse input string as an integer, exceeded maximum size", &v);
      return std::nullopt;
    }
    if (std::isfinite(d))
      v_.add("body", key, "int_from_float", "Input should be a valid integer, got a number with a fractional part", &v);
    else
      v_.add("body", key, "finite_number", "Input should be a finite number", &v);
    return std::nullopt;
  }
  if (v.is_string()) {
    auto n = lax_int(v.get_string(), side);
    if (!n && side == 0)
      v_.add("body", key, "int_parsing", "Input should be a valid integer, unable to parse string as an integer", &v);
    return n;
  }
  v_.add("body", key, "int_type", "Input should be a valid integer", &v);
  return std::nullopt;
}

std::optional<std::int64_t> BodyReader::integer(std::string_view key, std::int64_t min, std::int64_t max,
                                                bool required, bool above_zero) {
  if (!parsed()) return std::nullopt;
  const json::value* v = find(key);
  if (!v || v->is_null()) {
    // An explicit null in a required field is the wrong type, as pydantic reports it.
    if (required && v) v_.add("body", key, "int_type", "Input should be a valid integer", v);
    else if (required) v_.add("body", key, "missing", "Field required", &doc_);
    return std::nullopt;
  }
  int side = 0;
  const auto n = read_integer(key, *v, side);
  if (!n && side == 0) return std::nullopt;
  if (side != 0 || *n < min || *n > max) {
    const bool low = side < 0 || (n && *n < min);
    if (low && above_zero) v_.add("body", key, "greater_than", "Input should be greater than 0", v, {{"gt", 0}});
    else v_.add("body", key, low ? "greater_than_equal" : "less_than_equal", range_message(low, min, max), v,
                range_ctx(low, min, max));
    return std::nullopt;
  }
  return n;
}

std::optional<std::int64_t> BodyReader::timestamp_integer(std::string_view key, std::string not_positive_message) {
  if (!parsed()) return std::nullopt;
  const json::value* v = find(key);
  if (!v || v->is_null()) {
    if (v) v_.add("body", key, "int_type", "Input should be a valid integer", v);
    else v_.add("body", key, "missing", "Field required", &doc_);
    return std::nullopt;
  }
  int side = 0;
  const auto n = read_integer(key, *v, side);
  if (!n && side == 0) return std::nullopt;
  if (side > 0) return std::numeric_limits<std::int64_t>::max();
  if (side < 0 || *n <= 0) {
    v_.add("body", key, "value_error", std::move(not_positive_message), v);
    return std::nullopt;
  }
  return n;
}

std::optional<SignedWei> BodyReader::eth_amount(std::string_view key, bool required, bool exact_only) {
  if (!parsed()) return std::nullopt;
  const json::value* v = find(key);
  if (!v || v->is_null()) {
    if (required && v)
      v_.add("body", key, "decimal_type", "Decimal input should be an integer, float, string or Decimal object", v);
    else if (required) v_.add("body", key, "missing", "Field required", &doc_);
    return std::nullopt;
  }
  std::string text;
  if (v->is_string()) text = std::string(v->get_string());
  else if (v->is_int64()) text = std::to_string(v->get_int64());
  else if (v->is_uint64()) text = std::to_string(v->get_uint64());
  else if (v->is_double()) {
    if (exact_only) {
      v_.add("body", key, "string_type",
             "Input should be a decimal string (a JSON number with a fraction or an exponent, or one past 64 bits, "
             "is not read exactly)", v);
      return std::nullopt;
    }
    if (!std::isfinite(v->get_double())) {
      v_.add("body", key, "finite_number", "Input should be a finite number", v);
      return std::nullopt;
    }
    // The parser holds such a number as a double: an integer past 64 bits (or any number at
    // or past 2^53) may have lost digits already, so it is refused rather than rounded.
    if (std::fabs(v->get_double()) >= 9007199254740992.0) {
      v_.add("body", key, "string_type",
             "Input should be a decimal string: a JSON number this large is not read exactly (send \"" + std::string(key) +
                 "\" as a string)", v);
      return std::nullopt;
    }
    // Digits a double does not hold (1.000000000000000001), or an exponent past its range
    // (1e-400 reads as 0): the amount would not be the one sent, so it is refused, not rounded.
    if (std::find(inexact_fields_.begin(), inexact_fields_.end(), key) != inexact_fields_.end()) {
      v_.add("body", key, "string_type",
             "Input should be a decimal string: this JSON number has more digits, or a larger or smaller exponent, than "
             "the double it is read as can hold, so it would not be taken exactly (send \"" + std::string(key) +
                 "\" as a string)", v);
      return std::nullopt;
    }
    text = shortest_decimal(v->get_double());
  } else {
    v_.add("body", key, "decimal_type", "Decimal input should be an integer, float, string or Decimal object", v);
    return std::nullopt;
  }
  auto amount = parse_eth(text);
  if (!amount && python_decimal_is_non_finite(text)) {
    v_.add("body", key, "finite_number", "Input should be a finite number", v);
    return std::nullopt;
  }
  if (!amount) {
    v_.add("body", key, "decimal_parsing", "Input should be a valid decimal ETH amount: " + amount.error(), v);
    return std::nullopt;
  }
  return *amount;
}

std::optional<json::object> BodyReader::optional_object(std::string_view key, bool required) {
  if (!parsed()) return std::nullopt;
  const json::value* v = find(key);
  if (!v || v->is_null()) {
    if (required && v) v_.add("body", key, "dict_type", "Input should be a valid dictionary", v);
    else if (required) v_.add("body", key, "missing", "Field required", &doc_);
    return std::nullopt;
  }
  if (!v->is_object()) {
    v_.add("body", key, "dict_type", "Input should be a valid dictionary", v);
    return std::nullopt;
  }
  return v->get_object();
}

std::optional<std::vector<std::string>> BodyReader::optional_string_list(std::string_view key, std::size_t max_items,
                                                                        std::size_t max_chars) {
  const json::value* v = find(key);
  if (!v || v->is_null()) return std::nullopt;
  if (!v->is_array()) {
    v_.add("body", key, "list_type", "Input should be a valid list", v);
    return std::nullopt;
  }
  // As pydantic reports a list's items: one error per bad item, its index in the location.
  std::vector<std::string> out;
  bool bad = false;
  const auto& items = v->get_array();
  for (std::size_t i = 0; i < items.size(); ++i) {
    const auto& item = items[i];
    json::array loc{json::value("body"), json::value(key), json::value(i)};
    if (!item.is_string()) {
      v_.add_at(std::move(loc), "string_type", "Input should be a valid string", &item);
      bad = true;
      continue;
    }
    // Blanks dropped, the rest stripped as Python strips.
    std::string s(python_strip(item.get_string()));
    if (s.empty()) continue;
    if (code_points(s) > max_chars) {
      v_.add_at(std::move(loc), "string_too_long", "String should have at most " + std::to_string(max_chars) + " characters",
                &item, {{"max_length", max_chars}});
      bad = true;
      continue;
    }
    out.push_back(std::move(s));
  }
  if (bad) return std::nullopt;
  if (out.size() > max_items) {
    // The reference's own check (a validator, after the blanks are dropped), in its words.
    v_.add("body", key, "value_error", "Value error, " + std::string(key) + " limit is " + std::to_string(max_items) + " entries", v);
    return std::nullopt;
  }
  if (out.empty()) return std::nullopt;
  return out;
}

bool is_address(std::string_view s) { return is_reference_address(s); }

std::string percent_decode(std::string_view text, bool plus_as_space) {
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '+' && plus_as_space) {
      out += ' ';
    } else if (c == '%' && i + 2 < text.size() && hex(text[i + 1]) >= 0 && hex(text[i + 2]) >= 0) {
      out += static_cast<char>(hex(text[i + 1]) * 16 + hex(text[i + 2]));
      i += 2;
    } else {
      out += c;
    }
  }
  return replace_invalid_utf8(out);
}

// The query as the reference reads it (Starlette: urllib's parse_qsl with blank values
// kept): fields split at '&' (empty ones skipped), name and value at the first '=' (none:
// an empty value), each form-decoded. Nothing in a query makes the whole of it unreadable: a
// stray '%' or '[' is text, and the other parameters still apply.
QueryReader::QueryReader(std::string_view query, Validation& v) : v_(v) {
  while (!query.empty()) {
    const auto amp = query.find('&');
    const std::string_view field = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    if (field.empty()) continue;
    const auto eq = field.find('=');
    const std::string_view name = field.substr(0, eq);
    const std::string_view value = eq == std::string_view::npos ? std::string_view() : field.substr(eq + 1);
    // FastAPI reads a scalar parameter given twice as its last value.
    params_.insert_or_assign(percent_decode(name, true), percent_decode(value, true));
  }
}

std::optional<std::string> QueryReader::string(std::string_view key, std::size_t max_chars) {
  auto it = params_.find(key);
  if (it == params_.end()) return std::nullopt;
  if (code_points(it->second) > max_chars) {
    json::value in(it->second);
    v_.add("query", key, "string_too_long", "String should have at most " + std::to_string(max_chars) + " characters", &in,
           {{"max_length", max_chars}});
    return std::nullopt;
  }
  return it->second;
}

std::optional<std::string> QueryReader::filter(std::string_view key) const {
  auto it = params_.find(key);
  if (it == params_.end() || it->second.empty()) return std::nullopt;
  return it->second;
}

std::optional<std::int64_t> QueryReader::integer(std::string_view key, std::int64_t min, std::int64_t max, bool saturate) {
  auto it = params_.find(key);
  if (it == params_.end()) return std::nullopt;
  const std::string& s = it->second;
  int side = 0;
  const auto n = lax_int(s, side);
  json::value in(s);
  if (!n && !side) {
    v_.add("query", key, "int_parsing", "Input should be a valid integer, unable to parse string as an integer", &in);
    return std::nullopt;
  }
  if (side > 0 && saturate) return max;
  if (side || *n < min || *n > max) {
    const bool low = side < 0 || (n && *n < min);
    v_.add("query", key, low ? "greater_than_equal" : "less_than_equal", range_message(low, min, max), &in,
           range_ctx(low, min, max));
    return std::nullopt;
  }
  return n;
}

std::optional<std::int64_t> QueryReader::position(std::string_view key, std::int64_t min) {
  return integer(key, min, std::numeric_limits<std::int64_t>::max(), true);
}

std::optional<bool> QueryReader::boolean(std::string_view key) {
  auto it = params_.find(key);
  if (it == params_.end()) return std::nullopt;
  if (auto b = lax_bool(it->second)) return b;
  json::value in(it->second);
  v_.add("query", key, "bool_parsing", "Input should be a valid boolean, unable to interpret input", &in);
  return std::nullopt;
}

}  // namespace lpops::net
