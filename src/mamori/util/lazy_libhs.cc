// Forwarders for the libhs functions mamori calls (see util/lazy_library.h).
// Each has the signature of the library's header; a missing library gives
// the failure value beside it.
#include <hs/hs.h>

#include "mamori/util/lazy_libraries.h"

using mamori::util::LazyLibHyperscan;

MAMORI_LAZY_FUNCTION(LazyLibHyperscan(), hs_error_t, hs_alloc_scratch,
                     (const hs_database_t* a0, hs_scratch_t** a1), (a0, a1), HS_UNKNOWN_ERROR)
MAMORI_LAZY_FUNCTION(LazyLibHyperscan(), hs_error_t, hs_clone_scratch,
                     (const hs_scratch_t* a0, hs_scratch_t** a1), (a0, a1), HS_UNKNOWN_ERROR)
MAMORI_LAZY_FUNCTION(LazyLibHyperscan(), hs_error_t, hs_compile_multi,
                     (const char* const* a0, const unsigned int* a1, const unsigned int* a2,
                      unsigned int a3, unsigned int a4, const hs_platform_info_t* a5,
                      hs_database_t** a6, hs_compile_error_t** a7),
                     (a0, a1, a2, a3, a4, a5, a6, a7), HS_UNKNOWN_ERROR)
MAMORI_LAZY_FUNCTION(LazyLibHyperscan(), hs_error_t, hs_deserialize_database,
                     (const char* a0, const size_t a1, hs_database_t** a2), (a0, a1, a2),
                     HS_UNKNOWN_ERROR)
MAMORI_LAZY_FUNCTION(LazyLibHyperscan(), hs_error_t, hs_expression_info,
                     (const char* a0, unsigned int a1, hs_expr_info_t** a2,
                      hs_compile_error_t** a3),
                     (a0, a1, a2, a3), HS_UNKNOWN_ERROR)
MAMORI_LAZY_FUNCTION(LazyLibHyperscan(), hs_error_t, hs_free_compile_error,
                     (hs_compile_error_t * a0), (a0), HS_UNKNOWN_ERROR)
MAMORI_LAZY_FUNCTION(LazyLibHyperscan(), hs_error_t, hs_free_database, (hs_database_t * a0), (a0),
                     HS_UNKNOWN_ERROR)
MAMORI_LAZY_FUNCTION(LazyLibHyperscan(), hs_error_t, hs_free_scratch, (hs_scratch_t * a0), (a0),
                     HS_UNKNOWN_ERROR)
MAMORI_LAZY_FUNCTION(LazyLibHyperscan(), hs_error_t, hs_populate_platform,
                     (hs_platform_info_t * a0), (a0), HS_UNKNOWN_ERROR)
MAMORI_LAZY_FUNCTION(LazyLibHyperscan(), hs_error_t, hs_scan,
                     (const hs_database_t* a0, const char* a1, unsigned int a2, unsigned int a3,
                      hs_scratch_t* a4, match_event_handler a5, void* a6),
                     (a0, a1, a2, a3, a4, a5, a6), HS_UNKNOWN_ERROR)
MAMORI_LAZY_FUNCTION(LazyLibHyperscan(), hs_error_t, hs_serialize_database,
                     (const hs_database_t* a0, char** a1, size_t* a2), (a0, a1, a2),
                     HS_UNKNOWN_ERROR)
MAMORI_LAZY_FUNCTION(LazyLibHyperscan(), const char*, hs_version, (), (), "not loaded")
