"""Outgoing mail as the bytes an SMTP server takes: plain text, UTF-8.

Built by hand rather than with ``email.message.EmailMessage``, whose header folding and
generator cost about a millisecond per message (measured): with a confirmation per booking, a
sale of a few thousand bookings a second would spend more than a core on it. Headers are single
lines (CR and LF in a subject become spaces); a non-ASCII subject is RFC 2047 encoded and a
non-ASCII body base64-encoded, as the ``email`` package would."""

from __future__ import annotations

import base64
from email.header import Header
from email.utils import formatdate

__all__ = ["compose"]


def _header_text(value: str) -> str:
    flat = " ".join(value.splitlines())
    if flat.isascii():
        return flat
    return Header(flat, "utf-8").encode()


def compose(sender: str, recipient: str, subject: str, body: str, message_id: str) -> bytes:
    """One text/plain message, ready for ``SMTP.sendmail`` (which dot-stuffs it)."""
    if body.isascii():
        encoding, payload = "7bit", "\r\n".join(body.splitlines()) + "\r\n"
    else:
        encoding = "base64"
        payload = base64.encodebytes(body.encode()).decode().replace("\n", "\r\n")
    headers = (
        f"From: {_header_text(sender)}\r\n"
        f"To: {_header_text(recipient)}\r\n"
        f"Subject: {_header_text(subject)}\r\n"
        f"Date: {formatdate(usegmt=True)}\r\n"
        f"Message-ID: {message_id}\r\n"
        "MIME-Version: 1.0\r\n"
        'Content-Type: text/plain; charset="utf-8"\r\n'
        f"Content-Transfer-Encoding: {encoding}\r\n"
    )
    return (headers + "\r\n" + payload).encode("ascii")
