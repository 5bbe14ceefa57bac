#include "storage/tail_line.hpp"

#include <fstream>
#include <string_view>

#include "domain/json_parse.hpp"

namespace lpops::storage {

std::optional<std::uint64_t> last_line_integer(const std::string& path, const char* key) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  in.seekg(0, std::ios::end);
  const auto size = static_cast<std::uint64_t>(in.tellg());
  // The tail, grown until it holds two whole lines (lines are at most a few MiB).
  for (std::uint64_t want = 1 << 16; want <= (std::uint64_t{1} << 27); want *= 2) {
    const std::uint64_t from = size > want ? size - want : 0;
    std::string tail(static_cast<std::size_t>(size - from), '\0');
    in.clear();
    in.seekg(static_cast<std::streamoff>(from));
    if (!in.read(tail.data(), static_cast<std::streamsize>(tail.size()))) return std::nullopt;
    std::size_t end = tail.size();
    for (int line = 0; line < 2; ++line) {
      while (end > 0 && tail[end - 1] == '\n') --end;
      if (end == 0) return std::nullopt;
      const auto nl = tail.rfind('\n', end - 1);
      if (nl == std::string::npos && from > 0) break;  // a longer tail is needed
      const std::size_t begin = nl == std::string::npos ? 0 : nl + 1;
      boost::system::error_code ec;
      const auto doc = parse_json(std::string_view(tail).substr(begin, end - begin), ec);
      const auto* v = !ec && doc.is_object() ? doc.get_object().if_contains(key) : nullptr;
      if (v && v->is_int64() && v->get_int64() >= 1) return static_cast<std::uint64_t>(v->get_int64());
      if (!ec || nl == std::string::npos) return std::nullopt;  // a whole line without it, or no line before
      end = begin;
    }
    if (from == 0) return std::nullopt;
  }
  return std::nullopt;
}

}  // namespace lpops::storage
