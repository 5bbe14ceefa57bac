#include "domain/json_parse.hpp"

#include <cmath>

#include <boost/json/basic_parser_impl.hpp>

#include <charconv>
#include <optional>
#include <string>
#include <unordered_set>
#include <vector>

#include "domain/digest.hpp"

namespace lpops {
namespace {

namespace json = boost::json;

// The handler boost::json::parser uses (a value_stack fed by the parser's events), except
// that a double is read again from its text by std::from_chars, which rounds correctly.
struct ExactHandler {
  static constexpr std::size_t max_object_size = json::object::max_size();
  static constexpr std::size_t max_array_size = json::array::max_size();
  static constexpr std::size_t max_key_size = json::string::max_size();
  static constexpr std::size_t max_string_size = json::string::max_size();

  json::value_stack st;
  std::string number;  // the parts of a number split over input buffers
  std::size_t depth = 0;  // objects and arrays open
  // Integer literals past 64 bits (read as doubles) inside an object or array that is itself
  // inside another: free-form data, where no typed field reports them.
  std::size_t nested_big_integers = 0;
  // The top-level object's key being read or last read, and its fields whose number the
  // double it became does not hold as written.
  std::string key;
  bool object_at_top = false;
  std::vector<std::string> inexact_fields;
  std::vector<std::string> big_integer_fields;

  ExactHandler(json::storage_ptr sp, unsigned char* buffer, std::size_t size) : st(std::move(sp), buffer, size) {}

  bool on_document_begin(json::error_code&) { return true; }
  bool on_document_end(json::error_code&) { return true; }
  bool on_object_begin(json::error_code&) {
    if (depth == 0) object_at_top = true;
    ++depth;
    return true;
  }
  bool on_object_end(std::size_t n, json::error_code&) {
    --depth;
    st.push_object(n);
    return true;
  }
  bool on_array_begin(json::error_code&) {
    ++depth;
    return true;
  }
  bool on_array_end(std::size_t n, json::error_code&) {
    --depth;
    st.push_array(n);
    return true;
  }
  bool on_key_part(json::string_view s, std::size_t, json::error_code&) {
    if (depth == 1) key.append(s.data(), s.size());
    st.push_chars(s);
    return true;
  }
  bool on_key(json::string_view s, std::size_t, json::error_code&) {
    ++keys_read;
    if (depth == 1) {
      key.append(s.data(), s.size());
      top_key.swap(key);
      key.clear();
    }
    st.push_key(s);
    return true;
  }
  std::string top_key;
  std::size_t keys_read = 0;
  bool on_string_part(json::string_view s, std::size_t, json::error_code&) {
    st.push_chars(s);
    return true;
  }
  bool on_string(json::string_view s, std::size_t, json::error_code&) {
    st.push_string(s);
    return true;
  }
  bool on_number_part(json::string_view s, json::error_code&) {
    number.append(s.data(), s.size());
    return true;
  }
  bool on_int64(std::int64_t i, json::string_view, json::error_code&) {
    number.clear();
    st.push_int64(i);
    return true;
  }
  bool on_uint64(std::uint64_t u, json::string_view, json::error_code&) {
    number.clear();
    st.push_uint64(u);
    return true;
  }
  bool on_double(double d, json::string_view s, json::error_code&) {
    std::string_view text(s.data(), s.size());
    if (!number.empty()) {
      number.append(s.data(), s.size());
      text = number;
    }
    double exact = 0;
    const auto [end, err] = std::from_chars(text.data(), text.data() + text.size(), exact);
    // Out of range (1e400, 1e-400): Boost's reading stands (an infinity, or zero).
    if (err == std::errc() && end == text.data() + text.size()) d = exact;
    if (depth >= 2 && text.find_first_of(".eE") == std::string_view::npos) ++nested_big_integers;
    if (depth == 1 && object_at_top && text.find_first_of(".eE") == std::string_view::npos) big_integer_fields.push_back(top_key);
    if (depth == 1 && object_at_top) {
      char shortest[64];
      const auto written = std::to_chars(shortest, shortest + sizeof shortest, d);
      if (!std::isfinite(d) || written.ec != std::errc() ||
          !same_decimal_value(text, std::string_view(shortest, static_cast<std::size_t>(written.ptr - shortest))))
        inexact_fields.push_back(top_key);
    }
    number.clear();
    st.push_double(d);
    return true;
  }
  bool on_bool(bool b, json::error_code&) {
    st.push_bool(b);
    return true;
  }
  bool on_null(json::error_code&) {
    st.push_null();
    return true;
  }
  bool on_comment_part(json::string_view, json::error_code&) { return true; }
  bool on_comment(json::string_view, json::error_code&) { return true; }
};

// Takes every event and keeps nothing: where a parse stops is all it tells (and the base of a
// handler that keeps only some of them).
struct NullHandler {
  static constexpr std::size_t max_object_size = json::object::max_size();
  static constexpr std::size_t max_array_size = json::array::max_size();
  static constexpr std::size_t max_key_size = json::string::max_size();
  static constexpr std::size_t max_string_size = json::string::max_size();
  bool on_document_begin(json::error_code&) { return true; }
  bool on_document_end(json::error_code&) { return true; }
  bool on_object_begin(json::error_code&) { return true; }
  bool on_object_end(std::size_t, json::error_code&) { return true; }
  bool on_array_begin(json::error_code&) { return true; }
  bool on_array_end(std::size_t, json::error_code&) { return true; }
  bool on_key_part(json::string_view, std::size_t, json::error_code&) { return true; }
  bool on_key(json::string_view, std::size_t, json::error_code&) { return true; }
  bool on_string_part(json::string_view, std::size_t, json::error_code&) { return true; }
  bool on_string(json::string_view, std::size_t, json::error_code&) { return true; }
  bool on_number_part(json::string_view, json::error_code&) { return true; }
  bool on_int64(std::int64_t, json::string_view, json::error_code&) { return true; }
  bool on_uint64(std::uint64_t, json::string_view, json::error_code&) { return true; }
  bool on_double(double, json::string_view, json::error_code&) { return true; }
  bool on_bool(bool, json::error_code&) { return true; }
  bool on_null(json::error_code&) { return true; }
  bool on_comment_part(json::string_view, json::error_code&) { return true; }
  bool on_comment(json::string_view, json::error_code&) { return true; }
};

// Only the keys, per object, to find one named twice: a hash set per open object, so that an
// object of a hundred thousand keys costs as many lookups, not their square.
struct KeyCheckHandler : NullHandler {
  std::vector<std::unordered_set<std::string>> objects;  // the keys of each open object
  std::string key;
  std::optional<std::string> duplicate;

  bool on_object_begin(json::error_code&) {
    objects.emplace_back();
    return true;
  }
  bool on_object_end(std::size_t, json::error_code&) {
    objects.pop_back();
    return true;
  }
  bool on_key_part(json::string_view s, std::size_t, json::error_code&) {
    key.append(s.data(), s.size());
    return true;
  }
  bool on_key(json::string_view s, std::size_t, json::error_code& ec) {
    key.append(s.data(), s.size());
    if (objects.back().contains(key)) {
      duplicate = std::move(key);
      ec = json::error::syntax;  // stops the parse: one is enough
      return false;
    }
    objects.back().insert(std::move(key));
    key.clear();
    return true;
  }
};

// The UTF-16 unit of the \u escape that starts at `at` (a backslash), if it is one.
std::optional<unsigned> escape_unit(std::string_view text, std::size_t at) {
  std::uint8_t unit[2];
  if (at + 6 > text.size() || text[at] != '\\' || text[at + 1] != 'u' || !hex_decode(text.substr(at + 2, 4), unit, 2))
    return std::nullopt;
  return static_cast<unsigned>(unit[0]) << 8 | unit[1];
}

// Whether the parse stopped on a \\u escape of half a surrogate pair: a high half at or just
// before `at` that no low half follows, or a low half with no high half before it. The text
// before `at` is a valid prefix, so every backslash there starts an escape.
bool stopped_on_lone_surrogate(std::string_view text, std::size_t at) {
  for (std::size_t i = 0; i <= at && i < text.size(); ++i) {
    if (text[i] != '\\') continue;
    const auto unit = escape_unit(text, i);
    if (!unit || *unit < 0xD800 || *unit > 0xDFFF) {
      ++i;  // the escaped character
      continue;
    }
    if (*unit <= 0xDBFF) {
      const auto next = escape_unit(text, i + 6);
      if (next && *next >= 0xDC00 && *next <= 0xDFFF) {
        i += 11;  // a whole pair
        continue;
      }
    }
    if (i + 12 >= at) return true;  // at or just before where the parse stopped
    i += 5;
  }
  return false;
}

}  // namespace

JsonErrorPlace json_error_place(std::string_view text, const boost::system::error_code& ec,
                                const json::parse_options& options) {
  json::basic_parser<NullHandler> p(options);
  boost::system::error_code parse_ec;
  std::size_t at = p.write_some(false, text.data(), text.size(), parse_ec);
  if (!parse_ec && !p.done()) at = text.size();
  at = std::min(at, text.size());
  JsonErrorPlace place;
  place.byte = at;
  for (std::size_t i = 0; i < at; ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if ((c & 0xC0) == 0x80) continue;  // a continuation byte: part of the code point before
    ++place.chars;
    if (c == '\n') {
      ++place.line;
      place.column = 1;
    } else {
      ++place.column;
    }
  }
  place.reason = stopped_on_lone_surrogate(text, at)
                     ? "a \\u escape holds half of a UTF-16 surrogate pair, which is no character"
                     : ec.message();
  return place;
}

namespace {

std::size_t count_keys(const json::value& v) {
  std::size_t n = 0;
  if (v.is_object()) {
    for (const auto& kv : v.get_object()) n += 1 + count_keys(kv.value());
  } else if (v.is_array()) {
    for (const auto& e : v.get_array()) n += count_keys(e);
  }
  return n;
}

// A decimal number text as sign, significant digits (no leading or trailing zeros) and the
// power of ten of the last one; nullopt when it is no number. Zero has no digits.
struct Decimal {
  bool negative = false;
  std::string digits;
  long long exponent = 0;
};

std::optional<Decimal> read_decimal(std::string_view t) {
  Decimal d;
  std::size_t i = 0;
  if (i < t.size() && (t[i] == '-' || t[i] == '+')) d.negative = t[i++] == '-';
  long long fraction = 0;
  bool any = false, point = false;
  for (; i < t.size(); ++i) {
    const char c = t[i];
    if (c >= '0' && c <= '9') {
      any = true;
      if (!(d.digits.empty() && c == '0')) d.digits += c;
      if (point) ++fraction;
    } else if (c == '.' && !point) {
      point = true;
    } else {
      break;
    }
  }
  if (!any) return std::nullopt;
  long long exp = 0;
  if (i < t.size() && (t[i] == 'e' || t[i] == 'E')) {
    ++i;
    bool exp_negative = false;
    if (i < t.size() && (t[i] == '-' || t[i] == '+')) exp_negative = t[i++] == '-';
    if (i == t.size()) return std::nullopt;
    for (; i < t.size(); ++i) {
      if (t[i] < '0' || t[i] > '9') return std::nullopt;
      if (exp < 1'000'000'000'000LL) exp = exp * 10 + (t[i] - '0');  // past that, any will do
    }
    if (exp_negative) exp = -exp;
  }
  if (i != t.size()) return std::nullopt;
  // Leading zeros were never kept; the fraction's digits (kept or not) move the exponent.
  d.exponent = exp - fraction;
  while (!d.digits.empty() && d.digits.back() == '0') {
    d.digits.pop_back();
    ++d.exponent;
  }
  if (d.digits.empty()) d = Decimal{};
  return d;
}

}  // namespace

bool same_decimal_value(std::string_view a, std::string_view b) {
  const auto x = read_decimal(a);
  const auto y = read_decimal(b);
  return x && y && x->negative == y->negative && x->digits == y->digits && x->exponent == y->exponent;
}

json::parse_options stored_json_options() {
  json::parse_options options;
  options.max_depth = kMaxStoredJsonDepth;
  return options;
}

std::optional<std::string> duplicate_json_key(std::string_view text) {
  json::basic_parser<KeyCheckHandler> p(stored_json_options());
  boost::system::error_code ec;
  p.write_some(false, text.data(), text.size(), ec);
  if (!p.handler().duplicate) return std::nullopt;
  // The scan stops at the first duplicate; it names it only when the whole text is JSON.
  boost::system::error_code whole;
  parse_json(text, whole);
  if (whole) return std::nullopt;
  return std::move(p.handler().duplicate);
}

json::value parse_json(std::string_view text, boost::system::error_code& ec, const json::parse_options& options) {
  return parse_json(text, ec, options, nullptr);
}

json::value parse_json(std::string_view text, boost::system::error_code& ec, const json::parse_options& options,
                       JsonNumberNotes* notes) {
  unsigned char temp[BOOST_JSON_STACK_BUFFER_SIZE];
  json::basic_parser<ExactHandler> p(options, json::storage_ptr(), temp, sizeof temp);
  p.reset();
  p.handler().st.reset(json::storage_ptr());
  ec = {};
  const std::size_t n = p.write_some(false, text.data(), text.size(), ec);
  if (!ec && n < text.size()) ec = json::error::extra_data;
  if (ec) return nullptr;
  if (!p.done()) {
    ec = json::error::incomplete;
    return nullptr;
  }
  json::value v = p.handler().st.release();
  if (notes) {
    notes->nested_big_integers = p.handler().nested_big_integers;
    notes->inexact_fields = std::move(p.handler().inexact_fields);
    notes->big_integer_fields = std::move(p.handler().big_integer_fields);
    notes->keys_read = p.handler().keys_read;
    notes->keys_kept = count_keys(v);
  }
  return v;
}

std::optional<RawArray> raw_array_at(std::string_view text, std::span<const std::string_view> path) {
  if (path.empty()) return std::nullopt;
  auto is_space = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; };
  // The end of the string that starts at `at` (its closing quote's index).
  auto string_end = [&](std::size_t at) {
    for (std::size_t i = at + 1; i < text.size(); ++i) {
      if (text[i] == '\\') ++i;
      else if (text[i] == '"') return i;
    }
    return text.size();
  };
  // depth: containers open at i; level: keys of the path matched so far, so that the next
  // one is looked for among the members of the object open at depth level + 1.
  std::size_t depth = 0, level = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '"') {
      const std::size_t end = string_end(i);
      if (end >= text.size()) return std::nullopt;
      std::size_t next = end + 1;
      while (next < text.size() && is_space(text[next])) ++next;
      const bool named = depth == level + 1 && next < text.size() && text[next] == ':' &&
                         text.substr(i + 1, end - i - 1) == path[level];
      i = end;
      if (!named) continue;
      ++next;
      while (next < text.size() && is_space(text[next])) ++next;
      if (level + 1 < path.size()) {
        // A key on the way: its value must be the object the next key is in.
        if (next >= text.size() || text[next] != '{') return std::nullopt;
        ++level;
        ++depth;
        i = next;
        continue;
      }
      if (next >= text.size() || text[next] != '[') return std::nullopt;
      // The array's elements: split at its own commas (depth 1 inside it).
      RawArray out;
      out.open = next;
      std::size_t inner = 0, start = next + 1;
      bool comma = false;
      auto push = [&](std::size_t stop) {
        std::size_t a = start, b = stop;
        while (a < b && is_space(text[a])) ++a;
        while (b > a && is_space(text[b - 1])) --b;
        if (a < b) out.elements.push_back(text.substr(a, b - a));
        else if (comma || text[stop] == ',') out.empty_element = true;  // "[,]", "[1,,2]", "[1,]": not JSON
      };
      for (std::size_t j = next + 1; j < text.size(); ++j) {
        const char d = text[j];
        if (d == '"') {
          j = string_end(j);
        } else if (d == '{' || d == '[') {
          ++inner;
        } else if (d == '}' || d == ']') {
          if (inner == 0) {
            push(j);
            out.close = j;
            return out;
          }
          --inner;
        } else if (d == ',' && inner == 0) {
          push(j);
          start = j + 1;
          comma = true;
        }
      }
      return std::nullopt;
    }
    if (c == '{' || c == '[') {
      ++depth;
    } else if (c == '}' || c == ']') {
      if (depth == 0) return std::nullopt;
      --depth;
      if (level > 0 && depth < level + 1) return std::nullopt;  // the object the path went into closed
    }
  }
  return std::nullopt;
}

std::optional<std::vector<std::string_view>> raw_array_elements(std::string_view text, std::string_view key) {
  const std::string_view path[] = {key};
  auto found = raw_array_at(text, path);
  if (!found) return std::nullopt;
  return std::move(found->elements);
}

json::value parse_json(std::string_view text) {
  boost::system::error_code ec;
  json::value v = parse_json(text, ec);
  if (ec) throw boost::system::system_error(ec);
  return v;
}

namespace {

// Depth first, in document order; `path` holds the segments down to `v` (keys, positions).
std::optional<double> find_non_finite(const boost::json::value& v, boost::json::array& path) {
  switch (v.kind()) {
    case boost::json::kind::double_:
      if (!std::isfinite(v.get_double())) return v.get_double();
      return std::nullopt;
    case boost::json::kind::object:
      for (const auto& kv : v.get_object()) {
        path.emplace_back(kv.key());
        if (auto found = find_non_finite(kv.value(), path)) return found;
        path.pop_back();
      }
      return std::nullopt;
    case boost::json::kind::array: {
      std::uint64_t i = 0;
      for (const auto& item : v.get_array()) {
        path.emplace_back(i++);
        if (auto found = find_non_finite(item, path)) return found;
        path.pop_back();
      }
      return std::nullopt;
    }
    default:
      return std::nullopt;
  }
}

}  // namespace

std::optional<std::pair<boost::json::array, double>> first_non_finite_loc(const boost::json::value& v) {
  boost::json::array path;
  if (auto found = find_non_finite(v, path)) return std::pair{std::move(path), *found};
  return std::nullopt;
}

std::optional<std::pair<std::string, double>> first_non_finite(const boost::json::value& v, const std::string& path) {
  auto found = first_non_finite_loc(v);
  if (!found) return std::nullopt;
  std::string dotted = path;
  for (const auto& segment : found->first) {
    if (!dotted.empty()) dotted += '.';
    if (segment.is_string()) dotted += segment.get_string();
    else dotted += std::to_string(segment.to_number<std::uint64_t>());
  }
  return std::pair{std::move(dotted), found->second};
}

}  // namespace lpops
