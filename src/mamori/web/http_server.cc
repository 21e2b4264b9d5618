#include "mamori/web/http_server.h"

#include "mamori/config/node.h"
#include "mamori/web/api_config.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <charconv>
#include <limits>
#include <list>
#include <map>
#include <optional>
#include <vector>

#include "mamori/util/mutex.h"

namespace mamori::web {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using boost::system::error_code;

constexpr auto kWriteTimeout = std::chrono::seconds(10);
// SO_SNDBUF of an event stream's socket (the kernel doubles it).
constexpr int kStreamSocketBuffer = 64 * 1024;
// Out of descriptors, accept pauses this long (doubling up to the max) instead
// of failing again at once, which would spin a core.
constexpr auto kMinAcceptBackoff = std::chrono::milliseconds(50);
constexpr auto kMaxAcceptBackoff = std::chrono::milliseconds(200);
// A shortage episode ends with a successful accept this long after the last
// failed one (shedding lets single accepts through in between).
constexpr auto kShortageQuiet = std::chrono::seconds(1);
// Closing more than this many idle connections per accept would make one
// accept pay for the whole backlog; the next accepts take the rest.
constexpr size_t kMaxShedPerAccept = 16;

using SteadyTime = std::chrono::steady_clock::time_point;

class Session;

struct IdleEntry {
  SteadyTime since;
  std::weak_ptr<Session> session;
};

// What the acceptor and every session share. `open` is read without the lock
// (for the cap and stats); `mu` guards the per-address counts, the idle list
// and each session's place in it (Session::idle_), which sessions update from
// their strands and the acceptor from its own.
struct Shared {
  Limits limits;
  Admit admit;
  Handler handler;
  std::atomic<size_t> open{0};

  Mutex mu;
  std::map<asio::ip::address, size_t> per_address GUARDED_BY(mu);
  std::list<IdleEntry> idle GUARDED_BY(mu);  // connections waiting for a request, oldest first

  // Above 75% of the cap idle connections make room for new ones.
  bool UnderPressure() const { return open * 4 > limits.max_connections * 3; }

  // Counts a new connection from `peer`; false if that address has its share.
  bool TakeSlot(const asio::ip::address& peer) {
    MutexLock lock(mu);
    size_t& n = per_address[peer];
    if (n >= limits.max_connections_per_address) {
      if (n == 0) per_address.erase(peer);
      return false;
    }
    ++n;
    return true;
  }
  void ReleaseSlot(const asio::ip::address& peer) {
    MutexLock lock(mu);
    auto it = per_address.find(peer);
    if (it != per_address.end() && --it->second == 0) per_address.erase(it);
  }
};

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, asio::ip::address peer, std::shared_ptr<Shared> shared)
      : stream_(std::move(socket)),
        deadline_timer_(stream_.get_executor()),
        stream_timer_(stream_.get_executor()),
        peer_(std::move(peer)),
        shared_(std::move(shared)) {
    ++shared_->open;
  }
  ~Session() {
    {
      MutexLock lock(shared_->mu);
      if (idle_) shared_->idle.erase(*idle_);
    }
    shared_->ReleaseSlot(peer_);
    --shared_->open;
  }

  void Begin() { ReadHeader(); }

  // Closes up to `max` connections that have waited for a request since
  // before `idle_before`, oldest first (any thread). Returns how many.
  static size_t Shed(Shared& shared, size_t max, SteadyTime idle_before) {
    std::vector<std::shared_ptr<Session>> victims;
    {
      MutexLock lock(shared.mu);
      for (auto it = shared.idle.begin(); it != shared.idle.end() && victims.size() < max;) {
        if (it->since >= idle_before) break;
        auto s = it->session.lock();
        if (!s) {
          ++it;  // being destroyed: its destructor removes the entry
          continue;
        }
        // Every session of this server holds the same Shared: its mutex is
        // the one locked here, which the analysis cannot prove.
        s->shared_->mu.AssertHeld();
        s->idle_.reset();
        it = shared.idle.erase(it);
        victims.push_back(std::move(s));
      }
    }
    // Outside the lock: the last reference may go here, and the destructor locks.
    for (auto& s : victims) asio::post(s->stream_.get_executor(), [s] { s->Close(); });
    return victims.size();
  }

 private:
  // A connection counts as idle while it waits for a request's head (also a
  // slow one trickling it in); never while a body is read or a handler runs.
  void MarkIdle(bool idle) {
    MutexLock lock(shared_->mu);
    if (idle && !idle_)
      idle_ = shared_->idle.insert(shared_->idle.end(),
                                   {std::chrono::steady_clock::now(), weak_from_this()});
    if (!idle && idle_) {
      shared_->idle.erase(*idle_);
      idle_.reset();
    }
  }

  void ReadHeader() {
    head_parser_.emplace();
    head_parser_->header_limit(static_cast<uint32_t>(shared_->limits.max_header_bytes));
    // Decided per route once the head is in. Not boost::none: Boost 1.74
    // compares the length against the empty optional and refuses every body.
    head_parser_->body_limit(std::numeric_limits<std::uint64_t>::max());
    body_parser_.reset();
    max_body_ = shared_->limits.max_body_bytes;
    const Limits& l = shared_->limits;
    SetDeadline(Phase::kIo, shared_->UnderPressure()
                                ? std::min(l.read_timeout, l.pressure_read_timeout)
                                : l.read_timeout);
    MarkIdle(true);
    http::async_read_header(
        stream_, buffer_, *head_parser_,
        [self = shared_from_this()](error_code ec, size_t) { self->OnHeader(ec); });
  }

  // Answers (or closes) after a failed read; true if `ec` was an error.
  bool ReadFailed(error_code ec) {
    if (!ec) return false;
    if (ec == http::error::end_of_stream || ec == beast::error::timeout ||
        ec == asio::error::operation_aborted || ec == asio::error::connection_reset ||
        ec == asio::error::eof) {
      Close();
    } else if (ec == http::error::body_limit) {
      WriteTooLarge();
    } else if (ec == http::error::header_limit) {
      Write({431, "text/plain; charset=utf-8", "request header too large\n", {}}, true);
    } else if (ec.category() == make_error_code(http::error::bad_method).category()) {
      Write({400, "text/plain; charset=utf-8", "malformed request\n", {}}, true);
    } else {
      Close();
    }
    return true;
  }

  void WriteTooLarge() {
    Write({413,
           "text/plain; charset=utf-8",
           fmt::format("request body too large (limit {} bytes)\n", max_body_),
           {}},
          true);
  }

  // The head is in: route it, then read at most that route's body.
  void OnHeader(error_code ec) {
    MarkIdle(false);
    if (ReadFailed(ec)) return;
    auto& msg = head_parser_->get();
    Request req;
    req.method = std::string(msg.method_string());
    req.target = std::string(msg.target());
    req.peer = peer_;
    if (auto it = msg.find(http::field::user_agent); it != msg.end())
      req.user_agent = std::string(it->value());
    if (auto it = msg.find("X-Api-Key"); it != msg.end()) req.api_key = std::string(it->value());
    if (auto it = msg.find(http::field::authorization); it != msg.end())
      req.authorization = std::string(it->value());
    if (auto it = msg.find("X-Forwarded-For"); it != msg.end())
      req.forwarded_for = std::string(it->value());
    if (auto it = msg.find(http::field::host); it != msg.end()) req.host = std::string(it->value());
    if (auto it = msg.find(http::field::origin); it != msg.end())
      req.origin = std::string(it->value());
    keep_alive_ = msg.keep_alive();
    head_ = msg.method() == http::verb::head;
    version_ = msg.version();
    const bool has_body = !head_parser_->is_done();
    const bool expects_continue =
        has_body && beast::iequals(msg[http::field::expect], "100-continue");

    Admission admission;
    if (shared_->admit)
      admission = shared_->admit(req);
    else
      admission.max_body_bytes = shared_->limits.max_body_bytes;
    max_body_ = admission.max_body_bytes;
    if (admission.answer) {
      // The body (if any) stays unread, so the connection cannot be reused.
      Write(std::move(*admission.answer), has_body);
      return;
    }
    if (auto len = head_parser_->content_length(); len && *len > max_body_) {
      WriteTooLarge();
      return;
    }
    body_parser_.emplace(std::move(*head_parser_));
    body_parser_->body_limit(max_body_);
    request_ = std::move(req);
    if (!has_body) {
      OnBody({});
      return;
    }
    SetDeadline(Phase::kIo, shared_->limits.read_timeout);
    if (expects_continue) {
      // The client waits for this before sending the body it announced.
      continue_ = {http::status::continue_, version_};
      http::async_write(stream_, continue_, [self = shared_from_this()](error_code ec, size_t) {
        if (ec) return self->Close();
        self->ReadBody();
      });
      return;
    }
    ReadBody();
  }

  void ReadBody() {
    http::async_read(stream_, buffer_, *body_parser_,
                     [self = shared_from_this()](error_code ec, size_t) { self->OnBody(ec); });
  }

  void OnBody(error_code ec) {
    if (ReadFailed(ec)) return;
    request_.body = std::move(body_parser_->get().body());
    Dispatch(std::move(request_));
  }

  // Hands the request to the handler; whatever answers first, the handler
  // or the deadline, is sent, and the other is dropped.
  void Dispatch(Request req) {
    auto once = std::make_shared<std::atomic<bool>>(false);
    answered_ = once;
    SetDeadline(Phase::kHandler, shared_->limits.handler_timeout);
    // `respond` may run on any thread and at most once; it hops back here.
    shared_->handler(std::move(req), [self = shared_from_this(), once](Response r) {
      if (once->exchange(true)) return;
      asio::post(self->stream_.get_executor(),
                 [self, r = std::move(r)]() mutable { self->Write(std::move(r), false); });
    });
  }

  // Each phase of a request has a deadline: reading it and writing the answer
  // (the connection closes) and the handler's answer (503 is sent for it).
  // One wait on deadline_timer_ serves them all. It is moved only when a
  // deadline comes before it; a later one is taken up when the wait fires.
  // So a request on a kept-alive connection costs no timer operation: each
  // takes the reactor's lock, and a new earliest timer a timerfd_settime
  // system call (per-operation timers were the server's largest cost).
  enum class Phase { kNone, kIo, kHandler };
  void SetDeadline(Phase phase, Duration within) {
    phase_ = phase;
    deadline_ = std::chrono::steady_clock::now() + within;
    if (deadline_ < armed_) Arm(deadline_);
  }
  // Nothing in progress has a deadline (an event stream waiting for events).
  void ClearDeadline() { phase_ = Phase::kNone; }

  void Arm(SteadyTime at) {
    armed_ = at;
    const uint64_t gen = ++arm_gen_;
    deadline_timer_.expires_at(at);
    // Weak: a pending wait does not keep a finished connection alive.
    deadline_timer_.async_wait([weak = weak_from_this(), gen](error_code ec) {
      auto self = weak.lock();
      if (!self || gen != self->arm_gen_) return;  // gone, or moved earlier since
      self->armed_ = SteadyTime::max();
      if (!ec) self->OnDeadline();
    });
  }

  void OnDeadline() {
    if (phase_ == Phase::kNone) return;  // the next phase arms it again
    if (std::chrono::steady_clock::now() < deadline_) return Arm(deadline_);
    if (phase_ == Phase::kIo) return Close();
    if (answered_->exchange(true)) return;  // the handler's answer is on its way
    Response r{503, "text/plain; charset=utf-8", "no answer in time; retry\n", {}};
    r.headers.emplace_back("Retry-After", "1");
    Write(std::move(r), false);
  }

  void Write(Response r, bool close) {
    if (r.stream) return StartStream(std::move(r));
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
    SetDeadline(Phase::kIo, kWriteTimeout);
    http::async_write(stream_, res_, [self = shared_from_this(), close](error_code ec, size_t) {
      if (ec || close || !self->res_.keep_alive()) {
        self->Close();
        return;
      }
      self->ReadHeader();
    });
  }

  // Server-Sent Events: the head, then the stream's queue as it fills. One
  // write is in flight at a time; what arrives meanwhile waits in the
  // stream's bounded queue.
  void StartStream(Response r) {
    events_ = std::move(r.stream);
    std::string head = fmt::format(
        "HTTP/1.{} {} OK\r\nServer: mamori\r\nContent-Type: text/event-stream\r\n"
        "Cache-Control: no-store\r\nX-Accel-Buffering: no\r\nConnection: close\r\n",
        version_ == 10 ? 0 : 1, r.status);
    for (auto& [k, v] : r.headers) head += k + ": " + v + "\r\n";
    head += "\r\n";
    if (head_) return WriteStream(std::move(head), true);
    events_->SetWake([weak = weak_from_this()] {
      if (auto self = weak.lock())
        asio::post(self->stream_.get_executor(), [self] { self->Wake(); });
    });
    // The kernel's buffer is part of what a slow reader can hold: fixed small
    // instead of auto-tuned up to megabytes, so the stream's own bound decides.
    error_code ignored;
    stream_.socket().set_option(asio::socket_base::send_buffer_size(kStreamSocketBuffer), ignored);
    WatchPeer();
    WriteStream(head + events_->Preamble(), false);
  }

  // Takes what is queued and writes it, or waits for more (a keepalive
  // comment when nothing came for limits().keepalive).
  void Pump() {
    if (!stream_.socket().is_open()) return;
    std::string chunk;
    const auto state = events_->Take(&chunk);
    if (state == EventStream::State::kDropped) return Drop();
    if (!chunk.empty() || state == EventStream::State::kClosed)
      return WriteStream(std::move(chunk), state != EventStream::State::kOpen);
    stream_timer_.expires_after(events_->limits().keepalive);
    stream_timer_.async_wait([self = shared_from_this()](error_code ec) {
      if (!ec) return self->WriteStream(": keepalive\n\n", false);
      self->Pump();  // woken: something was queued, or the stream ended
    });
  }

  // Something was queued, or the stream ended. A dropped reader is
  // disconnected now, even with a write stuck on its full socket.
  void Wake() {
    if (events_->state() == EventStream::State::kDropped) return Drop();
    stream_timer_.cancel();  // a waiting Pump runs; one after a write takes the queue anyway
  }

  // Reset rather than close: what is still in the kernel's buffer for a
  // reader that stopped reading would otherwise linger there.
  void Drop() {
    error_code ignored;
    stream_.socket().set_option(asio::socket_base::linger(true, 0), ignored);
    Close();
  }

  void WriteStream(std::string text, bool last) {
    out_ = std::move(text);
    SetDeadline(Phase::kIo, kWriteTimeout);
    asio::async_write(stream_, asio::buffer(out_),
                      [self = shared_from_this(), last](error_code ec, size_t) {
                        if (ec || last) return self->Close();
                        self->ClearDeadline();  // waiting for events has no deadline
                        self->Pump();
                      });
  }

  // A streaming client sends nothing more; readable means it closed (or
  // sent something, which is read and ignored), so its slot frees at once.
  void WatchPeer() {
    stream_.socket().async_wait(tcp::socket::wait_read, [self = shared_from_this()](error_code ec) {
      if (ec) return;
      char scratch[512];
      error_code rec;
      self->stream_.socket().non_blocking(true, rec);
      const size_t n = self->stream_.socket().read_some(asio::buffer(scratch), rec);
      if ((rec && rec != asio::error::would_block) || (!rec && n == 0)) return self->Close();
      self->WatchPeer();
    });
  }

  void Close() {
    error_code ignored;
    stream_timer_.cancel();
    deadline_timer_.cancel();
    stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
    stream_.socket().close(ignored);
  }

  beast::tcp_stream stream_;
  asio::steady_timer deadline_timer_;  // see SetDeadline
  Phase phase_ = Phase::kNone;
  SteadyTime deadline_{};
  SteadyTime armed_ = SteadyTime::max();         // when the pending wait fires; max: none pending
  uint64_t arm_gen_ = 0;                         // tells a superseded wait from the current one
  std::shared_ptr<std::atomic<bool>> answered_;  // the running handler's: answered or 503 sent
  asio::steady_timer stream_timer_;  // an event stream's keepalive, cancelled to wake it
  const asio::ip::address peer_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::empty_body>> head_parser_;
  std::optional<http::request_parser<http::string_body>> body_parser_;
  Request request_;
  size_t max_body_ = 0;
  http::response<http::empty_body> continue_;
  http::response<http::string_body> res_;
  std::shared_ptr<EventStream> events_;  // set while serving Server-Sent Events
  std::string out_;                      // the event-stream bytes being written
  std::shared_ptr<Shared> shared_;
  std::optional<std::list<IdleEntry>::iterator> idle_ GUARDED_BY(shared_->mu);
  bool keep_alive_ = false, head_ = false;
  unsigned version_ = 11;
};

bool OutOfDescriptors(const error_code& ec) {
  return ec == asio::error::no_descriptors ||
         ec == boost::system::errc::too_many_files_open_in_system ||
         ec == asio::error::no_buffer_space || ec == asio::error::no_memory;
}

class BeastServer final : public HttpServer {
 public:
  BeastServer(asio::io_context& io, std::shared_ptr<Shared> shared)
      : io_(io),
        acceptor_(asio::make_strand(io)),
        accept_timer_(acceptor_.get_executor()),
        shared_(std::move(shared)) {}
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
    accept_timer_.cancel();
    if (acceptor_.is_open()) acceptor_.close(ignored);
  }

 private:
  void Accept() {
    // Each connection gets its own strand, so the io_context may be run by
    // several threads.
    acceptor_.async_accept(asio::make_strand(io_), [this](error_code ec, tcp::socket socket) {
      if (ec == asio::error::operation_aborted || !acceptor_.is_open()) return;
      if (!ec) {
        NoteAccepted();
        Admit(std::move(socket));
      } else if (OutOfDescriptors(ec)) {
        BackOff(ec);
        return;  // the timer accepts again
      }
      Accept();
    });
  }

  // Decides whether a new connection stays: the cap, the peer's share, and
  // under pressure room made by closing connections idle too long.
  void Admit(tcp::socket socket) {
    error_code ec;
    const auto peer = socket.remote_endpoint(ec).address();
    if (ec) return;  // already gone; the socket closes with this scope
    const Limits& l = shared_->limits;
    if (shared_->UnderPressure())
      Session::Shed(*shared_, kMaxShedPerAccept,
                    std::chrono::steady_clock::now() - l.pressure_read_timeout);
    if (shared_->open >= l.max_connections || !shared_->TakeSlot(peer)) {
      socket.close(ec);  // refused cheaply; the others keep being served
      return;
    }
    std::make_shared<Session>(std::move(socket), peer, shared_)->Begin();
  }

  // Out of descriptors: failing again at once would spin (the backlog still
  // holds the connection), so free one by closing the oldest idle connection
  // and try again after a pause. Logged once per episode.
  void BackOff(const error_code& ec) {
    const auto now = std::chrono::steady_clock::now();
    if (!shortage_) {
      shortage_ = true;
      backoff_ = kMinAcceptBackoff;
      failed_accepts_ = 0;
      spdlog::warn(
          "http server: out of file descriptors ({}) with {} connections open; closing idle "
          "connections and pausing accept",
          ec.message(), shared_->open.load());
    } else {
      backoff_ = std::min<Duration>(backoff_ * 2, kMaxAcceptBackoff);
    }
    last_failure_ = now;
    ++failed_accepts_;
    Session::Shed(*shared_, 1, SteadyTime::max());
    accept_timer_.expires_after(backoff_);
    accept_timer_.async_wait([this](error_code tec) {
      if (tec || !acceptor_.is_open()) return;
      Accept();
    });
  }

  void NoteAccepted() {
    if (!shortage_ || std::chrono::steady_clock::now() - last_failure_ < kShortageQuiet) return;
    shortage_ = false;
    spdlog::info("http server: accepting connections again ({} accepts had failed)",
                 failed_accepts_);
  }

  asio::io_context& io_;
  tcp::acceptor acceptor_;
  asio::steady_timer accept_timer_;  // on the acceptor's strand, like everything below
  std::shared_ptr<Shared> shared_;
  uint16_t port_ = 0;
  bool shortage_ = false;
  Duration backoff_ = kMinAcceptBackoff;
  SteadyTime last_failure_{};
  uint64_t failed_accepts_ = 0;
};

}  // namespace

void ReadServerLimits(config::ConfigNode& api, ApiConfig& out) {
  if (auto v = api.GetInt("max_connections", 1, 1'000'000))
    out.max_connections = static_cast<size_t>(*v);
  if (auto v = api.GetInt("max_connections_per_address", 1, 1'000'000))
    out.max_connections_per_address = static_cast<size_t>(*v);
  if (auto v = api.GetDuration("response_timeout")) {
    if (*v < std::chrono::milliseconds(100) || *v > std::chrono::minutes(10))
      api.ErrorAt("response_timeout", "must be between 100ms and 10m",
                  "how long a request may wait for its answer before it gets 503; e.g. 10s");
    else
      out.response_timeout = *v;
  }
}

Limits ServerLimits(const ApiConfig& api) {
  Limits l;
  l.max_connections = api.max_connections;
  l.max_connections_per_address = api.max_connections_per_address;
  l.handler_timeout = api.response_timeout;
  return l;
}

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
  return Start(io, listen, std::move(limits), nullptr, std::move(handler));
}

Result<std::unique_ptr<HttpServer>> HttpServer::Start(boost::asio::io_context& io,
                                                      const std::string& listen, Limits limits,
                                                      Admit admit, Handler handler) {
  auto parsed = ParseListenAddress(listen);
  if (!parsed.ok()) return parsed.error();
  auto shared = std::make_shared<Shared>();
  shared->limits = limits;
  shared->admit = std::move(admit);
  shared->handler = std::move(handler);
  auto server = std::make_unique<BeastServer>(io, std::move(shared));
  if (Status s = server->Listen(tcp::endpoint(parsed->first, parsed->second), listen); !s.ok())
    return s.error();
  return std::unique_ptr<HttpServer>(std::move(server));
}

}  // namespace mamori::web
