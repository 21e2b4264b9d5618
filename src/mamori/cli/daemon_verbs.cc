// The verbs around the daemon and its heartbeats: run, heartbeat new, exec.
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/asio/io_context.hpp>
#include <boost/asio/thread_pool.hpp>
#include <iostream>

#include "mamori/cli/verbs.h"
#include "mamori/daemon/daemon.h"
#include "mamori/heartbeat/exec.h"
#include "mamori/heartbeat/heartbeat_book.h"
#include "mamori/util/units.h"

namespace mamori::cli {
namespace {

struct ExecArgs {
  std::string url, check, file, timeout, ping_timeout = "10s";
  std::vector<std::string> argv;
};

// The ping URL of heartbeat check `args.check` in the configuration -c FILE.
int ExecPingUrlFromConfig(const ExecArgs& args, heartbeat::ExecOptions& eo) {
  if (args.file.empty()) {
    std::cerr << "mamori exec: --check needs the configuration: add -c FILE\n";
    return kExitUsage;
  }
  auto config = LoadOrReport(args.file, "");
  if (!config) return kExitUnknown;
  const CheckConfig* c = config->FindCheck(args.check);
  // The heartbeat files its ping address with a book when attached.
  heartbeat::HeartbeatBook book;
  if (c && c->probe) {
    boost::asio::io_context io;
    boost::asio::thread_pool pool(1);
    SystemClock clock;
    ProbeEnv env{clock, io, pool, nullptr};
    env.services.Provide(&book);
    c->probe->Attach(env);
  }
  auto hb = book.RouteOf(args.check);
  if (!hb || hb->uuid.empty()) {
    std::cerr << fmt::format("mamori exec: {} has no heartbeat check '{}' with a uuid\n", args.file,
                             args.check);
    return kExitUsage;
  }
  eo.ping_url = fmt::format("http://{}/ping/{}", config->api.listen, hb->uuid);
  eo.max_body = config->api.max_body;
  return 0;
}

int RunExecVerb(const ExecArgs& args) {
  heartbeat::ExecOptions eo;
  eo.argv = args.argv;
  if (!args.timeout.empty()) {
    auto t = ParseDuration(args.timeout);
    if (!t.ok() || *t <= Duration::zero()) {
      std::cerr << "mamori exec: --timeout: " << (t.ok() ? "must be positive" : t.error().message())
                << "\n";
      return kExitUsage;
    }
    eo.command_timeout = *t;
  }
  if (auto t = ParseDuration(args.ping_timeout); t.ok() && *t > Duration::zero()) {
    eo.ping_timeout = *t;
  } else {
    std::cerr << "mamori exec: --ping-timeout: "
              << (t.ok() ? "must be positive" : t.error().message()) << "\n";
    return kExitUsage;
  }
  if (!args.url.empty() == !args.check.empty()) {
    std::cerr << "mamori exec: give exactly one of --url URL or --check NAME (with -c FILE)\n";
    return kExitUsage;
  }
  if (!args.url.empty()) {
    if (args.url.rfind("http://", 0) != 0 && args.url.rfind("https://", 0) != 0) {
      std::cerr << "mamori exec: --url must be an http:// or https:// URL\n";
      return kExitUsage;
    }
    eo.ping_url = args.url;
  } else if (int rc = ExecPingUrlFromConfig(args, eo); rc != 0) {
    return rc;
  }
  return heartbeat::RunExec(eo);
}

}  // namespace

Verb AddRun(CLI::App& app) {
  struct Args {
    std::string file, data_dir, listen, log_level = "info", stats_every = "60s";
  };
  auto a = std::make_shared<Args>();
  auto* run = app.add_subcommand(
      "run",
      "Run the daemon: schedule every check, keep history in DATA_DIR/mamori.db.\n"
      "SIGHUP reloads the configuration; SIGTERM/SIGINT stop cleanly.");
  run->add_option("-c,--config", a->file,
                  "Configuration file (YAML); default: the embedded default for this machine");
  run->add_option("--data-dir", a->data_dir, "Override data_dir from the configuration");
  run->add_option("--listen", a->listen,
                  "Serve the dashboard, status page and APIs here (overrides listen:), "
                  "e.g. 127.0.0.1:8470");
  run->add_option("--log-level", a->log_level, "trace, debug, info, warn, error")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error"}));
  run->add_option("--stats-interval", a->stats_every,
                  "How often to log scheduler figures (e.g. 60s)");
  return {run, [a] {
            auto every = ParseDuration(a->stats_every);
            if (!every.ok() || *every <= Duration(0)) {
              std::cerr << "mamori run: --stats-interval: "
                        << (every.ok() ? "must be positive" : every.error().message()) << "\n";
              return kExitUsage;
            }
            spdlog::set_level(spdlog::level::from_str(a->log_level));
            spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%e%z %^%l%$ %v");
            DaemonOptions opts;
            opts.config_file = a->file;
            opts.data_dir_override = a->data_dir;
            opts.listen_override = a->listen;
            opts.stats_interval = *every;
            SystemClock clock;
            Daemon daemon(opts, clock);
            return daemon.Run();
          }};
}

Verb AddHeartbeatNew(CLI::App& app) {
  auto key = std::make_shared<bool>(false);
  auto* hb = AddGroup(app, "heartbeat", "Work with heartbeat (dead man's switch) checks");
  auto* hb_new =
      hb->add_subcommand("new", "Print a fresh random UUID for a heartbeat check's uuid:");
  hb_new->add_flag("--key", *key,
                   "Print a fresh api.ping_key instead (for /ping/<key>/<slug> URLs)");
  return {hb_new, [key] {
            if (!*key) {
              std::cout << heartbeat::NewUuid() << "\n";
              return 0;
            }
            // 16 URL-safe characters drawn from a fresh random UUID.
            std::string u = heartbeat::NewUuid(), out;
            u.erase(std::remove(u.begin(), u.end(), '-'), u.end());
            for (size_t i = 0; i + 1 < u.size() && out.size() < 22; i += 2) {
              static const char kAlphabet[] =
                  "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
              out.push_back(kAlphabet[std::stoi(u.substr(i, 2), nullptr, 16) % 64]);
            }
            std::cout << out << "\n";
            return 0;
          }};
}

Verb AddExec(CLI::App& app) {
  auto a = std::make_shared<ExecArgs>();
  auto* exec = app.add_subcommand(
      "exec",
      "Run a job and report it to a heartbeat check: /start, the command (output passed through),\n"
      "then its exit code with the output tail. Exits with the command's status.\n"
      "  mamori exec --url http://127.0.0.1:8470/ping/<uuid> -- /usr/local/bin/backup.sh\n"
      "  mamori exec -c /etc/mamori.yaml --check nightly-backup -- /usr/local/bin/backup.sh");
  exec->add_option("--url", a->url, "The check's ping URL (any healthchecks.io-compatible server)");
  exec->add_option("--check", a->check, "A heartbeat check in the configuration given with -c");
  exec->add_option("-c,--config", a->file,
                   "Configuration file, for --check (uses its listen: address)");
  exec->add_option("--timeout", a->timeout,
                   "Kill the command (its whole process group) after this long, e.g. 2h; exit 124");
  exec->add_option("--ping-timeout", a->ping_timeout,
                   "How long each ping may take, retries included (default 10s); the command "
                   "never waits for them");
  exec->add_option("command", a->argv, "The command and its arguments, after --")->required();
  return {exec, [a] { return RunExecVerb(*a); }};
}

}  // namespace mamori::cli
