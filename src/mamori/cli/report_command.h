// `mamori report`: availability per check and the incidents of a window with
// their timelines, or `mamori report incident ID` as a post-mortem draft
// (faces/report.h builds and renders them). Reads the store, outbox.db
// (deliveries), alerts.db (acknowledgements), runbook.db and faces.db
// (operator notes) without adding to them (daemon/report_entries.h), whether
// or not the daemon runs.
//   mamori report [-c FILE] [--since 30d] [--check NAME]... [--format text|md|html|json]
//   mamori report incident ID [--format ...]
//
// Exit codes: 0 printed; 3 the configuration or the store could not be read;
// 64 usage (a bad --since or --format, an unknown check or incident id).
// Single-threaded, like every verb.
#pragma once

#include <CLI/CLI.hpp>

#include "mamori/cli/verbs.h"

namespace mamori::cli {

Verb AddReport(CLI::App& app);

}  // namespace mamori::cli
