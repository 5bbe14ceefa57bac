#pragma once
// A URL as logs, errors, /readyz and the settings dump show it: scheme, host and port, with
// "/…" when a path or query follows (providers put API keys there), never user:password.
#include <string>
#include <string_view>

namespace lpops {

std::string display_url(std::string_view url);

}  // namespace lpops
