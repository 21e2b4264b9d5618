#include "mamori/remedy/remedy.h"

#include <fmt/format.h>

#include <algorithm>

#include "mamori/remedy/steps_common.h"

namespace mamori::remedy {
namespace {

constexpr size_t kMaxSteps = 20;
constexpr size_t kMaxDetail = 300;

}  // namespace

std::string OneLine(std::string s) {
  for (char& c : s)
    if (c == '\n' || c == '\r' || c == '\t') c = ' ';
  while (!s.empty() && s.back() == ' ') s.pop_back();
  if (s.size() > kMaxDetail) s = s.substr(0, kMaxDetail) + "...";
  return s;
}

std::string Join(const std::vector<std::string>& v, const char* sep) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : sep) + s;
  return out;
}

std::optional<std::string> ReadAbsolutePath(config::ConfigNode& step, const char* key) {
  auto path = step.GetString(key);
  if (!path) return std::nullopt;
  if (path->empty() || (*path)[0] != '/') {
    step.ErrorAt(key, fmt::format("'{}' is not an absolute path", *path),
                 "write the full path, starting with '/'");
    return std::nullopt;
  }
  return path;
}

std::string Outcome::Summary() const {
  std::string out;
  for (size_t i = 0; i < steps.size(); ++i) {
    if (!out.empty()) out += "; ";
    out += steps[i].step + ": " + steps[i].detail;
  }
  if (ok) return "remedy ok: " + out;
  return fmt::format("remedy failed at step {}: {}", steps.size(), out);
}

Outcome Execute(const Plan& plan) {
  Outcome out;
  for (const auto& step : plan.steps) {
    out.steps.push_back(step->Run(plan));
    if (!out.steps.back().ok) {
      out.ok = false;
      break;
    }
  }
  return out;
}

bool Guard::TryAcquire(const Plan& plan, WallTime now) {
  if (attempts_in_window(plan, now) >= static_cast<size_t>(plan.max_attempts)) return false;
  attempts_.push_back(now);
  return true;
}

size_t Guard::attempts_in_window(const Plan& plan, WallTime now) {
  auto kept = std::find_if(attempts_.begin(), attempts_.end(),
                           [&](WallTime t) { return now - t < plan.window; });
  attempts_.erase(attempts_.begin(), kept);
  // A guard whose window emptied gives its memory back (checks repaired once).
  if (attempts_.empty()) attempts_.shrink_to_fit();
  return attempts_.size();
}

namespace {

// "each step is exactly one of remove_stale_socket: PATH, ..."
std::string StepForms(const StepRegistry& types) {
  std::vector<std::string> forms;
  for (const auto& t : types.types()) forms.push_back(fmt::format("{}: {}", t.key, t.argument));
  return "each step is exactly one of " + Join(forms, ", ");
}

// A step without any registered action key: its first other key is taken as
// a misspelt or unknown action. False when it has no key at all.
bool ReportUnknownAction(config::ConfigNode& s, const StepRegistry& types) {
  if (!s.yaml().IsMap()) return false;
  for (const auto& kv : s.yaml()) {
    if (!kv.first.IsScalar()) continue;
    const std::string key = kv.first.Scalar();
    bool option = false;
    for (const auto& t : types.types())
      option = option || std::find(t.options.begin(), t.options.end(), key) != t.options.end();
    if (option) continue;
    const std::string best = config::ClosestMatch(key, types.Keys());
    s.diagnostics().Add(s.KeyLocation(key),
                        fmt::format("{}: unknown remedy step '{}'", s.what(), key),
                        best.empty() ? StepForms(types) : fmt::format("did you mean '{}'?", best));
    s.KnowAll();
    return true;
  }
  return false;
}

// One entry of `steps:`: exactly one registered action key, read by its
// type; options of other types are errors naming the type they belong to.
std::unique_ptr<StepAction> ReadStep(config::ConfigNode& s, const StepRegistry& types) {
  std::vector<const StepType*> present;
  for (const auto& t : types.types()) {
    s.Known(t.key);
    for (const auto& o : t.options) s.Known(o);
    if (s.Has(t.key)) present.push_back(&t);
  }
  if (present.empty() && ReportUnknownAction(s, types)) return nullptr;
  if (present.size() != 1) {
    s.Error(
        present.empty() ? "a remedy step needs one action" : "a remedy step has several actions",
        StepForms(types));
    return nullptr;
  }
  for (const auto& other : types.types()) {
    if (&other == present[0]) continue;
    for (const auto& o : other.options)
      if (s.Has(o)) {
        s.ErrorAt(o, fmt::format("{} applies only to {}", o, other.key),
                  fmt::format("move it into the {} step or drop it", other.key));
        return nullptr;
      }
  }
  return present[0]->reader(s);
}

}  // namespace

std::shared_ptr<const Plan> ReadPlan(config::ConfigNode& check, const StepRegistry& types) {
  if (!check.Has("remedy")) {
    check.Known("remedy");
    return nullptr;
  }
  auto node = check.GetMap("remedy");
  if (!node) return nullptr;
  auto plan = std::make_shared<Plan>();
  if (auto v = node->GetInt("max_attempts", 1, 100)) plan->max_attempts = static_cast<int>(*v);
  if (auto v = node->GetDuration("window")) plan->window = *v;
  if (auto v = node->GetDuration("timeout")) plan->command_timeout = *v;
  auto steps = node->GetMapList("steps");
  if (!steps || steps->empty()) {
    if (!node->Has("steps") || (steps && steps->empty()))
      node->Error("remedy has no steps",
                  "list what to do under steps:, e.g. steps: [{remove_stale_socket: "
                  "/run/php/php-fpm.sock}, {command: [systemctl, restart, php-fpm]}]");
    return nullptr;
  }
  if (steps->size() > kMaxSteps) {
    node->ErrorAt("steps", fmt::format("{} steps; at most {}", steps->size(), kMaxSteps),
                  "split the work into a script and run it with command:");
    return nullptr;
  }
  bool ok = true;
  for (auto& s : *steps) {
    auto action = ReadStep(s, types);
    if (action)
      plan->steps.push_back(std::move(action));
    else
      ok = false;
  }
  if (!ok) return nullptr;
  return plan;
}

}  // namespace mamori::remedy
