// `mamori ask "QUESTION"` and `mamori diagnose --ask`: diagnose the logs,
// build a redacted context bundle (ask.h), send it to the configured
// OpenAI-compatible chat-completions endpoint through the shared libcurl
// client, and print the answer with every shell command marked read-only,
// reversible or destructive. Nothing in an answer is ever run.
//
// Guards, kept in <state_dir>/ask-history.json (bounded to the last 50
// rounds): an identical request (same question, findings, check states and
// attempts) that was already answered is refused; after max_rounds answered
// rounds in which nothing new was tried (`mamori runbook done`) and the
// findings did not change, nothing more is sent and the runbook's escalation
// is shown. Each request prints its size (bytes, estimated tokens) and the
// usage the endpoint reports. A request is cut off at `timeout`, also when the
// server accepts and never answers. With no url, the request is written to a
// file with a curl command to send it.
//
// Exit: 0 answered (or bundle written / shown), 1 refused by a guard, 3 the
// endpoint failed or timed out or the logs could not be read, 64 usage.
// Stateless apart from the history file; streams not shared between threads.
#pragma once

#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "mamori/logs/ask.h"
#include "mamori/logs/diagnose_command.h"

namespace mamori::logs {

struct AskOptions {
  std::string question;
  DiagnoseCommandOptions diagnose;  // paths, since, rules, data_dir (store + runbook log)
  AssistantConfig assistant;
  bool show_bundle = false;  // print the request body and send nothing
  // Where ask-history.json and written bundles go: the data dir when a
  // configuration names one, else the cache directory.
  std::string state_dir;
  std::string host_facts;  // empty: this machine's (tests pass fixed text)
};

int RunAskCommand(const AskOptions& options, std::ostream& out, std::ostream& err);

}  // namespace mamori::logs
