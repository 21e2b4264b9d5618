// The remedy steps come from the files: every src/mamori/*/*_remedy.cc is
// registered (BuiltinRemedySteps() is generated from them), and the loader's
// error for an unknown step names exactly those, where the step stands.
#include <gtest/gtest.h>

#include <filesystem>
#include <set>

#include "mamori/daemon/builtin_remedy_steps.h"
#include "mamori/daemon/config_file.h"
#include "mamori_source_dir.h"

namespace mamori {
namespace {

namespace fs = std::filesystem;

std::set<std::string> RemedyFiles() {
  std::set<std::string> names;
  for (const auto& folder :
       fs::directory_iterator(std::string(MAMORI_SOURCE_DIR) + "/src/mamori")) {
    if (!folder.is_directory()) continue;
    for (const auto& f : fs::directory_iterator(folder.path())) {
      const std::string name = f.path().filename().string();
      if (name.ends_with("_remedy.cc")) names.insert(name.substr(0, name.size() - 10));
    }
  }
  return names;
}

TEST(RemedyRegistry, EveryRemedyFileIsRegisteredAndNothingElse) {
  const auto keys = BuiltinRemedySteps().Keys();
  const std::set<std::string> registered(keys.begin(), keys.end());
  EXPECT_EQ(registered.size(), keys.size()) << "a step registered twice";
  EXPECT_EQ(registered, RemedyFiles());
  EXPECT_TRUE(registered.count("remove_stale_socket"));
  for (const auto& k : keys) {
    const remedy::StepType* t = BuiltinRemedySteps().Find(k);
    ASSERT_NE(t, nullptr) << k;
    EXPECT_NE(t->reader, nullptr) << k;
    EXPECT_GT(std::string(t->argument).size(), 3u) << k;
    EXPECT_GT(std::string(t->description).size(), 10u) << k;
  }
  EXPECT_EQ(BuiltinRemedySteps().Find("reboot"), nullptr);
}

TEST(RemedyRegistry, AnUnknownStepNamesTheRegisteredOnes) {
  ConfigLoad load = LoadConfigText(
      "data_dir: /tmp/x\n"
      "checks:\n"
      "  - name: fpm\n"
      "    type: socket\n"
      "    path: /run/php/fpm.sock\n"
      "    remedy:\n"
      "      steps:\n"
      "        - reboot: now\n",
      "m.yaml");
  ASSERT_FALSE(load.diagnostics.empty());
  const std::string text = load.diagnostics.ToString();
  EXPECT_NE(text.find("m.yaml:8:11: "), std::string::npos) << text;
  EXPECT_NE(text.find("unknown remedy step 'reboot'; each step is exactly one of "
                      "command: [ARGV], remove_stale_socket: PATH, remove_unused_files: GLOB"),
            std::string::npos)
      << text;
  EXPECT_EQ(text.find("unknown key"), std::string::npos) << "reported twice: " << text;
}

}  // namespace
}  // namespace mamori
