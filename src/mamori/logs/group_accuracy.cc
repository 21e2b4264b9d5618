#include "mamori/logs/group_accuracy.h"

#include <unordered_map>

namespace mamori::logs {

Result<GroupAccuracy> ComputeGroupAccuracy(const std::vector<std::uint32_t>& predicted,
                                           const std::vector<std::string>& truth) {
  if (predicted.size() != truth.size()) {
    return Error("group accuracy: " + std::to_string(predicted.size()) + " predicted labels for " +
                 std::to_string(truth.size()) + " true labels");
  }
  GroupAccuracy ga;
  ga.lines = truth.size();
  std::unordered_map<std::uint32_t, std::size_t> predicted_size;
  for (std::uint32_t p : predicted) ++predicted_size[p];
  ga.predicted_groups = predicted_size.size();

  // For every true group: its size, and whether all its lines share one
  // predicted id (kMixed once two differ).
  struct TrueGroup {
    std::size_t size = 0;
    std::uint32_t predicted = 0;
    bool mixed = false;
  };
  std::unordered_map<std::string, TrueGroup> groups;
  for (std::size_t i = 0; i < truth.size(); ++i) {
    TrueGroup& g = groups[truth[i]];
    if (g.size == 0) {
      g.predicted = predicted[i];
    } else if (g.predicted != predicted[i]) {
      g.mixed = true;
    }
    ++g.size;
  }
  ga.true_groups = groups.size();
  // The true group is all in one predicted group; the two sets are equal iff
  // that predicted group has no other lines, i.e. the same size.
  for (const auto& [label, g] : groups) {
    if (!g.mixed && predicted_size[g.predicted] == g.size) ga.correct_lines += g.size;
  }
  ga.accuracy = ga.lines == 0 ? 0.0 : static_cast<double>(ga.correct_lines) / ga.lines;
  return ga;
}

}  // namespace mamori::logs
