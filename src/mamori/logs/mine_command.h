// Entry points of `mamori logs mine` and `mamori logs evaluate`, kept out of
// the CLI so they are testable with plain streams.
//
// RunMineCommand reads whole files into memory (batch mining needs two passes);
// each line is bounded by MinerOptions, the file count by the caller. Errors
// (unreadable file, unknown format) go to `err` with a non-zero exit code.
// Stateless; thread-safe as long as the streams are not shared.
#pragma once

#include <cstddef>
#include <ostream>
#include <string>
#include <vector>

#include "mamori/logs/group_accuracy.h"
#include "mamori/util/result.h"

namespace mamori::logs {

// Mines all lines of `files` (concatenated, in order) as one batch and prints,
// for format "csv", `LineId,EventId,EventTemplate` rows: LineId counts from 1,
// EventId is E1, E2, ... in order of first appearance. Returns 0, or 64 for an
// unknown format, 66 for an unreadable file.
int RunMineCommand(const std::vector<std::string>& files, const std::string& format,
                   std::ostream& out, std::ostream& err);

// The 16 labelled Loghub samples, in table order.
const std::vector<std::string>& LoghubDatasets();

struct DatasetEvaluation {
  std::string name;
  GroupAccuracy ga;
  double lines_per_second = 0;
};

// Mines <dir>/<name>/<name>_2k.log and scores it against the EventId column of
// <name>_2k.log_structured.csv.
Result<DatasetEvaluation> EvaluateDataset(const std::string& loghub_dir, const std::string& name);

// Evaluates every dataset and prints a markdown table, the average GA and the
// single-core throughput over all samples concatenated. Returns 0, or 66 when
// a dataset is missing or malformed (the others are still printed).
int RunMineEvaluate(const std::string& loghub_dir, std::ostream& out);

}  // namespace mamori::logs
