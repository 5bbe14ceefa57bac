#pragma once
// Compares a real answer with the schema /openapi.json gives for it.
#include <boost/json.hpp>
#include <string>

namespace lpops::testing {

// The fields an answer has that its schema does not describe, and "(required) <name>" for each
// field the schema requires that the answer lacks; "" when they agree.
inline std::string schema_mismatch(const boost::json::value& answer, const boost::json::value& schema) {
  std::string out;
  const auto& properties = schema.at("properties").as_object();
  for (const auto& kv : answer.as_object())
    if (!properties.contains(kv.key())) out += std::string(kv.key()) + " ";
  if (const auto* required = schema.as_object().if_contains("required"))
    for (const auto& name : required->as_array())
      if (!answer.as_object().contains(name.as_string())) out += "(required) " + std::string(name.as_string()) + " ";
  return out;
}

// The schema of a route's 200 answer, with a $ref to components/schemas followed.
inline const boost::json::value& answer_schema(const boost::json::value& doc, const std::string& path, const std::string& method) {
  const auto& schema = doc.at("paths").at(path).at(method).at("responses").at("200").at("content").at("application/json").at("schema");
  if (const auto* ref = schema.as_object().if_contains("$ref")) {
    const std::string name(ref->as_string());
    return doc.at("components").at("schemas").at(name.substr(name.rfind('/') + 1));
  }
  return schema;
}

}  // namespace lpops::testing
