#include "mamori/net/native_http_client.h"

#include <fmt/format.h>

#include <strings.h>
#include <algorithm>
#include <atomic>
#include <boost/asio/connect.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <deque>
#include <limits>
#include <optional>
#include <string_view>
#include <thread>
#include <unordered_set>
#include <vector>

#include "mamori/net/http_url.h"
#include "mamori/util/mutex.h"
#include "mamori/util/units.h"

namespace mamori {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = boost::beast::http;
using tcp = asio::ip::tcp;
using Steady = std::chrono::steady_clock;
using boost::system::error_code;

constexpr size_t kMaxHeaders = 100;  // kept, as the curl client does
constexpr size_t kMaxKeptHeaderBytes = 16 * 1024;
constexpr uint32_t kHeaderLimit = 64 * 1024;  // more is an error, not a wait
constexpr size_t kChunk = 16 * 1024;
constexpr size_t kMaxDiscard = 4 << 20;  // read past max_body_bytes, then close
constexpr size_t kMaxQueued = 1 << 16;
constexpr int kMaxInformational = 4;  // 1xx answers skipped before the real one
const std::string kCancelled = "cancelled: the HTTP client is shutting down";

double MsSince(Steady::time_point from) {
  return std::chrono::duration<double, std::milli>(Steady::now() - from).count();
}

bool IsRedirect(unsigned status) {
  return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
}

// A request waiting for a connection slot: only what it needs to start. Its
// socket, timer and parser are made when it starts, so a backlog of
// thousands costs their requests, not their transfers (13 MB at 10,000
// checks, bench/RESULTS.md).
struct Queued {
  HttpRequest request;
  HttpDone done;
  Steady::time_point queued_at;
};

struct Transfer {
  Transfer(asio::io_context& io, Queued&& q)
      : request(std::move(q.request)),
        done(std::move(q.done)),
        socket(io),
        resolver(io),
        timer(io),
        queued_at(q.queued_at) {}

  HttpRequest request;
  HttpDone done;
  HttpUrl url;  // as given, or as resolved from a Location
  tcp::socket socket;
  tcp::resolver resolver;
  asio::steady_timer timer;
  beast::flat_buffer buffer{kHeaderLimit + kChunk};
  std::optional<http::response_parser<http::buffer_body>> parser;
  http::request<http::string_body> out;
  std::unique_ptr<char[]> chunk;
  size_t chunk_size = 0;
  HttpResponse response;
  // The timeout counts from Fetch(): a request that waited for a free slot
  // longer than its timeout is not sent late (a caller's backstop may have
  // given up on it and retried).
  const Steady::time_point queued_at;
  Steady::time_point start, hop_start;
  const char* stage = "waiting for a free connection slot";
  bool finished = false;
  bool got_bytes = false;
  size_t discarded = 0, kept_header_bytes = 0;
  int informational = 0;
};
using TransferPtr = std::shared_ptr<Transfer>;

// Host names other than localhost go to libcurl: Asio (Boost 1.74) runs every
// lookup of an io_context on one thread, one after another, with no cache, so
// one slow DNS server would hold up every other check's lookup; libcurl
// resolves each on its own thread and caches the answers. Literals need no
// lookup and localhost is answered from /etc/hosts.
bool NativeResolves(const HttpUrl& url) {
  error_code ec;
  asio::ip::make_address(url.host, ec);
  return !ec || ::strcasecmp(url.host.c_str(), "localhost") == 0;
}

// As curl since 7.58 (CVE-2018-1000007, CVE-2022-27776): credentials and a
// custom Host go to the host they were written for, not to wherever it
// redirects.
void ForgetCredentials(Transfer& t) {
  auto& h = t.request.headers;
  h.erase(std::remove_if(h.begin(), h.end(),
                         [](const auto& kv) {
                           const char* k = kv.first.c_str();
                           return ::strcasecmp(k, "Authorization") == 0 ||
                                  ::strcasecmp(k, "Cookie") == 0 || ::strcasecmp(k, "Host") == 0;
                         }),
          h.end());
}

// The request as curl sends it: its User-Agent and Accept unless the caller
// set them, a form Content-Type for a body without one, and "close" because
// every request has a connection of its own.
void BuildRequest(Transfer& t) {
  const HttpRequest& r = t.request;
  http::request<http::string_body> out;
  out.version(11);
  const http::verb verb = http::string_to_verb(r.method);
  if (verb == http::verb::unknown)
    out.method_string(r.method);
  else
    out.method(verb);
  out.target(t.url.target);
  out.set(http::field::host, t.url.Authority());
  out.set(http::field::user_agent, "mamori/" MAMORI_VERSION);
  out.set(http::field::accept, "*/*");
  const bool has_body =
      !r.body.empty() || r.method == "POST" || r.method == "PUT" || r.method == "PATCH";
  if (has_body) out.set(http::field::content_type, "application/x-www-form-urlencoded");
  // As curl: a caller's header replaces the default of that name, a name
  // given twice is sent twice, and "Name:" with no value only removes it.
  std::vector<std::string_view> replaced;
  for (const auto& header : r.headers) {
    const std::string& k = header.first;
    const std::string& v = header.second;
    if (std::find_if(replaced.begin(), replaced.end(), [&](std::string_view n) {
          return ::strcasecmp(std::string(n).c_str(), k.c_str()) == 0;
        }) == replaced.end()) {
      out.erase(k);
      replaced.push_back(k);
    }
    if (!v.empty()) out.insert(k, v);
  }
  out.set(http::field::connection, "close");
  if (has_body) {
    out.body() = r.body;
    out.content_length(r.body.size());  // prepare_payload() leaves PATCH without one
  }
  t.out = std::move(out);
}

std::string DescribeReadError(const Transfer& t, const error_code& ec) {
  if (ec == http::error::header_limit || ec == http::error::buffer_overflow)
    return fmt::format("response header too large (over {})", FormatBytes(kHeaderLimit));
  if (!t.got_bytes && (ec == asio::error::eof || ec == http::error::end_of_stream ||
                       ec == asio::error::connection_reset))
    return "the server closed the connection without answering";
  if (ec.category() == http::make_error_code(http::error::bad_version).category() &&
      ec != http::error::partial_message && ec != http::error::end_of_stream)
    return "invalid HTTP response: " + ec.message();
  return "connection broken: " + ec.message();
}

class NativeHttpClient final : public HttpClient {
 public:
  // Its own loop and thread.
  NativeHttpClient(size_t max_concurrent, std::function<HttpClient&()> fallback)
      : max_concurrent_(std::max<size_t>(1, max_concurrent)),
        fallback_(std::move(fallback)),
        own_io_(std::make_unique<asio::io_context>(1)),
        io_(*own_io_),
        work_(asio::make_work_guard(io_)),
        thread_([this] { io_.run(); }) {}

  // On the caller's loop: no thread of its own.
  NativeHttpClient(asio::io_context& io, size_t max_concurrent,
                   std::function<HttpClient&()> fallback)
      : max_concurrent_(std::max<size_t>(1, max_concurrent)),
        fallback_(std::move(fallback)),
        io_(io) {}

  ~NativeHttpClient() override {
    if (!thread_.joinable()) {  // a borrowed loop: on its thread, or while it does not run
      Shutdown();
      return;
    }
    asio::post(io_, [this] { Shutdown(); });
    work_.reset();
    thread_.join();
  }

  void Fetch(HttpRequest request, HttpDone done) override {
    {
      MutexLock lock(mu_);
      if (stopping_) {  // a callback fetching again while the client shuts down
        asio::post(io_, [done = std::move(done)] { done(Error(kCancelled)); });
        return;
      }
      if (pending_.size() < kMaxQueued) {
        pending_.push_back(Queued{std::move(request), std::move(done), Steady::now()});
        if (!start_posted_) {
          start_posted_ = true;
          PostStartPending();
        }
        return;
      }
    }
    asio::post(io_, [done = std::move(done)] {
      done(Error(fmt::format("too many HTTP requests queued (over {})", kMaxQueued)));
    });
  }

 private:
  // On a borrowed loop the client may be gone when this runs (the loop runs
  // on after it): the handler checks that it still exists. Transfers' own
  // handlers need no such check: Finish() marks each one finished first.
  void PostStartPending() {
    asio::post(io_, [this, alive = std::weak_ptr<const bool>(alive_)] {
      if (alive.lock()) StartPending();
    });
  }

  void StartPending() {
    std::deque<Queued> batch;
    {
      MutexLock lock(mu_);
      start_posted_ = false;
      while (!stopping_ && !pending_.empty() && active_.size() + batch.size() < max_concurrent_) {
        batch.push_back(std::move(pending_.front()));
        pending_.pop_front();
      }
    }
    for (auto& q : batch) Begin(std::make_shared<Transfer>(io_, std::move(q)));
  }

  void Shutdown() {
    std::deque<Queued> pending;
    {
      MutexLock lock(mu_);
      stopping_ = true;
      pending.swap(pending_);
    }
    std::vector<TransferPtr> active(active_.begin(), active_.end());
    for (auto& t : active) Finish(t, Error(kCancelled));
    for (auto& q : pending)
      if (q.done) q.done(Error(kCancelled));
  }

  void Begin(TransferPtr t) {
    active_.insert(t);
    const auto deadline =
        t->queued_at + std::chrono::duration_cast<Steady::duration>(t->request.timeout);
    if (Steady::now() >= deadline) {  // waited for a slot past its timeout: not sent late
      Finish(t, Error(fmt::format("timed out after {} {}", FormatDuration(t->request.timeout),
                                  t->stage)));
      return;
    }
    auto url = ParseHttpUrl(t->request.url);
    if (!url || !NativeResolves(*url)) {  // the router checked; a direct caller may not have
      HandOver(t, t->request.url);
      return;
    }
    t->url = std::move(*url);
    t->start = Steady::now();
    t->timer.expires_at(deadline);
    t->timer.async_wait([this, t](error_code ec) {
      if (ec || t->finished) return;
      Finish(t, Error(fmt::format("timed out after {} {}", FormatDuration(t->request.timeout),
                                  t->stage)));
    });
    StartHop(t);
  }

  void StartHop(const TransferPtr& t) {
    t->hop_start = Steady::now();
    BuildRequest(*t);
    error_code ec;
    const auto addr = asio::ip::make_address(t->url.host, ec);
    if (!ec) {  // a literal needs no lookup
      t->response.dns_ms = 0;
      Connect(t, std::array<tcp::endpoint, 1>{tcp::endpoint(addr, t->url.port)});
      return;
    }
    t->stage = "looking up the name";
    t->resolver.async_resolve(
        t->url.host, std::to_string(t->url.port),
        [this, t](error_code ec, tcp::resolver::results_type results) {
          if (t->finished) return;
          if (ec) {
            Finish(t, Error(fmt::format("DNS lookup failed: {} ({})", ec.message(), t->url.host)));
            return;
          }
          t->response.dns_ms = MsSince(t->hop_start);
          Connect(t, results);
        });
  }

  template <typename Endpoints>
  void Connect(const TransferPtr& t, const Endpoints& endpoints) {
    t->stage = "connecting";
    asio::async_connect(t->socket, endpoints, [this, t](error_code ec, const tcp::endpoint&) {
      if (t->finished) return;
      if (ec) {
        Finish(t, Error(fmt::format("connect failed: {} ({})", ec.message(), t->url.Authority())));
        return;
      }
      t->response.connect_ms = MsSince(t->hop_start) - t->response.dns_ms;
      t->stage = "sending the request";
      http::async_write(t->socket, t->out, [this, t](error_code ec, size_t) {
        if (t->finished) return;
        if (ec) {
          Finish(t, Error("connection broken: " + ec.message()));
          return;
        }
        WaitForAnswer(t);
      });
    });
  }

  void WaitForAnswer(const TransferPtr& t) {
    t->stage = "waiting for the answer";
    t->socket.async_wait(tcp::socket::wait_read, [this, t](error_code ec) {
      if (t->finished) return;
      if (ec) {
        Finish(t, Error("connection broken: " + ec.message()));
        return;
      }
      t->response.first_byte_ms = MsSince(t->start);
      ReadHeader(t);
    });
  }

  void ReadHeader(const TransferPtr& t) {
    t->stage = "reading the response header";
    t->parser.emplace();
    t->parser->header_limit(kHeaderLimit);
    // Bounded below (max_body_bytes + kMaxDiscard). Not boost::none: Beast
    // 1.74 compares a Content-Length with an empty limit as "over the limit".
    t->parser->body_limit(std::numeric_limits<std::uint64_t>::max());
    if (t->request.method == "HEAD") t->parser->skip(true);
    http::async_read_header(t->socket, t->buffer, *t->parser, [this, t](error_code ec, size_t n) {
      if (t->finished) return;
      t->got_bytes |= n > 0 || t->buffer.size() > 0;
      if (ec) {
        Finish(t, Error(DescribeReadError(*t, ec)));
        return;
      }
      OnHeader(t);
    });
  }

  void OnHeader(const TransferPtr& t) {
    const auto& head = t->parser->get();
    const unsigned status = head.result_int();
    if (status >= 100 && status < 200 && status != 101 && t->informational++ < kMaxInformational) {
      ReadHeader(t);  // "100 Continue" and friends come before the answer
      return;
    }
    HttpResponse& resp = t->response;
    resp.status = static_cast<int>(status);
    resp.headers.clear();
    t->kept_header_bytes = 0;
    for (const auto& f : head) {
      const size_t len = f.name_string().size() + f.value().size();
      if (resp.headers.size() >= kMaxHeaders || t->kept_header_bytes + len > kMaxKeptHeaderBytes)
        break;
      t->kept_header_bytes += len;
      resp.headers.emplace_back(std::string(f.name_string()), std::string(f.value()));
    }
    const auto location = head.find(http::field::location);
    if (t->request.follow_redirects && IsRedirect(status) && location != head.end()) {
      Redirect(t, std::string_view(location->value().data(), location->value().size()));
      return;
    }
    // A body of known length gets a buffer of its size: with hundreds of
    // transfers in flight, 16 KiB each for a 600-byte page was most of the
    // daemon's peak at 10,000 checks.
    const auto length = t->parser->content_length();
    t->chunk_size = length ? static_cast<size_t>(std::clamp<uint64_t>(*length, 1, kChunk)) : kChunk;
    t->chunk = std::make_unique<char[]>(t->chunk_size);
    t->stage = "reading the body";
    ReadBody(t);
  }

  void ReadBody(const TransferPtr& t) {
    if (t->parser->is_done()) {
      Complete(t);
      return;
    }
    auto& body = t->parser->get().body();
    body.data = t->chunk.get();
    body.size = t->chunk_size;
    http::async_read(t->socket, t->buffer, *t->parser, [this, t](error_code ec, size_t) {
      if (t->finished) return;
      if (ec == http::error::need_buffer) ec = {};
      if (ec) {
        Finish(t, Error(DescribeReadError(*t, ec)));
        return;
      }
      const size_t n = t->chunk_size - t->parser->get().body().size;
      std::string& kept = t->response.body;
      const size_t room =
          t->request.max_body_bytes - std::min(t->request.max_body_bytes, kept.size());
      kept.append(t->chunk.get(), std::min(n, room));
      if (n > room) {
        t->response.body_truncated = true;
        t->discarded += n - room;
        if (t->discarded > kMaxDiscard) {
          Complete(t);  // enough: the check has what it judges; closing ends the rest
          return;
        }
      }
      ReadBody(t);
    });
  }

  void Redirect(const TransferPtr& t, std::string_view location) {
    HttpResponse& resp = t->response;
    if (resp.redirects >= t->request.max_redirects) {
      Finish(t, Error(fmt::format("more than {} redirects", t->request.max_redirects)));
      return;
    }
    auto next = ResolveLocation(t->url, location);
    if (!next) {
      if (const std::string why = LocationRefusal(location); !why.empty()) {
        Finish(t, Error("The redirect target URL could not be parsed: " + why));  // curl's words
        return;
      }
      Complete(t);  // an empty Location: the 3xx is the answer, as with curl
      return;
    }
    ++resp.redirects;
    const int status = resp.status;
    if (status == 303 ? t->request.method != "HEAD"
                      : (status == 301 || status == 302) && t->request.method == "POST") {
      t->request.method = "GET";
      t->request.body.clear();
    }
    error_code ignored;
    t->socket.close(ignored);
    t->buffer.clear();
    t->got_bytes = false;
    t->informational = 0;
    auto url = ParseHttpUrl(*next);
    if (!url || url->host != t->url.host || url->port != t->url.port) ForgetCredentials(*t);
    if (!url || !NativeResolves(*url)) {
      HandOver(t, *next);
      return;
    }
    t->url = std::move(*url);
    StartHop(t);
  }

  void Complete(const TransferPtr& t) {
    t->response.total_ms = MsSince(t->start);
    t->response.effective_url = t->url.EffectiveUrl();  // as curl writes it
    HttpResponse out = std::move(t->response);
    Finish(t, std::move(out));
  }

  // The rest of the request goes to the fallback (https:// after a redirect):
  // what is left of the timeout and of the redirects, and the redirects
  // already made and time already spent are added to its answer.
  void HandOver(const TransferPtr& t, std::string url) {
    HttpRequest next = t->request;
    next.url = std::move(url);
    const int made = t->response.redirects;
    next.max_redirects = std::max(0, t->request.max_redirects - made);
    const auto used = Steady::now() - t->queued_at;
    next.timeout = std::max<Duration>(std::chrono::milliseconds(1), t->request.timeout - used);
    const double offset = std::chrono::duration<double, std::milli>(used).count();
    HttpDone done = [done = std::move(t->done), made, offset,
                     max = t->request.max_redirects](Result<HttpResponse> r) {
      if (r.ok()) {
        r->redirects += made;
        r->first_byte_ms += offset;
        r->total_ms += offset;
      } else if (r.error().message().rfind("more than ", 0) == 0) {
        r = Error(fmt::format("more than {} redirects", max));
      }
      done(std::move(r));
    };
    t->done = nullptr;
    Finish(t, Error(""));  // frees the slot; the fallback answers
    fallback_().Fetch(std::move(next), std::move(done));
  }

  void Finish(const TransferPtr& t, Result<HttpResponse> result) {
    t->finished = true;
    error_code ignored;
    t->timer.cancel();
    t->resolver.cancel();
    t->socket.close(ignored);
    active_.erase(t);
    HttpDone done = std::move(t->done);
    t->done = nullptr;
    if (done) done(std::move(result));
    bool more;
    {
      MutexLock lock(mu_);
      more = !stopping_ && !pending_.empty() && !start_posted_;
      if (more) start_posted_ = true;
    }
    if (more) PostStartPending();
  }

  const size_t max_concurrent_;
  std::function<HttpClient&()> fallback_;
  std::unique_ptr<asio::io_context> own_io_;  // null on a borrowed loop
  asio::io_context& io_;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work_;
  const std::shared_ptr<const bool> alive_ = std::make_shared<const bool>(true);
  Mutex mu_;
  std::deque<Queued> pending_ GUARDED_BY(mu_);
  bool start_posted_ GUARDED_BY(mu_) = false;
  bool stopping_ GUARDED_BY(mu_) = false;
  std::unordered_set<TransferPtr> active_;  // I/O thread only
  std::thread thread_;                      // last: starts once the rest exists (own loop only)
};

}  // namespace

bool NativeHttpCanFetch(const HttpRequest& request) {
  for (const auto& [k, v] : request.headers)
    if (::strcasecmp(k.c_str(), "Accept-Encoding") == 0) return false;
  auto url = ParseHttpUrl(request.url);
  return url.has_value() && NativeResolves(*url);
}

std::unique_ptr<HttpClient> MakeNativeHttpClient(size_t max_concurrent,
                                                 std::function<HttpClient&()> fallback) {
  return std::make_unique<NativeHttpClient>(max_concurrent, std::move(fallback));
}

std::unique_ptr<HttpClient> MakeNativeHttpClientOn(asio::io_context& io, size_t max_concurrent,
                                                   std::function<HttpClient&()> fallback) {
  return std::make_unique<NativeHttpClient>(io, max_concurrent, std::move(fallback));
}

}  // namespace mamori
