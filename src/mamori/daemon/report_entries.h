// What incident timelines show beyond the store's events, gathered from the
// daemon's other files in data_dir without adding to them: notifications and their
// delivery (outbox.db), the acknowledgement log (alerts.db), runbook steps
// (runbook.db) and operator notes (faces.db). Used by `mamori report` and by
// the API's incident list (through FacesApi::Hooks::entries).
//
// Bounded by EntrySources; a file that cannot be read is named in `warnings`
// and skipped (the rest still shows). outbox.db and alerts.db are opened
// read-only; runbook.db and faces.db only when they exist, through their own
// classes. Thread-safe (no state; each call opens its own connections).
#pragma once

#include <string>
#include <vector>

#include "mamori/faces/report.h"

namespace mamori {

struct EntrySources {
  bool notes = true;  // the API lists notes on their own
  size_t max_deliveries = 20'000;
  size_t max_acks = 10'000;
  size_t max_notes = 10'000;
};

std::vector<faces::ReportEntry> GatherReportEntries(const std::string& data_dir, WallTime since,
                                                    const EntrySources& sources,
                                                    std::vector<std::string>* warnings);

}  // namespace mamori
