// `mamori completion bash|zsh`, sourced into a REAL bash (and zsh, where
// installed): the generated functions offer the verbs, sub-verbs and options
// the binary's own parser knows, and leave file names to the shell elsewhere.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "mamori/util/subprocess.h"
#include "mamori_binary_path.h"

namespace mamori {
namespace {

Result<ProcessResult> RunArgv(std::vector<std::string> argv) {
  ProcessOptions o;
  o.argv = std::move(argv);
  o.timeout = std::chrono::seconds(20);
  return RunProcess(o);
}

// What the completion function offers for the words typed so far (the last
// one is the word being completed), one candidate per line.
std::string Complete(const std::string& shell, const std::string& typed) {
  std::string script;
  if (shell == "bash")
    script =
        "source <(\"$0\" completion bash) || exit 9\n"
        "read -ra COMP_WORDS <<< \"$1\"\n"
        "[[ $1 == *' ' ]] && COMP_WORDS+=('')\n"
        "COMP_CWORD=$((${#COMP_WORDS[@]} - 1))\n"
        "_mamori\n"
        "(( ${#COMPREPLY[@]} )) && printf '%s\\n' \"${COMPREPLY[@]}\"; true\n";
  else
    // Outside a completion widget compadd and _files do not exist: these
    // print what zsh would offer (the candidates the typed prefix matches).
    script =
        "compadd() { [[ $1 == -- ]] && shift; local c;\n"
        "  for c; do [[ $c == ${words[CURRENT]}* ]] && print -- $c; done; true; }\n"
        "_files() { print -- '<files>'; }\n"
        "eval \"$(\"$0\" completion zsh | sed '$d')\" || exit 9\n"
        "words=(${=1}); [[ $1 == *' ' ]] && words+=('')\n"
        "CURRENT=${#words}\n"
        "_mamori\n";
  ProcessOptions o;
  o.argv = {shell, "-c", script, MAMORI_BINARY, typed};
  o.timeout = std::chrono::seconds(20);
  auto r = RunProcess(o);
  EXPECT_TRUE(r.ok());
  if (!r.ok()) return "";
  EXPECT_EQ(r->exit_code, 0) << r->err;
  return r->out;
}

TEST(Completion, BashOffersVerbsSubVerbsAndOptionsFromTheParser) {
  EXPECT_EQ(Complete("bash", "mamori lo"), "logs\n");
  EXPECT_EQ(Complete("bash", "mamori logs s"), "scan\n");
  EXPECT_EQ(Complete("bash", "mamori logs scan --co"), "--count\n");
  EXPECT_EQ(Complete("bash", "mamori baseline f"), "forget\n");
  // Options of another verb are not offered here.
  EXPECT_EQ(Complete("bash", "mamori doctor --co"), "");
  // An option's value and a file argument are the shell's (readline's default).
  EXPECT_EQ(Complete("bash", "mamori logs scan "), "");
  std::string top = Complete("bash", "mamori ");
  for (const char* verb : {"doctor\n", "run\n", "status\n", "diagnose\n", "completion\n"})
    EXPECT_NE(top.find(verb), std::string::npos) << verb << " missing from:\n" << top;
}

TEST(Completion, ZshOffersTheSameWords) {
  auto zsh = RunArgv({"zsh", "-c", "true"});
  if (!zsh.ok() || zsh->exit_code != 0)
    GTEST_SKIP() << "zsh is not installed (scripts/bootstrap.sh installs it)";
  EXPECT_EQ(Complete("zsh", "mamori lo"), "logs\n<files>\n");
  EXPECT_EQ(Complete("zsh", "mamori logs scan --co"), "--count\n");
  EXPECT_EQ(Complete("zsh", "mamori logs scan "), "<files>\n");
}

TEST(Completion, UnknownShellIsAUsageError) {
  auto r = RunArgv({MAMORI_BINARY, "completion", "fish"});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->exit_code, 64) << r->out << r->err;
}

}  // namespace
}  // namespace mamori
