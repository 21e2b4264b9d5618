// HttpCall: one HTTP/1.1 request to 127.0.0.1:port with Connection: close,
// read within a deadline, and the response split into status, headers and
// body (bodies are read to EOF; no chunked encoding). Stateless; thread-safe.
#pragma once

#include <chrono>
#include <map>
#include <string>

namespace mamori::testing {

struct HttpReply {
  int status = 0;                              // 0: no answer in time
  std::map<std::string, std::string> headers;  // names lower-cased
  std::string body;
  std::string header(const std::string& lower_name) const {
    auto it = headers.find(lower_name);
    return it == headers.end() ? "" : it->second;
  }
};

// `extra_headers`: full lines, each ending in "\r\n".
HttpReply HttpCall(int port, const std::string& method, const std::string& target,
                   const std::string& body = "", const std::string& extra_headers = "",
                   std::chrono::milliseconds deadline = std::chrono::seconds(10));

}  // namespace mamori::testing
