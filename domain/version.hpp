#pragma once
// The node's version, as /openapi.json, /metrics (lpops_build_info) and `lpops --version`
// report it.
namespace lpops {

inline constexpr const char* kVersion = "0.1.0";

}  // namespace lpops
