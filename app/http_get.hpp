#pragma once
// A small blocking HTTP(S) GET client for command-line tools (`lpops verify --url`): one
// kept-alive connection, a deadline per request, bounded bodies.
#include <chrono>
#include <memory>
#include <string>

#include "domain/result.hpp"

namespace lpops::app {

class HttpGetter {
 public:
  static Result<std::unique_ptr<HttpGetter>> create(const std::string& base_url);
  ~HttpGetter();
  // GET base path + target; status and body.
  Result<std::pair<int, std::string>> get(const std::string& target);

  struct Impl;

 private:
  explicit HttpGetter(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace lpops::app
