// The network check: parsing of the kernel's route, ARP and carrier files and
// of resolv.conf (crafted text and fake trees in temp dirs), its judgment,
// and the real exchanges: a real dnsmasq on 127.0.0.1 as the resolver, a
// bound UDP port that never answers as a resolver (and gateway) that is
// silent, and 127.0.0.2 as a gateway whose kernel answers "port unreachable".
#include "mamori/host/network_probe.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "mamori/host/network_io.h"
#include "testing/dnsmasq.h"
#include "testing/probe_harness.h"

namespace mamori::host::network {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

// This machine's own tables (a default via 192.0.2.1 on eth0, IPv6 via
// fd00::1, and the kernel's reject route on lo).
constexpr const char* kRoute =
    "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n"
    "eth0\t00000000\t010200C0\t0003\t0\t0\t0\t00000000\t0\t0\t0\n"
    "eth0\t000200C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0\n";
constexpr const char* kRoute6 =
    "fd000000000000000000000000000000 40 00000000000000000000000000000000 00 "
    "00000000000000000000000000000000 00000100 00000001 00000000 00000001     eth0\n"
    "00000000000000000000000000000000 00 00000000000000000000000000000000 00 "
    "fd000000000000000000000000000001 00000400 00000003 00000000 00000003     eth0\n"
    "00000000000000000000000000000000 00 00000000000000000000000000000000 00 "
    "00000000000000000000000000000000 ffffffff 00000001 00000000 00200200       lo\n";

TEST(NetworkState, ParsesTheDefaultRoutes) {
  auto v4 = ParseRoutes4(kRoute);
  ASSERT_EQ(v4.size(), 1u);
  EXPECT_EQ(v4[0].iface, "eth0");
  EXPECT_EQ(v4[0].gateway, "192.0.2.1");
  auto v6 = ParseRoutes6(kRoute6);
  ASSERT_EQ(v6.size(), 1u) << "the reject route on lo is no default";
  EXPECT_EQ(v6[0].gateway, "fd00::1");
  EXPECT_EQ(v6[0].metric, 0x400u);
  EXPECT_TRUE(v6[0].ipv6);
  // Only the network route: no default. A down route (flags 0) is none either.
  EXPECT_TRUE(ParseRoutes4("Iface\tDestination\n"
                           "eth0\t000200C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0\n"
                           "eth0\t00000000\t010200C0\t0002\t0\t0\t0\t00000000\t0\t0\t0\n")
                  .empty());
  // An on-link default (wireguard, ppp) has no gateway; lower metric first.
  auto two = ParseRoutes4(
      "wg0\t00000000\t00000000\t0001\t0\t0\t50\t00000000\t0\t0\t0\n"
      "eth0\t00000000\t0101A8C0\t0003\t0\t0\t100\t00000000\t0\t0\t0\n"
      "eth1\t00000000\t0102A8C0\t0003\t0\t0\t10\t00000000\t0\t0\t0\n");
  ASSERT_EQ(two.size(), 3u);
  EXPECT_EQ(two[0].gateway, "192.168.2.1");
  EXPECT_EQ(two[1].iface, "wg0");
  EXPECT_EQ(two[1].gateway, "");
}

TEST(NetworkState, ArpEntriesAndNameservers) {
  const char* arp =
      "IP address       HW type     Flags       HW address            Mask     Device\n"
      "192.0.2.1        0x1         0x2         02:fc:00:00:00:05     *        eth0\n"
      "192.0.2.9        0x1         0x0         00:00:00:00:00:00     *        eth0\n";
  ASSERT_TRUE(FindArp(arp, "192.0.2.1", "eth0"));
  EXPECT_TRUE(FindArp(arp, "192.0.2.1", "eth0")->complete);
  EXPECT_FALSE(FindArp(arp, "192.0.2.9", "eth0")->complete);
  EXPECT_FALSE(FindArp(arp, "192.0.2.1", "eth1"));
  EXPECT_TRUE(FindArp(arp, "192.0.2.1", ""));
  EXPECT_EQ(ParseNameservers("# x\nsearch lan\nnameserver 10.0.0.53\nnameserver ::1\n"
                             "nameserver 1.1.1.1\nnameserver 8.8.8.8\noptions ndots:1\n"),
            (std::vector<std::string>{"10.0.0.53", "::1", "1.1.1.1"}));
  const std::vector<std::string> ignore{"lo", "veth*", "docker*", "br-*"};
  EXPECT_TRUE(InterfaceSelected("eth0", {}, ignore));
  EXPECT_FALSE(InterfaceSelected("veth12ab", {}, ignore));
  EXPECT_FALSE(InterfaceSelected("br-0a1b", {}, ignore));
  EXPECT_FALSE(InterfaceSelected("wlan0", {"eth*"}, ignore));
}

TEST(NetworkState, FlapsAreCountedWithTheirTimes) {
  FlapTracker t;
  const WallTime t0 = WallTime(std::chrono::seconds(1767225600)) + 13h;  // 13:00 UTC
  t.Observe({{"eth0", 5}, {"eth1", 0}}, t0);                             // since boot: the baseline
  EXPECT_TRUE(t.Within(t0, 1h).empty());
  t.Observe({{"eth0", 8}, {"eth1", 0}}, t0 + 10min);
  t.Observe({{"eth0", 12}, {"eth1", 0}}, t0 + 40min);
  auto f = t.Within(t0 + 40min, 1h);
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].iface, "eth0");
  EXPECT_EQ(f[0].downs, 7);
  Reading r;
  r.routes = ParseRoutes4(kRoute);
  r.flaps = f;
  auto o = Report(r);
  EXPECT_EQ(o.status, CheckStatus::kWarning);
  EXPECT_NE(o.summary.find("eth0 went down 7 times between 13:00 and 13:40 UTC"), std::string::npos)
      << o.summary;
  // Past the window, quiet again; a removed interface is forgotten.
  EXPECT_EQ(t.Within(t0 + 40min + 61min, 1h).size(), 0u);
  t.Observe({{"eth1", 0}}, t0 + 2h);
  t.Observe({{"eth0", 1}, {"eth1", 0}}, t0 + 3h);
  EXPECT_TRUE(t.Within(t0 + 3h, 1h).empty()) << "a new eth0 starts from a baseline";
}

TEST(NetworkState, Judgment) {
  Reading none;
  auto o = Report(none);
  EXPECT_EQ(o.status, CheckStatus::kCritical);
  EXPECT_NE(o.summary.find("no default route"), std::string::npos);

  Reading r;
  r.routes = ParseRoutes4(kRoute);
  r.gateway = GatewayReading{GatewayReading::Verdict::kNoAnswer, "192.0.2.1", "eth0", "ARP failed"};
  r.resolvers = {{"10.0.0.53", false, 0, {}, "no answer within 2s"}};
  o = Report(r);
  EXPECT_EQ(o.status, CheckStatus::kCritical);
  EXPECT_EQ(o.summary.find("gateway 192.0.2.1 (eth0) does not answer: ARP failed"), 0u)
      << o.summary;
  EXPECT_NE(o.summary.find("resolver 10.0.0.53 did not answer"), std::string::npos);

  r.gateway->verdict = GatewayReading::Verdict::kAnswered;
  o = Report(r);
  EXPECT_EQ(o.status, CheckStatus::kWarning) << o.summary;
  r.resolvers = {{"10.0.0.53", true, 3, 2ms, ""}};  // NXDOMAIN is an answer
  o = Report(r);
  EXPECT_EQ(o.status, CheckStatus::kOk) << o.summary;
  r.resolvers = {{"10.0.0.53", true, 5, 2ms, ""}};
  o = Report(r);
  EXPECT_EQ(o.status, CheckStatus::kWarning);
  EXPECT_NE(o.summary.find("resolver 10.0.0.53 answers REFUSED"), std::string::npos) << o.summary;
}

// A fake host: proc/net/{route,ipv6_route,arp}, sys/class/net/*/..., etc/resolv.conf.
class FakeHost {
 public:
  FakeHost() {
    char tmpl[] = "/tmp/mamori-net-XXXXXX";
    root_ = ::mkdtemp(tmpl);
    fs::create_directories(root_ + "/proc/net");
    fs::create_directories(root_ + "/etc");
    Write("proc/net/route", "");
    Write("proc/net/ipv6_route", "");
    Write("proc/net/arp", "IP address       HW type     Flags       HW address   Mask  Device\n");
    Write("etc/resolv.conf", "");
  }
  ~FakeHost() { fs::remove_all(root_); }
  void Write(const std::string& rel, const std::string& text) {
    fs::create_directories(fs::path(root_ + "/" + rel).parent_path());
    std::ofstream(root_ + "/" + rel) << text;
  }
  probes::network::Options Options() const {
    probes::network::Options o;
    o.proc_root = root_ + "/proc";
    o.sys_root = root_ + "/sys";
    o.fs_root = root_;
    return o;
  }

 private:
  std::string root_;
};

// A UDP socket bound on 127.0.0.1 that reads nothing and answers nothing.
class SilentUdp {
 public:
  SilentUdp() {
    fd_ = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    EXPECT_EQ(::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
  }
  ~SilentUdp() { ::close(fd_); }
  uint16_t port() const { return port_; }

 private:
  int fd_ = -1;
  uint16_t port_ = 0;
};

TEST(NetworkProbe, RealResolverAndGatewayOnLoopback) {
  std::string error;
  auto dns = testing::DnsmasqServer::Start({"--address=/localhost/127.0.0.1"}, &error);
  ASSERT_TRUE(dns) << error;
  FakeHost host;
  // Default via 127.0.0.2 on lo: nothing listens on the probe's port there,
  // so the kernel answers for it with "port unreachable".
  host.Write("proc/net/route", "lo\t00000000\t0200007F\t0003\t0\t0\t0\t00000000\t0\t0\t0\n");
  host.Write("etc/resolv.conf", "nameserver " + dns->address() + "\n");
  host.Write("sys/class/net/eth0/carrier_down_count", "2\n");
  host.Write("sys/class/net/veth9/carrier_down_count", "0\n");
  probes::network::NetworkProbe probe(host.Options());
  testing::ProbeHarness h;
  auto o = h.Run(probe, 3s);
  EXPECT_EQ(o.status, CheckStatus::kOk) << o.summary;
  EXPECT_NE(o.summary.find("default route via 127.0.0.2 (lo)"), std::string::npos) << o.summary;
  EXPECT_NE(o.summary.find("gateway answers (port unreachable from it)"), std::string::npos);
  EXPECT_NE(o.summary.find("resolver " + dns->address() + " answers"), std::string::npos);
  EXPECT_NE(dns->Log().find("localhost"), std::string::npos) << "one real query";

  // eth0 loses its carrier twice; veth9 flaps too but is ignored by default.
  host.Write("sys/class/net/eth0/carrier_down_count", "4\n");
  host.Write("sys/class/net/veth9/carrier_down_count", "9\n");
  o = h.Run(probe, 3s);
  EXPECT_EQ(o.status, CheckStatus::kWarning) << o.summary;
  EXPECT_NE(o.summary.find("eth0 went down 2 times between "), std::string::npos) << o.summary;
  EXPECT_EQ(o.summary.find("veth9"), std::string::npos) << o.summary;
}

TEST(NetworkProbe, SilentResolverAndRefusingResolverWithinTheDeadline) {
  std::string error;
  auto dns = testing::DnsmasqServer::Start({}, &error);  // no data: REFUSED
  ASSERT_TRUE(dns) << error;
  SilentUdp silent;
  FakeHost host;
  host.Write("proc/net/route", "wg0\t00000000\t00000000\t0001\t0\t0\t0\t00000000\t0\t0\t0\n");
  const std::string quiet = "127.0.0.1:" + std::to_string(silent.port());
  host.Write("etc/resolv.conf", "nameserver " + quiet + "\nnameserver " + dns->address() + "\n");
  probes::network::NetworkProbe probe(host.Options());
  testing::ProbeHarness h;
  const auto start = std::chrono::steady_clock::now();
  auto o = h.Run(probe, 1500ms);
  const auto took = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(o.status, CheckStatus::kWarning) << o.summary;
  EXPECT_NE(o.summary.find("resolver " + quiet + " did not answer: no answer within"),
            std::string::npos)
      << o.summary;
  EXPECT_NE(o.summary.find("resolver " + dns->address() + " answers REFUSED"), std::string::npos)
      << o.summary;
  EXPECT_NE(o.summary.find("default route on wg0"), std::string::npos) << o.summary;
  // It stops at its own deadline (1.5 s less 20 ms for reporting); the
  // slack is for a loaded machine's scheduling, not for waiting.
  EXPECT_LT(took, 2000ms) << "the probe ends by its own deadline";
  EXPECT_GT(took, 1000ms) << "it waited for the silent one";
}

TEST(NetworkProbe, GatewayWithAnIncompleteArpEntryIsCritical) {
  SilentUdp silent;  // no ICMP error comes back from it
  FakeHost host;
  host.Write("proc/net/route", "eth0\t00000000\t0100007F\t0003\t0\t0\t0\t00000000\t0\t0\t0\n");
  host.Write("proc/net/arp",
             "IP address  HW type  Flags  HW address  Mask  Device\n"
             "127.0.0.1   0x1      0x0    00:00:00:00:00:00  *  eth0\n");
  auto o = host.Options();
  o.gateway_port = silent.port();
  probes::network::NetworkProbe probe(o);
  testing::ProbeHarness h;
  auto obs = h.Run(probe, 1s);
  EXPECT_EQ(obs.status, CheckStatus::kCritical) << obs.summary;
  EXPECT_NE(
      obs.summary.find("gateway 127.0.0.1 (eth0) does not answer: its ARP entry is incomplete"),
      std::string::npos)
      << obs.summary;
  // The same silence with no ARP entry at all (a point-to-point link) is not
  // a verdict.
  host.Write("proc/net/arp", "IP address  HW type  Flags  HW address  Mask  Device\n");
  obs = h.Run(probe, 1s);
  EXPECT_EQ(obs.status, CheckStatus::kOk) << obs.summary;
  EXPECT_NE(obs.summary.find("gateway not verified"), std::string::npos) << obs.summary;
  // No default route at all.
  host.Write("proc/net/route", "");
  obs = h.Run(probe, 1s);
  EXPECT_EQ(obs.status, CheckStatus::kCritical) << obs.summary;
  EXPECT_EQ(obs.summary.find("no default route"), 0u) << obs.summary;
}

TEST(NetworkProbe, Config) {
  testing::ProbeHarness h;
  std::string errors;
  EXPECT_TRUE(
      h.Build("{name: n, type: network, gateway: 192.168.1.1, resolver: [10.0.0.53, "
              "\"127.0.0.1:5353\", \"[::1]:53\"], interfaces: [eth*], ignore: [lo], "
              "flap_window: 30m}",
              &errors))
      << errors;
  EXPECT_FALSE(h.Build("{name: n, type: network, gateway: router.lan}", &errors));
  EXPECT_NE(errors.find("'router.lan' is not an IP address"), std::string::npos) << errors;
  EXPECT_FALSE(h.Build("{name: n, type: network, gateway: \"10.0.0.1:53\"}", &errors));
  EXPECT_FALSE(h.Build("{name: n, type: network, resolver: \"10.0.0.53:x\"}", &errors));
  EXPECT_NE(errors.find("bad port 'x'"), std::string::npos) << errors;
  EXPECT_FALSE(h.Build("{name: n, type: network, flap_window: 0s}", &errors));
}

}  // namespace
}  // namespace mamori::host::network
