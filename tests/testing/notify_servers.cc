#include "testing/notify_servers.h"

#include <date/date.h>

#include <algorithm>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "mamori/daemon/builtin_channels.h"
#include "testing/nginx.h"

#include "mamori_source_dir.h"
#include "testing/ports.h"
#include "testing/spawn.h"

namespace mamori::testing {
namespace fs = std::filesystem;

namespace {

std::string Script(const char* name) {
  return std::string(MAMORI_SOURCE_DIR) + "/tests/testing/" + name;
}

std::vector<std::string> FilesWithSuffix(const std::string& dir, const std::string& suffix) {
  std::vector<std::string> names;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    const std::string n = e.path().filename().string();
    if (n.size() > suffix.size() && n.compare(n.size() - suffix.size(), suffix.size(), suffix) == 0)
      names.push_back(e.path().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

}  // namespace

notify::NotifyConfig NotifyFromYaml(const std::string& yaml, std::string* errors) {
  config::Diagnostics diag;
  notify::NotifyConfig out;
  auto parsed = config::Yaml::Parse(yaml);
  if (const auto* e = std::get_if<config::YamlError>(&parsed)) {
    *errors = e->message;
    return {};
  }
  config::ConfigNode top(std::get<config::Yaml>(parsed), "config", "test.yaml", &diag);
  notify::ReadNotify(top, out, BuiltinChannels());
  top.CheckUnknownKeys();
  errors->clear();
  if (!diag.empty()) {
    *errors = diag.ToString();
    return {};
  }
  return out;
}

bool WaitFor(const std::function<bool()>& cond, double seconds) {
  const auto deadline = std::chrono::steady_clock::now() +
                        std::chrono::milliseconds(static_cast<int64_t>(seconds * 1000));
  while (std::chrono::steady_clock::now() < deadline) {
    if (cond()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return cond();
}

ServerProcess::ServerProcess(std::vector<std::string> argv, int port, std::string log_file)
    : argv_(std::move(argv)), port_(port), log_file_(std::move(log_file)) {}

ServerProcess::~ServerProcess() { Stop(); }

bool ServerProcess::Start(std::string* error) {
  Stop();
  SpawnSpec spec;
  spec.argv = argv_;
  spec.output = log_file_;
  pid_ = SpawnServer(spec);
  if (pid_ < 0) {
    *error = argv_[0] + ": fork failed";
    return false;
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(15);
  while (std::chrono::steady_clock::now() < deadline) {
    if (AcceptsOnLoopback(port_)) return true;
    if (ServerExited(pid_)) {
      *error = argv_[0] + " exited: " + ReadFile(log_file_);
      return false;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  *error = argv_[0] + " did not listen within 15 s: " + ReadFile(log_file_);
  Stop();
  return false;
}

void ServerProcess::Stop() { StopProcess(pid_); }

std::unique_ptr<SmtpSink> SmtpSink::Start(std::string* error, bool starttls) {
  std::unique_ptr<SmtpSink> s(new SmtpSink());
  std::vector<std::string> argv = {"/usr/bin/python3", Script("smtp_sink.py"), "", s->dir_.path()};
  if (starttls) {
    s->cert_ = s->dir_.path() + "/cert.pem";
    const std::string cmd =
        "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 "
        "-subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 -keyout " +
        (s->dir_.path() + "/key.pem") + " -out " + s->cert_ + " >" +
        (s->dir_.path() + "/openssl.log") + " 2>&1";
    if (std::system(cmd.c_str()) != 0) {
      *error = "openssl failed: " + ReadFile(s->dir_.path() + "/openssl.log");
      return nullptr;
    }
    argv.push_back(s->cert_);
    argv.push_back(s->dir_.path() + "/key.pem");
  }
  for (int attempt = 0; attempt < 3; ++attempt) {
    const int port = PickFreePort();
    argv[2] = std::to_string(port);
    s->server_ = std::make_unique<ServerProcess>(argv, port, s->dir_.path() + "/server.log");
    if (s->server_->Start(error)) return s;
  }
  return nullptr;
}

std::string SmtpSink::Url() const { return "smtp://127.0.0.1:" + std::to_string(port()); }

void SmtpSink::RejectWith(const std::string& reply) {
  if (reply.empty()) {
    std::error_code ec;
    fs::remove(dir_.path() + "/reject", ec);
  } else {
    std::ofstream(dir_.path() + "/reject") << reply << "\n";
  }
}

std::vector<std::string> SmtpSink::Messages() const {
  std::vector<std::string> out;
  for (const auto& f : FilesWithSuffix(dir_.path(), ".eml")) out.push_back(ReadFile(f));
  return out;
}

std::unique_ptr<WebhookSink> WebhookSink::Start(std::string* error) {
  std::unique_ptr<WebhookSink> s(new WebhookSink());
  for (int attempt = 0; attempt < 3; ++attempt) {
    const int port = PickFreePort();
    s->server_ = std::make_unique<ServerProcess>(
        std::vector<std::string>{"/usr/bin/python3", Script("webhook_sink.py"),
                                 std::to_string(port), s->dir_.path()},
        port, s->dir_.path() + "/server.log");
    if (s->server_->Start(error)) return s;
  }
  return nullptr;
}

std::string WebhookSink::Url(const std::string& path) const {
  return "http://127.0.0.1:" + std::to_string(server_->port()) + path;
}

void WebhookSink::AnswerStatus(int status) {
  if (status == 200) {
    std::error_code ec;
    fs::remove(dir_.path() + "/status", ec);
  } else {
    std::ofstream(dir_.path() + "/status") << status << "\n";
  }
}

std::vector<std::string> WebhookSink::Requests() const {
  std::vector<std::string> out;
  for (const auto& f : FilesWithSuffix(dir_.path(), ".json")) out.push_back(ReadFile(f));
  return out;
}

std::unique_ptr<Alertmanager> Alertmanager::Start(std::string* error) {
  std::unique_ptr<Alertmanager> s(new Alertmanager());
  // A receiver with no integrations: alerts are stored and listed, not sent.
  std::ofstream(s->dir_.path() + "/alertmanager.yml") << "route:\n  receiver: blackhole\n"
                                                         "receivers:\n  - name: blackhole\n";
  s->log_ = s->dir_.path() + "/alertmanager.log";
  for (int attempt = 0; attempt < 3; ++attempt) {
    const int port = PickFreePort();
    s->server_ = std::make_unique<ServerProcess>(
        std::vector<std::string>{"/usr/bin/prometheus-alertmanager",
                                 "--config.file=" + (s->dir_.path() + "/alertmanager.yml"),
                                 "--storage.path=" + (s->dir_.path() + "/data"),
                                 "--web.listen-address=127.0.0.1:" + std::to_string(port),
                                 "--cluster.listen-address="},
        port, s->log_);
    if (s->server_->Start(error)) return s;
  }
  return nullptr;
}

std::string Alertmanager::Url() const {
  return "http://127.0.0.1:" + std::to_string(server_->port());
}

notify::Notification SampleProblem(WallTime now, const std::string& check,
                                   const std::string& summary) {
  notify::Notification n;
  n.id = notify::NewNotificationId();
  n.kind = notify::Kind::kProblem;
  n.time = now;
  n.host = "db1";
  notify::Item it;
  it.check = check;
  it.to = CheckStatus::kCritical;
  it.summary = summary;
  it.since = now;
  n.items.push_back(it);
  return n;
}

Mail ParseMail(const std::string& raw) {
  Mail m;
  const size_t split = raw.find("\r\n\r\n");
  const std::string head = raw.substr(0, split);
  m.body = split == std::string::npos ? "" : raw.substr(split + 4);
  size_t pos = 0;
  while (pos < head.size()) {
    size_t eol = head.find("\r\n", pos);
    if (eol == std::string::npos) eol = head.size();
    std::string line = head.substr(pos, eol - pos);
    while (eol + 2 < head.size() && (head[eol + 2] == ' ' || head[eol + 2] == '\t')) {
      const size_t next = std::min(head.find("\r\n", eol + 2), head.size());
      line += head.substr(eol + 2, next - eol - 2);
      eol = next;
    }
    if (line.rfind("Subject: ", 0) == 0) m.subject = line.substr(9);
    if (line.rfind("X-Mamori-Kind: ", 0) == 0) m.kind = line.substr(15);
    pos = eol + 2;
  }
  return m;
}

std::string Tokyo(WallTime t) {
  using namespace std::chrono_literals;
  return date::format("%FT%T", date::floor<std::chrono::milliseconds>(t + 9h)) + "+09:00";
}

}  // namespace mamori::testing
