// mysqldump / mariadb-dump output: the header ("-- MySQL dump" or "-- MariaDB
// dump", host, database, server version) and the "-- Dump completed" trailer
// that both tools write only after the last table was dumped without error.
// Judged from a bounded head and tail of the (decompressed) text. Pure
// function; thread-safe.
#pragma once

#include <string>

#include "mamori/backup/stream.h"

namespace mamori::backup {

// Returns the OK summary; a missing trailer is a CRITICAL problem.
std::string VerifyMysqlDump(const HeadTail& text, Findings* findings);

}  // namespace mamori::backup
