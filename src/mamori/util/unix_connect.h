// One connection attempt to a Unix domain stream socket that never waits past
// a deadline. A blocking connect() on a Unix socket whose listen backlog is
// full (PHP-FPM with every worker busy) sleeps until the server accepts, with
// no timeout at all; a watchdog that asks "is this socket alive?" must not
// hang on the very thing it watches. So the socket is non-blocking: on Linux
// a full backlog then fails at once with EAGAIN, and a connect that reports
// EINPROGRESS (other kernels) is polled until the deadline.
//
// Stateless, thread-safe; the socket is always closed before returning.
#pragma once

#include <string>

#include "mamori/util/clock.h"

namespace mamori {

// Connects to `path`, closes the connection again and says what happened as
// an errno value: 0 connected; ECONNREFUSED nobody listens (a stale socket
// file); EAGAIN the listen backlog is full (alive but overloaded); ETIMEDOUT
// still pending at `deadline`; ENAMETOOLONG the path does not fit a
// sockaddr_un; otherwise what socket()/connect() reported (ENOENT, EACCES...).
// A deadline already past still allows the one non-blocking attempt.
int TryUnixConnect(const std::string& path, MonoTime deadline, const Clock& clock);

}  // namespace mamori
