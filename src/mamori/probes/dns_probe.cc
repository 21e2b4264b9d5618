// The `dns` check type: resolves a name and judges the answer (it exists, it
// holds the expected addresses, it came quickly). The home-server power cut
// (INCIDENTS.md #3) began with a DNS record that silently stopped matching the
// server; `expect` catches exactly that.
//
// Two paths:
//  - no `server`: the system resolver (getaddrinfo on the worker pool, so
//    /etc/hosts, nsswitch and resolv.conf apply, as for every other program on
//    the host). getaddrinfo cannot be cancelled; the probe arms its own timer
//    and reports "timed out" at its deadline, leaving the lookup to finish on
//    its pool thread and dropping its late result.
//  - `server: ip[:port]`: one hand-built query per record type over UDP to
//    that server (asio, on a strand of the env's io_context), retransmitted
//    while unanswered, replies bounded to 4 KiB and checked by
//    dns_message.h (id, QR, question, RCODE, compression, counts).
#include <fmt/format.h>
#include <netdb.h>
#include <sys/socket.h>

#include <algorithm>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/udp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/thread_pool.hpp>
#include <memory>
#include <random>

#include "mamori/check/registry.h"
#include "mamori/net/dns_message.h"
#include "mamori/probes/async_run.h"
#include "mamori/probes/net_address.h"
#include "mamori/util/units.h"

namespace mamori::probes::dns {
namespace {

namespace asio = boost::asio;
using asio::ip::address;
using asio::ip::udp;
using SteadyTime = std::chrono::steady_clock::time_point;

constexpr size_t kMaxReply = 4096;
constexpr size_t kMaxExpect = 64;
constexpr size_t kShownAddresses = 8;

struct Options {
  std::string query;
  std::vector<uint16_t> types;  // dns::kTypeA and/or dns::kTypeAaaa
  std::vector<address> expect;
  bool exact = false;
  std::optional<net::HostPort> server;
  std::optional<Duration> max_latency;       // WARNING above
  std::optional<Duration> critical_latency;  // CRITICAL above

  std::string RecordName() const {
    return types.size() == 2 ? "A/AAAA" : mamori::dns::TypeName(types[0]);
  }
  std::string Via() const {
    return server ? net::FormatEndpoint(server->ip, server->port) : std::string();
  }
};

std::string AddressList(const std::vector<address>& as) {
  std::vector<std::string> parts;
  for (size_t i = 0; i < as.size() && i < kShownAddresses; ++i) parts.push_back(as[i].to_string());
  std::string out = fmt::format("{}", fmt::join(parts, ", "));
  if (as.size() > kShownAddresses) out += fmt::format(" and {} more", as.size() - kShownAddresses);
  return out;
}

// One measurement; shared by its pending handlers, state touched only on the
// strand.
class DnsRun : public AsyncRun, public std::enable_shared_from_this<DnsRun> {
 public:
  DnsRun(std::shared_ptr<const Options> o, asio::io_context& io, asio::thread_pool& pool,
         ProbeDone done)
      : AsyncRun(io, std::move(done)),
        o_(std::move(o)),
        pool_(pool.get_executor()),
        socket_(strand_),
        retry_timer_(strand_) {}

  void Begin(SteadyTime deadline, Duration budget) {
    ArmDeadline(deadline, budget, [self = shared_from_this()] { self->OnDeadline(); });
    if (o_->server)
      AskServer(budget);
    else
      AskSystem();
  }

 private:
  // --- system resolver ---
  void AskSystem() {
    const int family = o_->types.size() == 2                    ? AF_UNSPEC
                       : o_->types[0] == mamori::dns::kTypeAaaa ? AF_INET6
                                                                : AF_INET;
    asio::post(pool_, [self = shared_from_this(), family] {
      auto r = net::LookupHost(self->o_->query, family);
      asio::post(self->strand_, [self, r = std::move(r)] {
        if (self->finished()) return;
        if (!r.ok())
          return self->Finish(Observation::Make(
              CheckStatus::kCritical, fmt::format("cannot resolve '{}' ({}): {}", self->o_->query,
                                                  self->o_->RecordName(), r.error().message())));
        self->Finish(self->Judge(*r));
      });
    });
  }

  // --- one server over UDP ---
  struct Query {
    uint16_t qtype;
    uint16_t id;
    std::vector<uint8_t> wire;
    bool answered = false;
  };

  void AskServer(Duration budget) {
    const udp::endpoint ep(o_->server->ip, o_->server->port);
    boost::system::error_code ec;
    socket_.open(ep.protocol(), ec);
    // Connected, so the kernel drops datagrams from anyone else and reports
    // an ICMP "port unreachable" as connection_refused.
    if (!ec) socket_.connect(ep, ec);
    if (ec)
      return Finish(Observation::Make(
          CheckStatus::kUnknown,
          fmt::format("cannot open a UDP socket to {}: {}", o_->Via(), ec.message())));
    std::random_device rd;  // ids must not be guessable by an off-path spoofer
    for (uint16_t t : o_->types) {
      Query q;
      q.qtype = t;
      do q.id = static_cast<uint16_t>(rd());
      while (std::any_of(queries_.begin(), queries_.end(), [&](auto& p) { return p.id == q.id; }));
      auto wire = mamori::dns::EncodeQuery(q.id, o_->query, t);
      if (!wire.ok())  // validated at config time; kept as a guard
        return Finish(Observation::Make(CheckStatus::kUnknown, wire.error().message()));
      q.wire = std::move(*wire);
      queries_.push_back(std::move(q));
    }
    buf_.resize(kMaxReply);
    retry_every_ =
        std::clamp<Duration>(budget / 3, std::chrono::milliseconds(100), std::chrono::seconds(1));
    SendUnanswered();
    Receive();
  }

  void SendUnanswered() {
    for (const auto& q : queries_) {
      if (q.answered) continue;
      socket_.async_send(asio::buffer(q.wire),
                         [self = shared_from_this()](const boost::system::error_code& ec, size_t) {
                           if (ec) self->OnSocketError(ec);
                         });
    }
    retry_timer_.expires_after(retry_every_);
    retry_timer_.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
      if (!ec && !self->finished()) self->SendUnanswered();
    });
  }

  void Receive() {
    socket_.async_receive(asio::buffer(buf_),
                          [self = shared_from_this()](const boost::system::error_code& ec,
                                                      size_t n) { self->OnReceive(ec, n); });
  }

  void OnSocketError(const boost::system::error_code& ec) {
    if (finished()) return;
    if (ec == asio::error::connection_refused)
      return Finish(Observation::Make(
          CheckStatus::kCritical,
          fmt::format("DNS server {} is not answering (port unreachable)", o_->Via())));
    Finish(Observation::Make(
        CheckStatus::kCritical,
        fmt::format("talking to DNS server {} failed: {}", o_->Via(), ec.message())));
  }

  void OnReceive(const boost::system::error_code& ec, size_t n) {
    if (finished()) return;
    if (ec) return OnSocketError(ec);
    const std::span<const uint8_t> data(reinterpret_cast<const uint8_t*>(buf_.data()), n);
    auto id = mamori::dns::PeekId(data);
    auto it = std::find_if(queries_.begin(), queries_.end(),
                           [&](const Query& q) { return id && q.id == *id && !q.answered; });
    if (it == queries_.end()) return Receive();  // a late duplicate or noise: keep waiting
    auto reply = mamori::dns::ParseReply(data, o_->query, it->qtype);
    const std::string asked = fmt::format("'{}' {}", o_->query, mamori::dns::TypeName(it->qtype));
    if (!reply.ok())
      return Finish(Observation::Make(CheckStatus::kCritical,
                                      fmt::format("malformed reply from {} for {}: {}", o_->Via(),
                                                  asked, reply.error().message())));
    if (reply->rcode != mamori::dns::kRcodeNoError)
      return Finish(Observation::Make(
          CheckStatus::kCritical,
          fmt::format("{}: {} from {}", asked, mamori::dns::RcodeText(reply->rcode), o_->Via())));
    if (reply->truncated)
      return Finish(Observation::Make(
          CheckStatus::kUnknown,
          fmt::format("reply from {} for {} was truncated (TC); answers too large for one UDP "
                      "datagram are not supported",
                      o_->Via(), asked)));
    it->answered = true;
    for (const auto& a : reply->addresses)
      if (std::find(addresses_.begin(), addresses_.end(), a) == addresses_.end())
        addresses_.push_back(a);
    if (std::all_of(queries_.begin(), queries_.end(), [](const Query& q) { return q.answered; }))
      return Finish(Judge(addresses_));
    Receive();
  }

  void OnDeadline() {
    const std::string after = FormatDuration(budget());
    if (o_->server)
      return Finish(Observation::Make(
          CheckStatus::kCritical, fmt::format("no reply from {} for '{}' {} within {}", o_->Via(),
                                              o_->query, o_->RecordName(), after)));
    Finish(Observation::Make(CheckStatus::kCritical,
                             fmt::format("looking up '{}' ({}) timed out after {}", o_->query,
                                         o_->RecordName(), after)));
  }

  Observation Judge(const std::vector<address>& got) const {
    const Duration took = Elapsed();
    const std::string via = o_->server ? " from " + o_->Via() : "";
    Observation o;
    o.status = CheckStatus::kOk;
    o.AddMetric("addresses", static_cast<double>(got.size()));
    std::vector<std::string> problems;
    if (got.empty()) {
      o.status = CheckStatus::kCritical;
      problems.push_back(fmt::format("'{}' has no {} record{}", o_->query, o_->RecordName(), via));
    } else {
      std::vector<address> missing, extra;
      for (const auto& e : o_->expect)
        if (std::find(got.begin(), got.end(), e) == got.end()) missing.push_back(e);
      if (o_->exact)
        for (const auto& g : got)
          if (std::find(o_->expect.begin(), o_->expect.end(), g) == o_->expect.end())
            extra.push_back(g);
      if (!missing.empty()) {
        o.status = CheckStatus::kCritical;
        problems.push_back(fmt::format("'{}' {} lacks {} (got {}){}", o_->query, o_->RecordName(),
                                       AddressList(missing), AddressList(got), via));
      }
      if (!extra.empty()) {
        o.status = CheckStatus::kCritical;
        problems.push_back(fmt::format("'{}' {} has unexpected {} (expected only {}){}", o_->query,
                                       o_->RecordName(), AddressList(extra),
                                       AddressList(o_->expect), via));
      }
    }
    std::string summary = problems.empty()
                              ? fmt::format("'{}' {} {} in {}{}", o_->query, o_->RecordName(),
                                            AddressList(got), FormatDuration(took), via)
                              : fmt::format("{}", fmt::join(problems, "; "));
    o.status = Worst(o.status, JudgeLatency(took, o_->max_latency, o_->critical_latency, summary));
    o.summary = std::move(summary);
    return o;
  }

  void Finish(Observation o) {
    retry_timer_.cancel();
    boost::system::error_code ignored;
    socket_.close(ignored);
    o.metrics.insert(o.metrics.begin(), Metric{"total_ms", Millis(Elapsed())});
    Complete(std::move(o));
  }

  std::shared_ptr<const Options> o_;
  asio::thread_pool::executor_type pool_;
  udp::socket socket_;
  asio::steady_timer retry_timer_;
  Duration retry_every_{};
  std::vector<Query> queries_;
  std::vector<address> addresses_;
  std::vector<char> buf_;
};

class DnsProbe final : public Probe {
 public:
  explicit DnsProbe(Options o) : o_(std::make_shared<const Options>(std::move(o))) {}

  void Start(ProbeEnv& env, MonoTime deadline, ProbeDone done) override {
    StartOnStrand(env, deadline, std::make_shared<DnsRun>(o_, env.io, env.pool, std::move(done)));
  }

 private:
  std::shared_ptr<const Options> o_;
};

std::unique_ptr<Probe> Make(config::ConfigNode& n) {
  Options o;
  bool ok = true;
  if (auto q = n.GetString("query")) {
    if (net::ParseIp(*q).ok()) {
      n.ErrorAt("query", fmt::format("'{}' is an IP address, not a name", *q),
                "give the host name to resolve, e.g. query: www.example.org");
      ok = false;
    } else if (Status st = net::ValidateHostName(*q); !st.ok()) {
      n.ErrorAt("query", st.error().message(),
                "give the host name to resolve, e.g. query: www.example.org");
      ok = false;
    } else {
      o.query = *q;
    }
  } else if (!n.Has("query") || n.yaml()["query"].IsNull()) {
    n.Error("missing 'query'",
            "set query: to the host name to resolve (the check's own name is 'name')");
    ok = false;
  } else {
    ok = false;
  }
  o.types = {mamori::dns::kTypeA};
  if (auto r = n.GetString("record")) {
    std::string v = *r;
    std::transform(v.begin(), v.end(), v.begin(), [](unsigned char c) { return std::toupper(c); });
    if (v == "A")
      o.types = {mamori::dns::kTypeA};
    else if (v == "AAAA")
      o.types = {mamori::dns::kTypeAaaa};
    else if (v == "BOTH")
      o.types = {mamori::dns::kTypeA, mamori::dns::kTypeAaaa};
    else {
      n.ErrorAt("record", fmt::format("unsupported record type '{}'", *r), "use A, AAAA or both");
      ok = false;
    }
  }
  if (auto e = n.GetStringList("expect")) {
    if (e->empty() || e->size() > kMaxExpect) {
      n.ErrorAt("expect", fmt::format("must list 1 to {} addresses", kMaxExpect),
                "write expect: [192.0.2.10] or remove it");
      ok = false;
    }
    for (const auto& s : *e) {
      auto ip = net::ParseIp(s);
      if (!ip.ok()) {
        n.ErrorAt("expect", ip.error().message(),
                  "list IP addresses, e.g. expect: [192.0.2.10, 2001:db8::10]");
        ok = false;
        continue;
      }
      const uint16_t needs = ip->is_v4() ? mamori::dns::kTypeA : mamori::dns::kTypeAaaa;
      if (std::find(o.types.begin(), o.types.end(), needs) == o.types.end()) {
        n.ErrorAt("expect",
                  fmt::format("{} is an {} address but record is {}", s,
                              ip->is_v4() ? "IPv4" : "IPv6", o.RecordName()),
                  fmt::format("set record: {} or both", mamori::dns::TypeName(needs)));
        ok = false;
        continue;
      }
      o.expect.push_back(*ip);
    }
  }
  if (auto x = n.GetBool("exact")) {
    o.exact = *x;
    if (o.exact && !n.Has("expect")) {
      n.ErrorAt("exact", "needs 'expect'", "list the only addresses allowed in expect:");
      ok = false;
    }
  }
  if (auto s = n.GetString("server")) {
    auto hp = net::ParseIpPort(*s, 53);
    if (!hp.ok()) {
      n.ErrorAt("server", hp.error().message(),
                "write the DNS server's IP address with an optional port, e.g. 192.0.2.53, "
                "192.0.2.53:5353 or [2001:db8::53]:53");
      ok = false;
    } else {
      o.server = *hp;
    }
  }
  ok &= n.GetMaxAndCritical("max_latency", "critical_latency", o.max_latency, o.critical_latency);
  if (!ok) return nullptr;
  return std::make_unique<DnsProbe>(std::move(o));
}

}  // namespace

void Register(ProbeRegistry& r) {
  r.Add("dns", "resolve a name (system resolver or one DNS server); check the addresses", Make);
}

}  // namespace mamori::probes::dns
