// NginxServer: a real nginx started for one test on 127.0.0.1 in a temporary
// prefix directory (`nginx -p DIR -g 'daemon off;'`), on a port the kernel
// picked. Optionally serves HTTPS with a freshly made self-signed certificate
// that expires in `cert_days` days.
//
// The server has fixed locations the probe tests rely on:
//   /            200 "hello from nginx"
//   /down        503 "service unavailable"
//   /dberror     200 with WordPress's "Error establishing a database connection"
//   /redirect    302 to /
//   /loop        302 to itself
//   /slow.txt    60 KiB sent at 100 KiB/s (about 0.5 s)
//   /echo-method 200 echoing the method, User-Agent and X-Mamori header
// Ownership: the object owns the process; the destructor stops it (SIGTERM,
// then SIGKILL) and removes the directory. Not thread-safe; one per test.
#pragma once

#include "testing/ports.h"

#include <sys/types.h>

#include <memory>
#include <string>

namespace mamori::testing {

class NginxServer {
 public:
  struct Options {
    bool tls = false;
    int cert_days = 365;
    std::string extra_config;  // inserted into the server block verbatim
  };

  // Starts nginx and waits until it accepts connections. On failure returns
  // null and puts the reason (with nginx's error log) in `error`.
  static std::unique_ptr<NginxServer> Start(const Options& options, std::string* error);
  // Also listening on the Unix socket `socket_path`: a stand-in for a
  // service such as PHP-FPM that owns a socket file.
  static std::unique_ptr<NginxServer> StartWithUnixSocket(const std::string& socket_path,
                                                          std::string* error);
  ~NginxServer();
  // SIGKILL to master and workers: a crash that leaves files (sockets, the
  // pid file) behind. The destructor then has nothing left to stop.
  void Crash();

  int port() const { return port_; }
  // "http(s)://127.0.0.1:PORT" + path.
  std::string Url(const std::string& path = "/") const;
  // The self-signed certificate, usable as a CA file (empty without TLS).
  const std::string& cert_file() const { return cert_file_; }
  const std::string& dir() const { return dir_; }
  // Lines in the access log so far.
  size_t AccessCount() const;

 private:
  NginxServer() = default;
  std::string dir_, cert_file_;
  int port_ = 0;
  bool tls_ = false;
  pid_t pid_ = -1;
};

}  // namespace mamori::testing
