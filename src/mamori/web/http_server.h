// HttpServer: the daemon's small HTTP/1.1 server (ping API, /ip, JSON API) on
// Boost.Beast, bound to the `listen:` address.
//
// Everything a peer sends is bounded: the request line and headers
// (Limits::max_header_bytes), the body (Limits::max_body_bytes; larger bodies
// get 413 and the connection is closed), the time to send a request
// (Limits::read_timeout; a slow or idle client is disconnected), and the number
// of open connections (Limits::max_connections; beyond it new connections are
// closed at once). Malformed requests get 400 and the connection is closed.
// Nothing a peer sends is thrown as an exception out of the server.
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
#include <string>
#include <utility>
#include <vector>

#include "mamori/util/clock.h"
#include "mamori/util/result.h"

namespace mamori::web {

struct Limits {
  size_t max_header_bytes = 8 * 1024;
  size_t max_body_bytes = 100 * 1024;
  Duration read_timeout = std::chrono::seconds(10);
  size_t max_connections = 1024;
};

struct Request {
  std::string method;  // "GET", "POST", ...
  std::string target;  // path and query, as sent
  std::string body;
  boost::asio::ip::address peer;
  std::string user_agent;
  std::string forwarded_for;  // X-Forwarded-For as sent (trust is the handler's call)
  std::string api_key;        // X-Api-Key as sent
};

struct Response {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
};

using Respond = std::function<void(Response)>;
using Handler = std::function<void(Request, Respond)>;

class HttpServer {
 public:
  // Parses "host:port" ("127.0.0.1:8470", "[::1]:8470"; port 0 = any free
  // port) and starts listening. Errors name the address and the reason
  // (address in use, permission denied, not an address).
  static Result<std::unique_ptr<HttpServer>> Start(boost::asio::io_context& io,
                                                   const std::string& listen, Limits limits,
                                                   Handler handler);
  virtual ~HttpServer() = default;
  virtual uint16_t port() const = 0;
  virtual void Stop() = 0;
  // Connections open now (for tests and stats).
  virtual size_t open_connections() const = 0;
};

// Splits "host:port" / "[v6]:port"; the error says what to write instead.
Result<std::pair<boost::asio::ip::address, uint16_t>> ParseListenAddress(const std::string& text);

}  // namespace mamori::web
