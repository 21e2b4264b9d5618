#include "mamori/cli/ack_command.h"

#include <fmt/format.h>
#include <unistd.h>

#include <cstdlib>
#include <nlohmann/json.hpp>
#include <ostream>

#include "mamori/daemon/config_file.h"
#include "mamori/daemon/default_config.h"
#include "mamori/notify/http_post.h"
#include "mamori/notify/notify_config.h"
#include "mamori/util/units.h"

namespace mamori::notify {

namespace {

constexpr int kRefused = 1;
constexpr int kUnreachable = 3;
constexpr int kUsage = 64;

// The API address as a client on this machine reaches it.
std::string LoopbackFor(const std::string& listen) {
  if (listen.rfind("0.0.0.0:", 0) == 0) return "127.0.0.1:" + listen.substr(8);
  if (listen.rfind("[::]:", 0) == 0) return "[::1]:" + listen.substr(5);
  return listen;
}

std::string Encode(std::string_view s) {
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~' || c == ':' || c == '@')
      out.push_back(static_cast<char>(c));
    else
      out += fmt::format("%{:02X}", c);
  }
  return out;
}

}  // namespace

void AddAckCommand(CLI::App& app, AckOptions& o) {
  o.command = app.add_subcommand(
      "ack",
      "Acknowledge a failing check in the running daemon: no reminders or escalation until it\n"
      "recovers (or --for passes). Without NAME, list the acknowledgements.\n"
      "  mamori ack -c /etc/mamori.yaml backup-db --for 2h\n"
      "  mamori ack -c /etc/mamori.yaml backup-db --remove");
  o.command->add_option("name", o.check, "The check (or notify:<channel> for a failing channel)");
  o.command->add_option("-c,--config", o.config_file,
                        "Configuration file of the daemon (its listen: address and api.read_key)");
  o.command->add_option("--for", o.for_, "Acknowledge for this long only, e.g. 2h");
  o.command->add_flag("--remove", o.remove, "Withdraw the acknowledgement");
  o.command->add_option("--by", o.by, "Who acknowledges (default: $USER@host)");
}

int RunAckCommand(const AckOptions& o, std::ostream& out, std::ostream& err) {
  if (o.remove && !o.for_.empty()) {
    err << "mamori ack: --remove and --for do not go together\n";
    return kUsage;
  }
  if (o.check.empty() && (o.remove || !o.for_.empty())) {
    err << "mamori ack: name the check, e.g. mamori ack backup-db --remove\n";
    return kUsage;
  }
  std::string query;
  if (!o.for_.empty()) {
    auto d = ParseDuration(o.for_);
    if (!d.ok() || *d <= Duration(0)) {
      err << "mamori ack: --for: " << (d.ok() ? "must be positive" : d.error().message()) << "\n";
      return kUsage;
    }
    query = "for=" + Encode(o.for_);
  }
  ConfigLoad load = o.config_file.empty()
                        ? LoadConfigText(DefaultConfigYaml(DefaultDataDir()), "<embedded default>")
                        : LoadConfigFile(o.config_file);
  if (!load.config) {
    err << load.diagnostics.ToString();
    err << fmt::format("mamori ack: {} error(s) in {}\n", load.diagnostics.size(),
                       o.config_file.empty() ? "the embedded default" : o.config_file);
    return kUnreachable;
  }
  const Config& cfg = *load.config;
  if (cfg.api.listen.empty()) {
    err << fmt::format(
        "mamori ack: {} has no listen: address; ack talks to the running daemon through its "
        "API (add e.g. listen: 127.0.0.1:8470 and reload it)\n",
        o.config_file.empty() ? "the embedded default" : o.config_file);
    return kUnreachable;
  }
  std::string by = o.by;
  if (by.empty()) {
    const char* user = std::getenv("USER");
    by = fmt::format("{}@{}", user && *user ? user : "someone", LocalHostName());
  }
  if (!o.check.empty()) query += fmt::format("{}by={}", query.empty() ? "" : "&", Encode(by));
  PostRequest req;
  req.method = o.check.empty() ? "GET" : o.remove ? "DELETE" : "POST";
  const std::string base = "http://" + LoopbackFor(cfg.api.listen);
  req.url = base + "/api/v1/ack" + (o.check.empty() ? "" : "/" + Encode(o.check)) +
            (query.empty() ? "" : "?" + query);
  req.timeout = std::chrono::seconds(10);
  if (!cfg.api.read_key.empty()) req.headers.emplace_back("X-Api-Key", cfg.api.read_key);
  auto r = HttpPost(req);
  if (!r.ok()) {
    err << fmt::format(
        "mamori ack: cannot reach the daemon at {}: {}\n(is `mamori run` running with this "
        "configuration?)\n",
        base, r.error().message());
    return kUnreachable;
  }
  auto j = nlohmann::json::parse(r->body, nullptr, false);
  if (r->status != 200) {
    const std::string message = j.is_object() && j.contains("error") && j["error"].is_string()
                                    ? j["error"].get<std::string>()
                                    : DescribeHttpAnswer(*r);
    err << "mamori ack: " << message << "\n";
    return r->status == 403 || r->status >= 500 ? kUnreachable : kRefused;
  }
  if (!j.is_object()) {
    err << "mamori ack: unexpected answer: " << DescribeHttpAnswer(*r) << "\n";
    return kUnreachable;
  }
  auto until = [](const nlohmann::json& a) {
    return a.contains("until") && a["until"].is_string() ? "until " + a["until"].get<std::string>()
                                                         : std::string("until it recovers");
  };
  if (o.check.empty()) {
    const auto& acks = j.value("acks", nlohmann::json::array());
    if (acks.empty()) out << "no acknowledged checks\n";
    for (const auto& a : acks)
      out << fmt::format("{}  acknowledged by {} {}\n", a.value("check", ""), a.value("by", ""),
                         until(a));
    return 0;
  }
  if (o.remove)
    out << fmt::format("{}: acknowledgement withdrawn; reminders resume\n", o.check);
  else
    out << fmt::format("{}: acknowledged {} (no reminders or escalation)\n", o.check, until(j));
  return 0;
}

}  // namespace mamori::notify
