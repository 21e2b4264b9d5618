// AssistantConfig: the `assistant:` section of the configuration, the
// OpenAI-compatible chat-completions endpoint `mamori ask` talks to (llama.cpp's
// server, Ollama, vLLM and hosted APIs all speak it). Kept apart from ask.h so
// the configuration loader includes only this.
//
// A plain value; ReadAssistantConfig reports bad values through the node's
// diagnostics (FILE:LINE:COL) and keeps the defaults for them. Not
// thread-safe (ConfigNode is not).
#pragma once

#include <cstddef>
#include <string>

#include "mamori/config/node.h"
#include "mamori/util/clock.h"
#include "mamori/util/result.h"

namespace mamori::logs {

struct AssistantConfig {
  std::string url;  // the chat-completions URL; empty: the bundle goes to a file
  std::string model = "default";
  std::string api_key_file;  // sent as "Authorization: Bearer <its content>"
  Duration timeout = std::chrono::seconds(120);
  size_t max_bundle_bytes = 32 * 1024;  // about 8000 tokens
  int max_rounds = 3;                   // rounds without progress before escalating
};

// Reads an `assistant:` mapping (unknown keys reported by the caller's check).
void ReadAssistantConfig(config::ConfigNode& node, AssistantConfig* out);

// The `assistant:` section of the configuration file `file` (the defaults
// when it has none). The whole file is validated by the configuration loader
// first; this only fails when the file cannot be read or parsed.
Result<AssistantConfig> LoadAssistantConfig(const std::string& file);

}  // namespace mamori::logs
