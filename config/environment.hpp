#pragma once
// Where settings come from: a .env file and the process environment (which wins).
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "domain/result.hpp"

namespace lpops::config {

class Environment {
 public:
  // Reads env_file_path if given (it must exist), else ./.env when present, then overlays
  // the process environment.
  static Result<Environment> load(const std::optional<std::string>& env_file_path);
  static Environment from_map(std::map<std::string, std::string> values);
  // Parses .env text as python-dotenv does ("KEY=VALUE" statements, comments, export, quoted
  // names and values, values over several lines, escapes, ${NAME} expansion). A line the reference's
  // loader reads but that can set no setting (a name alone, a name such as "PAYMENTS-X") is
  // skipped and described in `notes`; a line it could not read either (an unclosed quote,
  // text after a closing quote, a name with a space) is an error.
  static Result<std::map<std::string, std::string>> parse_dotenv(std::string_view text,
                                                                 std::vector<std::string>* notes = nullptr);

  // Names match case-insensitively, as the reference's settings loader matches them
  // (`payments_api_port` sets PAYMENTS_API_PORT). The process environment wins over the file;
  // within one source a name spelt exactly as asked wins over other spellings.
  std::optional<std::string> get(std::string_view name) const;
  // The names starting with `prefix` (in any case) that are set, in either source, but were
  // never asked for with get(): misspelt, or settings of the reference that do not apply.
  // Upper-cased, sorted.
  std::vector<std::string> unasked(std::string_view prefix) const;
  // Forgets `name` (in any spelling, from both sources): for a setting the command line gives,
  // so that a value it overrides is neither used nor checked.
  void forget(std::string_view name);
  // Whether get(name) takes its value from the settings file (the environment does not set it).
  bool from_file(std::string_view name) const { return !find(process_, name) && find(file_, name); }
  // The settings file read (empty: none).
  const std::string& file() const { return file_path_; }
  // Its lines skipped, each as "<file>: line N ...", for a warning.
  const std::vector<std::string>& notes() const { return notes_; }

 private:
  using Values = std::map<std::string, std::string, std::less<>>;
  static std::optional<std::string> find(const Values& values, std::string_view name);
  Values file_;
  Values process_;
  mutable std::set<std::string, std::less<>> asked_;  // upper-cased
  std::string file_path_;
  std::vector<std::string> notes_;
};

}  // namespace lpops::config
