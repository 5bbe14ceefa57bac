#include "config/environment.hpp"

#include <cctype>
#include <filesystem>
#include <fstream>

extern char** environ;

namespace lpops::config {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

bool valid_name(std::string_view name) {
  if (name.empty() || std::isdigit(static_cast<unsigned char>(name.front()))) return false;
  for (char c : name)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_') return false;
  return true;
}

}  // namespace

Result<std::map<std::string, std::string>> Environment::parse_dotenv(std::string_view text, std::vector<std::string>* notes) {
  auto note = [notes](std::string what) {
    if (notes) notes->push_back(std::move(what));
  };
  std::map<std::string, std::string> out;
  std::size_t line_no = 0;
  // A byte-order mark, as some editors save UTF-8: not part of the first name.
  if (text.starts_with("\xef\xbb\xbf")) text.remove_prefix(3);
  while (!text.empty()) {
    ++line_no;
    std::size_t nl = text.find('\n');
    std::string_view line = trim(text.substr(0, nl));
    text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
    if (line.empty() || line.front() == '#') continue;
    if (line.size() > 7 && line.substr(0, 6) == "export" && (line[6] == ' ' || line[6] == '\t')) line = trim(line.substr(7));
    std::size_t eq = line.find('=');
    const std::string where = "line " + std::to_string(line_no);
    std::string_view name = trim(line.substr(0, std::min(eq, line.size())));
    // A name with a space or a '#' in it is no line the reference's loader reads either.
    if (name.empty() || name.find_first_of(" \t#") != std::string_view::npos) return Error{where + " has an invalid name"};
    // A name alone ("FOO"): the reference's loader gives it no value, so it sets nothing.
    if (eq == std::string_view::npos) {
      note(where + " names " + std::string(name) + " without '=' and a value; it sets nothing");
      continue;
    }
    // A name no setting can have ("PAYMENTS-X", "1B"): read by the reference's loader and
    // matched by none of its settings, so skipped here, and said.
    if (!valid_name(name)) {
      note(where + ": " + std::string(name) + " is no setting's name (letters, digits and _, not first a digit); skipped");
      continue;
    }
    std::string_view raw = trim(line.substr(eq + 1));
    std::string value;
    if (!raw.empty() && (raw.front() == '"' || raw.front() == '\'')) {
      const char quote = raw.front();
      std::size_t i = 1;
      bool closed = false;
      for (; i < raw.size(); ++i) {
        char c = raw[i];
        if (c == quote) {
          closed = true;
          break;
        }
        if (quote == '"' && c == '\\' && i + 1 < raw.size()) {
          char n = raw[++i];
          value += n == 'n' ? '\n' : n == 't' ? '\t' : n;
        } else {
          value += c;
        }
      }
      if (!closed) return Error{"line " + std::to_string(line_no) + " has an unterminated quote"};
      // After the closing quote only a comment may follow: other text would be dropped.
      const std::string_view rest = trim(raw.substr(i + 1));
      if (!rest.empty() && rest.front() != '#')
        return Error{"line " + std::to_string(line_no) + " has text after its closing quote"};
    } else {
      // An inline comment starts at a '#' after a space or a tab.
      std::size_t comment = raw.find(" #");
      comment = std::min(comment, raw.find("\t#"));
      value = std::string(trim(raw.substr(0, comment)));
    }
    out[std::string(name)] = std::move(value);
  }
  return out;
}

Result<Environment> Environment::load(const std::optional<std::string>& env_file_path) {
  Environment env;
  std::string path = env_file_path.value_or(".env");
  if (env_file_path || std::filesystem::exists(path)) {
    std::error_code ec;
    if (std::filesystem::is_directory(path, ec)) return Error{"settings file " + path + " is a directory"};
    std::ifstream in(path, std::ios::binary);
    if (!in) return Error{"cannot read settings file " + path};
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
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

std::vector<std::string> Environment::unasked(std::string_view prefix) const {
  const std::string wanted = upper(prefix);
  std::set<std::string> out;
  for (const Values* values : {&process_, &file_})
    for (const auto& [key, value] : *values)
      if (std::string name = upper(key); name.starts_with(wanted) && !asked_.count(name)) out.insert(std::move(name));
  return {out.begin(), out.end()};
}

}  // namespace lpops::config
