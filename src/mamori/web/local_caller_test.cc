#include "mamori/web/local_caller.h"

#include <gtest/gtest.h>

namespace mamori::web {
namespace {

Request From(const char* peer, const char* host = "", const char* origin = "") {
  Request r;
  r.peer = boost::asio::ip::make_address(peer);
  r.host = host;
  r.origin = origin;
  return r;
}

TEST(LocalCaller, LoopbackWithoutBrowserTracesIsLocal) {
  EXPECT_TRUE(IsLocalCaller(From("127.0.0.1"), "db1"));  // HTTP/1.0, no Host
  EXPECT_TRUE(IsLocalCaller(From("127.0.0.1", "127.0.0.1:8470"), "db1"));
  EXPECT_TRUE(IsLocalCaller(From("::1", "[::1]:8470"), "db1"));
  EXPECT_TRUE(IsLocalCaller(From("127.0.1.1", "db1:8470"), "db1"));  // Debian's own name
  EXPECT_TRUE(IsLocalCaller(From("127.0.0.1", "LOCALHOST.:8470"), "db1"));
  EXPECT_TRUE(IsLocalCaller(From("127.0.0.1", "app.localhost"), "db1"));
  EXPECT_TRUE(IsLocalCaller(From("127.0.0.1", "localhost:8470", "http://localhost:8470"), "db1"));
}

TEST(LocalCaller, OtherPeersAndProxiesAreNot) {
  EXPECT_TRUE(IsLocalCaller(From("127.0.0.2"), "db1"));  // all of 127/8 is loopback
  EXPECT_FALSE(IsLocalCaller(From("192.0.2.7", "127.0.0.1"), "db1"));
  Request proxied = From("127.0.0.1", "status.example.org");
  proxied.forwarded_for = "203.0.113.9";
  EXPECT_FALSE(IsLocalCaller(proxied, "db1"));
}

TEST(LocalCaller, ForeignHostOrOriginIsNot) {
  // DNS rebinding: the page's own name, re-pointed at 127.0.0.1.
  EXPECT_FALSE(IsLocalCaller(From("127.0.0.1", "rebind.example:8470"), "db1"));
  EXPECT_FALSE(IsLocalCaller(From("127.0.0.1", "db1.rebind.example"), "db1"));
  EXPECT_FALSE(IsLocalCaller(From("127.0.0.1", "localhost.example"), "db1"));
  // A cross-site request from a page in a local browser.
  EXPECT_FALSE(IsLocalCaller(From("127.0.0.1", "127.0.0.1:8470", "https://evil.example"), "db1"));
  EXPECT_FALSE(IsLocalCaller(From("127.0.0.1", "127.0.0.1:8470", "null"), "db1"));
  // Another local web app's page (a dev server) is another origin.
  EXPECT_FALSE(IsLocalCaller(From("127.0.0.1", "127.0.0.1:8470", "http://localhost:3000"), "db1"));
  EXPECT_FALSE(IsLocalCaller(From("127.0.0.1", "127.0.0.1:8470", "http://127.0.0.1:3000"), "db1"));
  EXPECT_FALSE(IsLocalCaller(From("127.0.0.1", "", "http://evil.example:8470"), "db1"));
  // No name known: only literals and localhost.
  EXPECT_FALSE(IsLocalCaller(From("127.0.0.1", "db1"), ""));
  EXPECT_FALSE(IsLocalHostName("", "db1"));
}

}  // namespace
}  // namespace mamori::web
