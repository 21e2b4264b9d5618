// `mamori backup verify` through the real binary: line format, --json shape,
// worst-status exit codes, usage errors.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "mamori/util/subprocess.h"
#include "testing/cli.h"

namespace mamori::testing {
namespace {

const char* kPlainDump =
    "--\n-- PostgreSQL database dump\n--\n\n"
    "-- Dumped from database version 15.18 (Debian 15.18-0+deb12u1)\n"
    "-- Dumped by pg_dump version 15.18 (Debian 15.18-0+deb12u1)\n\n"
    "SET statement_timeout = 0;\nCOPY public.t (x) FROM stdin;\n1\n2\n\\.\n\n"
    "--\n-- PostgreSQL database dump complete\n--\n\n";

TEST(BackupCli, VerifyPrintsOneLinePerArtifactAndExitsWithTheWorst) {
  TempDir dir;
  const std::string good = dir.Write("good.sql", kPlainDump);
  ProcessOptions gz;
  gz.argv = {"gzip", "-k", good};
  ASSERT_TRUE(RunProcess(gz).ok());
  const std::string bad =
      dir.Write("db.dump", "pg_dump: error: aborting because of server version mismatch\n");

  CliResult r = RunMamori({"backup", "verify", good, good + ".gz"});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("OK " + good + " (pg_dump-plain): pg_dump plain SQL dump complete"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("OK " + good + ".gz (gzip+pg_dump-plain): "), std::string::npos) << r.out;

  r = RunMamori({"backup", "verify", good, bad});
  EXPECT_EQ(r.exit_code, 2) << r.out;
  EXPECT_NE(r.out.find("CRITICAL " + bad +
                       " (text): not a pg_dump archive: 60 bytes of text: 'pg_dump: error: "
                       "aborting because of server version mismatch'"),
            std::string::npos)
      << r.out;

  r = RunMamori({"backup", "verify", "--json", good, bad, dir.path() + "/missing"});
  EXPECT_EQ(r.exit_code, 2);  // CRITICAL outranks UNKNOWN
  auto j = nlohmann::json::parse(r.out);
  ASSERT_EQ(j.size(), 3u);
  EXPECT_EQ(j[0]["path"], good);
  EXPECT_EQ(j[0]["format"], "pg_dump-plain");
  EXPECT_EQ(j[0]["status"], "ok");
  EXPECT_EQ(j[0]["details"]["server_version"], "15.18 (Debian 15.18-0+deb12u1)");
  EXPECT_TRUE(j[0].contains("summary"));
  EXPECT_EQ(j[1]["status"], "critical");
  EXPECT_EQ(j[2]["status"], "unknown");

  r = RunMamori({"backup", "verify", dir.path() + "/missing"});
  EXPECT_EQ(r.exit_code, 3);
  const std::string unknown_text = dir.Write("notes.bin", std::string(5000, '\x01'));
  r = RunMamori({"backup", "verify", unknown_text});
  EXPECT_EQ(r.exit_code, 1) << r.out;
  EXPECT_NE(r.out.find("WARNING " + unknown_text + " (unknown): format not recognized (first "
                       "bytes: 01 01"),
            std::string::npos)
      << r.out;
}

TEST(BackupCli, UsageErrorsExit64) {
  EXPECT_EQ(RunMamori({"backup", "verify"}).exit_code, 64);
  EXPECT_EQ(RunMamori({"backup"}).exit_code, 64);
  EXPECT_EQ(RunMamori({"backup", "verify", "--bogus", "x"}).exit_code, 64);
}

}  // namespace
}  // namespace mamori::testing
