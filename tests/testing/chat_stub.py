#!/usr/bin/python3
"""A stand-in for an OpenAI-compatible chat-completions endpoint, for the
`mamori ask` tests. No language model can run in CI, so this server records
each request and answers with canned text; the tests judge what mamori sends
and how it shows the answer, never the quality of advice.

Usage: chat_stub.py PORT DIR

Every POST is written to DIR/NNNN.json as {"path", "headers", "body"}. The
answer is the first entry of DIR/answers.json (a JSON list of strings; each
answer is taken off the list while more than one is left, so the last repeats), wrapped in a chat-completions response with a
usage block. While DIR/hang exists, a request is read and then never
answered (the connection stays open), as a stuck model server does.
"""
import json
import os
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

DIR = sys.argv[2]
COUNT = [0]


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self):
        length = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(length).decode("utf-8", "replace")
        COUNT[0] += 1
        n = COUNT[0]
        base = os.path.join(DIR, "%04d" % n)
        with open(base + ".tmp", "w") as f:
            json.dump({"path": self.path, "headers": dict(self.headers.items()), "body": body}, f)
        os.rename(base + ".tmp", base + ".json")
        if os.path.exists(os.path.join(DIR, "hang")):
            time.sleep(3600)
            return
        answers = ["No canned answer."]
        path = os.path.join(DIR, "answers.json")
        try:
            with open(path) as f:
                answers = json.load(f)
        except OSError:
            pass
        content = answers[0]
        if len(answers) > 1:
            with open(path + ".tmp", "w") as f:
                json.dump(answers[1:], f)
            os.rename(path + ".tmp", path)
        out = json.dumps({
            "id": "stub-%d" % n, "object": "chat.completion",
            "choices": [{"index": 0, "finish_reason": "stop",
                         "message": {"role": "assistant", "content": content}}],
            "usage": {"prompt_tokens": length // 4, "completion_tokens": len(content) // 4,
                      "total_tokens": length // 4 + len(content) // 4},
        }).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)

    def log_message(self, *args):
        pass


ThreadingHTTPServer.daemon_threads = True
ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Handler).serve_forever()
