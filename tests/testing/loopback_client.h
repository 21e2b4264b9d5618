// Raw HTTP clients for the fault tests: connections from a chosen loopback
// source address (127.0.0.2 and up stand for "another host"), and one
// request with an overall deadline, so a test can say how long an answer
// took or that none came. No retries, no keep-alive, no parsing beyond the
// status line. Stateless; thread-safe.
#pragma once

#include <chrono>
#include <string>

namespace mamori::testing {

// A non-blocking TCP connection from `from` (an address on lo) to
// 127.0.0.1:port, connect possibly still in progress; -1 on failure. The
// caller owns (closes) the descriptor.
int OpenFrom(const std::string& from, int port);

// Sends `request` from 127.0.0.1 and reads the status line, all within
// `deadline` (connect, send and read count). Returns the status code, or 0
// when no answer came in time or the connection was closed without one.
int Request(int port, const std::string& request, std::chrono::milliseconds deadline);

// What a raw client saw: everything the server sent, and whether it closed.
struct Exchange {
  std::string response;
  bool closed = false;  // the server closed (EOF or reset) before the deadline
  std::chrono::steady_clock::duration took{};
  int status() const;  // from the status line; 0 without one
};

// On `fd` (from OpenFrom): waits for the connect, sends `request` (a failed
// send is no error: the server may have answered and closed already), then
// reads until the server closes or `deadline` passes. Does not close `fd`.
Exchange SendAndRead(int fd, const std::string& request, std::chrono::milliseconds deadline);

// "POST /ping/UUID" with `body`, Connection: close.
std::string PingRequest(const std::string& uuid, const std::string& body);

}  // namespace mamori::testing
