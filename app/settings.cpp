#include <cstdio>

#include "app/node.hpp"
#include "config/environment.hpp"

namespace lpops::app {

std::optional<config::Settings> load_command_settings(const std::optional<std::string>& env_file, const char* command,
                                                     std::initializer_list<std::string_view> given_on_command_line) {
  auto env = config::Environment::load(env_file);
  if (!env) {
    std::fprintf(stderr, "%s: %s\n", command, env.error().c_str());
    return std::nullopt;
  }
  for (auto name : given_on_command_line)
    if (!name.empty()) env->forget(name);
  for (const auto& n : env->notes()) std::fprintf(stderr, "%s: warning: %s\n", command, n.c_str());
  auto loaded = config::load_settings(*env);
  if (!loaded) {
    std::fprintf(stderr, "%s: invalid settings:\n%s\n", command, loaded.error().c_str());
    return std::nullopt;
  }
  return std::move(loaded).value();
}

}  // namespace lpops::app
