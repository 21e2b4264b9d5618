#include "mamori/faces/faces_config.h"

#include "mamori/util/secret_file.h"

#include <fmt/format.h>
#include <openssl/crypto.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace mamori::faces {
namespace {

void ReadToken(config::ConfigNode& t, const std::string& config_file, FacesConfig& out) {
  ApiToken tok;
  // Every key is read before any early return, so none is reported unknown.
  if (auto scope = t.GetString("scope")) {
    if (*scope == "write")
      tok.scope = Scope::kWrite;
    else if (*scope != "read")
      t.ErrorAt("scope", fmt::format("'{}' is not a scope", *scope), "read or write");
  }
  auto inline_token = t.GetString("token");
  auto file = t.GetString("token_file");
  if (inline_token.has_value() == file.has_value()) {
    t.Error("give exactly one of token or token_file",
            "token_file: /etc/mamori/api-token keeps the secret out of the config");
    return;
  }
  if (file) {
    std::filesystem::path p(*file);
    if (p.is_relative()) p = std::filesystem::path(config_file).parent_path() / p;
    auto text = ReadSecretFile(p.string(), "token_file");
    if (!text.ok()) {
      t.ErrorAt("token_file", text.error().message(), "the file holds the token on one line");
      return;
    }
    tok.token = std::move(*text);
  } else {
    tok.token = *inline_token;
  }
  if (tok.token.size() < kMinTokenBytes) {
    t.ErrorAt(file ? "token_file" : "token", "the token is shorter than 16 characters",
              "use a long random string, e.g. `openssl rand -hex 32`");
    return;
  }
  out.tokens.push_back(std::move(tok));
}

}  // namespace

void ReadApiTokens(config::ConfigNode& api, const std::string& config_file, FacesConfig& out) {
  auto list = api.GetMapList("tokens");
  if (!list) return;
  if (list->size() > kMaxTokens) {
    api.ErrorAt("tokens", fmt::format("more than {} tokens", kMaxTokens),
                "give each client a token, not each request");
    return;
  }
  for (auto& t : *list) ReadToken(t, config_file, out);
}

void ReadStatusPage(config::ConfigNode& top, const std::vector<CheckConfig>& checks,
                    FacesConfig& out) {
  auto page = top.GetMap("status_page");
  if (!page) return;
  out.status_page.enabled = true;
  if (auto v = page->GetString("title")) out.status_page.title = v->substr(0, 200);
  if (auto v = page->GetBool("show_response_times")) out.status_page.show_response_times = *v;
  if (auto v = page->GetStringList("checks")) {
    for (const auto& entry : *v) {
      const bool known = std::any_of(checks.begin(), checks.end(), [&](const CheckConfig& c) {
        return c.name == entry || std::find(c.tags.begin(), c.tags.end(), entry) != c.tags.end();
      });
      if (!known)
        page->ErrorAt("checks", fmt::format("'{}' is neither a check nor a tag", entry),
                      "list check names or tags; only those appear on the page");
      else
        out.status_page.checks.push_back(entry);
    }
  }
}

bool Listed(const StatusPageConfig& page, std::string_view name,
            const std::vector<std::string>& tags) {
  if (!page.enabled) return false;
  for (const auto& entry : page.checks)
    if (entry == name || std::find(tags.begin(), tags.end(), entry) != tags.end()) return true;
  return false;
}

std::optional<Scope> TokenScope(const std::vector<ApiToken>& tokens, std::string_view presented) {
  std::optional<Scope> found;
  // Every token is compared, each in time independent of where it differs,
  // so the answer's timing tells nothing about any token.
  for (const auto& t : tokens) {
    const bool same = t.token.size() == presented.size() &&
                      CRYPTO_memcmp(t.token.data(), presented.data(), presented.size()) == 0;
    if (same && (!found || t.scope == Scope::kWrite)) found = t.scope;
  }
  return found;
}

}  // namespace mamori::faces
