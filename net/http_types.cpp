#include "net/http_types.hpp"

#include <strings.h>

namespace lpops::net {

const std::string* Request::header(std::string_view name) const {
  for (const auto& h : headers)
    if (h.name.size() == name.size() && ::strncasecmp(h.name.data(), name.data(), name.size()) == 0) return &h.value;
  return nullptr;
}

void Responder::operator()(Response response) const {
  if (!state_ || state_->done.exchange(true)) return;
  state_->fn(std::move(response));
}

}  // namespace lpops::net
