#include "mamori/net/http_client.h"

#include <curl/curl.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <fmt/format.h>
#include <algorithm>
#include <atomic>
#include <cstring>
#include <ctime>
#include <deque>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_map>

#include "mamori/net/deferred_http_client.h"
#include "mamori/util/mutex.h"
#include "mamori/util/units.h"

namespace mamori {
namespace {

constexpr size_t kMaxHeaders = 100;
constexpr size_t kMaxHeaderBytes = 16 * 1024;
constexpr const char* kCancelled = "cancelled: the HTTP client is shutting down";

struct Transfer {
  CURL* easy = nullptr;
  HttpRequest request;
  HttpDone done;
  HttpResponse response;
  curl_slist* headers = nullptr;
  size_t header_bytes = 0;
  char errbuf[CURL_ERROR_SIZE] = {0};
};

size_t OnBody(char* data, size_t size, size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  const size_t len = size * n;
  const size_t room =
      t->request.max_body_bytes - std::min(t->request.max_body_bytes, t->response.body.size());
  if (len > room) {
    t->response.body.append(data, room);
    t->response.body_truncated = true;  // keep reading: the server must see a normal client
  } else {
    t->response.body.append(data, len);
  }
  return len;
}

size_t OnHeader(char* data, size_t size, size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  const size_t len = size * n;
  std::string_view line(data, len);
  if (line.substr(0, 5) == "HTTP/") {  // a new response (after a redirect or 100-continue)
    t->response.headers.clear();
    t->header_bytes = 0;
    return len;
  }
  auto colon = line.find(':');
  if (colon == std::string_view::npos || t->response.headers.size() >= kMaxHeaders ||
      t->header_bytes + len > kMaxHeaderBytes)
    return len;
  auto trim = [](std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == '\r' || s.back() == '\n' || s.back() == ' '))
      s.remove_suffix(1);
    return std::string(s);
  };
  t->header_bytes += len;
  t->response.headers.emplace_back(trim(line.substr(0, colon)), trim(line.substr(colon + 1)));
  return len;
}

// "Expire date:Jan  1 00:00:00 2027 GMT" from CURLINFO_CERTINFO (OpenSSL backend).
std::optional<WallTime> CertExpiry(CURL* easy) {
  curl_certinfo* info = nullptr;
  if (curl_easy_getinfo(easy, CURLINFO_CERTINFO, &info) != CURLE_OK || !info ||
      info->num_of_certs < 1)
    return std::nullopt;
  for (curl_slist* s = info->certinfo[0]; s; s = s->next) {
    std::string_view kv(s->data);
    constexpr std::string_view kKey = "Expire date:";
    if (kv.substr(0, kKey.size()) != kKey) continue;
    std::string value(kv.substr(kKey.size()));
    std::tm tm{};
    const char* end = strptime(value.c_str(), "%b %d %H:%M:%S %Y", &tm);
    if (!end) return std::nullopt;
    return std::chrono::system_clock::from_time_t(timegm(&tm));
  }
  return std::nullopt;
}

std::string Describe(CURLcode code, const Transfer& t, CURL* easy) {
  std::string detail = t.errbuf[0] ? t.errbuf : curl_easy_strerror(code);
  switch (code) {
    case CURLE_COULDNT_RESOLVE_HOST:
      return "DNS lookup failed: " + detail;
    case CURLE_COULDNT_CONNECT: {
      // curl's own text ("Couldn't connect to server") hides the reason an
      // operator needs: refused (nothing listening) vs unreachable.
      long os_errno = 0;
      curl_easy_getinfo(easy, CURLINFO_OS_ERRNO, &os_errno);
      if (os_errno != 0)
        return fmt::format("connect failed: {} ({})", std::strerror(static_cast<int>(os_errno)),
                           detail);
      return "connect failed: " + detail;
    }
    case CURLE_OPERATION_TIMEDOUT:
      return fmt::format("timed out after {}: {}", FormatDuration(t.request.timeout), detail);
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_CACERT_BADFILE:
      return "TLS handshake failed: " + detail;
    case CURLE_TOO_MANY_REDIRECTS:
      return fmt::format("more than {} redirects", t.request.max_redirects);
    case CURLE_GOT_NOTHING:
      return "the server closed the connection without answering";
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
      return "connection broken: " + detail;
    default:
      return detail;
  }
}

class CurlHttpClient final : public HttpClient {
 public:
  explicit CurlHttpClient(size_t max_concurrent)
      : max_concurrent_(std::max<size_t>(1, max_concurrent)) {
    static std::once_flag once;
    std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
    multi_ = curl_multi_init();
    epoll_ = ::epoll_create1(EPOLL_CLOEXEC);
    wake_fd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.fd = wake_fd_;
    ::epoll_ctl(epoll_, EPOLL_CTL_ADD, wake_fd_, &ev);
    // curl tells us which sockets to watch and when its next timeout is due;
    // only sockets with activity are processed (curl_multi_perform walks
    // every transfer on each call, which costs O(transfers) per wake-up).
    curl_multi_setopt(multi_, CURLMOPT_SOCKETFUNCTION, OnSocket);
    curl_multi_setopt(multi_, CURLMOPT_SOCKETDATA, this);
    curl_multi_setopt(multi_, CURLMOPT_TIMERFUNCTION, OnTimer);
    curl_multi_setopt(multi_, CURLMOPT_TIMERDATA, this);
    thread_ = std::thread([this] { Loop(); });
  }

  // From `closed_` on, a Fetch (a `done` below retrying, another thread) is
  // cancelled on its caller's thread instead of queued where nothing runs it.
  ~CurlHttpClient() override {
    stop_ = true;
    Wake();
    thread_.join();
    std::deque<std::unique_ptr<Transfer>> pending;
    {
      MutexLock lock(mu_);
      closed_ = true;
      pending.swap(pending_);
    }
    for (auto& [easy, t] : active_) {
      curl_multi_remove_handle(multi_, easy);
      Finish(std::move(t), Error(kCancelled));
    }
    for (auto& t : pending) Finish(std::move(t), Error(kCancelled));
    for (CURL* e : free_) curl_easy_cleanup(e);
    curl_multi_cleanup(multi_);
    ::close(wake_fd_);
    ::close(epoll_);
  }

  void Fetch(HttpRequest request, HttpDone done) override {
    auto t = std::make_unique<Transfer>();
    t->request = std::move(request);
    t->done = std::move(done);
    {
      MutexLock lock(mu_);
      if (!closed_) {
        pending_.push_back(std::move(t));
        t = nullptr;
      }
    }
    if (t) {
      t->done(Error(kCancelled));  // a fresh transfer: no handle to give back
      return;
    }
    Wake();
  }

 private:
  // One eventfd write per burst of Fetch calls, not one per call.
  void Wake() {
    if (wake_pending_.exchange(true)) return;
    uint64_t one = 1;
    [[maybe_unused]] ssize_t n = ::write(wake_fd_, &one, sizeof one);
  }

  static int OnSocket(CURL*, curl_socket_t s, int what, void* user, void*) {
    auto* self = static_cast<CurlHttpClient*>(user);
    if (what == CURL_POLL_REMOVE) {
      ::epoll_ctl(self->epoll_, EPOLL_CTL_DEL, s, nullptr);
      return 0;
    }
    epoll_event ev{};
    ev.data.fd = s;
    if (what & CURL_POLL_IN) ev.events |= EPOLLIN;
    if (what & CURL_POLL_OUT) ev.events |= EPOLLOUT;
    if (::epoll_ctl(self->epoll_, EPOLL_CTL_MOD, s, &ev) != 0 && errno == ENOENT)
      ::epoll_ctl(self->epoll_, EPOLL_CTL_ADD, s, &ev);
    return 0;
  }

  static int OnTimer(CURLM*, long timeout_ms, void* user) {
    auto* self = static_cast<CurlHttpClient*>(user);
    if (timeout_ms < 0)
      self->timer_due_.reset();
    else
      self->timer_due_ = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    return 0;
  }

  void Loop() {
    constexpr int kMaxEvents = 256;
    epoll_event events[kMaxEvents];
    int running = 0;
    while (!stop_) {
      StartPending();
      int wait_ms = 1000;
      if (timer_due_) {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            *timer_due_ - std::chrono::steady_clock::now());
        wait_ms = static_cast<int>(std::clamp<int64_t>(left.count(), 0, 1000));
      }
      int n = ::epoll_wait(epoll_, events, kMaxEvents, wait_ms);
      for (int i = 0; i < n; ++i) {
        const int fd = events[i].data.fd;
        if (fd == wake_fd_) {
          uint64_t v;
          [[maybe_unused]] ssize_t r = ::read(wake_fd_, &v, sizeof v);
          wake_pending_ = false;
          continue;
        }
        int flags = 0;
        if (events[i].events & EPOLLIN) flags |= CURL_CSELECT_IN;
        if (events[i].events & EPOLLOUT) flags |= CURL_CSELECT_OUT;
        if (events[i].events & (EPOLLERR | EPOLLHUP)) flags |= CURL_CSELECT_ERR;
        curl_multi_socket_action(multi_, fd, flags, &running);
      }
      if (timer_due_ && std::chrono::steady_clock::now() >= *timer_due_) {
        timer_due_.reset();
        curl_multi_socket_action(multi_, CURL_SOCKET_TIMEOUT, 0, &running);
      }
      CollectDone();
    }
  }

  void StartPending() {
    std::deque<std::unique_ptr<Transfer>> batch;
    {
      MutexLock lock(mu_);
      while (!pending_.empty() && active_.size() + batch.size() < max_concurrent_) {
        batch.push_back(std::move(pending_.front()));
        pending_.pop_front();
      }
    }
    for (auto& t : batch) Begin(std::move(t));
  }

  void Begin(std::unique_ptr<Transfer> t) {
    CURL* e;
    if (!free_.empty()) {
      e = free_.back();
      free_.pop_back();
      curl_easy_reset(e);
    } else {
      e = curl_easy_init();
    }
    t->easy = e;
    const HttpRequest& r = t->request;
    curl_easy_setopt(e, CURLOPT_URL, r.url.c_str());
    curl_easy_setopt(e, CURLOPT_PRIVATE, t.get());
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, t->errbuf);
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    // A monitor must see the real connect, every time.
    curl_easy_setopt(e, CURLOPT_FRESH_CONNECT, 1L);
    curl_easy_setopt(e, CURLOPT_FORBID_REUSE, 1L);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS,
                     static_cast<long>(std::chrono::duration_cast<Millis>(r.timeout).count()));
    curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, r.follow_redirects ? 1L : 0L);
    curl_easy_setopt(e, CURLOPT_MAXREDIRS, static_cast<long>(r.max_redirects));
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, r.verify_tls ? 1L : 0L);
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, r.verify_tls ? 2L : 0L);
    if (!r.ca_file.empty()) curl_easy_setopt(e, CURLOPT_CAINFO, r.ca_file.c_str());
    if (r.want_certificate && r.url.rfind("https:", 0) == 0)
      curl_easy_setopt(e, CURLOPT_CERTINFO, 1L);
    curl_easy_setopt(e, CURLOPT_USERAGENT, "mamori/" MAMORI_VERSION);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, OnBody);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, t.get());
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, OnHeader);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, t.get());
    curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "");
    if (r.method == "HEAD") {
      curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
    } else if (r.method != "GET") {
      curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, r.method.c_str());
    }
    if (!r.body.empty() || r.method == "POST" || r.method == "PUT" || r.method == "PATCH") {
      curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE, static_cast<long>(r.body.size()));
      curl_easy_setopt(e, CURLOPT_POSTFIELDS, r.body.c_str());
    }
    for (const auto& [k, v] : r.headers)
      t->headers = curl_slist_append(t->headers, (k + ": " + v).c_str());
    if (t->headers) curl_easy_setopt(e, CURLOPT_HTTPHEADER, t->headers);
    if (CURLMcode mc = curl_multi_add_handle(multi_, e); mc != CURLM_OK) {
      Finish(std::move(t), Error(std::string("cannot start request: ") + curl_multi_strerror(mc)));
      return;
    }
    active_[e] = std::move(t);
  }

  void CollectDone() {
    int left = 0;
    while (CURLMsg* msg = curl_multi_info_read(multi_, &left)) {
      if (msg->msg != CURLMSG_DONE) continue;
      CURL* e = msg->easy_handle;
      const CURLcode code = msg->data.result;
      curl_multi_remove_handle(multi_, e);
      auto it = active_.find(e);
      if (it == active_.end()) continue;
      std::unique_ptr<Transfer> t = std::move(it->second);
      active_.erase(it);
      if (code != CURLE_OK) {
        Finish(std::move(t), Error(Describe(code, *t, e)));
        continue;
      }
      HttpResponse& resp = t->response;
      long status = 0;
      curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
      resp.status = static_cast<int>(status);
      curl_off_t dns = 0, connect = 0, app = 0, first = 0, total = 0;
      curl_easy_getinfo(e, CURLINFO_NAMELOOKUP_TIME_T, &dns);
      curl_easy_getinfo(e, CURLINFO_CONNECT_TIME_T, &connect);
      curl_easy_getinfo(e, CURLINFO_APPCONNECT_TIME_T, &app);
      curl_easy_getinfo(e, CURLINFO_STARTTRANSFER_TIME_T, &first);
      curl_easy_getinfo(e, CURLINFO_TOTAL_TIME_T, &total);
      resp.dns_ms = static_cast<double>(dns) / 1000.0;
      resp.connect_ms = static_cast<double>(connect - dns) / 1000.0;
      resp.tls_ms = app > 0 ? static_cast<double>(app - connect) / 1000.0 : 0.0;
      resp.first_byte_ms = static_cast<double>(first) / 1000.0;
      resp.total_ms = static_cast<double>(total) / 1000.0;
      long redirects = 0;
      curl_easy_getinfo(e, CURLINFO_REDIRECT_COUNT, &redirects);
      resp.redirects = static_cast<int>(redirects);
      char* url = nullptr;
      if (curl_easy_getinfo(e, CURLINFO_EFFECTIVE_URL, &url) == CURLE_OK && url)
        resp.effective_url = url;
      if (t->request.want_certificate) resp.cert_not_after = CertExpiry(e);
      HttpResponse out = std::move(resp);
      Finish(std::move(t), std::move(out));
    }
  }

  void Finish(std::unique_ptr<Transfer> t, Result<HttpResponse> result) {
    if (t->headers) curl_slist_free_all(t->headers);
    if (t->easy) {
      // Keep a bounded pool of handles: reset is cheaper than init.
      if (free_.size() < 256)
        free_.push_back(t->easy);
      else
        curl_easy_cleanup(t->easy);
    }
    HttpDone done = std::move(t->done);
    t.reset();
    done(std::move(result));
  }

  const size_t max_concurrent_;
  CURLM* multi_ = nullptr;
  int epoll_ = -1, wake_fd_ = -1;
  std::atomic<bool> wake_pending_{false};
  std::optional<std::chrono::steady_clock::time_point> timer_due_;  // I/O thread only
  std::thread thread_;
  std::atomic<bool> stop_{false};
  Mutex mu_;
  std::deque<std::unique_ptr<Transfer>> pending_ GUARDED_BY(mu_);
  bool closed_ GUARDED_BY(mu_) = false;                          // the destructor took the queue
  std::unordered_map<CURL*, std::unique_ptr<Transfer>> active_;  // I/O thread only
  std::vector<CURL*> free_;                                      // I/O thread only
};

}  // namespace

std::unique_ptr<HttpClient> MakeCurlHttpClient(size_t max_concurrent) {
  // libcurl is opened, and the I/O thread started, by the first request: a
  // configuration without http checks never pays for either.
  return MakeDeferredHttpClient([max_concurrent]() -> Result<std::unique_ptr<HttpClient>> {
    if (const CURLcode rc = curl_global_init(CURL_GLOBAL_DEFAULT); rc != CURLE_OK)
      return Error(curl_easy_strerror(rc));
    return std::unique_ptr<HttpClient>(std::make_unique<CurlHttpClient>(max_concurrent));
  });
}

}  // namespace mamori
