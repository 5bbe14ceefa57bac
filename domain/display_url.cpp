#include "domain/display_url.hpp"

#include <boost/url/parse.hpp>

namespace lpops {

std::string display_url(std::string_view url) {
  auto parsed = boost::urls::parse_uri(url);
  if (!parsed) return "<not a URL>";
  const bool more = (!parsed->encoded_path().empty() && parsed->encoded_path() != "/") || parsed->has_query();
  return std::string(parsed->scheme()) + "://" + std::string(parsed->encoded_host_and_port()) + (more ? "/…" : "");
}

}  // namespace lpops
