#pragma once
// Small helpers for reading and writing the optional fields of stored JSON records.
#include <boost/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "domain/compact_text.hpp"

namespace lpops {

namespace json = boost::json;

inline json::value opt_value(const std::optional<std::string>& s) {
  return s ? json::value(*s) : json::value(nullptr);
}
inline json::value opt_value(const OptionalText& s) { return s ? json::value(*s) : json::value(nullptr); }

inline std::optional<std::string> get_opt_string(const json::object& o, std::string_view key) {
  auto it = o.find(key);
  if (it == o.end() || !it->value().is_string()) return std::nullopt;
  return std::string(it->value().get_string());
}

inline std::string get_string(const json::object& o, std::string_view key) {
  return get_opt_string(o, key).value_or(std::string{});
}

inline std::optional<std::int64_t> get_opt_int(const json::object& o, std::string_view key) {
  auto it = o.find(key);
  if (it == o.end()) return std::nullopt;
  if (it->value().is_int64()) return it->value().get_int64();
  if (it->value().is_uint64()) return static_cast<std::int64_t>(it->value().get_uint64());
  return std::nullopt;
}

inline bool get_bool(const json::object& o, std::string_view key, bool fallback = false) {
  auto it = o.find(key);
  return it != o.end() && it->value().is_bool() ? it->value().get_bool() : fallback;
}

inline std::optional<double> get_opt_double(const json::object& o, std::string_view key) {
  auto it = o.find(key);
  if (it == o.end()) return std::nullopt;
  if (it->value().is_double()) return it->value().get_double();
  if (it->value().is_int64()) return static_cast<double>(it->value().get_int64());
  if (it->value().is_uint64()) return static_cast<double>(it->value().get_uint64());
  return std::nullopt;
}

}  // namespace lpops
