#include "mamori/logs/assistant_config.h"

#include <fstream>
#include <sstream>
#include <variant>

namespace mamori::logs {

void ReadAssistantConfig(config::ConfigNode& a, AssistantConfig* out) {
  if (auto v = a.GetString("url")) {
    if (v->rfind("http://", 0) != 0 && v->rfind("https://", 0) != 0)
      a.ErrorAt("url", "must start with http:// or https://",
                "the chat-completions URL, e.g. http://127.0.0.1:8080/v1/chat/completions");
    else
      out->url = *v;
  }
  if (auto v = a.GetString("model")) out->model = *v;
  if (auto v = a.GetString("api_key_file")) out->api_key_file = *v;
  if (auto v = a.GetDuration("timeout")) {
    if (*v <= Duration::zero() || *v > std::chrono::hours(1))
      a.ErrorAt("timeout", "must be above 0 and at most 1h",
                "a local model on a small CPU may need minutes; 2m is a fair start");
    else
      out->timeout = *v;
  }
  if (auto v = a.GetSize("max_bundle_bytes")) {
    if (*v < 2048 || *v > (4u << 20))
      a.ErrorAt("max_bundle_bytes", "must be between 2KB and 4MB",
                "about 4 bytes per token; 32KB is about 8000 tokens");
    else
      out->max_bundle_bytes = static_cast<size_t>(*v);
  }
  if (auto v = a.GetInt("max_rounds", 1, 20)) out->max_rounds = static_cast<int>(*v);
}

Result<AssistantConfig> LoadAssistantConfig(const std::string& file) {
  std::ifstream in(file, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  if (!in) return Error(file + ": cannot be read");
  auto parsed = config::Yaml::Parse(text.str());
  if (const auto* e = std::get_if<config::YamlError>(&parsed)) {
    config::Diagnostics syntax;
    config::AddYamlError(*e, file, &syntax);
    return Error(syntax.ToString());
  }
  const config::Yaml& root = std::get<config::Yaml>(parsed);
  AssistantConfig out;
  if (!root.IsMap() || !root["assistant"].IsDefined()) return out;
  config::Diagnostics diag;
  config::ConfigNode top(root, "config", file, &diag);
  if (auto a = top.GetMap("assistant")) ReadAssistantConfig(*a, &out);
  if (!diag.empty()) return Error(diag.ToString());
  return out;
}

}  // namespace mamori::logs
