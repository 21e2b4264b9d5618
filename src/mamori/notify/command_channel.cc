// Channel type `command`: runs a program per notification with the
// notification as JSON on stdin (the document in docs/notify.md, with "title"
// and "text" rendered), for anything mamori does not speak itself (SMS
// gateways, pagers, a script that files a ticket).
//
// The program runs through RunProcess: no shell unless `shell: true`, its own
// process group, killed whole at `timeout`. Exit status 0 means delivered; the
// answer is the first line of its stdout. Otherwise the error carries the exit
// status and the first line of stderr (or stdout), so "exit 1: gateway said
// 403 quota exceeded" is what the operator reads. MAMORI_NOTIFICATION_ID,
// MAMORI_KIND, MAMORI_CHECK and MAMORI_STATUS are set in its environment.
// Thread-safe: each delivery is its own process.
#include <fmt/format.h>

#include "mamori/notify/channel.h"
#include "mamori/util/subprocess.h"
#include "mamori/util/units.h"

namespace mamori::notify {
namespace {

struct CommandOptions {
  std::vector<std::string> argv;
  std::vector<std::pair<std::string, std::string>> env;
  Duration timeout = std::chrono::seconds(30);
};

std::string FirstLine(std::string_view text) {
  while (!text.empty()) {
    const size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    std::string out;
    for (char c : line) out.push_back(static_cast<unsigned char>(c) < 0x20 ? ' ' : c);
    const size_t b = out.find_first_not_of(' ');
    if (b == std::string::npos) continue;
    out = out.substr(b, out.find_last_not_of(' ') - b + 1);
    return CapUtf8(std::move(out), 300);
  }
  return "";
}

bool IsEnvName(std::string_view s) {
  if (s.empty() || (s[0] >= '0' && s[0] <= '9')) return false;
  for (char c : s)
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_'))
      return false;
  return true;
}

class CommandChannel final : public Channel {
 public:
  CommandChannel(std::string name, CommandOptions o)
      : Channel(std::move(name), "command"), o_(std::move(o)) {}

  std::string Describe() const override {
    return fmt::format("command {}",
                       o_.argv.size() == 3 && o_.argv[0] == "/bin/sh" ? o_.argv[2] : o_.argv[0]);
  }

  Result<std::string> Deliver(const Notification& n) override {
    ProcessOptions p;
    p.argv = o_.argv;
    p.env = o_.env;
    p.env.emplace_back("MAMORI_NOTIFICATION_ID", n.id);
    p.env.emplace_back("MAMORI_KIND", std::string(KindName(n.kind)));
    if (!n.items.empty()) {
      p.env.emplace_back("MAMORI_CHECK", n.items[0].check);
      p.env.emplace_back("MAMORI_STATUS", std::string(StatusName(n.items[0].to)));
    }
    p.stdin_data = ToJson(n, true).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    p.timeout = o_.timeout;
    p.max_output = 16 * 1024;
    auto r = RunProcess(p);
    if (!r.ok()) return Error(fmt::format("{}: {}", Describe(), r.error().message()));
    if (r->timed_out)
      return Error(fmt::format("{} timed out after {}", Describe(), FormatDuration(o_.timeout)));
    std::string said = FirstLine(r->err);
    if (said.empty()) said = FirstLine(r->out);
    if (r->term_signal > 0)
      return Error(fmt::format("{} was killed by signal {}{}", Describe(), r->term_signal,
                               said.empty() ? "" : ": " + said));
    if (r->exit_code != 0)
      return Error(fmt::format("{} failed with exit {}{}", Describe(), r->exit_code,
                               said.empty() ? "" : ": " + said));
    const std::string out = FirstLine(r->out);
    return out.empty() ? std::string("exit 0") : "exit 0: " + out;
  }

 private:
  CommandOptions o_;
};

}  // namespace

std::unique_ptr<Channel> MakeCommandChannel(const std::string& name, config::ConfigNode& node,
                                            const ChannelContext&) {
  CommandOptions o;
  bool ok = true;
  const bool shell = node.GetBool("shell").value_or(false);
  node.Known("command");
  const config::Yaml command = node.yaml()["command"];
  if (!command.IsDefined() || command.IsNull()) {
    node.Error("missing 'command'",
               "give the program and its arguments as a list, e.g. command: "
               "[/usr/local/bin/send-sms, \"+15550100\"]; it reads the alert as JSON on stdin");
    ok = false;
  } else if (command.IsScalar()) {
    if (!shell) {
      node.ErrorAt("command", "a single string is only run with shell: true",
                   "write the program and its arguments as a list, or set shell: true to run "
                   "the string with /bin/sh -c");
      ok = false;
    } else if (command.Scalar().find_first_not_of(" \t") == std::string::npos) {
      node.ErrorAt("command", "is empty", "write the shell command to run");
      ok = false;
    } else {
      o.argv = {"/bin/sh", "-c", command.Scalar()};
    }
  } else if (command.IsSequence()) {
    if (shell) {
      node.ErrorAt("command", "with shell: true the command must be one string",
                   "write command: \"...\" as one string, or remove shell: true");
      ok = false;
    } else if (auto argv = node.GetStringList("command");
               !argv || argv->empty() || (*argv)[0].empty()) {
      node.ErrorAt("command", "names no program", "e.g. command: [/usr/local/bin/page-me]");
      ok = false;
    } else {
      o.argv = std::move(*argv);
    }
  } else {
    node.ErrorAt("command", "expected a list of arguments, found a mapping",
                 "e.g. command: [/usr/local/bin/page-me, --urgent]");
    ok = false;
  }
  for (const auto& a : o.argv) {
    if (a.find('\0') != std::string::npos) {
      node.ErrorAt("command", "an argument contains a NUL byte");
      ok = false;
    }
  }
  if (auto env = node.GetMap("env")) {
    for (const auto& kv : env->yaml()) {
      const std::string key = kv.first.IsScalar() ? kv.first.Scalar() : "";
      auto value = env->GetString(key);
      if (!IsEnvName(key) || !value || value->find('\0') != std::string::npos) {
        node.ErrorAt("env", fmt::format("'{}' is not a valid variable with a text value", key),
                     "names are letters, digits and '_', not starting with a digit");
        ok = false;
        continue;
      }
      if (o.env.size() >= 256) {
        node.ErrorAt("env", "more than 256 variables");
        ok = false;
        break;
      }
      o.env.emplace_back(key, *value);
    }
  }
  if (auto t = node.GetDuration("timeout")) {
    if (*t < std::chrono::seconds(1) || *t > std::chrono::minutes(10)) {
      node.ErrorAt("timeout", "must be between 1s and 10m", "the default is 30s");
      ok = false;
    } else {
      o.timeout = *t;
    }
  }
  if (!ok) return nullptr;
  return std::make_unique<CommandChannel>(name, std::move(o));
}

}  // namespace mamori::notify

namespace mamori::channels::command {

void Register(notify::ChannelRegistry& registry) {
  registry.Add(
      {"command", "runs a program with the alert as JSON on stdin", notify::MakeCommandChannel});
}

}  // namespace mamori::channels::command
