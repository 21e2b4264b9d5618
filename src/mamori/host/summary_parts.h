// SummaryParts: how the host checks that look at several things at once
// (network, timedaemon) build their observation: what is critical, what
// deserves a warning and what is fine, each a short phrase naming the thing
// it is about. The worst list sets the status; the summary leads with the
// problems, then the good news, joined by "; ". A plain value; not
// thread-safe; never fails.
#pragma once

#include <string>
#include <vector>

#include "mamori/core/observation.h"

namespace mamori::host {

struct SummaryParts {
  std::vector<std::string> critical, warning, good;

  bool empty() const { return critical.empty() && warning.empty() && good.empty(); }

  // Sets o.status and o.summary (metrics are left as they are).
  void Into(Observation& o) const {
    o.status = !critical.empty()  ? CheckStatus::kCritical
               : !warning.empty() ? CheckStatus::kWarning
                                  : CheckStatus::kOk;
    std::string s;
    for (const auto* list : {&critical, &warning, &good})
      for (const auto& part : *list) s += (s.empty() ? "" : "; ") + part;
    o.summary = std::move(s);
  }
};

}  // namespace mamori::host
