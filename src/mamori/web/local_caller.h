// IsLocalCaller: whether a request may use the "callers on this host need no
// key" rule of the read APIs and the ack API.
//
// Loopback alone is not enough once a browser runs on the host. A page of any
// site can POST to 127.0.0.1 (a "simple" cross-site request needs no CORS
// preflight), and a site whose name it re-points at 127.0.0.1 (DNS rebinding)
// can even read the answers, as they look same-origin to the browser. Both
// leave a trace a non-browser client does not: the Host header names the
// foreign site, or an Origin header does. So a local caller is: a loopback
// peer, not relayed by a proxy (no X-Forwarded-For), whose Host is absent, an
// IP literal, localhost or this machine's own name, and whose Origin, if sent,
// is the same host and port (a page served here, such as the dashboard). curl, the mamori CLI and an SSH tunnel to
// localhost pass; a foreign page in a local browser does not.
//
// Pure function of the request and the host name given; thread-safe.
#pragma once

#include <string_view>

#include "mamori/web/http_server.h"

namespace mamori::web {

// `hostname` is this machine's name (gethostname()); empty accepts none.
bool IsLocalCaller(const Request& req, std::string_view hostname);

// The same with this machine's name looked up once per process.
bool IsLocalCaller(const Request& req);

// Whether a Host value (with or without its port) names this machine
// without a lookup: an IP literal, localhost (or *.localhost) or `hostname`.
bool IsLocalHostName(std::string_view host, std::string_view hostname);

}  // namespace mamori::web
