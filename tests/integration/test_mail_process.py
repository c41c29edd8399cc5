"""``python -m server`` with SMTP_URL sends the outbox's mail from a process of its own: the
mail of a booking arrives; a sender that dies is started again, and the mail goes on; when the
server stops, its sender stops with it."""

from __future__ import annotations

import asyncio
import json
import signal
import urllib.request
from typing import Any

import psutil

from tests.support.bookings import insert_event
from tests.support.crowd import make_users
from tests.support.process import ServerProcess
from tests.support.smtp import SmtpSink

SECRET = "mail-process-" + "m" * 32


def _book(url: str, token_header: str, event_id: int, type_id: int) -> Any:
    body = {"event_id": event_id, "items": [{"ticket_type_id": type_id, "quantity": 1}]}
    request = urllib.request.Request(
        url + "/api/bookings/",
        json.dumps(body).encode(),
        {"Authorization": token_header, "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


async def test_mail_goes_out_from_a_process_of_its_own(database_url: str) -> None:
    [owner] = await make_users(database_url, SECRET, 1, role="organizer")
    [fan] = await make_users(database_url, SECRET, 1)
    event_id, type_id = await insert_event(database_url, owner.id, 10, "Mailed")
    sink = SmtpSink()
    sink.start()
    server = ServerProcess(
        {"DATABASE_URL": database_url, "JWT_SECRET": SECRET, "SMTP_URL": sink.url}
    )
    try:
        server.start()
        server.wait_healthy()
        assert server.process is not None
        parent = psutil.Process(server.process.pid)
        [sender] = [c for c in parent.children() if "spawn" in " ".join(c.cmdline())]
        token = fan.headers["Authorization"]
        first = await asyncio.to_thread(_book, server.url, token, event_id, type_id)
        await sink.wait_for(1)
        assert first["booking_reference"] in sink.messages[0].get_payload(decode=True).decode()
        sender.kill()  # the sender dies; the server starts another
        await asyncio.to_thread(sender.wait, 5)
        await asyncio.to_thread(_book, server.url, token, event_id, type_id)
        await sink.wait_for(2)
        [again] = [c for c in parent.children() if "spawn" in " ".join(c.cmdline())]
        assert again.pid != sender.pid
        assert server.stop(signal.SIGTERM) == 0
        assert not again.is_running() or again.status() == psutil.STATUS_ZOMBIE
    finally:
        server.close()
        sink.stop()
