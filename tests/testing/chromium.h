// A real headless Chromium for the page tests (the dashboard, the status
// page): one run with a throw-away profile, bounded in time. `--dump-dom`
// prints the DOM after the page's scripts ran (the virtual-time budget lets
// its API calls finish); `--screenshot=FILE` saves a PNG. Blocking.
#pragma once

#include <string>
#include <vector>

#include "mamori/util/result.h"
#include "mamori/util/subprocess.h"

namespace mamori::testing {

inline constexpr const char* kChromiumPath = "/usr/bin/chromium";

// Runs Chromium with `args` after the headless flags, its profile and HOME in
// `profile` (a directory of the test's).
Result<ProcessResult> RunChromium(const std::string& profile, const std::vector<std::string>& args);

// Writes `png` over docs/NAME when MAMORI_UPDATE_SCREENSHOTS=1.
void MaybeUpdateScreenshot(const std::string& png, const std::string& docs_name);

}  // namespace mamori::testing
