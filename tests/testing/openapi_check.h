// OpenApiCheck: checks an HTTP response against an OpenAPI 3.0 document (the
// subset docs/openapi.json uses: $ref, type, nullable, enum, required,
// properties, additionalProperties: false, items, format date-time/date), so
// the tests fail when the API and its document disagree. Not thread-safe.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

namespace mamori::testing {

class OpenApiCheck {
 public:
  explicit OpenApiCheck(std::string_view document);
  // "" when the response matches the document; otherwise what does not.
  std::string Check(std::string_view method, std::string_view target, int status,
                    std::string_view content_type, std::string_view body) const;
  // How many responses were checked (a test asserts it did check some).
  int checked() const { return checked_; }

 private:
  std::string Schema(const nlohmann::json& schema, const nlohmann::json& value,
                     const std::string& at) const;
  const nlohmann::json* Operation(std::string_view method, std::string_view path) const;
  nlohmann::json doc_;
  mutable int checked_ = 0;
};

}  // namespace mamori::testing
