// Check type `command`: runs any Nagios-compatible plugin and maps its exit
// code (0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN) and output (summary line,
// long text, perfdata) onto an observation. The process runs without a shell
// unless `shell: true`, in its own process group, which is killed whole when
// the check times out.
#include <signal.h>
#include <string.h>

#include <fmt/format.h>
#include <algorithm>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "mamori/check/registry.h"
#include "mamori/probes/perfdata.h"
#include "mamori/util/subprocess.h"
#include "mamori/util/units.h"

namespace mamori::probes::command {
namespace {

using namespace std::chrono_literals;

constexpr size_t kMaxSummary = 300;
constexpr size_t kMaxEnv = 256;
constexpr uint64_t kMinOutput = 1024;
constexpr uint64_t kMaxOutput = 16 << 20;

constexpr std::string_view kListExample =
    "command: [/usr/lib/nagios/plugins/check_load, -w, \"5,4,3\", -c, \"10,8,6\"]";

struct Spec {
  std::vector<std::string> argv;
  std::vector<std::pair<std::string, std::string>> env;
  size_t max_output = 64 * 1024;
};

// Cuts at a UTF-8 character boundary so a summary never ends in half a
// character.
std::string CapUtf8(std::string s, size_t max) {
  if (s.size() <= max) return s;
  size_t cut = max - 3;
  while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) --cut;
  s.resize(cut);
  return s + "...";
}

// One line for tables and alert subjects: control characters become spaces.
std::string OneLine(std::string_view text) {
  std::string out;
  out.reserve(std::min(text.size(), kMaxSummary * 4));
  for (char c : text) {
    if (out.size() > kMaxSummary * 4) break;
    out.push_back(static_cast<unsigned char>(c) < 0x20 || c == 0x7f ? ' ' : c);
  }
  size_t b = out.find_first_not_of(' ');
  if (b == std::string::npos) return "";
  size_t e = out.find_last_not_of(' ');
  return CapUtf8(out.substr(b, e - b + 1), kMaxSummary);
}

std::string_view FirstNonEmptyLine(std::string_view text, std::string_view* rest) {
  while (!text.empty()) {
    size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    if (line.find_first_not_of(" \t\r") != std::string_view::npos) {
      *rest = text;
      return line;
    }
  }
  *rest = {};
  return {};
}

// "10s" for the usual whole-second timeouts, FormatDuration otherwise. The
// remaining time is a hair under the configured timeout by the time we run,
// so round to 100ms first.
std::string FormatTimeout(Duration d) {
  auto ms = (std::chrono::duration_cast<std::chrono::milliseconds>(d).count() + 50) / 100 * 100;
  if (ms % 1000 == 0) return fmt::format("{}s", ms / 1000);
  return FormatDuration(std::chrono::milliseconds(ms));
}

std::string SignalText(int sig) {
  const char* abbrev = sigabbrev_np(sig);
  if (abbrev) return fmt::format("killed by signal {} (SIG{})", sig, abbrev);
  return fmt::format("killed by signal {}", sig);
}

class CommandProbe final : public BlockingProbe {
 public:
  explicit CommandProbe(Spec spec) : spec_(std::move(spec)) {}

  Observation Run(const Clock& clock, MonoTime deadline) override {
    const Duration remaining = deadline - clock.Monotonic();
    const std::string nominal = FormatTimeout(remaining);
    if (remaining <= Duration(0))
      return Observation::Make(CheckStatus::kUnknown, "timed out before the plugin could start");
    // Stop the plugin a little before the deadline so this answer, and not
    // the runner's generic timeout, is the one recorded.
    const Duration margin = std::min<Duration>(500ms, remaining / 10);
    ProcessOptions opts;
    opts.argv = spec_.argv;
    opts.env = spec_.env;
    opts.max_output = spec_.max_output;
    opts.timeout = remaining - margin;
    opts.kill_grace = margin / 2;
    auto run = RunProcess(opts);
    if (!run) return Observation::Make(CheckStatus::kUnknown, run.error().message());
    return Interpret(*run, nominal);
  }

 private:
  Observation Interpret(const ProcessResult& p, const std::string& nominal) const {
    PluginOutput parsed = ParsePluginOutput(p.out);
    std::string text = OneLine(parsed.summary);
    std::string details = parsed.long_text;
    std::string_view err_rest;
    std::string_view err_first = FirstNonEmptyLine(p.err, &err_rest);
    bool summary_from_stderr = false;
    if (text.empty() && !err_first.empty()) {
      // Plugins that fail early often print only to stderr.
      text = OneLine(err_first);
      summary_from_stderr = true;
    }
    auto append_details = [&details](std::string_view block) {
      if (block.empty()) return;
      if (!details.empty()) details.push_back('\n');
      details.append(block);
    };
    if (p.out_truncated)
      append_details(fmt::format("[output truncated at {}]", FormatBytes(spec_.max_output)));
    std::string_view err_shown = summary_from_stderr ? err_rest : std::string_view(p.err);
    while (!err_shown.empty() && (err_shown.back() == '\n' || err_shown.back() == ' '))
      err_shown.remove_suffix(1);
    if (!err_shown.empty()) append_details(fmt::format("stderr:\n{}", err_shown));
    if (p.err_truncated)
      append_details(fmt::format("[stderr truncated at {}]", FormatBytes(spec_.max_output)));

    Observation o;
    o.details = std::move(details);
    for (const auto& d : parsed.perfdata)
      if (d.value) o.AddMetric(d.label, *d.value);
    auto with_text = [&text](std::string head) {
      return text.empty() ? head : OneLine(head + ": " + text);
    };
    if (p.timed_out) {
      o.status = CheckStatus::kUnknown;
      o.summary = fmt::format("timed out after {}; process group killed", nominal);
    } else if (p.term_signal > 0) {
      o.status = CheckStatus::kUnknown;
      o.summary = with_text(SignalText(p.term_signal));
    } else if (p.exit_code >= 0 && p.exit_code <= 3) {
      o.status = static_cast<CheckStatus>(p.exit_code);
      o.summary = text.empty()
                      ? fmt::format("plugin exited with code {} and printed nothing", p.exit_code)
                      : text;
    } else if (p.exit_code > 3) {
      o.status = CheckStatus::kUnknown;
      o.summary = with_text(fmt::format("plugin exited with code {}", p.exit_code));
    } else {
      o.status = CheckStatus::kUnknown;
      o.summary = with_text("the plugin's exit status is unknown");
    }
    return o;
  }

  Spec spec_;
};

bool IsEnvName(std::string_view s) {
  if (s.empty() || (s[0] >= '0' && s[0] <= '9')) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
  });
}

std::unique_ptr<Probe> Make(config::ConfigNode& n) {
  Spec spec;
  bool valid = true;
  const bool shell = n.GetBool("shell").value_or(false);

  if (auto size = n.GetSize("max_output")) {
    if (*size < kMinOutput || *size > kMaxOutput) {
      n.ErrorAt("max_output", fmt::format("{} is out of range", FormatBytes(*size)),
                "use a size from 1KiB to 16MiB");
      valid = false;
    } else {
      spec.max_output = static_cast<size_t>(*size);
    }
  }

  if (auto env = n.GetMap("env")) {
    size_t count = 0;
    for (const auto& kv : env->yaml()) {
      if (!kv.first.IsScalar()) {
        n.ErrorAt("env", "variable names must be plain strings");
        valid = false;
        continue;
      }
      const std::string& name = kv.first.Scalar();
      auto value = env->GetString(name);
      if (!IsEnvName(name)) {
        n.diagnostics().Add(
            config::MarkLocation(kv.first.Mark(), n.location().file),
            fmt::format("{}: 'env': '{}' is not a valid environment variable name", n.what(), name),
            "use letters, digits and '_', not starting with a digit");
        valid = false;
      } else if (++count > kMaxEnv) {
        n.ErrorAt("env", fmt::format("more than {} variables", kMaxEnv));
        valid = false;
        break;
      } else if (value && value->find('\0') != std::string::npos) {
        n.ErrorAt("env", fmt::format("the value of {} contains a NUL byte", name));
        valid = false;
      } else {
        spec.env.emplace_back(name, value.value_or(""));
      }
    }
  }

  n.Known("command");
  const config::Yaml command = n.yaml()["command"];
  if (!command.IsDefined() || command.IsNull()) {
    n.Error("missing 'command'",
            fmt::format("give the plugin and its arguments as a list, e.g. {}", kListExample));
    return nullptr;
  }
  if (command.IsScalar()) {
    if (!shell) {
      n.ErrorAt("command", "a single string is only run with shell: true",
                fmt::format("write the program and its arguments as a list, e.g. {}; or set "
                            "shell: true to run the string with /bin/sh -c",
                            kListExample));
      return nullptr;
    }
    if (command.Scalar().find_first_not_of(" \t") == std::string::npos) {
      n.ErrorAt("command", "is empty", "write the shell command to run");
      return nullptr;
    }
    spec.argv = {"/bin/sh", "-c", command.Scalar()};
  } else if (command.IsSequence()) {
    if (shell) {
      n.ErrorAt("command", "with shell: true the command must be one string",
                "write command: \"...\" as one string, or remove shell: true to run the list "
                "without a shell");
      return nullptr;
    }
    auto argv = n.GetStringList("command");
    if (!argv) return nullptr;
    if (argv->empty() || (*argv)[0].empty()) {
      n.ErrorAt("command", "names no program",
                fmt::format("give the plugin and its arguments, e.g. {}", kListExample));
      return nullptr;
    }
    for (const auto& a : *argv) {
      if (a.find('\0') != std::string::npos) {
        n.ErrorAt("command", "an argument contains a NUL byte");
        return nullptr;
      }
    }
    spec.argv = std::move(*argv);
  } else {
    n.ErrorAt("command", "expected a list of arguments, found a mapping",
              fmt::format("write e.g. {}", kListExample));
    return nullptr;
  }
  if (!valid) return nullptr;
  return std::make_unique<CommandProbe>(std::move(spec));
}

}  // namespace

void Register(ProbeRegistry& r) {
  r.Add("command", "runs a Nagios-compatible plugin: exit code, output and perfdata", Make);
}

}  // namespace mamori::probes::command
