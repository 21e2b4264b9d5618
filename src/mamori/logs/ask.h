// The pure half of `mamori ask`: the `assistant:` settings, the context
// bundle sent to an OpenAI-compatible chat-completions endpoint, the request
// and response JSON, and what is shown of an answer (every shell command with
// its risk mark, repeats of steps that already failed flagged).
//
// Redaction happens while the inputs are collected (CollectBundleInputs runs
// every string through Redact before it is stored), so the bundle is built
// only from redacted text. Sizes are bounded: the bundle never exceeds
// max_bundle_bytes and each section has its share of it.
//
// Plain values and functions; thread-safe; nothing here does I/O except
// CollectBundleInputs, which reads the store's snapshots read-only.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "mamori/logs/assistant_config.h"
#include "mamori/logs/command_risk.h"
#include "mamori/logs/diagnose.h"
#include "mamori/logs/runbook_log.h"
#include "mamori/util/clock.h"
#include "mamori/util/result.h"

namespace mamori::logs {

// Everything the bundle may carry, each string already redacted.
struct BundleInputs {
  std::string question;
  std::string host;                   // host facts
  std::vector<std::string> checks;    // recent check states, one line each
  std::vector<std::string> findings;  // one block per finding
  std::vector<std::string> tried;     // runbook attempts, failures marked
  std::vector<std::string> novel;     // unrecognised error lines
};

// Gathers and redacts. `data_dir` empty or without a store: no check states.
BundleInputs CollectBundleInputs(const std::string& question, const DiagnoseReport& report,
                                 const std::vector<StepAttempt>& attempts,
                                 const std::string& data_dir, const std::string& host_facts,
                                 size_t* redactions);

struct Bundle {
  std::string text;      // the user message
  std::string identity;  // hex SHA-256 of everything but the host facts (which drift)
  size_t cut_bytes = 0;  // dropped to keep the sections within their shares
};

// Sections with their shares of `max_bytes`: question 5%, host 5%, checks
// 15%, findings 45%, tried 15%, novel 15%; a section cut at a line boundary
// says how much was left out.
Bundle BuildBundle(const BundleInputs& in, size_t max_bytes);

// The system prompt: answer briefly, commands in fenced blocks, never repeat
// a step listed as failed.
std::string_view SystemPrompt();

// The chat-completions request body (exactly what is sent).
std::string ChatRequestBody(const std::string& model, const std::string& bundle_text);

struct ChatAnswer {
  std::string content;
  std::optional<int64_t> prompt_tokens, completion_tokens, total_tokens;
};
Result<ChatAnswer> ParseChatResponse(std::string_view body);

// A runbook step that was tried and failed, with the command it ran.
struct FailedStep {
  std::string finding;
  int step = 0;
  std::string text;
  std::string command;
  WallTime time{};
};
std::vector<FailedStep> FailedSteps(const DiagnoseReport& report,
                                    const std::vector<StepAttempt>& attempts);

struct ShownAnswer {
  std::string text;                        // the answer with each command line marked
  std::vector<std::string> command_lines;  // "[read-only] CMD", "... REPEATS ..."
  int repeats = 0;                         // commands that repeat a failed step
};
ShownAnswer ShowAnswer(std::string_view answer, const std::vector<FailedStep>& failed);

// Words for a risk mark: "[read-only]", "[reversible]", "[DESTRUCTIVE]".
std::string RiskMark(StepRisk risk);

// A rough token count for a size (4 bytes per token).
inline size_t EstimateTokens(size_t bytes) { return (bytes + 3) / 4; }

}  // namespace mamori::logs
