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
  EXPECT_EQ(ResolveLocation(base, " /sp#frag "), "http://127.0.0.1:81/sp#frag");
  EXPECT_EQ(ResolveLocation(*ParseHttpUrl("http://[::1]:9/"), "/v6"), "http://[::1]:9/v6");
  EXPECT_FALSE(ResolveLocation(base, ""));
  EXPECT_FALSE(ResolveLocation(base, "/a\x01"));
}

// What libcurl 7.88 reports as CURLINFO_EFFECTIVE_URL for the same input
// (each pair checked with `curl -w '%{url_effective}'`); the native client
// reports the same (native_http_client_test.cc compares the two clients).
TEST(HttpUrl, EffectiveUrlIsWrittenAsLibcurlWritesIt) {
  const std::pair<const char*, const char*> cases[] = {
      {"HTTP://LocalHost:8080", "http://LocalHost:8080/"},
      {"http://127.0.0.1:8080?x=1#frag", "http://127.0.0.1:8080/?x=1#frag"},
      {"http://127.0.0.1:80/x", "http://127.0.0.1:80/x"},
      {"http://127.0.0.1:0080", "http://127.0.0.1:80/"},
      {"http://127.0.0.1/x#", "http://127.0.0.1/x"},
      {"http://h/a/../b/./c?x/../y", "http://h/b/c?x/../y"},
      {"http://h/a/b/..?q", "http://h/a/?q"},
      {"http://h/..", "http://h/"},
      {"http://h//x", "http://h//x"},
      {"http://h/a%2E%2E/b", "http://h/a%2E%2E/b"},
      {"http://[0:0:0:0:0:0:0:1]:9/", "http://[::1]:9/"},
      {"http://[::FFFF:7f00:1]:9/", "http://[::FFFF:7f00:1]:9/"},
  };
  for (const auto& [in, want] : cases) {
    auto u = ParseHttpUrl(in);
    ASSERT_TRUE(u) << in;
    EXPECT_EQ(u->EffectiveUrl(), want) << in;
  }
  EXPECT_EQ(ParseHttpUrl("http://h/a/../b?c")->target, "/b?c");  // what is sent, as curl
  EXPECT_FALSE(ParseHttpUrl("http://h/x#a b"));                  // left to libcurl
}

// As libcurl 7.88 follows such a Location (checked against curl -L on a raw
// server): spaces as %20 in the path and '+' in the query, other bytes above
// 0x7f as %xx, in the fragment too; control bytes are not followed.
TEST(HttpUrl, LocationsWithSpacesAndNonAsciiAreEncoded) {
  const HttpUrl base = *ParseHttpUrl("http://127.0.0.1:81/dir/start");
  EXPECT_EQ(ResolveLocation(base, "/a b/c d?x y&z=1 2"),
            "http://127.0.0.1:81/a%20b/c%20d?x+y&z=1+2");
  EXPECT_EQ(ResolveLocation(base, "/caf\xc3\xa9?q=\xc3\xa9"),
            "http://127.0.0.1:81/caf%c3%a9?q=%c3%a9");
  EXPECT_EQ(ResolveLocation(base, "http://127.0.0.1:82/p q?r s"), "http://127.0.0.1:82/p%20q?r+s");
  EXPECT_EQ(ResolveLocation(base, "next page"), "http://127.0.0.1:81/dir/next%20page");
  EXPECT_EQ(ResolveLocation(base, "/a b/../c"), "http://127.0.0.1:81/c");
  EXPECT_EQ(ResolveLocation(base, "/q?a b?c d"), "http://127.0.0.1:81/q?a+b?c+d");
  EXPECT_EQ(ResolveLocation(base, "/y#f g"), "http://127.0.0.1:81/y#f%20g");
  EXPECT_FALSE(ResolveLocation(base,
                               "/a\x7f"
                               "b"));
  EXPECT_FALSE(ResolveLocation(base, "/a\tb"));
  EXPECT_EQ(LocationRefusal("/a\x7f"
                            "b"),
            "Bad path");
  EXPECT_EQ(LocationRefusal("/q?a\tb"), "Bad query");
  EXPECT_EQ(LocationRefusal("/f?q#a\x01"), "Bad fragment");
  EXPECT_EQ(LocationRefusal(" /a b\t"), "");
  auto next = ParseHttpUrl(*ResolveLocation(base, "/caf\xc3\xa9 x"));
  ASSERT_TRUE(next);
  EXPECT_EQ(next->target, "/caf%c3%a9%20x");
  // A base that wrote its default port keeps it, as curl does.
  EXPECT_EQ(ResolveLocation(*ParseHttpUrl("http://h:80/a"), "b"), "http://h:80/b");
}

}  // namespace
}  // namespace mamori
