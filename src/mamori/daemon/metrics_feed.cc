#include "mamori/daemon/metrics_feed.h"

#include <unordered_set>

namespace mamori {

void ConfigureMetrics(MetricsBoard& board, const Config& config) {
  std::vector<std::pair<std::string, std::string>> name_type;
  name_type.reserve(config.checks.size());
  for (const auto& c : config.checks) name_type.emplace_back(c.name, c.type);
  board.SetChecks(name_type);
  board.SetToken(config.metrics.token);
}

void RefreshMetricsFlags(MetricsBoard& board,
                         const std::vector<std::shared_ptr<CheckRuntime>>& checks,
                         const Config& config, notify::AlertService* alerts, WallTime now) {
  std::unordered_set<std::string> acked;
  if (alerts)
    for (const auto& a : alerts->router().Acks()) acked.insert(a.check);
  // Most configurations have no window and no ack: nothing to write then,
  // unless a flag set earlier must be cleared.
  if (acked.empty() && config.maintenance.empty() && !board.HasFlags()) return;
  for (const auto& rt : checks) {
    const bool ack = acked.count(rt->config.name) > 0;
    const bool held = !config.maintenance.empty() &&
                      config.maintenance.Covers(rt->config.name, rt->config.tags, now);
    board.SetFlags(rt->config.name, ack, held);
  }
}

bool IsMetricsTarget(std::string_view target) {
  const std::string_view path = target.substr(0, target.find('?'));
  return path == MetricsBoard::kPath;
}

}  // namespace mamori
