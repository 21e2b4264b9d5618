// FacesConfig: the configuration of mamori's faces: the API's bearer tokens
// (`api: {tokens: [{token | token_file, scope: read | write}]}`) and the
// public status page (`status_page: {title, checks, show_response_times}`).
// Plain values; the readers report every problem at its line and leave the
// default. Tokens are secrets: they are kept in memory only and never logged.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "mamori/check/check_config.h"
#include "mamori/config/node.h"

namespace mamori::faces {

enum class Scope { kRead, kWrite };  // write implies read

struct ApiToken {
  std::string token;
  Scope scope = Scope::kRead;
};

struct StatusPageConfig {
  bool enabled = false;  // set by a `status_page:` section
  std::string title = "Status";
  std::vector<std::string> checks;  // names or tags; only these are ever shown
  bool show_response_times = false;
};

struct FacesConfig {
  std::vector<ApiToken> tokens;
  StatusPageConfig status_page;
};

inline constexpr size_t kMinTokenBytes = 16;
inline constexpr size_t kMaxTokens = 100;

// Reads `tokens:` of the `api:` map; a relative token_file is relative to the
// directory of `config_file`.
void ReadApiTokens(config::ConfigNode& api, const std::string& config_file, FacesConfig& out);
// Reads the top-level `status_page:`; entries naming neither a check nor a
// tag are errors (a typo would silently hide a check).
void ReadStatusPage(config::ConfigNode& top, const std::vector<CheckConfig>& checks,
                    FacesConfig& out);

// Whether a check with this name and tags is on the status page.
bool Listed(const StatusPageConfig& page, std::string_view name,
            const std::vector<std::string>& tags);

// The scope the token grants, compared in constant time against every
// configured token; nullopt when none matches.
std::optional<Scope> TokenScope(const std::vector<ApiToken>& tokens, std::string_view presented);

}  // namespace mamori::faces
