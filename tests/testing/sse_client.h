// SseClient: a Server-Sent Events reader for tests: one connection to
// 127.0.0.1:port, one GET, then whatever the server streams, read only when
// the test asks (a client that is never asked is a reader that never reads;
// `receive_buffer` makes its socket buffer small so it falls behind soon).
// Every wait has a deadline. Owns its socket; not thread-safe.
#pragma once

#include <chrono>
#include <map>
#include <string>

namespace mamori::testing {

class SseClient {
 public:
  // `extra_headers`: full lines, each ending in "\r\n". receive_buffer > 0
  // sets SO_RCVBUF before connecting.
  SseClient(int port, const std::string& target, const std::string& extra_headers = "",
            int receive_buffer = 0);
  ~SseClient();
  SseClient(const SseClient&) = delete;
  SseClient& operator=(const SseClient&) = delete;

  bool connected() const { return fd_ >= 0; }
  // Reads until `text` has been received (anywhere since the start) or the
  // deadline passes; true if it was.
  bool WaitFor(const std::string& text, std::chrono::milliseconds deadline);
  // Reads until `text` occurs `times` times in all.
  bool WaitForCount(const std::string& text, size_t times, std::chrono::milliseconds deadline);
  // Reads (and keeps) whatever comes for `time`.
  void ReadFor(std::chrono::milliseconds time);
  // Reads (and keeps) until the server closes or the deadline; true if it closed.
  bool WaitClosed(std::chrono::milliseconds deadline);
  // Without reading anything: whether the server reset or closed the
  // connection (a reader that never reads learns it this way).
  bool PeerGone() const;
  int status() const;  // from the status line; 0 before one came
  size_t Count(const std::string& text) const;
  const std::string& received() const { return received_; }
  void Close();

 private:
  // One poll+recv within `left`; false on EOF or error (then closed_ is set).
  bool ReadSome(std::chrono::milliseconds left);
  int fd_ = -1;
  bool closed_ = false;
  std::string received_;
  // Per text: how often it was found and how far received_ was searched, so
  // counting in a long stream does not search it from the start every time.
  mutable std::map<std::string, std::pair<size_t, size_t>> counted_;
};

}  // namespace mamori::testing
