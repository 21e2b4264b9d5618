// Real receivers for the notification tests, each started on 127.0.0.1 on a
// port the kernel picked, with its own temporary directory:
//   SmtpSink      a real aiosmtpd SMTP server (tests/testing/smtp_sink.py),
//                 Maildir-like: one file per accepted message; can be told to
//                 refuse messages with a given reply, and to require STARTTLS
//   WebhookSink   python3's http.server recording every request body
//                 (tests/testing/webhook_sink.py); can answer any status
//   Alertmanager  the real prometheus-alertmanager, clustering off
// Ownership: each object owns its process group and directory; the destructor
// kills the group (SIGTERM, then SIGKILL) and removes the directory. Stop()
// and Start() on the same port simulate a receiver that is down for a while.
// Not thread-safe; one per test.
#pragma once

#include "testing/ports.h"

#include <sys/types.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "mamori/notify/notification.h"
#include "mamori/notify/notify_config.h"
#include "testing/cli.h"

namespace mamori::testing {

// Reads a whole config text's `notify:` (and `outbox:`) the way the loader
// does, unknown-key checks included. On problems returns an empty config and
// puts the diagnostics (one per line) in `errors`.
notify::NotifyConfig NotifyFromYaml(const std::string& yaml, std::string* errors);

// A child process (in its own process group) serving on a loopback port.
class ServerProcess {
 public:
  ServerProcess(std::vector<std::string> argv, int port, std::string log_file);
  ~ServerProcess();
  // Starts and waits until the port accepts connections (at most 15 s).
  bool Start(std::string* error);
  void Stop();
  bool running() const { return pid_ > 0; }
  int port() const { return port_; }

 private:
  std::vector<std::string> argv_;
  int port_;
  std::string log_file_;
  pid_t pid_ = -1;
};

class SmtpSink {
 public:
  // With `starttls`, a self-signed certificate for 127.0.0.1 is made and
  // STARTTLS is required; cert_file() is then the CA to trust.
  static std::unique_ptr<SmtpSink> Start(std::string* error, bool starttls = false);
  std::string Url() const;  // smtp://127.0.0.1:PORT
  int port() const { return server_->port(); }
  void Stop() { server_->Stop(); }
  bool Restart(std::string* error) { return server_->Start(error); }
  // From now on, refuse every message at the end of DATA with `reply`
  // ("550 5.7.1 ..."); an empty reply accepts again.
  void RejectWith(const std::string& reply);
  // The raw messages received so far, in order.
  std::vector<std::string> Messages() const;
  const std::string& cert_file() const { return cert_; }

 private:
  TempDir dir_;
  std::string cert_;
  std::unique_ptr<ServerProcess> server_;
};

class WebhookSink {
 public:
  static std::unique_ptr<WebhookSink> Start(std::string* error);
  std::string Url(const std::string& path = "/hook") const;
  void Stop() { server_->Stop(); }
  bool Restart(std::string* error) { return server_->Start(error); }
  void AnswerStatus(int status);  // 200 restores the default
  // The recorded requests as JSON text ({"method","path","headers","body"}).
  std::vector<std::string> Requests() const;

 private:
  TempDir dir_;
  std::unique_ptr<ServerProcess> server_;
};

class Alertmanager {
 public:
  static std::unique_ptr<Alertmanager> Start(std::string* error);
  std::string Url() const;  // http://127.0.0.1:PORT
  const std::string& log_file() const { return log_; }
  void Stop() { server_->Stop(); }

 private:
  TempDir dir_;
  std::string log_;
  std::unique_ptr<ServerProcess> server_;
};

// A received e-mail: Subject and X-Mamori-Kind headers (unfolded) and the
// body (7bit, as mamori sends plain text here).
struct Mail {
  std::string subject, kind, body;
};
Mail ParseMail(const std::string& raw);

// RFC 3339 in Tokyo time (+09:00), as a hosting company announces a window.
std::string Tokyo(WallTime t);

// A one-item problem notification about `check`, timed `now`, with a fresh id.
notify::Notification SampleProblem(WallTime now, const std::string& check,
                                   const std::string& summary);

// Polls `cond` every 10 ms until it holds or `seconds` pass.
bool WaitFor(const std::function<bool()>& cond, double seconds = 10);

}  // namespace mamori::testing
