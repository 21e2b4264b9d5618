// The `api:` server limits through the real configuration loader.
#include <gtest/gtest.h>

#include "mamori/daemon/config_file.h"
#include "mamori/web/http_server.h"

namespace mamori::web {
namespace {

using namespace std::chrono_literals;

TEST(HttpServer, ConnectionLimitsAreReadFromApiConfig) {
  ConfigLoad load = LoadConfigText(
      "data_dir: /tmp/x\nchecks: [{name: d, type: disk, path: /}]\napi: {max_connections: 200, "
      "max_connections_per_address: 8, "
      "response_timeout: 3s}\n",
      "mamori.yaml");
  ASSERT_TRUE(load.config) << load.diagnostics.ToString();
  Limits l = ServerLimits(load.config->api);
  EXPECT_EQ(l.max_connections, 200u);
  EXPECT_EQ(l.max_connections_per_address, 8u);
  EXPECT_EQ(l.handler_timeout, Duration(3s));
  // Defaults when absent.
  ConfigLoad plain =
      LoadConfigText("data_dir: /tmp/x\nchecks: [{name: d, type: disk, path: /}]\n", "mamori.yaml");
  ASSERT_TRUE(plain.config) << plain.diagnostics.ToString();
  l = ServerLimits(plain.config->api);
  EXPECT_EQ(l.max_connections, 1024u);
  EXPECT_EQ(l.max_connections_per_address, 64u);
  EXPECT_EQ(l.handler_timeout, Duration(10s));
  // Mistakes are reported at their line with a hint.
  ConfigLoad bad = LoadConfigText(
      "data_dir: /tmp/x\nchecks: [{name: d, type: disk, path: /}]\napi:\n  "
      "max_connections_per_address: 0\n  response_timeout: 1ms\n",
      "mamori.yaml");
  ASSERT_FALSE(bad.config);
  const std::string errors = bad.diagnostics.ToString();
  EXPECT_NE(errors.find("mamori.yaml:4:"), std::string::npos) << errors;
  EXPECT_NE(errors.find("mamori.yaml:5:"), std::string::npos) << errors;
  EXPECT_NE(errors.find("between 100ms and 10m"), std::string::npos) << errors;
}

}  // namespace
}  // namespace mamori::web
