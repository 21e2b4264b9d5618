// Forwarders for the libsystemd functions mamori calls (see
// util/lazy_library.h): the journal (log checks, `diagnose`, the kernel's
// messages) and the bus (systemd units, the time daemon). libsystemd brings
// libgcrypt, liblzma, liblz4, libcap and libgpg-error with it, 0.7 MiB of
// resident pages at start for a configuration that reads neither. The
// service manager's notification protocol (READY=1, WATCHDOG=1) is written
// by hand in daemon/service_notify.cc, so a daemon under systemd does not
// open the library for it either. A missing library gives -ELIBACC
// ("Can not access a needed shared library") or a null handle.
#include <systemd/sd-bus.h>
#include <systemd/sd-id128.h>
#include <systemd/sd-journal.h>

#include <cerrno>
#include <cstdarg>

#include "mamori/util/lazy_libraries.h"

using mamori::util::LazyLibSystemd;

// ---- the bus ----
MAMORI_LAZY_FUNCTION(LazyLibSystemd(), int, sd_bus_call,
                     (sd_bus * a0, sd_bus_message* a1, uint64_t a2, sd_bus_error* a3,
                      sd_bus_message** a4),
                     (a0, a1, a2, a3, a4), -ELIBACC)
MAMORI_LAZY_FUNCTION(LazyLibSystemd(), int, sd_bus_call_methodv,
                     (sd_bus * a0, const char* a1, const char* a2, const char* a3, const char* a4,
                      sd_bus_error* a5, sd_bus_message** a6, const char* a7, va_list a8),
                     (a0, a1, a2, a3, a4, a5, a6, a7, a8), -ELIBACC)
MAMORI_LAZY_FUNCTION(LazyLibSystemd(), void, sd_bus_error_free, (sd_bus_error * a0), (a0), )
MAMORI_LAZY_FUNCTION(LazyLibSystemd(), int, sd_bus_error_is_set, (const sd_bus_error* a0), (a0), 0)
MAMORI_LAZY_FUNCTION(LazyLibSystemd(), sd_bus*, sd_bus_flush_close_unref, (sd_bus * a0), (a0),
                     nullptr)
MAMORI_LAZY_FUNCTION(LazyLibSystemd(), int, sd_bus_get_property,
                     (sd_bus * a0, const char* a1, const char* a2, const char* a3, const char* a4,
                      sd_bus_error* a5, sd_bus_message** a6, const char* a7),
                     (a0, a1, a2, a3, a4, a5, a6, a7), -ELIBACC)
MAMORI_LAZY_FUNCTION(LazyLibSystemd(), int, sd_bus_get_property_string,
                     (sd_bus * a0, const char* a1, const char* a2, const char* a3, const char* a4,
                      sd_bus_error* a5, char** a6),
                     (a0, a1, a2, a3, a4, a5, a6), -ELIBACC)
MAMORI_LAZY_FUNCTION(LazyLibSystemd(), int, sd_bus_get_property_strv,
                     (sd_bus * a0, const char* a1, const char* a2, const char* a3, const char* a4,
                      sd_bus_error* a5, char*** a6),
                     (a0, a1, a2, a3, a4, a5, a6), -ELIBACC)
MAMORI_LAZY_FUNCTION(LazyLibSystemd(), int, sd_bus_get_property_trivial,
                     (sd_bus * a0, const char* a1, const char* a2, const char* a3, const char* a4,
                      sd_bus_error* a5, char a6, void* a7),
                     (a0, a1, a2, a3, a4, a5, a6, a7), -ELIBACC)
MAMORI_LAZY_FUNCTION(LazyLibSystemd(), int, sd_bus_is_ready, (sd_bus * a0), (a0), -ELIBACC)
MAMORI_LAZY_FUNCTION(LazyLibSystemd(), int, sd_bus_match_signal,
                     (sd_bus * a0, sd_bus_slot** a1, const char* a2, const char* a3, const char* a4,
                      const char* a5, sd_bus_message_handler_t a6, void* a7),
                     (a0, a1, a2, a3, a4, a5, a6, a7), -ELIBACC)
MAMORI_LAZY_FUNCTION(LazyLibSystemd(), int, sd_bus_message_append_strv,
                     (sd_bus_message * a0, char** a1), (a0, a1), -ELIBACC)
MAMORI_LAZY_FUNCTION(LazyLibSystemd(), int, sd_bus_message_enter_container,
                     (sd_bus_message * a0, char a1, const char* a2), (a0, a1, a2), -ELIBACC)
MAMORI_LAZY_FUNCTION(LazyLibSystemd(), int, sd_bus_message_exit_container, (sd_bus_message * a0),
                     (a0), -ELIBACC)
MAMORI_LAZY_FUNCTION(LazyLibSystemd(), int, sd_bus_message_new_method_call,
                     (sd_bus * a0, sd_bus_message** a1, const char* a2, const char* a3,
                      const char* a4, const char* a5),
                     (a0, a1, a2, a3, a4, a5), -ELIBACC)
MAMORI_LAZY_FUNCTION(LazyLibSystemd(), int, sd_bus_message_readv,
                     (sd_bus_message * a0, const char* a1, va_list a2), (a0, a1, a2), -ELIBACC)
MAMORI_LAZY_FUNCTION(LazyLibSystemd(), int, sd_bus_message_skip,
                     (sd_bus_message * a0, const char* a1), (a0, a1), -ELIBACC)
MAMORI_LAZY_FUNCTION(LazyLibSystemd(), sd_bus_message*, sd_bus_message_unref, (sd_bus_message * a0),
                     (a0), nullptr)
MAMORI_LAZY_FUNCTION(LazyLibSystemd(), int, sd_bus_new, (sd_bus * *a0), (a0), -ELIBACC)
MAMORI_LAZY_FUNCTION(LazyLibSystemd(), int, sd_bus_open_system, (sd_bus * *a0), (a0), -ELIBACC)
MAMORI_LAZY_FUNCTION(LazyLibSystemd(), int, sd_bus_process, (sd_bus * a0, sd_bus_message** a1),
                     (a0, a1), -ELIBACC)
MAMORI_LAZY_FUNCTION(LazyLibSystemd(), int, sd_bus_set_address, (sd_bus * a0, const char* a1),
                     (a0, a1), -ELIBACC)
MAMORI_LAZY_FUNCTION(LazyLibSystemd(), int, sd_bus_set_bus_client, (sd_bus * a0, int a1), (a0, a1),
                     -ELIBACC)
MAMORI_LAZY_FUNCTION(LazyLibSystemd(), int, sd_bus_set_method_call_timeout,
                     (sd_bus * a0, uint64_t a1), (a0, a1), -ELIBACC)
MAMORI_LAZY_FUNCTION(LazyLibSystemd(), sd_bus_slot*, sd_bus_slot_unref, (sd_bus_slot * a0), (a0),
                     nullptr)
MAMORI_LAZY_FUNCTION(LazyLibSystemd(), int, sd_bus_start, (sd_bus * a0), (a0), -ELIBACC)
MAMORI_LAZY_FUNCTION(LazyLibSystemd(), int, sd_bus_wait, (sd_bus * a0, uint64_t a1), (a0, a1),
                     -ELIBACC)

// The two variadic calls: `...` cannot be passed on, so they go to the
// va_list forms the library exports beside them.
extern "C" int sd_bus_message_read(sd_bus_message* m, const char* types, ...) {
  va_list ap;
  va_start(ap, types);
  const int r = sd_bus_message_readv(m, types, ap);
  va_end(ap);
  return r;
}

extern "C" int sd_bus_call_method(sd_bus* bus, const char* destination, const char* path,
                                  const char* interface, const char* member,
                                  sd_bus_error* ret_error, sd_bus_message** reply,
                                  const char* types, ...) {
  va_list ap;
  va_start(ap, types);
  const int r =
      sd_bus_call_methodv(bus, destination, path, interface, member, ret_error, reply, types, ap);
  va_end(ap);
  return r;
}

// ---- the journal ----
MAMORI_LAZY_FUNCTION(LazyLibSystemd(), int, sd_journal_add_disjunction, (sd_journal * a0), (a0),
                     -ELIBACC)
MAMORI_LAZY_FUNCTION(LazyLibSystemd(), int, sd_journal_add_match,
                     (sd_journal * a0, const void* a1, size_t a2), (a0, a1, a2), -ELIBACC)
MAMORI_LAZY_FUNCTION(LazyLibSystemd(), void, sd_journal_close, (sd_journal * a0), (a0), )
MAMORI_LAZY_FUNCTION(LazyLibSystemd(), int, sd_journal_get_cursor, (sd_journal * a0, char** a1),
                     (a0, a1), -ELIBACC)
MAMORI_LAZY_FUNCTION(LazyLibSystemd(), int, sd_journal_get_data,
                     (sd_journal * a0, const char* a1, const void** a2, size_t* a3),
                     (a0, a1, a2, a3), -ELIBACC)
MAMORI_LAZY_FUNCTION(LazyLibSystemd(), int, sd_journal_get_monotonic_usec,
                     (sd_journal * a0, uint64_t* a1, sd_id128_t* a2), (a0, a1, a2), -ELIBACC)
MAMORI_LAZY_FUNCTION(LazyLibSystemd(), int, sd_journal_get_realtime_usec,
                     (sd_journal * a0, uint64_t* a1), (a0, a1), -ELIBACC)
MAMORI_LAZY_FUNCTION(LazyLibSystemd(), int, sd_journal_next, (sd_journal * a0), (a0), -ELIBACC)
MAMORI_LAZY_FUNCTION(LazyLibSystemd(), int, sd_journal_open, (sd_journal * *a0, int a1), (a0, a1),
                     -ELIBACC)
MAMORI_LAZY_FUNCTION(LazyLibSystemd(), int, sd_journal_open_directory,
                     (sd_journal * *a0, const char* a1, int a2), (a0, a1, a2), -ELIBACC)
MAMORI_LAZY_FUNCTION(LazyLibSystemd(), int, sd_journal_previous, (sd_journal * a0), (a0), -ELIBACC)
MAMORI_LAZY_FUNCTION(LazyLibSystemd(), int, sd_journal_seek_cursor,
                     (sd_journal * a0, const char* a1), (a0, a1), -ELIBACC)
MAMORI_LAZY_FUNCTION(LazyLibSystemd(), int, sd_journal_seek_head, (sd_journal * a0), (a0), -ELIBACC)
MAMORI_LAZY_FUNCTION(LazyLibSystemd(), int, sd_journal_seek_realtime_usec,
                     (sd_journal * a0, uint64_t a1), (a0, a1), -ELIBACC)
MAMORI_LAZY_FUNCTION(LazyLibSystemd(), int, sd_journal_seek_tail, (sd_journal * a0), (a0), -ELIBACC)
MAMORI_LAZY_FUNCTION(LazyLibSystemd(), int, sd_journal_set_data_threshold,
                     (sd_journal * a0, size_t a1), (a0, a1), -ELIBACC)
MAMORI_LAZY_FUNCTION(LazyLibSystemd(), int, sd_journal_test_cursor,
                     (sd_journal * a0, const char* a1), (a0, a1), -ELIBACC)

// ---- ids ----
MAMORI_LAZY_FUNCTION(LazyLibSystemd(), int, sd_id128_get_boot, (sd_id128_t * a0), (a0), -ELIBACC)
MAMORI_LAZY_FUNCTION(LazyLibSystemd(), char*, sd_id128_to_string,
                     (sd_id128_t a0, char a1[SD_ID128_STRING_MAX]), (a0, a1), nullptr)
