#include "mamori/cli/baseline_command.h"

#include <fmt/format.h>

#include <filesystem>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>

#include "mamori/cli/output.h"
#include "mamori/daemon/config_file.h"
#include "mamori/daemon/default_config.h"
#include "mamori/host/baseline_file.h"
#include "mamori/host/baseline_probe.h"
#include "mamori/util/units.h"

namespace mamori::cli {

namespace {

namespace hb = host::baseline;
namespace pb = probes::baseline;

constexpr int kNotFound = 1;
constexpr int kUnknown = 3;

struct Args {
  std::string verb;  // show, accept, forget
  std::string config_file, data_dir, name;
  bool json = false;
};

struct Setup {
  std::string data_dir;
  pb::Options options;
};

// The data dir and the first baseline check's options (defaults without one).
std::optional<Setup> Prepare(const Args& a) {
  ConfigLoad load = a.config_file.empty()
                        ? LoadConfigText(DefaultConfigYaml(DefaultDataDir()), "<embedded default>")
                        : LoadConfigFile(a.config_file);
  if (!load.config) {
    std::cerr << load.diagnostics.ToString();
    return std::nullopt;
  }
  Setup s;
  s.data_dir = a.data_dir.empty() ? load.config->data_dir : a.data_dir;
  for (const auto& c : load.config->checks)
    if (auto* p = dynamic_cast<const pb::BaselineProbe*>(c.probe.get())) {
      s.options = p->options();
      break;
    }
  return s;
}

int Show(const Setup& s, bool json) {
  const std::string path = hb::BaselinePath(s.data_dir);
  auto doc = hb::Load(path);
  if (!doc.ok()) {
    std::cerr << "mamori baseline show: " << doc.error().message() << "\n";
    return kUnknown;
  }
  SystemClock clock;
  const auto now = pb::LookAtHost(s.options, clock, clock.Monotonic() + std::chrono::seconds(10));
  const auto missing = hb::Missing(doc->Items(), now);
  auto is_missing = [&](const hb::Item& i) {
    for (const auto& m : missing)
      if (m.Key() == i.Key()) return true;
    return false;
  };
  if (json) {
    nlohmann::json items = nlohmann::json::array();
    for (const auto& e : doc->entries)
      items.push_back({{"kind", hb::KindName(e.item.kind)},
                       {"name", e.item.name},
                       {"detail", e.item.detail},
                       {"learned", Rfc3339(e.learned)},
                       {"present", !is_missing(e.item)}});
    std::cout << nlohmann::json{{"file", path}, {"items", items}}.dump(1) << "\n";
    return 0;
  }
  if (doc->entries.empty()) {
    std::cout << "nothing learned yet (" << path
              << "); `mamori baseline accept` takes what this host has now\n";
    return 0;
  }
  std::cout << fmt::format("{:<9} {:<40} {:<16} {:<21} {}\n", "KIND", "NAME", "DETAIL", "LEARNED",
                           "NOW");
  for (const auto& e : doc->entries)
    std::cout << fmt::format("{:<9} {:<40} {:<16} {:<21} {}\n", hb::KindName(e.item.kind),
                             e.item.name, e.item.detail, Rfc3339(e.learned),
                             is_missing(e.item) ? "MISSING" : "present");
  std::cout << fmt::format("{} item(s) in {}, {} missing now\n", doc->entries.size(), path,
                           missing.size());
  return 0;
}

int Edit(const Args& a, const Setup& s) {
  SystemClock clock;
  const MonoTime deadline = clock.Monotonic() + std::chrono::seconds(10);
  std::error_code ec;
  std::filesystem::create_directories(s.data_dir, ec);
  size_t changed = 0;
  hb::Snapshot now;
  if (a.verb == "accept") {
    pb::Options o = s.options;
    // The operator says: this is how it should be. Listeners count at once;
    // processes started in the last minute are what runs this command (a
    // shell's pipeline, a compiler), not what the host has.
    o.snapshot.min_owner_age = Duration::zero();
    o.snapshot.min_age = std::chrono::minutes(1);
    now = pb::LookAtHost(o, clock, deadline);
  }
  auto doc = hb::Update(s.data_dir, deadline, clock, [&](hb::Document& d) {
    if (a.verb == "forget") return (changed = d.Forget(a.name)) > 0;
    d = hb::Document{};
    for (const auto& i : now.items)
      if (i.learnable && d.Add(i, clock.Now())) ++changed;
    d.created = clock.Now();
    return true;
  });
  const std::string verb = "mamori baseline " + a.verb;
  if (!doc.ok()) {
    std::cerr << verb << ": " << doc.error().message() << "\n";
    return kUnknown;
  }
  if (a.verb == "forget") {
    if (changed == 0) {
      std::cerr << fmt::format(
          "{}: no item named '{}' in the baseline; `mamori baseline show` "
          "lists them\n",
          verb, a.name);
      return kNotFound;
    }
    std::cout << fmt::format("forgot {} ({} item(s) left)\n", a.name, doc->entries.size());
    return 0;
  }
  for (const auto& p : now.problems) std::cerr << verb << ": " << p << "\n";
  std::cout << fmt::format("baseline accepted: {} item(s) in {}\n", changed,
                           hb::BaselinePath(s.data_dir));
  return 0;
}

int RunVerb(const Args& a) {
  auto s = Prepare(a);
  if (!s) return kUnknown;
  if (a.verb == "show") return Show(*s, a.json);
  return Edit(a, *s);
}

}  // namespace

Verb AddBaseline(CLI::App& app) {
  auto args = std::make_shared<Args>();
  auto* cmd = app.add_subcommand(
      "baseline",
      "What this host normally has (listeners, processes, units, mounts), as the baseline\n"
      "check learned it while healthy.\n"
      "  mamori baseline show\n"
      "  mamori baseline accept\n"
      "  mamori baseline forget 443/tcp");
  cmd->require_subcommand(1);
  auto common = [&](CLI::App* sub) {
    sub->add_option("-c,--config", args->config_file,
                    "Configuration file (YAML); default: the embedded default");
    sub->add_option("--data-dir", args->data_dir, "Override data_dir from the configuration");
  };
  auto* show = cmd->add_subcommand("show", "List the baseline and what of it is missing now");
  show->add_flag("--json", args->json, "Print JSON instead of a table");
  auto* accept = cmd->add_subcommand(
      "accept", "Take what this host has now as the baseline (replaces the learned one)");
  auto* forget = cmd->add_subcommand("forget", "Remove one item from the baseline");
  forget->add_option("name", args->name, "The item, e.g. 443/tcp, nginx.service, /srv/backup")
      ->required();
  for (auto* sub : {show, accept, forget}) common(sub);
  return {cmd, [args, show, accept, forget] {
            for (auto* sub : {show, accept, forget})
              if (sub->parsed()) args->verb = sub->get_name();
            return RunVerb(*args);
          }};
}

}  // namespace mamori::cli
