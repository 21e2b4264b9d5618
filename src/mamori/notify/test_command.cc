#include "mamori/notify/test_command.h"

#include <fmt/format.h>

namespace mamori::notify {

int RunNotifyTest(const NotifyConfig& config, const std::string& only, std::ostream& out,
                  std::ostream& err) {
  if (config.channels.empty()) {
    err << "mamori notify test: no channels configured; add a 'notify:' list (see "
           "docs/notify.md)\n";
    return 3;
  }
  if (!only.empty() && !config.Find(only)) {
    std::vector<std::string> names;
    for (const auto& c : config.channels) names.push_back(c->name());
    err << fmt::format("mamori notify test: no channel named '{}' (configured: {})\n", only,
                       fmt::join(names, ", "));
    return 3;
  }
  Notification n;
  n.id = NewNotificationId();
  n.kind = Kind::kTest;
  n.time = std::chrono::system_clock::now();
  n.host = LocalHostName();
  int rc = 0;
  for (const auto& c : config.channels) {
    if (!only.empty() && c->name() != only) continue;
    auto r = c->Deliver(n);
    if (r.ok()) {
      out << fmt::format("{}: ok ({}): {}\n", c->name(), c->Describe(), *r);
    } else {
      out << fmt::format("{}: FAILED: {}\n", c->name(), r.error().message());
      rc = 2;
    }
  }
  return rc;
}

}  // namespace mamori::notify
