// The command classifier shared by runbooks and `mamori ask`: looking is
// read-only, restarting and editing are reversible, losing data is
// destructive, and what it does not know is never called read-only.
#include "mamori/logs/command_risk.h"

#include <gtest/gtest.h>

#include "mamori/logs/diagnose_command.h"

namespace mamori::logs {
namespace {

TEST(CommandRisk, ClassifiesCommonCommands) {
  const std::vector<std::pair<std::string, StepRisk>> cases = {
      {"tail -n 100 /var/log/mysql/error.log", StepRisk::kReadOnly},
      {"sudo journalctl -u mariadb --since '1 hour ago'", StepRisk::kReadOnly},
      {"systemctl status php8.2-fpm", StepRisk::kReadOnly},
      {"ls -l /run/php/", StepRisk::kReadOnly},
      {"df -h /var && free -m", StepRisk::kReadOnly},
      {"grep -c ERROR /var/log/syslog | sort", StepRisk::kReadOnly},
      {"mysqlcheck --check wordpress wp_options", StepRisk::kReadOnly},
      {"mysql -e 'SHOW ENGINE INNODB STATUS'", StepRisk::kReadOnly},
      {"nginx -t", StepRisk::kReadOnly},
      {"ip addr", StepRisk::kReadOnly},
      {"docker ps -a", StepRisk::kReadOnly},
      {"curl -sI https://example.org/", StepRisk::kReadOnly},
      {"tail -f /var/log/nginx/error.log", StepRisk::kReadOnly},
      {"sudo systemctl restart php8.2-fpm", StepRisk::kReversible},
      {"systemctl daemon-reload", StepRisk::kReversible},
      {"nginx -s reload", StepRisk::kReversible},
      {"sed -i 's/^max_connections.*/max_connections = 200/' /etc/mysql/my.cnf",
       StepRisk::kReversible},
      {"echo 1 > /proc/sys/vm/overcommit_memory", StepRisk::kReversible},
      {"sysctl -w vm.overcommit_memory=1", StepRisk::kReversible},
      {"apt-get install -y chrony", StepRisk::kReversible},
      {"mv /run/php/php-fpm.sock /tmp/", StepRisk::kReversible},
      {"some-vendor-tool --fix", StepRisk::kReversible},
      {"mysql -e 'SET GLOBAL innodb_force_recovery=1'", StepRisk::kReversible},
      {"ip addr add 10.0.0.2/24 dev eth0", StepRisk::kReversible},
      {"sudo rm -f /run/php/php8.2-fpm.sock", StepRisk::kDestructive},
      {"rm -rf /var/lib/mysql", StepRisk::kDestructive},
      {"dd if=/dev/zero of=/dev/sda bs=1M", StepRisk::kDestructive},
      {"mkfs.ext4 /dev/sdb1", StepRisk::kDestructive},
      {"mysql wordpress -e 'DROP TABLE wp_statpress'", StepRisk::kDestructive},
      {"psql -c 'DELETE FROM sessions'", StepRisk::kDestructive},
      {"redis-cli FLUSHALL", StepRisk::kDestructive},
      {"docker system prune -a", StepRisk::kDestructive},
      {"docker rm -f web", StepRisk::kDestructive},
      {"apt-get purge mariadb-server", StepRisk::kDestructive},
      {"git reset --hard origin/main", StepRisk::kDestructive},
      {"find /tmp -name '*.lock' -delete", StepRisk::kDestructive},
      {"journalctl --vacuum-size=100M", StepRisk::kDestructive},
      {"kill -9 641", StepRisk::kDestructive},
      {"zpool destroy tank", StepRisk::kDestructive},
      {"systemctl status x; rm /etc/passwd", StepRisk::kDestructive},
      {"cat a | tee /etc/x && shred -u key", StepRisk::kDestructive},
  };
  for (const auto& [cmd, want] : cases)
    EXPECT_EQ(RiskName(ClassifyCommand(cmd)), RiskName(want)) << cmd;
}

TEST(CommandRisk, ExtractsCommandsFromAnAnswer) {
  const std::string answer =
      "First look at the log:\n"
      "```bash\n"
      "# see what failed\n"
      "tail -n 50 /var/log/mysql/error.log\n"
      "sudo systemctl restart \\\n"
      "  mariadb\n"
      "```\n"
      "Or, in a terminal:\n"
      "$ rm -f /run/php/php8.2-fpm.sock\n"
      "```console\n"
      "$ df -h\n"
      "Filesystem Size Used\n"
      "```\n"
      "```ini\n"
      "innodb_force_recovery = 1\n"
      "```\n"
      "The word $HOME in text is not a command.\n";
  auto cmds = ExtractCommands(answer);
  ASSERT_EQ(cmds.size(), 4u);
  EXPECT_EQ(cmds[0].command, "tail -n 50 /var/log/mysql/error.log");
  EXPECT_EQ(cmds[0].line, 3u);
  EXPECT_EQ(cmds[1].command, "sudo systemctl restart mariadb");
  EXPECT_EQ(cmds[2].command, "rm -f /run/php/php8.2-fpm.sock");
  EXPECT_EQ(cmds[3].command, "df -h");
  EXPECT_EQ(cmds[3].line, 10u);
}

// diagnose shows a runbook step as risky as its command is, whatever the rule
// file declared: a step never looks safer than what it runs.
TEST(CommandRisk, DiagnoseShowsTheHigherOfDeclaredAndClassifiedRisk) {
  DiagnoseReport r;
  Finding f;
  f.signature = "demo.x";
  f.summary = "demo";
  f.runbook = {{"Look", "systemctl status demo", StepRisk::kReadOnly, ""},
               {"Clean up", "rm -rf /var/lib/demo/cache", StepRisk::kReadOnly, ""},
               {"Restart", "systemctl restart demo", StepRisk::kDestructive, ""}};
  r.findings.push_back(f);
  const std::string text = ReportText(r, {});
  EXPECT_NE(text.find("$ systemctl status demo   (read-only)"), std::string::npos) << text;
  EXPECT_NE(text.find("$ rm -rf /var/lib/demo/cache   (destructive)"), std::string::npos) << text;
  EXPECT_NE(text.find("$ systemctl restart demo   (destructive)"), std::string::npos) << text;
  EXPECT_NE(ReportJson(r, {}).find("\"risk\": \"destructive\""), std::string::npos);
}

}  // namespace
}  // namespace mamori::logs
