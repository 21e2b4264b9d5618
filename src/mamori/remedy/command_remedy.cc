// The command remedy step: runs a program directly (no shell), e.g. a
// service restart; exit code 0 is success. Its output's first 4 KiB go into
// the event, shortened to one line.
#include <fmt/format.h>

#include "mamori/remedy/remedy.h"
#include "mamori/remedy/steps_common.h"
#include "mamori/util/subprocess.h"
#include "mamori/util/units.h"

namespace mamori::remedy {
namespace {

class Command : public StepAction {
 public:
  explicit Command(std::vector<std::string> argv) : argv_(std::move(argv)) {}
  std::string Describe() const override { return Join(argv_, " "); }
  StepOutcome Run(const Plan& plan) const override;

 private:
  std::vector<std::string> argv_;
};

StepOutcome Command::Run(const Plan& plan) const {
  StepOutcome o{Describe(), false, ""};
  ProcessOptions po;
  po.argv = argv_;
  po.merge_stderr = true;
  po.timeout = plan.command_timeout;
  po.max_output = 4096;
  // A remedy usually starts a service, and a daemon that forks into the
  // background is still in our process group for a moment before setsid():
  // it must survive the command's exit (a timeout still kills the group).
  po.kill_group_on_exit = false;
  auto r = RunProcess(po);
  if (!r.ok()) {
    o.detail = r.error().message();
    return o;
  }
  std::string tail = OneLine(r->out);
  if (r->timed_out) {
    o.detail = fmt::format("timed out after {}{}", FormatDuration(plan.command_timeout),
                           tail.empty() ? "" : ": " + tail);
  } else if (r->term_signal > 0) {
    o.detail = fmt::format("killed by signal {}", r->term_signal);
  } else {
    o.ok = r->exit_code == 0;
    o.detail = fmt::format("exited {}{}", r->exit_code, tail.empty() ? "" : ": " + tail);
  }
  return o;
}

std::unique_ptr<StepAction> Read(config::ConfigNode& step) {
  const config::Yaml c = step.yaml()["command"];
  if (!c.IsSequence() || c.size() == 0) {
    step.ErrorAt("command", "command must be a list: the program and its arguments",
                 "write command: [systemctl, restart, php8.2-fpm] (no shell is involved)");
    return nullptr;
  }
  auto argv = step.GetStringList("command");
  if (!argv) return nullptr;
  return std::make_unique<Command>(std::move(*argv));
}

}  // namespace
}  // namespace mamori::remedy

namespace mamori::remedies::command {

void Register(remedy::StepRegistry& registry) {
  registry.Add(
      {"command", "[ARGV]", "runs a program (no shell); exit code 0 is success", remedy::Read});
}

}  // namespace mamori::remedies::command
