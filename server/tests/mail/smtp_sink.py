"""A real SMTP server for the mail tests (aiosmtpd, Debian's python3-aiosmtpd).

Keeps every message it takes in a Maildir. Options: refuse recipients whose address
starts with a prefix (550 5.1.1), offer STARTTLS with a certificate (and then require it),
require AUTH XOAUTH2 with one bearer token. Prints "ready" once it listens.
"""

import argparse
import base64
import os
import ssl
import sys
import threading

from aiosmtpd.controller import Controller
from aiosmtpd.handlers import Mailbox
from aiosmtpd.smtp import AuthResult


class Sink(Mailbox):
    def __init__(self, maildir, refuse, token, user):
        # The Maildir's folders, also when its root already exists.
        for folder in ("tmp", "new", "cur"):
            os.makedirs(os.path.join(maildir, folder), exist_ok=True)
        super().__init__(maildir)
        self.refuse = refuse
        self.token = token
        self.user = user

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.refuse and address.lower().startswith(self.refuse):
            return "550 5.1.1 <%s>: Recipient address rejected: User unknown" % address
        if self.token and not session.authenticated:
            return "530 5.7.0 Authentication required"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def auth_XOAUTH2(self, server, args):
        refused = AuthResult(
            success=False, handled=False, message="535 5.7.3 Authentication unsuccessful"
        )
        if not self.token or len(args) != 2:
            return refused
        try:
            fields = base64.b64decode(args[1]).decode().split("\x01")
        except Exception:
            return refused
        expected = ["user=" + self.user, "auth=Bearer " + self.token]
        if fields[:2] != expected:
            return refused
        return AuthResult(success=True, auth_data=self.user)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--maildir", required=True)
    p.add_argument("--refuse", default="")
    p.add_argument("--cert")
    p.add_argument("--key")
    p.add_argument("--xoauth2-token", default="")
    p.add_argument("--xoauth2-user", default="")
    a = p.parse_args()
    tls = None
    if a.cert:
        tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        tls.load_cert_chain(a.cert, a.key)
    handler = Sink(a.maildir, a.refuse.lower(), a.xoauth2_token, a.xoauth2_user)
    controller = Controller(
        handler,
        hostname="127.0.0.1",
        port=a.port,
        tls_context=tls,
        require_starttls=tls is not None,
        auth_require_tls=tls is not None,
        auth_required=bool(a.xoauth2_token),
        # Only the handler's XOAUTH2 when a token is asked for.
        auth_exclude_mechanism=["LOGIN", "PLAIN"] if a.xoauth2_token else [],
    )
    controller.start()
    print("ready", flush=True)
    threading.Event().wait()


if __name__ == "__main__":
    sys.exit(main())
