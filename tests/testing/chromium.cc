#include "testing/chromium.h"

#include <cstdlib>
#include <filesystem>

#include "mamori_source_dir.h"

namespace mamori::testing {

Result<ProcessResult> RunChromium(const std::string& profile,
                                  const std::vector<std::string>& args) {
  ProcessOptions o;
  o.argv = {kChromiumPath,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--hide-scrollbars",
            "--user-data-dir=" + profile,
            "--virtual-time-budget=8000"};
  o.argv.insert(o.argv.end(), args.begin(), args.end());
  o.env = {{"HOME", profile}};
  o.timeout = std::chrono::seconds(60);
  o.max_output = 4 << 20;
  return RunProcess(o);
}

void MaybeUpdateScreenshot(const std::string& png, const std::string& docs_name) {
  const char* update = std::getenv("MAMORI_UPDATE_SCREENSHOTS");
  if (update && std::string(update) == "1")
    std::filesystem::copy_file(png, std::string(MAMORI_SOURCE_DIR) + "/docs/" + docs_name,
                               std::filesystem::copy_options::overwrite_existing);
}

}  // namespace mamori::testing
