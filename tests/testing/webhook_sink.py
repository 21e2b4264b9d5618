#!/usr/bin/python3
"""A small HTTP receiver for mamori's webhook tests (python3's http.server).

Usage: webhook_sink.py PORT DIR

Every POST or PUT is written to DIR/NNNN.json as {"method", "path",
"headers", "body"}. While DIR/status exists, its content (e.g. "503") is the
HTTP status of the answer; otherwise 200 with body "ok".
"""
import json
import os
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

DIR = sys.argv[2]
COUNT = [0]


class Handler(BaseHTTPRequestHandler):
    def _record(self):
        length = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(length).decode("utf-8", "replace")
        status_file = os.path.join(DIR, "status")
        status = 200
        if os.path.exists(status_file):
            with open(status_file) as f:
                status = int(f.read().strip())
        if status == 200:
            COUNT[0] += 1
            base = os.path.join(DIR, "%04d" % COUNT[0])
            with open(base + ".tmp", "w") as f:
                json.dump({"method": self.command, "path": self.path,
                           "headers": dict(self.headers.items()), "body": body}, f)
            os.rename(base + ".tmp", base + ".json")
        answer = b"ok" if status == 200 else b"hook is down for maintenance"
        self.send_response(status)
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    do_POST = _record
    do_PUT = _record

    def log_message(self, *args):
        pass


ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Handler).serve_forever()
