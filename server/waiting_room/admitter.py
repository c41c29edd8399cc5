"""The admitter: on every instance, every interval, each room with a draw due or places
waiting is drawn and admitted. Every instance may do it: each admission locks the room's row
and admits only what is owed since the last one (``rules.admit``), so the rate holds and no
place is admitted twice, and when an instance dies the others go on without a pause."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from server.db import DATABASE_ERRORS
from server.waiting_room.rooms import Admitted, WaitingRooms

__all__ = ["admit_forever"]

log = logging.getLogger("stampede.waiting_room")


async def admit_forever(
    rooms: WaitingRooms, on_admitted: Callable[[Admitted], None], interval: float
) -> None:
    """Until cancelled."""
    while True:
        try:
            for event_id in await rooms.due():
                admitted = await rooms.admit(event_id)
                if admitted.places:
                    on_admitted(admitted)
        except DATABASE_ERRORS as exc:
            log.warning("admitter: cannot reach the database (%r); next round later", exc)
        await asyncio.sleep(interval)
