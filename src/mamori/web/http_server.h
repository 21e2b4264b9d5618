// HttpServer: the daemon's small HTTP/1.1 server (ping API, /ip, JSON API) on
// Boost.Beast, bound to the `listen:` address.
//
// Everything a peer sends is bounded: the request line and headers
// (Limits::max_header_bytes, 431), the body (read only after the head is
// routed: the Admit function answers unknown routes at once and sets each
// route's body limit, default Limits::max_body_bytes; larger bodies get 413
// and the connection is closed), the time to send a request
// (Limits::read_timeout; a slow or idle client is disconnected), the number of
// open connections in all (Limits::max_connections) and per source address
// (Limits::max_connections_per_address; beyond either, new connections are
// closed at accept). Above 75% of max_connections, connections idle for
// longer than Limits::pressure_read_timeout are closed to make room. A handler
// that has not answered within Limits::handler_timeout gets 503 sent for it.
// Out of file descriptors, accept backs off (50-200 ms) and closes the oldest
// idle connection each time instead of spinning; logged once per episode.
// Malformed requests get 400 and the connection is closed. A response with a
// `stream` (Server-Sent Events) keeps its connection until the stream ends;
// the stream's own bounds (event_stream.h) keep a slow reader from holding
// memory. Nothing a peer sends is thrown as an exception out of the server.
//
// Handlers are asynchronous: the server calls `handler(request, respond)` on
// one of the io_context's threads and the handler calls `respond` exactly
// once, from any thread, possibly later (the ping API answers only after the
// ping is committed to disk). The connection reads nothing more until then.
//
// Ownership: Start() returns the sole owner; the io_context must outlive it.
// Threading: the io_context may be run by several threads; each connection
// has its own strand, so the handler may run concurrently for different
// connections and must be thread-safe. Stop() (or the destructor) closes the
// listener; call it when no thread runs the io_context (after io.stop() and
// joining), or from a single-threaded io_context's own thread.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "mamori/config/node.h"
#include "mamori/util/clock.h"
#include "mamori/util/result.h"
#include "mamori/web/api_config.h"
#include "mamori/web/event_stream.h"

namespace mamori {
namespace config {
class ConfigNode;
}
}  // namespace mamori

namespace mamori::web {

struct Limits {
  size_t max_header_bytes = 8 * 1024;
  size_t max_body_bytes = 100 * 1024;  // for routes the Admit function does not size
  Duration read_timeout = std::chrono::seconds(10);
  size_t max_connections = 1024;
  // One source address never holds more than this many connections; more are
  // closed at accept, so one peer cannot take the room everyone else needs.
  size_t max_connections_per_address = 64;
  // Above 75% of max_connections, connections idle (waiting for a request)
  // longer than this are closed to make room, and new reads wait this long.
  Duration pressure_read_timeout = std::chrono::seconds(1);
  // A handler that has not answered by then gets 503 sent for it (its late
  // answer is dropped), so a stuck dependency never leaves a client hanging.
  Duration handler_timeout = std::chrono::seconds(10);
};

struct Request {
  std::string method;  // "GET", "POST", ...
  std::string target;  // path and query, as sent
  std::string body;
  boost::asio::ip::address peer;
  std::string user_agent;
  std::string forwarded_for;  // X-Forwarded-For as sent (trust is the handler's call)
  std::string api_key;        // X-Api-Key as sent
  std::string authorization;  // Authorization as sent ("Bearer <token>")
  std::string host;           // Host as sent (local_caller.h judges it)
  std::string origin;         // Origin as sent (browsers send it cross-site)
};

struct Response {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
  // Set: a Server-Sent Events stream (event_stream.h) instead of `body`. The
  // head goes out with Content-Type text/event-stream and Connection: close,
  // then the stream's events as they come, ": keepalive" comments while none
  // do; the connection closes when the stream ends (hub closed, reader too far
  // behind), the client goes, or a write takes longer than 10 s.
  std::shared_ptr<EventStream> stream = nullptr;
};

using Respond = std::function<void(Response)>;
using Handler = std::function<void(Request, Respond)>;

// What to do with a request once its head is read, before any body byte is.
struct Admission {
  size_t max_body_bytes = 0;       // read at most this much body; a longer one gets 413
  std::optional<Response> answer;  // set: sent at once, the body is never read
};
// Routes and authenticates a request from its head (`body` is empty). Runs on
// the connection's strand, concurrently for different connections: it must be
// thread-safe and quick.
using Admit = std::function<Admission(const Request& head)>;

class HttpServer {
 public:
  // Parses "host:port" ("127.0.0.1:8470", "[::1]:8470"; port 0 = any free
  // port) and starts listening. Errors name the address and the reason
  // (address in use, permission denied, not an address).
  static Result<std::unique_ptr<HttpServer>> Start(boost::asio::io_context& io,
                                                   const std::string& listen, Limits limits,
                                                   Handler handler);
  // The same, with `admit` deciding each request's body limit (or answering it
  // at once) from its head; null admits everything with Limits::max_body_bytes.
  static Result<std::unique_ptr<HttpServer>> Start(boost::asio::io_context& io,
                                                   const std::string& listen, Limits limits,
                                                   Admit admit, Handler handler);
  virtual ~HttpServer() = default;
  virtual uint16_t port() const = 0;
  virtual void Stop() = 0;
  // Connections open now (for tests and stats).
  virtual size_t open_connections() const = 0;
};

// Reads the server's own keys of `api:` (max_connections,
// max_connections_per_address, response_timeout) into `out`; bad values are
// reported at their line and leave the default.
void ReadServerLimits(config::ConfigNode& api, ApiConfig& out);
// The limits `api:` asks for (the rest at their defaults).
Limits ServerLimits(const ApiConfig& api);

// Splits "host:port" / "[v6]:port"; the error says what to write instead.
Result<std::pair<boost::asio::ip::address, uint16_t>> ParseListenAddress(const std::string& text);

}  // namespace mamori::web
