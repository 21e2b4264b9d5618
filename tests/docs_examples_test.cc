// Every ```yaml block in README.md and docs/*.md is checked with the real
// loaders, so an example a reader copies is one mamori accepts. A block says
// what it is on its first line:
//   (no marker)           a whole configuration file: `mamori config validate`
//   # fragment: KEY       the items of the top-level list KEY (checks, notify,
//                         maintenance, ...): validated as "KEY:" then the block
//   # rules-file          a signature file (docs/rules.md): the rule loader
//   # not-a-config        YAML for another program; not checked
// A block that fails is reported as FILE:LINE of the markdown, with the
// loader's messages moved to the markdown's lines.
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <optional>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "mamori/config/diagnostics.h"
#include "mamori/logs/rule_loader.h"
#include "mamori_source_dir.h"
#include "testing/cli.h"
#include "testing/ports.h"

namespace mamori {
namespace {

using testing::RunMamori;
using testing::TempDir;

struct YamlBlock {
  std::string file;    // relative to the source tree, e.g. "docs/notify.md"
  int fence_line = 0;  // the ```yaml line (1-based); the block's line N is fence_line + N
  std::string text;
};

std::vector<YamlBlock> YamlBlocks(const std::string& relative) {
  std::vector<YamlBlock> blocks;
  std::istringstream in(testing::ReadFile(std::string(MAMORI_SOURCE_DIR) + "/" + relative));
  std::optional<YamlBlock> open;
  int n = 0;
  for (std::string line; std::getline(in, line);) {
    ++n;
    if (open) {
      if (line.rfind("```", 0) == 0) {
        blocks.push_back(std::move(*open));
        open.reset();
      } else {
        open->text += line + "\n";
      }
    } else if (line == "```yaml" || line == "```yml") {
      open = YamlBlock{relative, n, ""};
    }
  }
  EXPECT_FALSE(open) << relative << ":" << (open ? open->fence_line : 0) << ": unclosed block";
  return blocks;
}

std::vector<std::string> DocumentFiles() {
  std::vector<std::string> files = {"README.md"};
  std::vector<std::string> docs;
  for (const auto& e :
       std::filesystem::directory_iterator(std::string(MAMORI_SOURCE_DIR) + "/docs"))
    if (e.path().extension() == ".md") docs.push_back("docs/" + e.path().filename().string());
  std::sort(docs.begin(), docs.end());
  files.insert(files.end(), docs.begin(), docs.end());
  return files;
}

// Rewrites "PATH:LINE:..." of the checked file as the markdown's
// "FILE:LINE:..." (`shift` = the markdown line of the checked file's line 0).
std::string ToMarkdownLines(const std::string& out, const std::string& path, const YamlBlock& b,
                            int shift) {
  std::string result;
  std::istringstream in(out);
  for (std::string line; std::getline(in, line);) {
    const std::string prefix = path + ":";
    size_t end = prefix.size();
    while (end < line.size() && std::isdigit(static_cast<unsigned char>(line[end]))) ++end;
    if (line.rfind(prefix, 0) == 0 && end > prefix.size())
      line = b.file + ":" + std::to_string(shift + std::stoi(line.substr(prefix.size()))) +
             line.substr(end);
    result += line + "\n";
  }
  return result;
}

// Empty when the block is fine, else what is wrong, located in the markdown.
std::string Check(const YamlBlock& b, const TempDir& dir) {
  const std::string where = b.file + ":" + std::to_string(b.fence_line);
  const std::string first = b.text.substr(0, b.text.find('\n'));
  static const std::regex fragment(R"(#\s*fragment:\s*([a-z_]+)\s*)");
  std::smatch m;
  if (first == "# not-a-config") return "";
  if (first == "# rules-file") {
    logs::RuleSet rules;
    config::Diagnostics diag;
    logs::LoadRuleText(b.text, b.file, &rules, &diag);
    if (diag.empty() && rules.signatures.empty())
      return where + ": a rules-file block without signatures\n";
    if (diag.empty()) return "";
    // The loader counts lines from the block's first line.
    const std::string out = diag.ToString();
    return where + ": the rule loader refused it:\n" +
           ToMarkdownLines(out, b.file, b, b.fence_line);
  }
  std::string text = b.text;
  int shift = b.fence_line;
  std::string kind = "whole configuration";
  if (std::regex_match(first, m, fragment)) {
    text = m[1].str() + ":\n" + b.text;
    shift -= 1;
    kind = "fragment of '" + m[1].str() + ":'";
  }
  const std::string path = dir.Write("block.yaml", text);
  auto r = RunMamori({"config", "validate", "-c", path});
  if (r.exit_code == 0) return "";
  return where + ": validated as a " + kind + ", `mamori config validate` exits " +
         std::to_string(r.exit_code) + ":\n" + ToMarkdownLines(r.out + r.err, path, b, shift);
}

TEST(DocsExamples, EveryYamlBlockIsAcceptedByItsLoader) {
  TempDir dir;
  int checked = 0;
  std::string failures;
  for (const auto& file : DocumentFiles()) {
    for (const auto& b : YamlBlocks(file)) {
      failures += Check(b, dir);
      ++checked;
    }
  }
  EXPECT_EQ(failures, "") << "a partial example says so on its first line (\"# fragment: KEY\", "
                             "\"# rules-file\" or \"# not-a-config\"); see the top of this file";
  // README.md and the docs hold dozens; finding none means the parsing broke.
  EXPECT_GE(checked, 30);
}

}  // namespace
}  // namespace mamori
