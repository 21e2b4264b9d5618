// Forwarders for the libmariadb functions mamori calls (see util/lazy_library.h).
// Each has the signature of the library's header; a missing library gives
// the failure value beside it.
#include <mysql.h>

#include "mamori/util/lazy_libraries.h"

using mamori::util::LazyLibMariaDb;

MAMORI_LAZY_FUNCTION(LazyLibMariaDb(), void, mysql_close, (MYSQL * a0), (a0), )
MAMORI_LAZY_FUNCTION(LazyLibMariaDb(), const char*, mysql_error, (MYSQL * a0), (a0),
                     LazyLibMariaDb().Error())
MAMORI_LAZY_FUNCTION(LazyLibMariaDb(), MYSQL_FIELD*, mysql_fetch_fields, (MYSQL_RES * a0), (a0),
                     nullptr)
MAMORI_LAZY_FUNCTION(LazyLibMariaDb(), unsigned long*, mysql_fetch_lengths, (MYSQL_RES * a0), (a0),
                     nullptr)
MAMORI_LAZY_FUNCTION(LazyLibMariaDb(), MYSQL_ROW, mysql_fetch_row, (MYSQL_RES * a0), (a0), nullptr)
MAMORI_LAZY_FUNCTION(LazyLibMariaDb(), unsigned int, mysql_field_count, (MYSQL * a0), (a0), 0)
MAMORI_LAZY_FUNCTION(LazyLibMariaDb(), void, mysql_free_result, (MYSQL_RES * a0), (a0), )
MAMORI_LAZY_FUNCTION(LazyLibMariaDb(), MYSQL*, mysql_init, (MYSQL * a0), (a0), nullptr)
MAMORI_LAZY_FUNCTION(LazyLibMariaDb(), int, mysql_next_result, (MYSQL * a0), (a0), 1)
MAMORI_LAZY_FUNCTION(LazyLibMariaDb(), unsigned int, mysql_num_fields, (MYSQL_RES * a0), (a0), 0)
MAMORI_LAZY_FUNCTION(LazyLibMariaDb(), my_ulonglong, mysql_num_rows, (MYSQL_RES * a0), (a0), 0)
MAMORI_LAZY_FUNCTION(LazyLibMariaDb(), int, mysql_options,
                     (MYSQL * a0, enum mysql_option a1, const void* a2), (a0, a1, a2), 1)
MAMORI_LAZY_FUNCTION(LazyLibMariaDb(), int, mysql_query, (MYSQL * a0, const char* a1), (a0, a1), 1)
MAMORI_LAZY_FUNCTION(LazyLibMariaDb(), MYSQL*, mysql_real_connect,
                     (MYSQL * a0, const char* a1, const char* a2, const char* a3, const char* a4,
                      unsigned int a5, const char* a6, unsigned long a7),
                     (a0, a1, a2, a3, a4, a5, a6, a7), nullptr)
MAMORI_LAZY_FUNCTION(LazyLibMariaDb(), int, mysql_real_query,
                     (MYSQL * a0, const char* a1, unsigned long a2), (a0, a1, a2), 1)
MAMORI_LAZY_FUNCTION(LazyLibMariaDb(), int, mysql_server_init, (int a0, char** a1, char** a2),
                     (a0, a1, a2), 1)
MAMORI_LAZY_FUNCTION(LazyLibMariaDb(), MYSQL_RES*, mysql_store_result, (MYSQL * a0), (a0), nullptr)
