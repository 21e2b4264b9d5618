// proc_net: parser for the kernel's TCP socket tables, /proc/net/tcp and
// /proc/net/tcp6, and the socket-inode -> process map built from
// /proc/<pid>/fd.
//
// The tables are text the kernel writes in a fixed layout; the parser still
// treats them as untrusted input (a fuzz target exercises it): malformed lines
// are counted and skipped, never fatal, and the number of entries is capped.
// Pure functions apart from the file reads; thread-safe.
#pragma once

#include <netinet/in.h>

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "mamori/util/result.h"

namespace mamori::procnet {

// TCP states as numbered by the kernel (include/net/tcp_states.h).
inline constexpr int kTcpListen = 0x0A;
inline constexpr int kTcpEstablished = 0x01;

struct TcpEntry {
  bool ipv6 = false;
  // Network byte order, as in sockaddr: 4 bytes used for IPv4, 16 for IPv6.
  uint8_t local_addr[16] = {};
  uint16_t local_port = 0;  // host order
  uint8_t remote_addr[16] = {};
  uint16_t remote_port = 0;
  int state = 0;
  uint32_t uid = 0;
  uint64_t inode = 0;

  // "127.0.0.1", "::", "::ffff:10.0.0.1"
  std::string LocalAddress() const;
  bool IsAnyAddress() const;  // 0.0.0.0 or ::
  bool IsV4Mapped() const;    // ::ffff:a.b.c.d in a tcp6 table
};

struct TcpTable {
  std::vector<TcpEntry> entries;
  size_t malformed_lines = 0;  // skipped
  bool truncated = false;      // more than max_entries lines
};

// Parses the text of /proc/net/tcp (ipv6=false) or /proc/net/tcp6. The
// header line is recognized and skipped.
TcpTable ParseTcpTable(std::string_view text, bool ipv6, size_t max_entries = 100000);

// Reads and parses <proc_root>/net/tcp and tcp6 (a missing tcp6, on a kernel
// without IPv6, is not an error).
Result<TcpTable> ReadTcpTables(const std::string& proc_root);

struct SocketOwner {
  int pid = 0;
  std::string comm;
};

// Maps socket inodes to the process holding them by reading the
// /proc/<pid>/fd links ("socket:[12345]"). Best effort: processes whose fd
// directory cannot be read (other users' processes when not root) are
// skipped. Reads at most `max_fds` links in total so a host with millions of
// descriptors cannot stall the probe; when an inode is shared (forked
// servers), the lowest pid wins.
std::map<uint64_t, SocketOwner> MapSocketOwners(const std::string& proc_root,
                                                size_t max_fds = 200000);

}  // namespace mamori::procnet
