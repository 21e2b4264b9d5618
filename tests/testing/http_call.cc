#include "testing/http_call.h"

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>

#include "testing/loopback_client.h"

namespace mamori::testing {

HttpReply HttpCall(int port, const std::string& method, const std::string& target,
                   const std::string& body, const std::string& extra_headers,
                   std::chrono::milliseconds deadline) {
  // A caller's own Host header (a test of what a browser would send) replaces
  // the default one.
  const bool own_host =
      extra_headers.starts_with("Host:") || extra_headers.find("\r\nHost:") != std::string::npos;
  const std::string request =
      fmt::format("{} {} HTTP/1.1\r\n{}Connection: close\r\n{}Content-Length: {}\r\n\r\n{}", method,
                  target, own_host ? "" : "Host: 127.0.0.1\r\n", extra_headers, body.size(), body);
  HttpReply reply;
  const int fd = OpenFrom("127.0.0.1", port);
  if (fd < 0) return reply;
  Exchange ex = SendAndRead(fd, request, deadline);
  ::close(fd);
  reply.status = ex.status();
  const size_t end = ex.response.find("\r\n\r\n");
  if (end == std::string::npos) return reply;
  size_t pos = ex.response.find("\r\n") + 2;
  while (pos < end) {
    size_t eol = ex.response.find("\r\n", pos);
    std::string line = ex.response.substr(pos, eol - pos);
    if (size_t colon = line.find(':'); colon != std::string::npos) {
      std::string name = line.substr(0, colon);
      std::transform(name.begin(), name.end(), name.begin(), ::tolower);
      reply.headers[name] = line.substr(line.find_first_not_of(' ', colon + 1));
    }
    pos = eol + 2;
  }
  reply.body = ex.response.substr(end + 4);
  return reply;
}

}  // namespace mamori::testing
