#include "mamori/daemon/faces_live.h"

#include <unordered_map>

namespace mamori {

std::vector<faces::LiveCheck> LiveChecksOf(
    const std::vector<std::shared_ptr<CheckRuntime>>& checks,
    const std::vector<notify::AckView>& acks,
    const std::function<std::optional<std::string>(const CheckRuntime&)>& held) {
  std::unordered_map<std::string, const notify::AckView*> by_check;
  for (const auto& a : acks) by_check[a.check] = &a;
  std::vector<faces::LiveCheck> out;
  out.reserve(checks.size());
  for (const auto& rt : checks) {
    faces::LiveCheck l;
    l.name = rt->config.name;
    l.type = rt->config.type;
    l.description = rt->config.description;
    l.tags = rt->config.tags;
    if (auto it = by_check.find(l.name); it != by_check.end()) {
      l.acknowledged = true;
      l.ack_by = it->second->by;
      l.ack_at = it->second->at;
    }
    l.maintenance = held(*rt).value_or("");
    out.push_back(std::move(l));
  }
  return out;
}

}  // namespace mamori
