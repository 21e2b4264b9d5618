#include "mamori/faces/api.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <filesystem>
#include <thread>

#include "mamori/util/mutex.h"
#include "testing/http_call.h"
#include "testing/openapi_check.h"

namespace mamori::faces {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;
using testing::HttpCall;
using testing::HttpReply;

constexpr const char* kReadToken = "read-token-0123456789abcdef";
constexpr const char* kWriteToken = "write-token-0123456789abcdef";

LiveCheck Live(std::string name, std::string description, std::vector<std::string> tags) {
  LiveCheck l;
  l.name = std::move(name);
  l.type = "http";
  l.description = std::move(description);
  l.tags = std::move(tags);
  return l;
}

// One real HTTP server (127.0.0.1, any port) in front of a FacesApi over a
// real store, for the whole suite; every response is checked against
// docs/openapi.json as compiled into the binary.
class FacesApiTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    char tmpl[] = "/tmp/mamori-faces-api-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = new std::string(tmpl);
    clock_ = new SystemClock();
    auto s = Store::Open(*dir_ + "/data", *clock_, Store::OpenMode::kReadWrite);
    ASSERT_TRUE(s.ok()) << s.error().message();
    store_ = s.value().release();
    auto o = OperatorStore::Open(*dir_ + "/data", *clock_);
    ASSERT_TRUE(o.ok()) << o.error().message();
    ops_ = o.value().release();
    Seed();
    FacesApi::Hooks hooks;
    hooks.live = [](std::function<void(std::vector<LiveCheck>)> done) {
      done({Live("web", "The shop", {}), Live("db", "Database", {"public"}),
            Live("secret", "Internal", {"internal"})});
    };
    hooks.run = [](const std::string& name) {
      MutexLock lock(runs_mu_);
      runs_->push_back(name);
    };
    runs_ = new std::vector<std::string>();
    api_ = new FacesApi(*store_, *ops_, *clock_, std::move(hooks));
    FacesConfig cfg;
    cfg.tokens = {{kReadToken, Scope::kRead}, {kWriteToken, Scope::kWrite}};
    cfg.status_page.enabled = true;
    cfg.status_page.title = "Example status";
    cfg.status_page.checks = {"web", "public"};
    api_->Configure(cfg);
    io_ = new boost::asio::io_context();
    auto srv = web::HttpServer::Start(
        *io_, "127.0.0.1:0", web::Limits{}, [](const web::Request& h) { return api_->Admit(h); },
        [](web::Request r, web::Respond respond) {
          api_->Handle(std::move(r), std::move(respond));
        });
    ASSERT_TRUE(srv.ok()) << srv.error().message();
    server_ = srv.value().release();
    thread_ = new std::thread([] { io_->run(); });
    check_ = new testing::OpenApiCheck(OpenApiDocument());
  }
  static void TearDownTestSuite() {
    io_->stop();
    thread_->join();
    delete server_;
    delete io_;
    delete api_;
    delete ops_;
    delete store_;
    delete check_;
    delete thread_;
    delete runs_;
    fs::remove_all(*dir_);
    delete dir_;
    delete clock_;
  }
  static void Seed() {
    const WallTime now = clock_->Now();
    for (int m = 120; m > 0; --m) {
      Observation o;
      o.time = now - std::chrono::minutes(m);
      o.status = m > 60 && m <= 70 ? CheckStatus::kCritical : CheckStatus::kOk;
      o.duration = 12ms;
      o.summary = "HTTP 200";
      store_->Record("web", "http", o);
      store_->Record("secret", "command", o);
    }
    Event down{now - 70min,      "web", EventKind::kStateChange,
               CheckStatus::kOk, {},    CheckStatus::kCritical,
               "refused"};
    Event up{now - 60min,      "web", EventKind::kStateChange, CheckStatus::kCritical, {},
             CheckStatus::kOk, "back"};
    Event hidden{now - 50min,      "secret", EventKind::kStateChange,
                 CheckStatus::kOk, {},       CheckStatus::kCritical,
                 "secret-failure"};
    for (const auto& e : {down, up, hidden}) store_->RecordEvent(e);
    CheckSnapshot snap;
    snap.name = "web";
    snap.type = "http";
    snap.hard = CheckStatus::kOk;
    snap.hard_since = now - 60min;
    snap.last_time = now - 1min;
    snap.summary = "HTTP 200";
    store_->SaveSnapshot(snap);
    ASSERT_TRUE(store_->Flush().ok());
  }

  // Every call goes through here: the answer must match the document.
  HttpReply Call(const std::string& method, const std::string& target, const std::string& body = "",
                 const std::string& headers = "") {
    HttpReply r = HttpCall(server_->port(), method, target, body, headers);
    EXPECT_EQ(check_->Check(method, target, r.status, r.header("content-type"), r.body), "");
    return r;
  }
  static std::string Bearer(const char* token) {
    return std::string("Authorization: Bearer ") + token + "\r\n";
  }
  static nlohmann::json Json(const HttpReply& r) { return nlohmann::json::parse(r.body); }

  static inline std::string* dir_;
  static inline SystemClock* clock_;
  static inline Store* store_;
  static inline OperatorStore* ops_;
  static inline FacesApi* api_;
  static inline boost::asio::io_context* io_;
  static inline web::HttpServer* server_;
  static inline std::thread* thread_;
  static inline testing::OpenApiCheck* check_;
  static inline Mutex runs_mu_;
  static inline std::vector<std::string>* runs_;
};

TEST_F(FacesApiTest, LoopbackReadsNeedNoTokenAndMatchTheDocument) {
  auto checks = Call("GET", "/api/v1/checks");
  ASSERT_EQ(checks.status, 200) << checks.body;
  auto j = Json(checks);
  ASSERT_EQ(j["checks"].size(), 3u);
  EXPECT_EQ(j["checks"][0]["status"], "ok");
  EXPECT_EQ(j["checks"][1]["status"], "pending");

  auto web = Json(Call("GET", "/api/v1/checks/web"));
  EXPECT_NEAR(web["uptime"]["24h"]["uptime"].get<double>(), 110.0 / 120.0, 1e-9);
  EXPECT_EQ(web["uptime"]["24h"]["critical"], 10);

  const WallTime now = clock_->Now();
  const int64_t since = ToUnixMillis(now - 2h) / 1000;
  auto h = Call("GET", "/api/v1/checks/web/history?since=" + std::to_string(since) +
                           "&until=" + std::to_string(since + 7200) + "&step=30m");
  ASSERT_EQ(h.status, 200) << h.body;
  auto hist = Json(h);
  ASSERT_EQ(hist["buckets"].size(), 4u);
  int critical = 0;
  for (const auto& b : hist["buckets"]) critical += b["critical"].get<int>();
  EXPECT_EQ(critical, 10);

  auto up = Json(Call("GET", "/api/v1/uptime?window=24h"));
  EXPECT_EQ(up["checks"].size(), 3u);
  auto inc = Json(Call("GET", "/api/v1/incidents?check=web"));
  ASSERT_EQ(inc["incidents"].size(), 1u);
  EXPECT_FALSE(inc["incidents"][0]["ended"].is_null());
  EXPECT_EQ(Call("GET", "/api/v1/openapi.json").status, 200);
  EXPECT_GT(check_->checked(), 5);
}

TEST_F(FacesApiTest, RemoteReadersNeedAReadTokenComparedExactly) {
  const std::string remote = "X-Forwarded-For: 203.0.113.9\r\n";
  auto r = Call("GET", "/api/v1/checks", "", remote);
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(r.header("www-authenticate"), "Bearer");
  EXPECT_EQ(Json(r)["error"], "unauthorized");
  EXPECT_EQ(Call("GET", "/api/v1/checks", "", remote + Bearer(kReadToken)).status, 200);
  EXPECT_EQ(Call("GET", "/api/v1/checks", "", remote + Bearer(kWriteToken)).status, 200);
  std::string almost = kReadToken;
  almost.back() = 'X';
  EXPECT_EQ(Call("GET", "/api/v1/checks", "", remote + Bearer(almost.c_str())).status, 401);
  EXPECT_EQ(Call("GET", "/api/v1/checks", "", remote + Bearer("read-token")).status, 401);
}

// A page of another site in a browser on this host: it may reach 127.0.0.1,
// but says so in Host (DNS rebinding) or Origin (a cross-site request).
TEST_F(FacesApiTest, ForeignPagesInALocalBrowserAreNotLocalCallers) {
  const std::string here = "127.0.0.1:" + std::to_string(server_->port());
  const auto get = [&](const std::string& headers) {
    return Call("GET", "/api/v1/checks", "", headers).status;
  };
  EXPECT_EQ(get("Host: localhost:" + std::to_string(server_->port()) + "\r\n"), 200);
  // The dashboard's own requests: same host and port in Host and Origin.
  EXPECT_EQ(get("Host: " + here + "\r\nOrigin: http://" + here + "\r\n"), 200);
  const std::string rebound = "Host: rebind.example:" + std::to_string(server_->port()) + "\r\n";
  auto r = Call("GET", "/api/v1/checks", "", rebound);
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(Json(r)["error"], "unauthorized");
  EXPECT_EQ(get("Host: " + here + "\r\nOrigin: https://attacker.example\r\n"), 401);
  EXPECT_EQ(get("Host: " + here + "\r\nOrigin: http://localhost:3000\r\n"), 401);
  EXPECT_EQ(get("Host: " + here + "\r\nOrigin: null\r\n"), 401);
  // With a token the same request is fine: it is the key, not the place.
  EXPECT_EQ(get("Origin: https://attacker.example\r\n" + std::string(Bearer(kReadToken))), 200);
}

// A stream is authorised when it opens; when the tokens change (a reload
// that revokes one) every stream is ended and must be authorised again.
TEST_F(FacesApiTest, ChangedTokensEndTheOpenEventStreams) {
  web::EventHub hub;
  api_->SetEvents(&hub);
  auto stream = hub.Subscribe();
  ASSERT_TRUE(stream);
  FacesConfig before;  // as the suite configured it
  before.tokens = {{kReadToken, Scope::kRead}, {kWriteToken, Scope::kWrite}};
  before.status_page.enabled = true;
  before.status_page.title = "Example status";
  before.status_page.checks = {"web", "public"};
  api_->Configure(before);  // the same tokens: nothing ends
  EXPECT_EQ(stream->state(), web::EventStream::State::kOpen);
  FacesConfig revoked = before;
  revoked.tokens.pop_back();
  api_->Configure(revoked);
  EXPECT_EQ(stream->state(), web::EventStream::State::kClosed);
  api_->Configure(before);
  api_->SetEvents(nullptr);
}

struct FileState {
  off_t size;
  int64_t mtime_ns;
  bool operator==(const FileState&) const = default;
};
FileState StateOf(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return {-1, 0};
  return {st.st_size, st.st_mtim.tv_sec * 1'000'000'000LL + st.st_mtim.tv_nsec};
}

TEST_F(FacesApiTest, WritesNeedAWriteTokenAndARefusedOneTouchesNoDisk) {
  const std::string db = *dir_ + "/data/faces.db";
  const FileState before{StateOf(db)}, wal_before{StateOf(db + "-wal")};
  const std::string body = R"({"duration": "2h", "checks": ["web"], "reason": "upgrade"})";
  EXPECT_EQ(Call("POST", "/api/v1/maintenance", body).status, 401);  // loopback is not enough
  EXPECT_EQ(Call("POST", "/api/v1/maintenance", body, Bearer(kReadToken)).status, 403);
  EXPECT_EQ(StateOf(db), before);
  EXPECT_EQ(StateOf(db + "-wal"), wal_before);

  auto made = Call("POST", "/api/v1/maintenance", body, Bearer(kWriteToken));
  ASSERT_EQ(made.status, 201) << made.body;
  const int64_t id = Json(made)["id"];
  EXPECT_TRUE(Json(made)["active"].get<bool>());
  EXPECT_TRUE(ops_->Holding("web", {}, clock_->Now()).has_value());
  auto list = Json(Call("GET", "/api/v1/maintenance"));
  ASSERT_EQ(list["maintenance"].size(), 1u);
  const std::string path = "/api/v1/maintenance/" + std::to_string(id);
  EXPECT_EQ(Call("DELETE", path, "", Bearer(kWriteToken)).status, 200);
  EXPECT_EQ(Call("DELETE", path, "", Bearer(kWriteToken)).status, 404);
  // Cut short, it holds until the daemon takes it for the after-maintenance run.
  EXPECT_TRUE(ops_->Holding("web", {}, clock_->Now()).has_value());
  const auto ended = ops_->TakeEnded();
  ASSERT_EQ(ended.size(), 1u);
  EXPECT_EQ(ended[0].id, id);
  EXPECT_FALSE(ops_->Holding("web", {}, clock_->Now()).has_value());
  EXPECT_EQ(Call("POST", "/api/v1/maintenance", R"({"checks": ["nope"], "duration": "1h"})",
                 Bearer(kWriteToken))
                .status,
            400);
  EXPECT_EQ(Call("POST", "/api/v1/maintenance",
                 R"({"duration": "1h", "end": "2030-01-01T00:00:00Z"})", Bearer(kWriteToken))
                .status,
            400);
  EXPECT_EQ(Call("POST", "/api/v1/maintenance", "{not json", Bearer(kWriteToken)).status, 400);
}

TEST_F(FacesApiTest, SilencesAnnouncementsNotesAndRuns) {
  auto s = Call("POST", "/api/v1/silences", R"({"checks": ["db"], "duration": "30m"})",
                Bearer(kWriteToken));
  ASSERT_EQ(s.status, 201) << s.body;
  EXPECT_EQ(Json(s)["kind"], "silence");
  EXPECT_EQ(Call("POST", "/api/v1/silences", R"({"duration": "30m"})", Bearer(kWriteToken)).status,
            400);  // a silence names what it silences
  EXPECT_EQ(Json(Call("GET", "/api/v1/silences"))["silences"].size(), 1u);

  auto a = Call("POST", "/api/v1/announcements",
                R"({"level": "warning", "title": "Planned work", "text": "Tonight 22:00"})",
                Bearer(kWriteToken));
  ASSERT_EQ(a.status, 201) << a.body;
  EXPECT_EQ(Call("POST", "/api/v1/announcements", R"({"level": "panic", "title": "x"})",
                 Bearer(kWriteToken))
                .status,
            400);
  EXPECT_GE(Json(Call("GET", "/api/v1/announcements"))["announcements"].size(), 1u);

  const std::string incident =
      Json(Call("GET", "/api/v1/incidents?check=web"))["incidents"][0]["id"];
  auto n = Call("POST", "/api/v1/incidents/" + incident + "/notes",
                R"({"text": "The upstream provider restarted a router."})", Bearer(kWriteToken));
  ASSERT_EQ(n.status, 201) << n.body;
  auto inc = Json(Call("GET", "/api/v1/incidents?check=web"));
  ASSERT_EQ(inc["incidents"][0]["notes"].size(), 1u);
  EXPECT_EQ(Call("POST", "/api/v1/incidents/0123456789abcdef/notes", R"({"text": "x"})",
                 Bearer(kWriteToken))
                .status,
            404);

  EXPECT_EQ(Call("POST", "/api/v1/checks/web/run", "", Bearer(kWriteToken)).status, 202);
  EXPECT_EQ(Call("POST", "/api/v1/checks/nope/run", "", Bearer(kWriteToken)).status, 404);
  MutexLock lock(runs_mu_);
  EXPECT_EQ(*runs_, std::vector<std::string>{"web"});
}

TEST_F(FacesApiTest, ErrorsAreJsonWithTheRightStatus) {
  auto r = Call("GET", "/api/v1/checks/nope");
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(Json(r)["detail"], "nope");
  EXPECT_EQ(Call("GET", "/api/v1/uptime?window=forever").status, 400);
  EXPECT_EQ(Call("GET", "/api/v1/checks/web/history?step=1s").status, 400);
  EXPECT_EQ(Call("GET", "/api/v1/checks/web/history?since=yesterday").status, 400);
  auto wrong = HttpCall(server_->port(), "PUT", "/api/v1/checks");
  EXPECT_EQ(wrong.status, 405);
  EXPECT_EQ(Json(wrong)["error"], "method not allowed");
  auto big = HttpCall(server_->port(), "POST", "/api/v1/announcements",
                      std::string(FacesApi::kMaxWriteBody + 1, ' '), Bearer(kWriteToken));
  EXPECT_EQ(big.status, 413);
}

TEST_F(FacesApiTest, StatusPageAndBadgesShowOnlyListedChecks) {
  auto page = Call("GET", "/status");
  ASSERT_EQ(page.status, 200);
  EXPECT_NE(page.header("content-security-policy").find("default-src 'none'"), std::string::npos);
  EXPECT_NE(page.body.find("data-check=\"web\""), std::string::npos);
  EXPECT_NE(page.body.find("data-check=\"db\""), std::string::npos);  // by its tag
  EXPECT_EQ(page.body.find("secret"), std::string::npos);
  EXPECT_EQ(page.body.find("<script"), std::string::npos);
  auto json = Call("GET", "/status.json");
  ASSERT_EQ(json.status, 200);
  EXPECT_EQ(json.body.find("secret"), std::string::npos);
  auto j = Json(json);
  ASSERT_EQ(j["checks"].size(), 2u);
  EXPECT_EQ(j["checks"][0]["days"].size(), 90u);
  EXPECT_FALSE(j["checks"][0].contains("response_ms"));  // show_response_times is off
  EXPECT_EQ(j["incidents"].size(), 1u);                  // web's; secret's is not shown

  auto badge = Call("GET", "/badge/web.svg");
  ASSERT_EQ(badge.status, 200);
  EXPECT_EQ(badge.header("content-type"), "image/svg+xml");
  EXPECT_NE(badge.body.find(">ok<"), std::string::npos);
  auto uptime = Call("GET", "/badge/web/uptime-30d.svg");
  ASSERT_EQ(uptime.status, 200);
  EXPECT_NE(uptime.body.find("91.67%"), std::string::npos);
  EXPECT_EQ(Call("GET", "/badge/secret.svg").status, 404);
  EXPECT_EQ(Call("GET", "/badge/secret/uptime-30d.svg").status, 404);
  EXPECT_EQ(Call("GET", "/badge/web/uptime-forever.svg").status, 404);
}

TEST(FacesApiRate, EachSourceGetsABurstThenTheRate) {
  char tmpl[] = "/tmp/mamori-faces-rate-XXXXXX";
  ASSERT_NE(::mkdtemp(tmpl), nullptr);
  const std::string dir = tmpl;
  FakeClock clock;
  {
    auto store = Store::Open(dir + "/data", clock, Store::OpenMode::kReadWrite);
    ASSERT_TRUE(store.ok()) << store.error().message();
    auto ops = OperatorStore::Open(dir + "/data", clock);
    ASSERT_TRUE(ops.ok()) << ops.error().message();
    FacesApi api(**store, **ops, clock, {});
    web::Request head;
    head.method = "GET";
    head.target = "/status.css";
    head.peer = boost::asio::ip::make_address("127.0.0.1");
    const int burst = static_cast<int>(FacesApi::kRatePerSecond * 2);
    for (int i = 0; i < burst; ++i) ASSERT_FALSE(api.Admit(head).answer) << i;
    auto refused = api.Admit(head);
    ASSERT_TRUE(refused.answer);
    EXPECT_EQ(refused.answer->status, 429);
    web::Request other = head;
    other.peer = boost::asio::ip::make_address("127.0.0.2");
    EXPECT_FALSE(api.Admit(other).answer);  // buckets are per source
    clock.Advance(1s);
    for (int i = 0; i < static_cast<int>(FacesApi::kRatePerSecond); ++i)
      ASSERT_FALSE(api.Admit(head).answer) << i;
    EXPECT_TRUE(api.Admit(head).answer);
  }
  fs::remove_all(dir);
}

TEST(OpenApiCheckTest, ItFailsOnAResponseTheDocumentDoesNotDescribe) {
  testing::OpenApiCheck check(OpenApiDocument());
  EXPECT_EQ(check.Check("GET", "/api/v1/announcements", 200, "application/json",
                        R"({"announcements": []})"),
            "");
  EXPECT_NE(check.Check("GET", "/api/v1/announcements", 200, "application/json",
                        R"({"announcements": [], "extra": 1})"),
            "");
  EXPECT_NE(check.Check("GET", "/api/v1/checks", 200, "application/json", R"({"checks": [{}]})"),
            "");
  EXPECT_NE(check.Check("GET", "/api/v1/nowhere", 200, "application/json", "{}"), "");
  EXPECT_NE(check.Check("GET", "/api/v1/checks", 200, "text/html", "<p>"), "");
}

}  // namespace
}  // namespace mamori::faces
