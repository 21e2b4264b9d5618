// Forwarders for the libarchive functions mamori calls (see util/lazy_library.h).
// Each has the signature of the library's header; a missing library gives
// the failure value beside it.
#include <archive.h>
#include <archive_entry.h>

#include "mamori/util/lazy_libraries.h"

using mamori::util::LazyLibArchive;

MAMORI_LAZY_FUNCTION(LazyLibArchive(), void, archive_entry_free, (struct archive_entry * a0),
                     (a0), )
MAMORI_LAZY_FUNCTION(LazyLibArchive(), struct archive_entry*, archive_entry_new, (), (), nullptr)
MAMORI_LAZY_FUNCTION(LazyLibArchive(), const char*, archive_entry_pathname,
                     (struct archive_entry * a0), (a0), nullptr)
MAMORI_LAZY_FUNCTION(LazyLibArchive(), void, archive_entry_set_filetype,
                     (struct archive_entry * a0, unsigned int a1), (a0, a1), )
MAMORI_LAZY_FUNCTION(LazyLibArchive(), void, archive_entry_set_pathname,
                     (struct archive_entry * a0, const char* a1), (a0, a1), )
MAMORI_LAZY_FUNCTION(LazyLibArchive(), void, archive_entry_set_perm,
                     (struct archive_entry * a0, mode_t a1), (a0, a1), )
MAMORI_LAZY_FUNCTION(LazyLibArchive(), void, archive_entry_set_size,
                     (struct archive_entry * a0, la_int64_t a1), (a0, a1), )
MAMORI_LAZY_FUNCTION(LazyLibArchive(), la_int64_t, archive_entry_size, (struct archive_entry * a0),
                     (a0), 0)
MAMORI_LAZY_FUNCTION(LazyLibArchive(), int, archive_entry_size_is_set, (struct archive_entry * a0),
                     (a0), 0)
MAMORI_LAZY_FUNCTION(LazyLibArchive(), const char*, archive_error_string, (struct archive * a0),
                     (a0), LazyLibArchive().Error())
MAMORI_LAZY_FUNCTION(LazyLibArchive(), la_int64_t, archive_filter_bytes,
                     (struct archive * a0, int a1), (a0, a1), ARCHIVE_FATAL)
MAMORI_LAZY_FUNCTION(LazyLibArchive(), la_ssize_t, archive_read_data,
                     (struct archive * a0, void* a1, size_t a2), (a0, a1, a2), ARCHIVE_FATAL)
MAMORI_LAZY_FUNCTION(LazyLibArchive(), int, archive_read_data_skip, (struct archive * a0), (a0),
                     ARCHIVE_FATAL)
MAMORI_LAZY_FUNCTION(LazyLibArchive(), int, archive_read_free, (struct archive * a0), (a0),
                     ARCHIVE_FATAL)
MAMORI_LAZY_FUNCTION(LazyLibArchive(), struct archive*, archive_read_new, (), (), nullptr)
MAMORI_LAZY_FUNCTION(LazyLibArchive(), int, archive_read_next_header,
                     (struct archive * a0, struct archive_entry** a1), (a0, a1), ARCHIVE_FATAL)
MAMORI_LAZY_FUNCTION(LazyLibArchive(), int, archive_read_open,
                     (struct archive * a0, void* a1, archive_open_callback* a2,
                      archive_read_callback* a3, archive_close_callback* a4),
                     (a0, a1, a2, a3, a4), ARCHIVE_FATAL)
MAMORI_LAZY_FUNCTION(LazyLibArchive(), int, archive_read_support_format_gnutar,
                     (struct archive * a0), (a0), ARCHIVE_FATAL)
MAMORI_LAZY_FUNCTION(LazyLibArchive(), int, archive_read_support_format_tar, (struct archive * a0),
                     (a0), ARCHIVE_FATAL)
MAMORI_LAZY_FUNCTION(LazyLibArchive(), const char*, archive_version_string, (), (),
                     "libarchive (not loaded)")
MAMORI_LAZY_FUNCTION(LazyLibArchive(), int, archive_write_close, (struct archive * a0), (a0),
                     ARCHIVE_FATAL)
MAMORI_LAZY_FUNCTION(LazyLibArchive(), la_ssize_t, archive_write_data,
                     (struct archive * a0, const void* a1, size_t a2), (a0, a1, a2), ARCHIVE_FATAL)
MAMORI_LAZY_FUNCTION(LazyLibArchive(), int, archive_write_free, (struct archive * a0), (a0),
                     ARCHIVE_FATAL)
MAMORI_LAZY_FUNCTION(LazyLibArchive(), int, archive_write_header,
                     (struct archive * a0, struct archive_entry* a1), (a0, a1), ARCHIVE_FATAL)
MAMORI_LAZY_FUNCTION(LazyLibArchive(), struct archive*, archive_write_new, (), (), nullptr)
MAMORI_LAZY_FUNCTION(LazyLibArchive(), int, archive_write_open_memory,
                     (struct archive * a0, void* a1, size_t a2, size_t* a3), (a0, a1, a2, a3),
                     ARCHIVE_FATAL)
MAMORI_LAZY_FUNCTION(LazyLibArchive(), int, archive_write_set_format_gnutar, (struct archive * a0),
                     (a0), ARCHIVE_FATAL)
MAMORI_LAZY_FUNCTION(LazyLibArchive(), int, archive_write_set_format_pax_restricted,
                     (struct archive * a0), (a0), ARCHIVE_FATAL)
