// Tests for the address parsers and the system lookup (localhost comes from
// /etc/hosts; names under .invalid never exist, RFC 6761).
#include "mamori/probes/net_address.h"

#include <gtest/gtest.h>
#include <sys/socket.h>

namespace mamori::net {
namespace {

std::string Err(std::string_view text) {
  auto r = ParseHostPort(text);
  return r.ok() ? "(ok)" : r.error().message();
}

TEST(NetAddressTest, ParsesHostPortForms) {
  auto v4 = ParseHostPort("127.0.0.1:3306");
  ASSERT_TRUE(v4.ok());
  EXPECT_TRUE(v4->is_ip);
  EXPECT_EQ(v4->ip.to_string(), "127.0.0.1");
  EXPECT_EQ(v4->port, 3306);
  auto v6 = ParseHostPort("[2001:db8::1]:22");
  ASSERT_TRUE(v6.ok());
  EXPECT_TRUE(v6->is_ip && v6->ip.is_v6());
  EXPECT_EQ(v6->host, "2001:db8::1");
  EXPECT_EQ(v6->port, 22);
  auto name = ParseHostPort("db-1.internal.:65535");
  ASSERT_TRUE(name.ok());
  EXPECT_FALSE(name->is_ip);
  EXPECT_EQ(name->host, "db-1.internal.");
  EXPECT_EQ(name->port, 65535);
}

TEST(NetAddressTest, RejectsBadHostPort) {
  EXPECT_EQ(Err(""), "empty address");
  EXPECT_EQ(Err("db"), "'db' has no port");
  EXPECT_EQ(Err("db:"), "missing port after ':'");
  EXPECT_EQ(Err("db:65536"), "port 65536 is out of range 1-65535");
  EXPECT_EQ(Err("db:+80"), "port '+80' is not a number");
  EXPECT_EQ(Err("db:0080x"), "port '0080x' is not a number");
  EXPECT_EQ(Err("db:123456"), "port '123456' is not a number");
  EXPECT_EQ(Err("::1:80"), "'::1:80' looks like an IPv6 address without brackets");
  EXPECT_EQ(Err("[::1]80"), "'[::1]80' has text after ']' that is not ':PORT'");
  EXPECT_EQ(Err("[127.0.0.1]:80"), "'127.0.0.1' is not an IPv6 address");
  EXPECT_EQ(Err("[fe80::1%eth0]:80"), "'fe80::1%eth0' is not an IPv6 address");
  EXPECT_EQ(Err("999.1.1.1:80"), "'999.1.1.1' is not a valid IPv4 address");
  EXPECT_EQ(Err("a b:80"), "host name 'a b' contains ' '");
  EXPECT_EQ(Err(std::string("a\x01:80")), "host name contains the byte 0x01");
  EXPECT_EQ(Err(std::string(64, 'a') + ":80"),
            "host name '" + std::string(64, 'a') + "' has an empty or over-long (>63) label");
  EXPECT_EQ(Err("x-.example:80"), "host name 'x-.example' has a label starting or ending with '-'");
}

TEST(NetAddressTest, HostNameLengthLimit) {
  std::string name;
  while (name.size() < 250) name += "abcdefghi.";
  name += "ab";  // 252 characters
  EXPECT_TRUE(ValidateHostName(name).ok());
  EXPECT_TRUE(ValidateHostName(name + "c").ok());  // 253
  EXPECT_FALSE(ValidateHostName(name + "cd").ok());
  EXPECT_TRUE(ValidateHostName(name + "c.").ok());  // the trailing dot does not count
}

TEST(NetAddressTest, ParsesServerAddress) {
  auto bare = ParseIpPort("192.0.2.53", 53);
  ASSERT_TRUE(bare.ok());
  EXPECT_EQ(bare->port, 53);
  auto bare6 = ParseIpPort("::1", 53);
  ASSERT_TRUE(bare6.ok());
  EXPECT_TRUE(bare6->ip.is_v6());
  auto with_port = ParseIpPort("[::1]:5353", 53);
  ASSERT_TRUE(with_port.ok());
  EXPECT_EQ(with_port->port, 5353);
  EXPECT_EQ(FormatEndpoint(with_port->ip, with_port->port), "[::1]:5353");
  EXPECT_EQ(ParseIpPort("ns1.example", 53).error().message(), "'ns1.example' is not an IP address");
  EXPECT_EQ(ParseIpPort("ns1.example:53", 53).error().message(),
            "'ns1.example' is a host name, not an IP address");
}

TEST(NetAddressTest, LooksUpLocalhostAndFailsForInvalidNames) {
  auto r = LookupHost("localhost", AF_INET);
  ASSERT_TRUE(r.ok()) << r.error().message();
  ASSERT_FALSE(r->empty());
  EXPECT_EQ((*r)[0].to_string(), "127.0.0.1");
  auto bad = LookupHost("no-such-host.invalid", AF_UNSPEC);
  ASSERT_FALSE(bad.ok());
  EXPECT_FALSE(bad.error().message().empty());
}

}  // namespace
}  // namespace mamori::net
