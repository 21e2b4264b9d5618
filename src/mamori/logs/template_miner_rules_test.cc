// The grouping rules of batch mining, one small synthetic file each: what
// makes a column part of the message, what makes it a value, and where a
// header ends.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "mamori/logs/template_miner.h"

namespace mamori::logs {
namespace {

BatchResult Mine(const std::vector<std::string>& lines) {
  std::vector<std::string_view> views(lines.begin(), lines.end());
  return MineBatch(views);
}

std::string TemplateOf(const BatchResult& r, std::size_t line) {
  return r.templates[r.line_template[line]];
}

TEST(TemplateMinerRules, TheFirstWordOfAMessagePicksTheMessage) {
  // Seven commands over nine lines: too many values for an enumeration, but
  // a word that starts the message names it.
  std::vector<std::string> lines;
  int n = 0;
  for (const char* verb :
       {"boot", "boot", "wait", "wait", "halt", "reboot", "rescan", "sync", "power"}) {
    lines.push_back(std::string(verb) + " (command " + std::to_string(++n) + ")");
  }
  // The same words after a constant first word are one value column.
  for (const char* verb : {"boot", "boot", "wait", "wait", "halt", "reboot", "rescan", "sync"}) {
    lines.push_back(std::string("job ") + verb + " (command " + std::to_string(++n) + ")");
  }
  BatchResult r = Mine(lines);
  EXPECT_EQ(TemplateOf(r, 0), "boot (command <*>)");
  EXPECT_EQ(r.line_template[1], r.line_template[0]);
  EXPECT_EQ(TemplateOf(r, 2), "wait (command <*>)");
  EXPECT_EQ(TemplateOf(r, 8), "power (command <*>)");
  for (std::size_t i = 10; i < lines.size(); ++i) EXPECT_EQ(r.line_template[i], r.line_template[9]);
  EXPECT_EQ(TemplateOf(r, 9), "job <*> (command <*>)");
}

TEST(TemplateMinerRules, FirstWordsSeenOnceEachAreValues) {
  // Every value once: nothing says the word picks a message.
  std::vector<std::string> lines;
  int n = 0;
  for (const char* hive : {"SOFTWARE,", "SYSTEM,", "SECURITY,", "SAM,", "DEFAULT,"}) {
    lines.push_back(std::string(hive) + " into registry key k" + std::to_string(++n));
  }
  BatchResult r = Mine(lines);
  for (std::size_t i = 1; i < lines.size(); ++i) EXPECT_EQ(r.line_template[i], r.line_template[0]);
  EXPECT_EQ(TemplateOf(r, 0), "<*> into registry key <*>");
}

TEST(TemplateMinerRules, DottedNamesWithUnderscoresAreNotHostNames) {
  // A host name has no '_'; a Java-style constant name does.
  std::string key;
  bool cut = false;
  internal::MaskLine("received action android.intent.action.SCREEN_ON", {}, &key, &cut);
  EXPECT_EQ(key, "received action android.intent.action.SCREEN_ON");
  internal::MaskLine("received from mail.example.org", {}, &key, &cut);
  EXPECT_EQ(key, "received from \x01");
}

TEST(TemplateMinerRules, AbsolutePathsAreVariables) {
  std::string key;
  bool cut = false;
  internal::MaskLine("Opened file /var/vm/sleepimage, size 5", {}, &key, &cut);
  EXPECT_EQ(key, "Opened file \x01, size \x01");
  // A lone "/" or a relative name is not a path of its own.
  internal::MaskLine("mount / as root from a/b", {}, &key, &cut);
  EXPECT_EQ(key, "mount / as root from a/b");
}

TEST(TemplateMinerRules, ALevelWordEndsTheHeader) {
  // Only spaces separate the fields; the level is the last of them.
  std::vector<std::string> lines;
  const char* messages[] = {"data address: 0x2", "program interrupt: trap",
                            "instruction cache parity", "generating core.41",
                            "ciod: failed to read message"};
  for (int i = 0; i < 20; ++i) {
    lines.push_back("- 11187673" + std::to_string(10 + i) + " R2" + std::to_string(i % 10) +
                    "-M0 RAS KERNEL " + (i % 3 ? "INFO " : "FATAL ") + messages[i % 5]);
  }
  std::vector<std::string_view> views(lines.begin(), lines.end());
  ASSERT_EQ(internal::LearnHeader(views), internal::HeaderKind::kLevel);
  EXPECT_EQ(views[0].substr(internal::ContentStart(views[0], internal::HeaderKind::kLevel)),
            " data address: 0x2");
  // The same message at two levels is one template.
  BatchResult r = MineBatch(views);
  EXPECT_EQ(r.line_template[5], r.line_template[0]);
  EXPECT_EQ(TemplateOf(r, 0), "data address: <*>");
}

TEST(TemplateMinerRules, AComponentOfFewValuesAfterTheLevelIsHeader) {
  std::vector<std::string> lines;
  const char* messages[] = {"Starting TrustedInstaller initialization.",
                            "Ending TrustedInstaller initialization.", "Session: 30 initialized",
                            "Loaded Servicing Stack v6.1 with Core", "Warning: Unrecognized"};
  for (int i = 0; i < 100; ++i) {
    lines.push_back("2016-09-28 04:30:" + std::to_string(10 + i % 50) + ", Info " +
                    (i % 7 ? "CBS " : "CSI ") + messages[i % 5]);
  }
  std::vector<std::string_view> views(lines.begin(), lines.end());
  ASSERT_EQ(internal::LearnHeader(views), internal::HeaderKind::kLevelComponent);
  EXPECT_EQ(
      views[1].substr(internal::ContentStart(views[1], internal::HeaderKind::kLevelComponent)),
      " Ending TrustedInstaller initialization.");
  BatchResult r = MineBatch(views);
  EXPECT_EQ(TemplateOf(r, 0), "Starting TrustedInstaller initialization.");
  EXPECT_NE(r.line_template[1], r.line_template[0]);
  // Message words after the level vary too much to be a component.
  std::vector<std::string> plain;
  for (int i = 0; i < 100; ++i) {
    plain.push_back("2016-09-28 04:30:10, Info word" + std::string(1, 'a' + i % 26) +
                    std::string(1, 'a' + i / 26) + " done");
  }
  std::vector<std::string_view> plain_views(plain.begin(), plain.end());
  EXPECT_EQ(internal::LearnHeader(plain_views), internal::HeaderKind::kLevel);
}

TEST(TemplateMinerRules, ValuesSharedByTwoMessagesAreVariables) {
  // Three users, each in two different messages: entities, not message words.
  // Four lifecycle words, each only in one message: they pick the message.
  std::vector<std::string> lines;
  for (int round = 0; round < 2; ++round) {
    for (const char* user : {"cyrus", "news", "test"}) {
      lines.push_back(std::string("session opened for user ") + user + " by (uid=0)");
      lines.push_back(std::string("session closed for user ") + user);
    }
  }
  for (int round = 0; round < 2; ++round) {
    for (const char* state : {"Paused", "Resumed", "Started", "Stopped"}) {
      lines.push_back("instance b9000564-fe1a-409b-b8cc-1e88b294cd1" + std::to_string(round) +
                      " VM " + state + " (Lifecycle Event)");
    }
  }
  BatchResult r = Mine(lines);
  for (std::size_t i = 2; i < 12; i += 2) EXPECT_EQ(r.line_template[i], r.line_template[0]) << i;
  for (std::size_t i = 3; i < 12; i += 2) EXPECT_EQ(r.line_template[i], r.line_template[1]) << i;
  EXPECT_EQ(TemplateOf(r, 0), "session opened for user <*> by (uid=<*>)");
  EXPECT_EQ(TemplateOf(r, 1), "session closed for user <*>");
  EXPECT_EQ(TemplateOf(r, 12), "instance <*> VM Paused (Lifecycle Event)");
  EXPECT_EQ(r.line_template[16], r.line_template[12]);
  EXPECT_NE(r.line_template[13], r.line_template[12]);
  EXPECT_EQ(TemplateOf(r, 15), "instance <*> VM Stopped (Lifecycle Event)");
}

TEST(TemplateMinerRules, StatesInCapitalsStayWordsOfTheMessage) {
  // LOOKING and FOLLOWING appear in two messages, but a word in capitals is
  // a state named in the code, not an entity such as a user name.
  std::vector<std::string> lines;
  for (int round = 0; round < 2; ++round) {
    for (const char* state : {"LOOKING", "FOLLOWING", "LEADING"}) {
      lines.push_back(std::string("peer state ") + state + " after 1" + std::to_string(round));
      lines.push_back(std::string("vote received, my state ") + state);
    }
  }
  BatchResult r = Mine(lines);
  EXPECT_EQ(TemplateOf(r, 0), "peer state LOOKING after <*>");
  EXPECT_EQ(r.line_template[6], r.line_template[0]);
  EXPECT_NE(r.line_template[2], r.line_template[0]);
  EXPECT_EQ(TemplateOf(r, 3), "vote received, my state FOLLOWING");
}

TEST(TemplateMinerRules, AColumnOfStatesInCapitalsPicksTheMessage) {
  // Seven states, too many for an enumeration; in capitals and repeating,
  // they name which transition happened. The same shape in lower case is a
  // value (a file name, a user).
  const char* states[] = {"NEW", "UNASSIGNED", "ASSIGNED", "RUNNING", "CLEANUP", "FAILED", "DONE"};
  std::vector<std::string> lines;
  for (int round = 0; round < 2; ++round) {
    for (const char* state : states) {
      lines.push_back("attempt_" + std::to_string(round) + " moved to " + state);
    }
  }
  for (const char* name : {"alpha", "beta", "gamma", "delta", "kappa", "omega", "sigma", "alpha"}) {
    lines.push_back(std::string("wrote_9 file ") + name + " ok");
  }
  BatchResult r = Mine(lines);
  EXPECT_EQ(TemplateOf(r, 0), "<*> moved to NEW");
  EXPECT_EQ(r.line_template[7], r.line_template[0]);
  EXPECT_NE(r.line_template[1], r.line_template[0]);
  EXPECT_EQ(TemplateOf(r, 13), "<*> moved to DONE");
  for (std::size_t i = 15; i < lines.size(); ++i)
    EXPECT_EQ(r.line_template[i], r.line_template[14]);
  EXPECT_EQ(TemplateOf(r, 14), "<*> file <*> ok");
}

}  // namespace
}  // namespace mamori::logs
