#include "config/environment.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>

#include "domain/python_text.hpp"

extern char** environ;

namespace lpops::config {
namespace {

bool valid_name(std::string_view name) {
  if (name.empty() || std::isdigit(static_cast<unsigned char>(name.front()))) return false;
  for (char c : name)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_') return false;
  return true;
}

bool blank(char c) { return c == ' ' || c == '\t'; }
bool space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

// A quoted value from its opening quote at text[at] (python-dotenv's '((?:\\'|[^'])*)'): a
// quote preceded by a backslash is part of the value, the first other one closes it; with none,
// the last escaped one closes it (as the expression's backtracking finds). The text between, or
// nullopt when nothing closes it; `end` is just past the closing quote.
std::optional<std::string_view> quoted_span(std::string_view text, std::size_t at, std::size_t& end) {
  const char quote = text[at];
  std::optional<std::size_t> last_escaped;
  for (std::size_t i = at + 1; i < text.size(); ++i) {
    if (text[i] != quote) continue;
    if (text[i - 1] == '\\' && i - 1 > at) {
      last_escaped = i;
      continue;
    }
    end = i + 1;
    return text.substr(at + 1, i - at - 1);
  }
  if (!last_escaped) return std::nullopt;
  end = *last_escaped + 1;
  return text.substr(at + 1, *last_escaped - at - 1);
}

// The escapes the reference's loader decodes: in double quotes \\ \' \" \a \b \f \n \r \t \v,
// in single quotes \\ and \'; any other backslash stays as it is.
std::string decode_escapes(std::string_view raw, bool double_quoted) {
  std::string out;
  out.reserve(raw.size());
  for (std::size_t i = 0; i < raw.size(); ++i) {
    if (raw[i] != '\\' || i + 1 == raw.size()) {
      out += raw[i];
      continue;
    }
    const char n = raw[i + 1];
    char decoded = 0;
    if (n == '\\' || n == '\'') decoded = n;
    else if (double_quoted) {
      switch (n) {
        case '"': decoded = '"'; break;
        case 'a': decoded = '\a'; break;
        case 'b': decoded = '\b'; break;
        case 'f': decoded = '\f'; break;
        case 'n': decoded = '\n'; break;
        case 'r': decoded = '\r'; break;
        case 't': decoded = '\t'; break;
        case 'v': decoded = '\v'; break;
        default: break;
      }
    }
    if (!decoded) {
      out += '\\';
      continue;
    }
    out += decoded;
    ++i;
  }
  return out;
}

// ${NAME} and ${NAME:-default} (not $NAME), as the reference's loader expands them: from the
// file's own earlier lines first, then the process environment; unset and no default: empty.
std::string interpolate(std::string_view value, const std::map<std::string, std::optional<std::string>>& earlier) {
  std::string out;
  std::size_t i = 0;
  while (i < value.size()) {
    const std::size_t open = value.find("${", i);
    const std::size_t close = open == std::string_view::npos ? open : value.find('}', open + 2);
    if (close == std::string_view::npos) {
      out += value.substr(i);
      break;
    }
    out += value.substr(i, open - i);
    const std::string_view inner = value.substr(open + 2, close - open - 2);
    const std::size_t colon = inner.find(':');
    std::string_view name = inner.substr(0, colon);
    std::optional<std::string_view> fallback;
    if (colon != std::string_view::npos) {
      if (!inner.substr(colon).starts_with(":-")) {  // no expression here: "$" kept, the search goes on after it
        out += '$';
        i = open + 1;
        continue;
      }
      fallback = inner.substr(colon + 2);
    }
    const std::string key(name);
    if (auto it = earlier.find(key); it != earlier.end()) {
      if (it->second) out += *it->second;
    } else if (const char* env = std::getenv(key.c_str())) {
      out += env;
    } else if (fallback) {
      out += *fallback;
    }
    i = close + 1;
  }
  return out;
}

}  // namespace

Result<std::map<std::string, std::string>> Environment::parse_dotenv(std::string_view text, std::vector<std::string>* notes) {
  auto note = [notes](std::string what) {
    if (notes) notes->push_back(std::move(what));
  };
  // A byte-order mark, as some editors save UTF-8: not part of the first name.
  if (text.starts_with("\xef\xbb\xbf")) text.remove_prefix(3);
  // The reference's loader (python-dotenv) reads statements, not lines: a quoted value may
  // span lines. Its grammar is followed here; where it skips a statement it cannot read, start-up
  // stops instead (docs/configuration.md).
  std::size_t pos = 0, line_no = 1;
  auto advance_to = [&](std::size_t to) {
    for (; pos < to; ++pos)
      if (text[pos] == '\n' || (text[pos] == '\r' && (pos + 1 == text.size() || text[pos + 1] != '\n'))) ++line_no;
  };
  auto at = [&](std::size_t i) { return i < text.size() ? text[i] : '\0'; };
  // Where the line that `i` is on ends (its '\n' or '\r', or the end of the text).
  auto line_end = [&](std::size_t i) {
    while (i < text.size() && text[i] != '\n' && text[i] != '\r') ++i;
    return i;
  };
  auto skip_blanks = [&] {
    std::size_t i = pos;
    while (blank(at(i))) ++i;
    advance_to(i);
  };
  std::map<std::string, std::optional<std::string>> values;  // in the file, for ${...}
  std::map<std::string, std::string> out;
  while (true) {
    {
      std::size_t i = pos;
      while (i < text.size() && space(text[i])) ++i;
      advance_to(i);
    }
    if (pos >= text.size()) break;
    const std::string where = "line " + std::to_string(line_no);
    if (text.substr(pos).starts_with("export") && blank(at(pos + 6))) {
      advance_to(pos + 6);
      skip_blanks();
    }
    if (at(pos) == '#') {  // a comment line
      advance_to(line_end(pos));
      continue;
    }
    std::string name;
    if (at(pos) == '\'') {
      const std::size_t close = text.find('\'', pos + 1);
      if (close == std::string_view::npos || close == pos + 1) return Error{where + " has an invalid name"};
      name = std::string(text.substr(pos + 1, close - pos - 1));
      advance_to(close + 1);
    } else {
      std::size_t i = pos;
      while (i < text.size() && text[i] != '=' && text[i] != '#' && !space(text[i])) ++i;
      if (i == pos) return Error{where + " has an invalid name"};
      name = std::string(text.substr(pos, i - pos));
      advance_to(i);
    }
    skip_blanks();
    std::optional<std::string> value;
    bool quoted = false;
    if (at(pos) == '=') {
      advance_to(pos + 1);
      skip_blanks();
      const char first = at(pos);
      if (first == '\'' || first == '"') {
        std::size_t end = 0;
        const auto span = quoted_span(text, pos, end);
        if (!span) return Error{where + " has an unterminated quote"};
        value = decode_escapes(*span, first == '"');
        quoted = true;
        advance_to(end);
      } else {
        const std::size_t i = line_end(pos);
        std::string_view raw = text.substr(pos, i - pos);
        // A comment starts at a '#' after whitespace; what is left loses its trailing blanks.
        for (std::size_t k = 1; k < raw.size(); ++k)
          if (raw[k] == '#' && space(raw[k - 1])) {
            raw = raw.substr(0, k);
            break;
          }
        while (!raw.empty() && space(raw.back())) raw.remove_suffix(1);
        value = std::string(raw);
        if (value->starts_with('#')) {
          // A secret's value is never shown, even one that looks like a comment.
          std::string upper = name;
          for (auto& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
          const bool secret = upper.find("TOKEN") != std::string::npos || upper.find("PASSWORD") != std::string::npos ||
                              upper.find("SECRET") != std::string::npos ||
                              (upper.find("KEY") != std::string::npos && !upper.ends_with("_PATH"));
          const std::string shown =
              secret ? "<" + std::to_string(value->size()) + " characters, not shown>" : "\"" + *value + "\"";
          note(where + ": the value of " + name + " starts with '#' and is taken as the value (" + shown +
               "), not as a comment, as the reference's loader reads it; quote it or remove the line if it is meant as "
               "a comment");
        }
        advance_to(i);
      }
    }
    // Then only a comment and the end of the line.
    skip_blanks();
    if (at(pos) == '#') advance_to(line_end(pos));
    if (line_end(pos) != pos) {
      if (quoted) return Error{where + " has text after its closing quote"};
      return Error{where + " has an invalid name"};
    }
    if (value) value = interpolate(*value, values);
    values[name] = value;
    // A name alone ("FOO"): the reference's loader gives it no value (None), which also
    // replaces a value an earlier line of the file gave it: the setting is left unset.
    if (!value) {
      const bool cancels = out.erase(name) > 0;
      note(where + " names " + name + " without '=' and a value; " +
           (cancels ? "it unsets the value an earlier line gave it" : "it sets nothing"));
      continue;
    }
    // A name no setting can have ("PAYMENTS-X", "1B"): read by the reference's loader and
    // matched by none of its settings, so skipped here, and said.
    if (!valid_name(name)) {
      note(where + ": " + name + " is no setting's name (letters, digits and _, not first a digit); skipped");
      continue;
    }
    out[name] = std::move(*value);
  }
  return out;
}

Result<Environment> Environment::load(const std::optional<std::string>& env_file_path) {
  Environment env;
  std::string path = env_file_path.value_or(".env");
  if (env_file_path || std::filesystem::exists(path)) {
    std::error_code ec;
    if (std::filesystem::is_directory(path, ec)) return Error{"settings file " + path + " is a directory"};
    // Read with read(2): a stream would report a failure as its own exception text, without the file.
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return Error{"cannot read settings file " + path + ": " + std::strerror(errno)};
    std::string text;
    char buffer[65536];
    while (true) {
      const ssize_t n = ::read(fd, buffer, sizeof buffer);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) {
        const int err = errno;
        ::close(fd);
        return Error{"cannot read settings file " + path + ": " + std::strerror(err)};
      }
      if (n == 0) break;
      text.append(buffer, static_cast<std::size_t>(n));
      if (text.size() > (16u << 20)) {
        ::close(fd);
        return Error{"settings file " + path + " is over 16 MiB: no settings file is that large"};
      }
    }
    ::close(fd);
    // The reference's loader decodes the whole file as UTF-8 and refuses it otherwise, so a
    // file saved in Latin-1 stops start-up even where the bytes are in a comment or in a
    // variable no setting reads; the line is named, its bytes not echoed (it may hold a token).
    // (A newline is never part of a multi-byte character, so the file is UTF-8 when each
    // line is.)
    for (std::size_t start = 0, line = 1;; ++line) {
      const std::size_t end = std::min(text.find('\n', start), text.size());
      if (!is_utf8(std::string_view(text).substr(start, end - start)))
        return Error{"settings file " + path + " is not UTF-8 text (line " + std::to_string(line) + "); save it as UTF-8"};
      if (end == text.size()) break;
      start = end + 1;
    }
    std::vector<std::string> notes;
    auto parsed = parse_dotenv(text, &notes);
    if (!parsed) return Error{path + ": " + parsed.error()};
    for (auto& n : notes) env.notes_.push_back(path + ": " + n);
    for (auto& [k, v] : *parsed) env.file_[k] = v;
    env.file_path_ = std::filesystem::absolute(path, ec).string();
    if (ec) env.file_path_ = path;
  }
  for (char** e = environ; e && *e; ++e) {
    std::string_view kv = *e;
    std::size_t eq = kv.find('=');
    if (eq == std::string_view::npos) continue;
    env.process_[std::string(kv.substr(0, eq))] = std::string(kv.substr(eq + 1));
  }
  return env;
}

Environment Environment::from_map(std::map<std::string, std::string> values) {
  Environment env;
  for (auto& [k, v] : values) env.process_[k] = std::move(v);
  return env;
}

std::optional<std::string> Environment::find(const Values& values, std::string_view name) {
  if (auto it = values.find(name); it != values.end()) return it->second;
  auto same = [name](std::string_view key) {
    if (key.size() != name.size()) return false;
    for (std::size_t i = 0; i < key.size(); ++i)
      if (std::toupper(static_cast<unsigned char>(key[i])) != std::toupper(static_cast<unsigned char>(name[i])))
        return false;
    return true;
  };
  for (const auto& [key, value] : values)
    if (same(key)) return value;
  return std::nullopt;
}

namespace {
std::string upper(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}
}  // namespace

std::optional<std::string> Environment::get(std::string_view name) const {
  asked_.insert(upper(name));
  if (auto v = find(process_, name)) return v;
  return find(file_, name);
}

void Environment::forget(std::string_view name) {
  const std::string wanted = upper(name);
  for (Values* values : {&process_, &file_})
    std::erase_if(*values, [&](const auto& entry) { return upper(entry.first) == wanted; });
}

std::vector<std::string> Environment::unasked(std::string_view prefix) const {
  const std::string wanted = upper(prefix);
  std::set<std::string> out;
  for (const Values* values : {&process_, &file_})
    for (const auto& [key, value] : *values)
      if (std::string name = upper(key); name.starts_with(wanted) && !asked_.count(name)) out.insert(std::move(name));
  return {out.begin(), out.end()};
}

}  // namespace lpops::config
