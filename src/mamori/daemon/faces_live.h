// LiveChecksOf: the faces' view (faces/read_model.h LiveCheck) of the daemon's
// checks: configuration, acknowledgement and the window holding each. Pure;
// called on the daemon's event loop, which owns what it reads.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "mamori/daemon/check_runtime.h"
#include "mamori/faces/read_model.h"
#include "mamori/notify/router.h"

namespace mamori {

// `held` names the maintenance window or silence holding a check now, if any.
std::vector<faces::LiveCheck> LiveChecksOf(
    const std::vector<std::shared_ptr<CheckRuntime>>& checks,
    const std::vector<notify::AckView>& acks,
    const std::function<std::optional<std::string>(const CheckRuntime&)>& held);

}  // namespace mamori
