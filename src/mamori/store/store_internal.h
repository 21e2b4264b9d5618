// Internals of Store (store.h) shared by the files that define it: the
// writer connection with its prepared statements, and how statuses are
// stored. Internal to the store folder: nothing else includes it. store.cc
// opens and closes (schema, migrations, the data directory); store_queue.cc
// is the callers' side of the write queue; store_writer.cc the writer thread
// (batches, commits, ping gathering); store_compact.cc the retention;
// store_reads.cc the queries.
//
// Ownership and threading: Store owns its Writer, used only on the writer
// thread (and by Open before that thread starts). Failure: statements return
// errors as values.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "mamori/core/status.h"
#include "mamori/store/sqlite.h"
#include "mamori/store/store.h"
#include "mamori/util/result.h"

namespace mamori {
namespace store_internal {

// Statuses are stored as their Nagios codes; anything else (a row written by
// hand) reads as UNKNOWN rather than failing the whole read.
inline CheckStatus StatusFromCode(int64_t code) {
  if (code >= 0 && code <= 3) return static_cast<CheckStatus>(code);
  return CheckStatus::kUnknown;
}

}  // namespace store_internal

// The writer connection and everything bound to it. Used only on the writer
// thread (and during Open, before that thread starts).
struct Store::Writer {
  sqlite::Db db;  // first: destroyed after the statements below
  sqlite::Statement upsert_check, select_check, insert_obs, upsert_rollup, insert_event,
      upsert_snapshot, insert_ping;
  // name -> (id, type). Cleared when a transaction fails: it may hold ids of
  // rows that were rolled back.
  std::unordered_map<std::string, std::pair<int64_t, std::string>> checks;

  Status Prepare();  // every statement above
  // `type` empty means "unknown here" (events carry no type): never overwrites.
  Result<int64_t> CheckId(const std::string& name, const std::string& type);

  // CommitBatch's rows, inside its transaction (store_writer.cc). An
  // observation also adds to its check's hour in `rollups`.
  struct Agg {
    int64_t n[4] = {0, 0, 0, 0};
    int64_t sum_us = 0;
    int64_t max_us = 0;
  };
  using Rollups = std::map<std::pair<int64_t, int64_t>, Agg>;  // (check id, hour) -> totals
  Status InsertObservation(const ObsItem& oi, Rollups& rollups);
  Status InsertEvent(const Event& e);
  Status InsertPing(const heartbeat::Ping& p);
  Status UpsertRollups(const Rollups& rollups);
  Status UpsertSnapshot(const CheckSnapshot& s);

  // Compact's last step, one transaction (store_compact.cc): pings past the
  // raw retention or the per-check bound, events past theirs.
  Status PrunePingsAndEvents(const std::vector<int64_t>& ids, std::optional<int64_t> raw_cut,
                             std::optional<int64_t> event_cut);
};

}  // namespace mamori
