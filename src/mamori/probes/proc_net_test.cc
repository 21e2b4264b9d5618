#include "mamori/probes/proc_net.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

namespace mamori::procnet {
namespace {

// Lines as Linux 6.x prints them (x86-64, little endian).
constexpr std::string_view kTcp =
    "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout "
    "inode\n"
    "   0: 0100007F:0016 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 "
    "1544 1 00000000645b5aa3 100 0 0 10 0\n"
    "   1: 00000000:1538 00000000:0000 0A 00000000:00000000 00:00000000 00000000   105        0 "
    "98765 1 0000000000000000 100 0 0 10 0\n"
    "   2: 0100007F:0016 0100007F:D431 01 00000000:00000000 00:00000000 00000000     0        0 "
    "1600 1 0000000000000000 20 4 30 10 -1\n"
    "   3: garbage line\n"
    "   4: 0100007F:XYZ1 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 "
    "1 1 0 100 0 0 10 0\n";

constexpr std::string_view kTcp6 =
    "  sl  local_address                         remote_address                        st "
    "tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"
    "   0: 00000000000000000000000000000000:0050 00000000000000000000000000000000:0000 0A "
    "00000000:00000000 00:00000000 00000000    33        0 2222 1 0000000000000000 100 0 0 10 0\n"
    "   1: 00000000000000000000000001000000:0277 00000000000000000000000000000000:0000 0A "
    "00000000:00000000 00:00000000 00000000     0        0 3333 1 0000000000000000 100 0 0 10 0\n"
    "   2: 0000000000000000FFFF00000100000A:1F90 00000000000000000000000000000000:0000 0A "
    "00000000:00000000 00:00000000 00000000     0        0 4444 1 0000000000000000 100 0 0 10 0\n";

TEST(ProcNet, ParsesIpv4Table) {
  auto t = ParseTcpTable(kTcp, false);
  ASSERT_EQ(t.entries.size(), 3u);
  EXPECT_EQ(t.malformed_lines, 2u);
  EXPECT_FALSE(t.truncated);
  EXPECT_EQ(t.entries[0].LocalAddress(), "127.0.0.1");
  EXPECT_EQ(t.entries[0].local_port, 22);
  EXPECT_EQ(t.entries[0].state, kTcpListen);
  EXPECT_EQ(t.entries[0].inode, 1544u);
  EXPECT_FALSE(t.entries[0].IsAnyAddress());
  EXPECT_EQ(t.entries[1].LocalAddress(), "0.0.0.0");
  EXPECT_TRUE(t.entries[1].IsAnyAddress());
  EXPECT_EQ(t.entries[1].local_port, 5432);
  EXPECT_EQ(t.entries[1].uid, 105u);
  EXPECT_EQ(t.entries[2].state, kTcpEstablished);
  EXPECT_EQ(t.entries[2].remote_port, 0xD431);
}

TEST(ProcNet, ParsesIpv6Table) {
  auto t = ParseTcpTable(kTcp6, true);
  ASSERT_EQ(t.entries.size(), 3u);
  EXPECT_EQ(t.malformed_lines, 0u);
  EXPECT_EQ(t.entries[0].LocalAddress(), "::");
  EXPECT_TRUE(t.entries[0].IsAnyAddress());
  EXPECT_EQ(t.entries[0].local_port, 80);
  EXPECT_EQ(t.entries[1].LocalAddress(), "::1");
  EXPECT_EQ(t.entries[1].local_port, 631);
  EXPECT_EQ(t.entries[2].LocalAddress(), "::ffff:10.0.0.1");
  EXPECT_TRUE(t.entries[2].IsV4Mapped());
  EXPECT_EQ(t.entries[2].local_port, 8080);
  // The same text read as IPv4 is all malformed (wrong address width).
  EXPECT_EQ(ParseTcpTable(kTcp6, false).entries.size(), 0u);
}

TEST(ProcNet, HostileInputIsBounded) {
  EXPECT_TRUE(ParseTcpTable("", false).entries.empty());
  EXPECT_EQ(ParseTcpTable("\n\n   \n", false).malformed_lines, 0u);
  std::string line(std::string(kTcp.substr(kTcp.find('\n') + 1)).substr(0, 130));
  line = line.substr(0, line.find('\n') + 1);
  std::string many;
  for (int i = 0; i < 50; ++i) many += line;
  auto t = ParseTcpTable(many, false, 10);
  EXPECT_EQ(t.entries.size(), 10u);
  EXPECT_TRUE(t.truncated);
  // Oversized numbers and a huge field are rejected, not wrapped.
  EXPECT_EQ(
      ParseTcpTable("0: 0100007F:10000 00000000:0000 0A 0:0 0:0 0 0 0 1\n", false).malformed_lines,
      1u);
  EXPECT_EQ(ParseTcpTable("0: 0100007F:0016 00000000:0000 0A 0:0 0:0 0 99999999999 0 1\n", false)
                .malformed_lines,
            1u);
  EXPECT_EQ(ParseTcpTable(std::string(1 << 16, 'A'), false).malformed_lines, 1u);
}

// The real kernel table: a listener this test opens must appear with the
// socket's inode, and the fd scan must attribute it to this process.
TEST(ProcNet, FindsOwnListenerInRealProc) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof(sa)), 0);
  ASSERT_EQ(::listen(fd, 4), 0);
  socklen_t len = sizeof(sa);
  ASSERT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&sa), &len), 0);
  const int port = ntohs(sa.sin_port);
  struct stat st {};
  ASSERT_EQ(::fstat(fd, &st), 0);

  auto table = ReadTcpTables("/proc");
  ASSERT_TRUE(table.ok()) << table.error().message();
  const TcpEntry* found = nullptr;
  for (const auto& e : table->entries)
    if (e.inode == st.st_ino) found = &e;
  ASSERT_NE(found, nullptr) << "listener inode " << st.st_ino << " not in /proc/net/tcp";
  EXPECT_EQ(found->local_port, port);
  EXPECT_EQ(found->state, kTcpListen);
  EXPECT_EQ(found->LocalAddress(), "127.0.0.1");
  EXPECT_EQ(found->uid, ::getuid());

  auto owners = MapSocketOwners("/proc");
  auto it = owners.find(st.st_ino);
  ASSERT_NE(it, owners.end());
  EXPECT_EQ(it->second.pid, ::getpid());
  std::ifstream comm("/proc/self/comm");
  std::string self_comm;
  std::getline(comm, self_comm);
  EXPECT_EQ(it->second.comm, self_comm);
  ::close(fd);
}

}  // namespace
}  // namespace mamori::procnet
