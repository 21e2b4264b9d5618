// DnsmasqServer: a real dnsmasq started for one test on 127.0.0.1 in a
// temporary directory, on a port picked free a moment before, with no
// upstream servers and no /etc/hosts: it answers only from the records the
// test gives on its command line (--address=, --host-record=, --cname=).
// Names it has no data for are answered REFUSED.
//
// Ownership: the object owns the process; the destructor stops it (SIGTERM,
// then SIGKILL) and removes the directory. Not thread-safe; one per test.
#pragma once

#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

namespace mamori::testing {

class DnsmasqServer {
 public:
  // `records`: dnsmasq options such as "--address=/test.example/10.1.2.3".
  // Starts dnsmasq and waits until it accepts connections. On failure returns
  // null and puts the reason (with dnsmasq's output) in `error`.
  static std::unique_ptr<DnsmasqServer> Start(const std::vector<std::string>& records,
                                              std::string* error);
  ~DnsmasqServer();

  int port() const { return port_; }
  // "127.0.0.1:PORT", as the `server` key of a dns check takes it.
  std::string address() const;
  // dnsmasq's query log so far (--log-queries), for tests that count queries.
  std::string Log() const;

 private:
  DnsmasqServer() = default;
  std::string dir_;
  int port_ = 0;
  pid_t pid_ = -1;
};

}  // namespace mamori::testing
