#include "mamori/faces/faces_config.h"

#include <gtest/gtest.h>

namespace mamori::faces {
namespace {

config::Diagnostics Read(const std::string& yaml, FacesConfig& out) {
  config::Diagnostics diag;
  config::ConfigNode api(std::get<config::Yaml>(config::Yaml::Parse(yaml)), "api", "mamori.yaml",
                         &diag);
  ReadApiTokens(api, "/etc/mamori/mamori.yaml", out);
  api.CheckUnknownKeys();
  return diag;
}

TEST(FacesConfig, EveryBadTokenIsReportedOnceAtItsLine) {
  FacesConfig cfg;
  auto diag = Read(
      "tokens:\n"
      "  - {token: short, scope: read}\n"
      "  - {token: 0123456789abcdef0123, scope: admin}\n"
      "  - {token: 0123456789abcdef0123, token_file: x}\n"
      "  - {token: write-0123456789abcdef, scope: write}\n",
      cfg);
  EXPECT_EQ(diag.size(), 3u) << diag.ToString();
  EXPECT_EQ(diag.ToString().find("unknown key"), std::string::npos) << diag.ToString();
  EXPECT_NE(diag.ToString().find("shorter than 16"), std::string::npos);
  EXPECT_NE(diag.ToString().find("'admin' is not a scope"), std::string::npos);
  ASSERT_EQ(cfg.tokens.size(), 2u);  // the scope error keeps the default (read)
  EXPECT_EQ(TokenScope(cfg.tokens, "write-0123456789abcdef"), Scope::kWrite);
  EXPECT_EQ(TokenScope(cfg.tokens, "0123456789abcdef0123"), Scope::kRead);
  EXPECT_FALSE(TokenScope(cfg.tokens, "0123456789abcdef012").has_value());
  EXPECT_FALSE(TokenScope(cfg.tokens, "").has_value());
}

}  // namespace
}  // namespace mamori::faces
