// The `tcp` check type: connects to host:port, optionally sends a line and
// waits for a substring of what the peer answers ("SSH-2.0", "+OK", a MySQL
// handshake). A port that is open but whose service is wedged (accepts, then
// says nothing) is as dead as a closed one, so `expect` is first-class.
//
// Everything runs as asio async operations on a strand of the probe env's
// io_context; the probe arms its own deadline timer and closes its socket when
// it fires, so it never relies on the runner's backstop. Host names are looked
// up with getaddrinfo on the worker pool (the system resolver, /etc/hosts
// included); a lookup that outlives the deadline keeps one pool thread busy
// until glibc gives up, but the run itself ends on time. IP literals skip the
// lookup.
#include <fmt/format.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/write.hpp>
#include <memory>

#include "mamori/check/registry.h"
#include "mamori/probes/async_run.h"
#include "mamori/probes/net_address.h"
#include "mamori/util/units.h"

namespace mamori::probes::tcp {
namespace {

namespace asio = boost::asio;
using asio::ip::tcp;
using SteadyTime = std::chrono::steady_clock::time_point;

constexpr size_t kMaxRead = 4096;  // bytes of the peer's answer we look at
constexpr size_t kMaxExpect = 1024;
constexpr size_t kMaxSend = 64 * 1024;

struct Options {
  std::string address;  // as written, for summaries
  net::HostPort target;
  std::string send;
  std::string expect;
  std::optional<Duration> max_latency;       // WARNING above
  std::optional<Duration> critical_latency;  // CRITICAL above
};

// What the peer sent, made safe for a one-line summary.
std::string Printable(std::string_view s, size_t max = 64) {
  std::string out;
  for (char c : s.substr(0, max)) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '\r')
      out += "\\r";
    else if (c == '\n')
      out += "\\n";
    else if (u < 0x20 || u >= 0x7f)
      out += fmt::format("\\x{:02x}", u);
    else
      out.push_back(c);
  }
  if (s.size() > max) out += "...";
  return out;
}

// One measurement. Lives in a shared_ptr held by every pending handler; all of
// its state is touched only on `strand_`.
class TcpRun : public AsyncRun, public std::enable_shared_from_this<TcpRun> {
 public:
  TcpRun(std::shared_ptr<const Options> o, asio::io_context& io, asio::thread_pool& pool,
         ProbeDone done)
      : AsyncRun(io, std::move(done)),
        o_(std::move(o)),
        pool_(pool.get_executor()),
        socket_(strand_) {}

  void Begin(SteadyTime deadline, Duration budget) {
    ArmDeadline(deadline, budget, [self = shared_from_this()] { self->OnDeadline(); });
    if (o_->target.is_ip) {
      Connect({tcp::endpoint(o_->target.ip, o_->target.port)});
      return;
    }
    phase_ = Phase::kResolving;
    asio::post(pool_, [self = shared_from_this()] {
      auto r = net::LookupHost(self->o_->target.host, AF_UNSPEC);
      asio::post(self->strand_, [self, r = std::move(r)] { self->OnResolved(r); });
    });
  }

 private:
  enum class Phase { kResolving, kConnecting, kSending, kReading };

  void OnResolved(const Result<std::vector<asio::ip::address>>& r) {
    if (finished()) return;
    resolve_time_ = Elapsed();
    if (!r.ok())
      return Finish(
          Critical(fmt::format("cannot resolve '{}': {}", o_->target.host, r.error().message())));
    if (r->empty()) return Finish(Critical(fmt::format("'{}' has no addresses", o_->target.host)));
    std::vector<tcp::endpoint> eps;
    for (const auto& a : *r) eps.emplace_back(a, o_->target.port);
    Connect(std::move(eps));
  }

  void Connect(std::vector<tcp::endpoint> eps) {
    phase_ = Phase::kConnecting;
    connect_start_ = std::chrono::steady_clock::now();
    asio::async_connect(
        socket_, eps,
        [self = shared_from_this()](const boost::system::error_code& ec, const tcp::endpoint& ep) {
          self->OnConnected(ec, ep);
        });
  }

  void OnConnected(const boost::system::error_code& ec, const tcp::endpoint& ep) {
    if (finished()) return;
    if (ec)
      return Finish(Critical(fmt::format("connect to {} failed: {}", o_->address, ec.message())));
    connect_time_ = std::chrono::steady_clock::now() - connect_start_;
    peer_ = ep;
    if (!o_->send.empty()) {
      phase_ = Phase::kSending;
      asio::async_write(socket_, asio::buffer(o_->send),
                        [self = shared_from_this()](const boost::system::error_code& wec, size_t) {
                          self->OnSent(wec);
                        });
      return;
    }
    AfterSend();
  }

  void OnSent(const boost::system::error_code& ec) {
    if (finished()) return;
    if (ec)
      return Finish(Critical(fmt::format("sending to {} failed: {}", o_->address, ec.message())));
    AfterSend();
  }

  void AfterSend() {
    if (o_->expect.empty()) return Finish(Judge());
    phase_ = Phase::kReading;
    buf_.resize(kMaxRead);
    Read();
  }

  void Read() {
    socket_.async_read_some(asio::buffer(buf_.data() + received_, kMaxRead - received_),
                            [self = shared_from_this()](const boost::system::error_code& ec,
                                                        size_t n) { self->OnRead(ec, n); });
  }

  void OnRead(const boost::system::error_code& ec, size_t n) {
    if (finished()) return;
    received_ += n;
    const std::string_view got(buf_.data(), received_);
    if (got.find(o_->expect) != std::string_view::npos) {
      banner_time_ = Elapsed();
      return Finish(Judge());
    }
    if (ec == asio::error::eof)
      return Finish(Critical(fmt::format("banner lacks '{}' (connection closed; got: '{}')",
                                         Printable(o_->expect), Printable(got))));
    if (ec)
      return Finish(Critical(fmt::format("reading from {} failed: {} (got: '{}')", o_->address,
                                         ec.message(), Printable(got))));
    if (received_ == kMaxRead)
      return Finish(
          Critical(fmt::format("banner lacks '{}' in the first {} (got: '{}')",
                               Printable(o_->expect), FormatBytes(kMaxRead), Printable(got))));
    Read();
  }

  void OnDeadline() {
    const std::string after = FormatDuration(budget());
    switch (phase_) {
      case Phase::kResolving:
        return Finish(
            Critical(fmt::format("resolving '{}' timed out after {}", o_->target.host, after)));
      case Phase::kConnecting:
        return Finish(
            Critical(fmt::format("connect to {} timed out after {}", o_->address, after)));
      case Phase::kSending:
        return Finish(
            Critical(fmt::format("sending to {} timed out after {}", o_->address, after)));
      case Phase::kReading:
        return Finish(Critical(fmt::format("banner lacks '{}' (timed out after {}; got: '{}')",
                                           Printable(o_->expect), after,
                                           Printable(std::string_view(buf_.data(), received_)))));
    }
  }

  Observation Critical(std::string summary) {
    Observation o = Observation::Make(CheckStatus::kCritical, std::move(summary));
    AddMetrics(o);
    return o;
  }

  void AddMetrics(Observation& o) {
    const Duration total = Elapsed();
    if (resolve_time_) o.AddMetric("resolve_ms", Millis(*resolve_time_));
    if (connect_time_) o.AddMetric("connect_ms", Millis(*connect_time_));
    o.AddMetric("total_ms", Millis(total));
    if (!o_->expect.empty() && phase_ == Phase::kReading)
      o.AddMetric("banner_bytes", static_cast<double>(received_));
  }

  Observation Judge() {
    const Duration total = Elapsed();
    Observation o;
    o.status = CheckStatus::kOk;
    AddMetrics(o);
    std::string where = o_->address;
    if (!o_->target.is_ip) where += fmt::format(" ({})", peer_.address().to_string());
    std::string summary =
        fmt::format("connected to {} in {}", where, FormatDuration(*connect_time_));
    if (banner_time_)
      summary +=
          fmt::format(", got '{}' in {}", Printable(o_->expect), FormatDuration(*banner_time_));
    o.status = JudgeLatency(total, o_->max_latency, o_->critical_latency, summary);
    o.summary = std::move(summary);
    return o;
  }

  void Finish(Observation o) {
    boost::system::error_code ignored;
    socket_.close(ignored);  // aborts whatever is still pending
    Complete(std::move(o));
  }

  std::shared_ptr<const Options> o_;
  asio::thread_pool::executor_type pool_;
  tcp::socket socket_;
  Phase phase_ = Phase::kConnecting;
  SteadyTime connect_start_;
  std::optional<Duration> resolve_time_, connect_time_, banner_time_;
  tcp::endpoint peer_;
  std::string buf_;
  size_t received_ = 0;
};

class TcpProbe final : public Probe {
 public:
  explicit TcpProbe(Options o) : o_(std::make_shared<const Options>(std::move(o))) {}

  void Start(ProbeEnv& env, MonoTime deadline, ProbeDone done) override {
    StartOnStrand(env, deadline, std::make_shared<TcpRun>(o_, env.io, env.pool, std::move(done)));
  }

 private:
  std::shared_ptr<const Options> o_;
};

std::unique_ptr<Probe> Make(config::ConfigNode& n) {
  Options o;
  bool ok = true;
  const std::string kAddressHint =
      "write host:port, e.g. \"127.0.0.1:3306\", \"db.internal:5432\" or \"[::1]:22\"";
  if (auto a = n.GetString("address")) {
    auto hp = net::ParseHostPort(*a);
    if (!hp.ok()) {
      n.ErrorAt("address", hp.error().message(), kAddressHint);
      ok = false;
    } else {
      o.address = *a;
      o.target = *hp;
    }
  } else if (!n.Has("address") || n.yaml()["address"].IsNull()) {
    n.Error("missing 'address'", kAddressHint);
    ok = false;
  } else {
    ok = false;  // a list or mapping: GetString reported it
  }
  // YAML double-quoted strings turn \r\n into line breaks; single-quoted and
  // plain ones keep the backslash, which would silently send the wrong bytes.
  auto literal_escape = [](const std::string& s) {
    return s.find("\\r") != std::string::npos || s.find("\\n") != std::string::npos;
  };
  const std::string kEscapeHint = "put the value in double quotes so \\r\\n become line breaks";
  if (auto s = n.GetString("send")) {
    if (s->empty() || s->size() > kMaxSend) {
      n.ErrorAt("send", fmt::format("must be 1 to {} bytes long", kMaxSend),
                "remove 'send' to only connect");
      ok = false;
    } else if (literal_escape(*s)) {
      n.ErrorAt("send", "contains a literal backslash escape (\\r or \\n)", kEscapeHint);
      ok = false;
    } else {
      o.send = *s;
    }
  }
  if (auto e = n.GetString("expect")) {
    if (e->empty() || e->size() > kMaxExpect) {
      n.ErrorAt("expect", fmt::format("must be 1 to {} bytes long", kMaxExpect),
                "give a short piece of the answer, e.g. SSH-2.0");
      ok = false;
    } else if (literal_escape(*e)) {
      n.ErrorAt("expect", "contains a literal backslash escape (\\r or \\n)", kEscapeHint);
      ok = false;
    } else {
      o.expect = *e;
    }
  }
  ok &= n.GetMaxAndCritical("max_latency", "critical_latency", o.max_latency, o.critical_latency);
  if (!ok) return nullptr;
  return std::make_unique<TcpProbe>(std::move(o));
}

}  // namespace

void Register(ProbeRegistry& r) {
  r.Add("tcp", "connect to host:port; optionally send a line and expect a banner", Make);
}

}  // namespace mamori::probes::tcp
