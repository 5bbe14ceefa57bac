#pragma once
// Where settings come from: a .env file and the process environment (which wins).
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "domain/result.hpp"

namespace lpops::config {

class Environment {
 public:
  // Reads env_file_path if given (it must exist), else ./.env when present, then overlays
  // the process environment.
  static Result<Environment> load(const std::optional<std::string>& env_file_path);
  static Environment from_map(std::map<std::string, std::string> values);
  // Parses .env text ("KEY=VALUE" lines, comments, export, quotes).
  static Result<std::map<std::string, std::string>> parse_dotenv(std::string_view text);

  std::optional<std::string> get(std::string_view name) const;

 private:
  std::map<std::string, std::string, std::less<>> values_;
};

}  // namespace lpops::config
