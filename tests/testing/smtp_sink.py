#!/usr/bin/python3
"""A real aiosmtpd SMTP server, configured for mamori's notification tests.

Usage: smtp_sink.py PORT DIR [CERT KEY]

Listens on 127.0.0.1:PORT. Every accepted message is written to DIR/NNNN.eml
exactly as received (envelope in DIR/NNNN.env). While DIR/reject exists, its
first line is the answer to the end of DATA instead (e.g. "550 5.7.1 rejected
by DMARC policy"), the way a receiving server refuses a mail after reading it.
With CERT and KEY, STARTTLS is offered and required before MAIL.
"""
import asyncio
import os
import ssl
import sys

from aiosmtpd.smtp import SMTP


class Handler:
    def __init__(self, directory):
        self.dir = directory
        self.count = 0

    async def handle_DATA(self, server, session, envelope):
        reject = os.path.join(self.dir, "reject")
        if os.path.exists(reject):
            with open(reject) as f:
                return f.readline().strip()
        self.count += 1
        base = os.path.join(self.dir, "%04d" % self.count)
        with open(base + ".env.tmp", "w") as f:
            f.write("from %s\n" % envelope.mail_from)
            for r in envelope.rcpt_tos:
                f.write("to %s\n" % r)
        with open(base + ".eml.tmp", "wb") as f:
            f.write(envelope.original_content)
        os.rename(base + ".env.tmp", base + ".env")
        os.rename(base + ".eml.tmp", base + ".eml")
        return "250 2.0.0 Ok: queued as TEST%04d" % self.count


async def main():
    port = int(sys.argv[1])
    handler = Handler(sys.argv[2])
    tls = None
    if len(sys.argv) > 4:
        tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        tls.load_cert_chain(sys.argv[3], sys.argv[4])
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: SMTP(handler, hostname="sink.test", tls_context=tls,
                     require_starttls=tls is not None),
        "127.0.0.1", port)
    await server.serve_forever()


asyncio.run(main())
