// Group Accuracy (GA), the metric of the Loghub parsing benchmark: a line is
// parsed correctly iff the set of lines sharing its predicted template id is
// exactly the set of lines sharing its true template id. GA is the fraction of
// correctly parsed lines.
//
// Pure functions over caller-owned vectors; thread-safe. Mismatched input sizes
// are a caller bug and yield an error value, never a crash.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "mamori/util/result.h"

namespace mamori::logs {

struct GroupAccuracy {
  double accuracy = 0;  // correct_lines / lines (0 for no lines)
  std::size_t lines = 0;
  std::size_t correct_lines = 0;
  std::size_t predicted_groups = 0;
  std::size_t true_groups = 0;
};

// predicted[i] and truth[i] are the group labels of line i. Labels are opaque:
// only equality matters.
Result<GroupAccuracy> ComputeGroupAccuracy(const std::vector<std::uint32_t>& predicted,
                                           const std::vector<std::string>& truth);

}  // namespace mamori::logs
