#pragma once
// A small blocking HTTP(S) client for command-line tools (`lpops verify --url`, `lpops
// import`): one kept-alive connection, a deadline per request, bounded bodies.
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "domain/result.hpp"

namespace lpops::app {

class HttpGetter {
 public:
  // `timeout`: for each connect, request and answer (a server that never answers is an error).
  static Result<std::unique_ptr<HttpGetter>> create(const std::string& base_url,
                                                    std::chrono::seconds timeout = std::chrono::seconds(30));
  ~HttpGetter();
  // GET base path + target; status and body.
  Result<std::pair<int, std::string>> get(const std::string& target);
  Result<std::pair<int, std::string>> get_with_headers(const std::string& target,
                                                       const std::vector<std::pair<std::string, std::string>>& headers);
  // POST a JSON body with extra header fields. Sent a second time on a fresh connection when
  // a kept-alive one turns out closed, so only for requests that may be repeated.
  Result<std::pair<int, std::string>> post_json(const std::string& target, const std::string& body,
                                                const std::vector<std::pair<std::string, std::string>>& headers);
  // After post_json calls without an answer: whether any of their requests since the last
  // forget_posts() may have reached the server (false when no connection was ever made for
  // them). A request re-sent after a refused connection may have arrived the first time.
  bool post_may_have_arrived() const;
  // Whether, since the last forget_posts(), a post_json request was written and its answer
  // never read (the connection failed after it): such a request may have been applied even
  // when a later attempt was answered with a refusal.
  bool post_went_unanswered() const;
  void forget_posts();
  // The path a target is sent to: the base URL's path (a root path such as /payments) and it.
  std::string path_of(const std::string& target) const;

  struct Impl;

 private:
  explicit HttpGetter(std::unique_ptr<Impl> impl);
  Result<std::pair<int, std::string>> with_retry(const std::string& what,
                                                 const std::function<std::pair<int, std::string>()>& exchange);
  std::unique_ptr<Impl> impl_;
};

}  // namespace lpops::app
