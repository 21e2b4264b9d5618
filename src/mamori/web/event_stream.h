// EventHub and EventStream: Server-Sent Events (text/event-stream) fanned out
// to a bounded number of clients. The hub formats each event once
// ("event: NAME\ndata: ...\n\n") and appends it to every open stream's queue;
// the HTTP server (http_server.h, Response::stream) drains a stream's queue
// onto its connection and sends ": keepalive" comments while nothing happens.
//
// Bounds: at most StreamLimits::max_streams streams at once (Subscribe returns
// null beyond, the caller answers 503); each stream queues at most
// max_queued_bytes not yet handed to its socket. A reader that falls that far
// behind is dropped (its queue is freed, its connection closed); Publish never
// waits for a reader, so a slow client stalls neither the publisher nor the
// other clients.
//
// Ownership: the hub keeps only weak references; a stream lives as long as
// the connection serving it (the server holds it) and counts as open until
// then. Threading: every member is thread-safe. The wake callback a stream is
// given is called from the publishing thread, outside any lock here.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "mamori/util/clock.h"
#include "mamori/util/mutex.h"

namespace mamori::web {

struct StreamLimits {
  size_t max_streams = 32;
  size_t max_queued_bytes = 256 * 1024;  // per stream, not yet written to its socket
  Duration keepalive = std::chrono::seconds(15);
  Duration retry = std::chrono::seconds(5);  // told to clients: reconnect after this
};

class EventStream {
 public:
  enum class State { kOpen, kClosed, kDropped };

  // Moves everything queued into `out` (appended) and says whether more may
  // come: kClosed (the hub closed) and kDropped (too far behind) are final.
  State Take(std::string* out);
  State state() const;
  // Called (from any thread) when something was queued or the stream ended.
  void SetWake(std::function<void()> wake);
  // The stream's first bytes: "retry: MS\n\n".
  std::string Preamble() const;
  const StreamLimits& limits() const { return limits_; }

  explicit EventStream(const StreamLimits& limits) : limits_(limits) {}

 private:
  friend class EventHub;
  // Queues `text`; false if that would pass the bound (the stream is dropped).
  bool Push(std::string_view text);
  void End(State why);
  void Wake();

  const StreamLimits limits_;
  mutable Mutex mu_;
  std::string queued_ GUARDED_BY(mu_);
  State state_ GUARDED_BY(mu_) = State::kOpen;
  std::function<void()> wake_ GUARDED_BY(mu_);
};

class EventHub {
 public:
  explicit EventHub(StreamLimits limits = {}) : limits_(limits) {}

  // A new stream, or null when max_streams are open or the hub is closed.
  std::shared_ptr<EventStream> Subscribe();
  // Sends `event` with `data` (newlines become further data: lines) to every
  // open stream; drops those that are too far behind.
  void Publish(std::string_view event, std::string_view data);
  // Ends every stream (shutdown); Subscribe refuses from now on.
  void Close();
  // Ends every open stream but keeps accepting: clients reconnect (after
  // `retry`) and are authorised again, as when the tokens change.
  void EndAll();
  size_t open() const;
  uint64_t dropped() const;
  const StreamLimits& limits() const { return limits_; }

 private:
  std::vector<std::shared_ptr<EventStream>> Live() const;

  const StreamLimits limits_;
  mutable Mutex mu_;
  mutable std::vector<std::weak_ptr<EventStream>> streams_ GUARDED_BY(mu_);
  bool closed_ GUARDED_BY(mu_) = false;
  uint64_t dropped_ GUARDED_BY(mu_) = 0;
};

// One event in the text/event-stream format.
std::string FormatEvent(std::string_view event, std::string_view data);

}  // namespace mamori::web
