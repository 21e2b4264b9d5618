#include "testing/openapi_check.h"

#include <fmt/format.h>

#include <algorithm>
#include <regex>

namespace mamori::testing {
namespace {

std::vector<std::string> Segments(std::string_view path) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < path.size()) {
    if (path[i] == '/') ++i;
    size_t j = path.find('/', i);
    out.emplace_back(path.substr(i, j == std::string_view::npos ? path.size() - i : j - i));
    if (j == std::string_view::npos) break;
    i = j;
  }
  return out;
}

bool TypeMatches(const std::string& type, const nlohmann::json& v) {
  if (type == "string") return v.is_string();
  if (type == "integer") return v.is_number_integer();
  if (type == "number") return v.is_number();
  if (type == "boolean") return v.is_boolean();
  if (type == "object") return v.is_object();
  if (type == "array") return v.is_array();
  return false;
}

}  // namespace

OpenApiCheck::OpenApiCheck(std::string_view document) : doc_(nlohmann::json::parse(document)) {}

const nlohmann::json* OpenApiCheck::Operation(std::string_view method,
                                              std::string_view path) const {
  std::string m(method);
  std::transform(m.begin(), m.end(), m.begin(), ::tolower);
  const auto want = Segments(path);
  const nlohmann::json* best = nullptr;
  int best_params = 1 << 20;
  for (const auto& [tmpl, item] : doc_["paths"].items()) {
    const auto have = Segments(tmpl);
    if (have.size() != want.size() || !item.contains(m)) continue;
    int params = 0;
    bool ok = true;
    for (size_t i = 0; i < have.size() && ok; ++i) {
      if (have[i].starts_with("{"))
        ++params;
      else
        ok = have[i] == want[i];
    }
    if (ok && params < best_params) {
      best = &item[m];
      best_params = params;
    }
  }
  return best;
}

std::string OpenApiCheck::Schema(const nlohmann::json& schema, const nlohmann::json& v,
                                 const std::string& at) const {
  if (schema.contains("$ref")) {
    std::string ref = schema["$ref"];
    const std::string name = ref.substr(ref.rfind('/') + 1);
    return Schema(doc_["components"]["schemas"][name], v, at);
  }
  if (v.is_null()) return schema.value("nullable", false) ? "" : at + ": null is not allowed";
  if (schema.contains("type") && !TypeMatches(schema["type"], v))
    return fmt::format("{}: {} is not of type {}", at, v.dump(), schema["type"].dump());
  if (schema.contains("enum") &&
      std::find(schema["enum"].begin(), schema["enum"].end(), v) == schema["enum"].end())
    return fmt::format("{}: {} is not one of {}", at, v.dump(), schema["enum"].dump());
  if (schema.value("format", "") == "date-time" &&
      !std::regex_match(v.get<std::string>(), std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ)")))
    return fmt::format("{}: {} is not a date-time", at, v.dump());
  if (schema.value("format", "") == "date" &&
      !std::regex_match(v.get<std::string>(), std::regex(R"(\d{4}-\d\d-\d\d)")))
    return fmt::format("{}: {} is not a date", at, v.dump());
  if (v.is_object()) {
    for (const auto& r : schema.value("required", nlohmann::json::array()))
      if (!v.contains(r.get<std::string>()))
        return fmt::format("{}: '{}' is missing", at, r.get<std::string>());
    const auto props = schema.value("properties", nlohmann::json::object());
    for (const auto& [k, child] : v.items()) {
      if (props.contains(k)) {
        if (auto e = Schema(props[k], child, at + "." + k); !e.empty()) return e;
      } else if (schema.contains("additionalProperties") && !schema["additionalProperties"]) {
        return fmt::format("{}: '{}' is not in the document", at, k);
      }
    }
  }
  if (v.is_array() && schema.contains("items"))
    for (size_t i = 0; i < v.size(); ++i)
      if (auto e = Schema(schema["items"], v[i], fmt::format("{}[{}]", at, i)); !e.empty())
        return e;
  return "";
}

std::string OpenApiCheck::Check(std::string_view method, std::string_view target, int status,
                                std::string_view content_type, std::string_view body) const {
  ++checked_;
  const std::string_view path = target.substr(0, target.find('?'));
  const auto where = fmt::format("{} {} -> {}", method, target, status);
  const nlohmann::json* op = Operation(method == "HEAD" ? "GET" : method, path);
  if (!op) return where + ": not in the document";
  const auto& responses = (*op)["responses"];
  const std::string code = std::to_string(status);
  const nlohmann::json* res = responses.contains(code)        ? &responses[code]
                              : responses.contains("default") ? &responses["default"]
                                                              : nullptr;
  if (!res) return where + ": status not in the document";
  const std::string media(content_type.substr(0, content_type.find(';')));
  if (!res->contains("content") || !(*res)["content"].contains(media))
    return fmt::format("{}: content type {} not in the document", where, media);
  if (media != "application/json") return "";
  auto value = nlohmann::json::parse(body, nullptr, false);
  if (value.is_discarded()) return where + ": body is not JSON";
  if (auto e = Schema((*res)["content"][media]["schema"], value, "$"); !e.empty())
    return where + ": " + e;
  return "";
}

}  // namespace mamori::testing
