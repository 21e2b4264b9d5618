// The channel types come from the files: every src/mamori/*/*_channel.cc is
// registered (BuiltinChannels() is generated from them), and the loader's
// "unknown channel type" message lists exactly those.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <set>

#include "mamori/daemon/builtin_channels.h"
#include "mamori/daemon/config_file.h"
#include "mamori_source_dir.h"

namespace mamori {
namespace {

namespace fs = std::filesystem;

std::set<std::string> ChannelFiles() {
  std::set<std::string> names;
  for (const auto& folder :
       fs::directory_iterator(std::string(MAMORI_SOURCE_DIR) + "/src/mamori")) {
    if (!folder.is_directory()) continue;  // LAYERS
    for (const auto& f : fs::directory_iterator(folder.path())) {
      const std::string name = f.path().filename().string();
      if (name.ends_with("_channel.cc")) names.insert(name.substr(0, name.size() - 11));
    }
  }
  return names;
}

TEST(ChannelRegistry, EveryChannelFileIsRegisteredAndNothingElse) {
  const auto names = BuiltinChannels().Names();
  const std::set<std::string> registered(names.begin(), names.end());
  EXPECT_EQ(registered.size(), names.size()) << "a type registered twice";
  EXPECT_EQ(registered, ChannelFiles());
  EXPECT_TRUE(registered.count("email"));
  for (const auto& n : names) {
    const notify::ChannelType* t = BuiltinChannels().Find(n);
    ASSERT_NE(t, nullptr) << n;
    EXPECT_NE(t->factory, nullptr) << n;
    EXPECT_GT(std::string(t->description).size(), 10u) << n;
  }
  EXPECT_EQ(BuiltinChannels().Find("pager"), nullptr);
}

TEST(ChannelRegistry, AnUnknownTypeNamesTheRegisteredOnes) {
  ConfigLoad load = LoadConfigText(
      "data_dir: /tmp/x\nnotify:\n  - {name: ops, type: carrier-pigeon}\nchecks: []\n", "m.yaml");
  ASSERT_FALSE(load.diagnostics.empty());
  const std::string text = load.diagnostics.ToString();
  EXPECT_NE(text.find("m.yaml:3:"), std::string::npos) << text;
  EXPECT_NE(text.find("unknown channel type 'carrier-pigeon'"), std::string::npos) << text;
  EXPECT_NE(text.find("known types: alertmanager, command, email, webhook"), std::string::npos)
      << text;
}

}  // namespace
}  // namespace mamori
