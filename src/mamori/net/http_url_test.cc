// ParseHttpUrl and ResolveLocation: what the native client takes, what it
// leaves to libcurl, and how a redirect's Location becomes the next URL.
#include "mamori/net/http_url.h"

#include <gtest/gtest.h>

namespace mamori {
namespace {

TEST(HttpUrl, ParsesHostPortAndTarget) {
  auto u = ParseHttpUrl("http://127.0.0.1:8080/a/b?x=1#frag");
  ASSERT_TRUE(u);
  EXPECT_EQ(u->host, "127.0.0.1");
  EXPECT_EQ(u->port, 8080);
  EXPECT_EQ(u->target, "/a/b?x=1");
  EXPECT_FALSE(u->ipv6);
  EXPECT_EQ(u->Authority(), "127.0.0.1:8080");

  auto bare = ParseHttpUrl("HTTP://Example.org");
  ASSERT_TRUE(bare);
  EXPECT_EQ(bare->host, "Example.org");
  EXPECT_EQ(bare->port, 80);
  EXPECT_EQ(bare->target, "/");
  EXPECT_EQ(bare->ToString(), "http://Example.org/");
  EXPECT_EQ(ParseHttpUrl("http://h?q=1")->target, "/?q=1");
}

TEST(HttpUrl, ParsesIpv6Literals) {
  auto u = ParseHttpUrl("http://[::1]:8470/x");
  ASSERT_TRUE(u);
  EXPECT_EQ(u->host, "::1");
  EXPECT_TRUE(u->ipv6);
  EXPECT_EQ(u->port, 8470);
  EXPECT_EQ(u->Authority(), "[::1]:8470");
  EXPECT_EQ(ParseHttpUrl("http://[fe80::1]/")->Authority(), "[fe80::1]");
  EXPECT_FALSE(ParseHttpUrl("http://[::1/"));
  EXPECT_FALSE(ParseHttpUrl("http://[not-an-address]/"));
}

// Not errors: the router gives these to libcurl.
TEST(HttpUrl, LeavesWhatItDoesNotHandle) {
  for (const char* url :
       {"https://127.0.0.1/", "ftp://h/", "http://user:pw@h/", "http://h:/", "http://h:0/",
        "http://h:65536/", "http://h:80x/", "http://h%41/", "http://h/a b", "http://\xc3\xa9.org/",
        "http:///x", "http://", "http:/h/", "h/x", ""}) {
    EXPECT_FALSE(ParseHttpUrl(url)) << url;
  }
}

TEST(HttpUrl, ResolvesLocations) {
  const HttpUrl base = *ParseHttpUrl("http://127.0.0.1:81/dir/page?q=1");
  EXPECT_EQ(ResolveLocation(base, "http://other/x"), "http://other/x");
  EXPECT_EQ(ResolveLocation(base, "https://other/x"), "https://other/x");
  EXPECT_EQ(ResolveLocation(base, "//other:82/x"), "http://other:82/x");
  EXPECT_EQ(ResolveLocation(base, "/top"), "http://127.0.0.1:81/top");
  EXPECT_EQ(ResolveLocation(base, "next?a=b"), "http://127.0.0.1:81/dir/next?a=b");
  EXPECT_EQ(ResolveLocation(base, "?z"), "http://127.0.0.1:81/dir/page?z");
  EXPECT_EQ(ResolveLocation(base, "../up/./x"), "http://127.0.0.1:81/up/x");
  EXPECT_EQ(ResolveLocation(base, "../../../x"), "http://127.0.0.1:81/x");
  EXPECT_EQ(ResolveLocation(base, ".."), "http://127.0.0.1:81/");
  EXPECT_EQ(ResolveLocation(base, " /sp#frag "), "http://127.0.0.1:81/sp");
  EXPECT_EQ(ResolveLocation(*ParseHttpUrl("http://[::1]:9/"), "/v6"), "http://[::1]:9/v6");
  EXPECT_FALSE(ResolveLocation(base, ""));
  EXPECT_FALSE(ResolveLocation(base, "/a\x01"));
}

}  // namespace
}  // namespace mamori
