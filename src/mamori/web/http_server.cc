#include "mamori/web/http_server.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <charconv>
#include <optional>

namespace mamori::web {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using boost::system::error_code;

constexpr auto kWriteTimeout = std::chrono::seconds(10);

struct Shared {
  Limits limits;
  Handler handler;
  std::atomic<size_t> open{0};
};

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, std::shared_ptr<Shared> shared)
      : stream_(std::move(socket)), shared_(std::move(shared)) {
    ++shared_->open;
  }
  ~Session() { --shared_->open; }

  void Begin() { Read(); }

 private:
  void Read() {
    parser_.emplace();
    parser_->header_limit(static_cast<uint32_t>(shared_->limits.max_header_bytes));
    parser_->body_limit(shared_->limits.max_body_bytes);
    stream_.expires_after(shared_->limits.read_timeout);
    http::async_read(stream_, buffer_, *parser_,
                     [self = shared_from_this()](error_code ec, size_t) { self->OnRead(ec); });
  }

  void OnRead(error_code ec) {
    if (ec == http::error::end_of_stream || ec == beast::error::timeout ||
        ec == asio::error::operation_aborted || ec == asio::error::connection_reset ||
        ec == asio::error::eof) {
      Close();
      return;
    }
    if (ec == http::error::body_limit) {
      Write(
          {413,
           "text/plain; charset=utf-8",
           fmt::format("request body too large (limit {} bytes)\n", shared_->limits.max_body_bytes),
           {}},
          true);
      return;
    }
    if (ec == http::error::header_limit) {
      Write({431, "text/plain; charset=utf-8", "request header too large\n", {}}, true);
      return;
    }
    if (ec) {
      if (ec.category() == make_error_code(http::error::bad_method).category())
        Write({400, "text/plain; charset=utf-8", "malformed request\n", {}}, true);
      else
        Close();
      return;
    }
    auto& msg = parser_->get();
    Request req;
    req.method = std::string(msg.method_string());
    req.target = std::string(msg.target());
    req.body = std::move(msg.body());
    error_code pec;
    auto ep = stream_.socket().remote_endpoint(pec);
    if (!pec) req.peer = ep.address();
    if (auto it = msg.find(http::field::user_agent); it != msg.end())
      req.user_agent = std::string(it->value());
    if (auto it = msg.find("X-Api-Key"); it != msg.end()) req.api_key = std::string(it->value());
    if (auto it = msg.find("X-Forwarded-For"); it != msg.end())
      req.forwarded_for = std::string(it->value());
    keep_alive_ = msg.keep_alive();
    head_ = msg.method() == http::verb::head;
    version_ = msg.version();
    // `respond` may run on any thread and at most once; it hops back here.
    auto once = std::make_shared<std::atomic<bool>>(false);
    shared_->handler(std::move(req), [self = shared_from_this(), once](Response r) {
      if (once->exchange(true)) return;
      asio::post(self->stream_.get_executor(),
                 [self, r = std::move(r)]() mutable { self->Write(std::move(r), false); });
    });
  }

  void Write(Response r, bool close) {
    res_ = {};
    res_.version(version_ ? version_ : 11);
    res_.result(static_cast<unsigned>(r.status));
    res_.set(http::field::server, "mamori");
    res_.set(http::field::content_type, r.content_type);
    for (auto& [k, v] : r.headers) res_.set(k, v);
    res_.body() = head_ ? std::string() : std::move(r.body);
    res_.keep_alive(keep_alive_ && !close);
    if (head_) {
      res_.content_length(r.body.size());
    } else {
      res_.prepare_payload();
    }
    stream_.expires_after(kWriteTimeout);
    http::async_write(stream_, res_, [self = shared_from_this(), close](error_code ec, size_t) {
      if (ec || close || !self->res_.keep_alive()) {
        self->Close();
        return;
      }
      self->Read();
    });
  }

  void Close() {
    error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
    stream_.socket().close(ignored);
  }

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  http::response<http::string_body> res_;
  std::shared_ptr<Shared> shared_;
  bool keep_alive_ = false, head_ = false;
  unsigned version_ = 11;
};

class BeastServer final : public HttpServer {
 public:
  BeastServer(asio::io_context& io, std::shared_ptr<Shared> shared)
      : io_(io), acceptor_(asio::make_strand(io)), shared_(std::move(shared)) {}
  ~BeastServer() override { Stop(); }

  Status Listen(const tcp::endpoint& ep, const std::string& text) {
    error_code ec;
    acceptor_.open(ep.protocol(), ec);
    if (!ec) acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec) acceptor_.bind(ep, ec);
    if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
    if (ec) {
      std::string hint;
      if (ec == asio::error::address_in_use)
        hint = "; another program listens there: pick another port in listen:";
      if (ec == asio::error::access_denied)
        hint = "; ports below 1024 need root: pick a port above 1024";
      if (ec == boost::system::errc::address_not_available)
        hint = "; that address is not on this machine";
      return Error(fmt::format("cannot listen on {}: {}{}", text, ec.message(), hint));
    }
    port_ = acceptor_.local_endpoint(ec).port();
    Accept();
    return {};
  }

  uint16_t port() const override { return port_; }
  size_t open_connections() const override { return shared_->open; }

  void Stop() override {
    error_code ignored;
    if (acceptor_.is_open()) acceptor_.close(ignored);
  }

 private:
  void Accept() {
    // Each connection gets its own strand, so the io_context may be run by
    // several threads.
    acceptor_.async_accept(asio::make_strand(io_), [this](error_code ec, tcp::socket socket) {
      if (ec == asio::error::operation_aborted || !acceptor_.is_open()) return;
      if (!ec) {
        if (shared_->open >= shared_->limits.max_connections) {
          error_code ignored;
          socket.close(ignored);  // over the cap: refuse cheaply, keep serving the others
        } else {
          std::make_shared<Session>(std::move(socket), shared_)->Begin();
        }
      } else if (ec == asio::error::no_descriptors) {
        spdlog::warn("http server: out of file descriptors; dropping a connection");
      }
      Accept();
    });
  }

  asio::io_context& io_;
  tcp::acceptor acceptor_;
  std::shared_ptr<Shared> shared_;
  uint16_t port_ = 0;
};

}  // namespace

Result<std::pair<boost::asio::ip::address, uint16_t>> ParseListenAddress(const std::string& text) {
  const std::string hint = "; write host:port, e.g. 127.0.0.1:8470 or [::1]:8470";
  std::string host, port;
  if (!text.empty() && text[0] == '[') {
    auto close = text.find(']');
    if (close == std::string::npos || close + 1 >= text.size() || text[close + 1] != ':')
      return Error(fmt::format("'{}' is not an address{}", text, hint));
    host = text.substr(1, close - 1);
    port = text.substr(close + 2);
  } else {
    auto colon = text.rfind(':');
    if (colon == std::string::npos || text.find(':') != colon)
      return Error(fmt::format("'{}' is not an address{}", text, hint));
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
  }
  error_code ec;
  auto addr = asio::ip::make_address(host == "localhost" ? "127.0.0.1" : host, ec);
  if (ec) return Error(fmt::format("'{}' is not an IP address{}", host, hint));
  unsigned p = 0;
  auto [end, perr] = std::from_chars(port.data(), port.data() + port.size(), p);
  if (perr != std::errc() || end != port.data() + port.size() || port.empty() || p > 65535)
    return Error(fmt::format("'{}' is not a port (0-65535){}", port, hint));
  return std::make_pair(addr, static_cast<uint16_t>(p));
}

Result<std::unique_ptr<HttpServer>> HttpServer::Start(boost::asio::io_context& io,
                                                      const std::string& listen, Limits limits,
                                                      Handler handler) {
  auto parsed = ParseListenAddress(listen);
  if (!parsed.ok()) return parsed.error();
  auto shared = std::make_shared<Shared>();
  shared->limits = limits;
  shared->handler = std::move(handler);
  auto server = std::make_unique<BeastServer>(io, std::move(shared));
  if (Status s = server->Listen(tcp::endpoint(parsed->first, parsed->second), listen); !s.ok())
    return s.error();
  return std::unique_ptr<HttpServer>(std::move(server));
}

}  // namespace mamori::web
