"""Hand-built mail bytes read back by Python's own parser: the same message as ``email``
would make, a non-ASCII subject and body encoded, no header injection through a subject."""

from __future__ import annotations

from email import message_from_bytes, policy

from server.mime import compose


def test_an_ascii_message_reads_back_as_sent() -> None:
    raw = compose("no-reply@stampede.local", "fan@example.org", "Booking confirmed: Gig",
                  "Your booking.\n\nTotal: 49.00\n", "<outbox-7@stampede.local>")  # fmt: skip
    message = message_from_bytes(raw, policy=policy.default)
    assert message["From"] == "no-reply@stampede.local"
    assert message["To"] == "fan@example.org"
    assert message["Subject"] == "Booking confirmed: Gig"
    assert message["Message-ID"] == "<outbox-7@stampede.local>"
    assert message["Date"] is not None
    assert message.get_content_type() == "text/plain"
    assert message.get_content().splitlines() == ["Your booking.", "", "Total: 49.00"]
    assert b"\r\n\r\nYour booking.\r\n\r\nTotal: 49.00\r\n" in raw  # CRLF line ends
    assert raw.isascii()


def test_non_ascii_is_encoded_and_a_subject_cannot_add_headers() -> None:
    raw = compose("no-reply@stampede.local", "fan@example.org",
                  "Booking confirmed: Café Olé\r\nBcc: everyone@example.org",
                  "Réservation pour Café Olé.\n.\n", "<outbox-8@stampede.local>")  # fmt: skip
    assert raw.isascii()
    message = message_from_bytes(raw, policy=policy.default)
    assert message["Subject"] == "Booking confirmed: Café Olé Bcc: everyone@example.org"
    assert message["Bcc"] is None
    assert message.get_content() == "Réservation pour Café Olé.\n.\n"
