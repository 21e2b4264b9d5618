#include "testing/nginx.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "testing/ports.h"
#include "testing/spawn.h"

namespace mamori::testing {
namespace fs = std::filesystem;

namespace {

const char* NginxBinary() {
  for (const char* p : {"/usr/sbin/nginx", "/usr/bin/nginx"})
    if (::access(p, X_OK) == 0) return p;
  return "nginx";
}

}  // namespace

std::unique_ptr<NginxServer> NginxServer::Start(const Options& options, std::string* error) {
  std::unique_ptr<NginxServer> s(new NginxServer());
  std::string tmpl = (fs::temp_directory_path() / "mamori-nginx-XXXXXX").string();
  if (!::mkdtemp(tmpl.data())) {
    *error = "mkdtemp failed";
    return nullptr;
  }
  s->dir_ = tmpl;
  // When the tests run as root, nginx's workers run as an unprivileged user
  // and must be able to read the document root.
  fs::permissions(s->dir_, fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                               fs::perms::others_read | fs::perms::others_exec);
  s->tls_ = options.tls;
  fs::create_directories(s->dir_ + "/logs");
  fs::create_directories(s->dir_ + "/tmp");
  fs::create_directories(s->dir_ + "/html");
  std::ofstream(s->dir_ + "/html/index.html") << "hello from nginx\n";
  std::ofstream(s->dir_ + "/html/slow.txt") << std::string(60 * 1024, 'x');

  if (options.tls) {
    s->cert_file_ = s->dir_ + "/cert.pem";
    const std::string cmd =
        "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days " +
        std::to_string(options.cert_days) +
        " -subj /CN=localhost -addext subjectAltName=DNS:localhost,IP:127.0.0.1 -keyout " +
        s->dir_ + "/key.pem -out " + s->cert_file_ + " >" + s->dir_ + "/openssl.log 2>&1";
    if (std::system(cmd.c_str()) != 0) {
      *error = "openssl failed: " + ReadFile(s->dir_ + "/openssl.log");
      return nullptr;
    }
  }

  for (int attempt = 0; attempt < 5; ++attempt) {
    s->port_ = PickFreePort();
    std::ofstream conf(s->dir_ + "/nginx.conf", std::ios::trunc);
    conf << "worker_processes 1;\n"
         << "pid " << s->dir_ << "/nginx.pid;\n"
         << "error_log " << s->dir_ << "/logs/error.log warn;\n"
         << "events { worker_connections 4096; }\n"
         << "http {\n"
         << "  access_log " << s->dir_ << "/logs/access.log;\n"
         << "  client_body_temp_path " << s->dir_ << "/tmp/body;\n"
         << "  proxy_temp_path " << s->dir_ << "/tmp/proxy;\n"
         << "  fastcgi_temp_path " << s->dir_ << "/tmp/fastcgi;\n"
         << "  uwsgi_temp_path " << s->dir_ << "/tmp/uwsgi;\n"
         << "  scgi_temp_path " << s->dir_ << "/tmp/scgi;\n"
         << "  keepalive_requests 100000;\n"
         << "  server {\n"
         << "    listen 127.0.0.1:" << s->port_ << (options.tls ? " ssl" : "")
         << " backlog=4096;\n";
    if (options.tls)
      conf << "    ssl_certificate " << s->cert_file_ << ";\n"
           << "    ssl_certificate_key " << s->dir_ << "/key.pem;\n";
    conf << "    root " << s->dir_ << "/html;\n"
         << "    default_type text/plain;\n"
         << "    location = / { return 200 \"hello from nginx\\n\"; }\n"
         << "    location = /down { return 503 \"service unavailable\\n\"; }\n"
         << "    location = /dberror { return 200 \"<h1>Error establishing a database "
            "connection</h1>\\n\"; }\n"
         << "    location = /redirect { return 302 /; }\n"
         << "    location = /loop { return 302 /loop; }\n"
         << "    location = /slow.txt { limit_rate 100k; sendfile off; }\n"
         << "    location = /echo-method { return 200 \"method=$request_method ua=$http_user_agent "
            "x=$http_x_mamori\\n\"; }\n"
         << options.extra_config << "\n"
         << "  }\n"
         << "}\n";
    conf.close();

    SpawnSpec spec;
    spec.argv = {NginxBinary(),
                 "-p",
                 s->dir_ + "/",
                 "-c",
                 s->dir_ + "/nginx.conf",
                 "-e",
                 s->dir_ + "/logs/stderr.log",
                 "-g",
                 "daemon off;"};
    s->pid_ = SpawnServer(spec);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (s->pid_ > 0 && std::chrono::steady_clock::now() < deadline) {
      if (AcceptsOnLoopback(s->port_)) return s;
      if (ServerExited(s->pid_)) break;  // port taken or bad config; try again
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    StopProcess(s->pid_, SIGKILL);  // alive but never ready: do not leave it behind
  }
  *error = "nginx did not start: " + ReadFile(s->dir_ + "/logs/error.log") +
           ReadFile(s->dir_ + "/logs/stderr.log");
  return nullptr;
}

std::unique_ptr<NginxServer> NginxServer::StartWithUnixSocket(const std::string& socket_path,
                                                              std::string* error) {
  Options opts;
  opts.extra_config = "listen unix:" + socket_path + ";";
  return Start(opts, error);
}

void NginxServer::Crash() {
  if (pid_ <= 0) return;
  StopProcess(pid_, SIGKILL);  // the master and its workers, at once
}

NginxServer::~NginxServer() {
  StopProcess(pid_);
  std::error_code ec;
  if (!dir_.empty()) fs::remove_all(dir_, ec);
}

std::string NginxServer::Url(const std::string& path) const {
  return std::string(tls_ ? "https" : "http") + "://127.0.0.1:" + std::to_string(port_) + path;
}

size_t NginxServer::AccessCount() const {
  std::ifstream f(dir_ + "/logs/access.log");
  size_t n = 0;
  std::string line;
  while (std::getline(f, line)) ++n;
  return n;
}

}  // namespace mamori::testing
