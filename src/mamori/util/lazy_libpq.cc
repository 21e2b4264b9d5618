// Forwarders for the libpq functions mamori calls (see util/lazy_library.h).
// Each has the signature of the library's header; a missing library gives
// the failure value beside it.
#include <libpq-fe.h>

#include "mamori/util/lazy_libraries.h"

using mamori::util::LazyLibPq;

namespace {
// libpq's error getters return char*; they are never written through.
char* Message() { return const_cast<char*>(LazyLibPq().Error()); }
}  // namespace

MAMORI_LAZY_FUNCTION(LazyLibPq(), int, PQbackendPID, (const PGconn* a0), (a0), 0)
MAMORI_LAZY_FUNCTION(LazyLibPq(), int, PQcancel, (PGcancel * a0, char* a1, int a2), (a0, a1, a2), 0)
MAMORI_LAZY_FUNCTION(LazyLibPq(), void, PQclear, (PGresult * a0), (a0), )
MAMORI_LAZY_FUNCTION(LazyLibPq(), PostgresPollingStatusType, PQconnectPoll, (PGconn * a0), (a0),
                     PGRES_POLLING_FAILED)
MAMORI_LAZY_FUNCTION(LazyLibPq(), PGconn*, PQconnectStartParams,
                     (const char* const* a0, const char* const* a1, int a2), (a0, a1, a2), nullptr)
MAMORI_LAZY_FUNCTION(LazyLibPq(), PGconn*, PQconnectdb, (const char* a0), (a0), nullptr)
MAMORI_LAZY_FUNCTION(LazyLibPq(), PGconn*, PQconnectdbParams,
                     (const char* const* a0, const char* const* a1, int a2), (a0, a1, a2), nullptr)
MAMORI_LAZY_FUNCTION(LazyLibPq(), void, PQconninfoFree, (PQconninfoOption * a0), (a0), )
MAMORI_LAZY_FUNCTION(LazyLibPq(), PQconninfoOption*, PQconninfoParse, (const char* a0, char** a1),
                     (a0, a1), nullptr)
MAMORI_LAZY_FUNCTION(LazyLibPq(), int, PQconsumeInput, (PGconn * a0), (a0), 0)
MAMORI_LAZY_FUNCTION(LazyLibPq(), char*, PQerrorMessage, (const PGconn* a0), (a0), Message())
MAMORI_LAZY_FUNCTION(LazyLibPq(), PGresult*, PQexec, (PGconn * a0, const char* a1), (a0, a1),
                     nullptr)
MAMORI_LAZY_FUNCTION(LazyLibPq(), void, PQfinish, (PGconn * a0), (a0), )
MAMORI_LAZY_FUNCTION(LazyLibPq(), void, PQfreeCancel, (PGcancel * a0), (a0), )
MAMORI_LAZY_FUNCTION(LazyLibPq(), void, PQfreemem, (void* a0), (a0), )
MAMORI_LAZY_FUNCTION(LazyLibPq(), PGcancel*, PQgetCancel, (PGconn * a0), (a0), nullptr)
MAMORI_LAZY_FUNCTION(LazyLibPq(), PGresult*, PQgetResult, (PGconn * a0), (a0), nullptr)
MAMORI_LAZY_FUNCTION(LazyLibPq(), int, PQgetisnull, (const PGresult* a0, int a1, int a2),
                     (a0, a1, a2), 0)
MAMORI_LAZY_FUNCTION(LazyLibPq(), char*, PQgetvalue, (const PGresult* a0, int a1, int a2),
                     (a0, a1, a2), const_cast<char*>(""))
MAMORI_LAZY_FUNCTION(LazyLibPq(), int, PQisBusy, (PGconn * a0), (a0), 0)
MAMORI_LAZY_FUNCTION(LazyLibPq(), int, PQnfields, (const PGresult* a0), (a0), 0)
MAMORI_LAZY_FUNCTION(LazyLibPq(), int, PQntuples, (const PGresult* a0), (a0), 0)
MAMORI_LAZY_FUNCTION(LazyLibPq(), PGPing, PQping, (const char* a0), (a0), PQPING_NO_ATTEMPT)
MAMORI_LAZY_FUNCTION(LazyLibPq(), char*, PQresultErrorField, (const PGresult* a0, int a1), (a0, a1),
                     nullptr)
MAMORI_LAZY_FUNCTION(LazyLibPq(), char*, PQresultErrorMessage, (const PGresult* a0), (a0),
                     Message())
MAMORI_LAZY_FUNCTION(LazyLibPq(), ExecStatusType, PQresultStatus, (const PGresult* a0), (a0),
                     PGRES_FATAL_ERROR)
MAMORI_LAZY_FUNCTION(LazyLibPq(), int, PQsendQuery, (PGconn * a0, const char* a1), (a0, a1), 0)
MAMORI_LAZY_FUNCTION(LazyLibPq(), int, PQsocket, (const PGconn* a0), (a0), -1)
MAMORI_LAZY_FUNCTION(LazyLibPq(), ConnStatusType, PQstatus, (const PGconn* a0), (a0),
                     CONNECTION_BAD)
