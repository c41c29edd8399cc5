"""An event's figures for its organizer's dashboard (stampede-api.md §10): bookings confirmed,
their tickets and cancellations per minute over the last hour; the waiting list and room."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from server.config import Config
from tests.support.admins import admin
from tests.support.api import Account, Api
from tests.support.waitlist import cancel, joined, sold_out


async def _stats(api: Api, who: Account | None, event_id: int) -> tuple[int, Any]:
    headers = who.headers if who else {}
    response = await api.client.get(f"/api/events/{event_id}/stats/", headers=headers)
    return response.status, await response.json()


async def _book(
    api: Api, who: Account, event_id: int, type_id: int, n: int, hold: bool = False
) -> Any:
    body = {
        "event_id": event_id,
        "items": [{"ticket_type_id": type_id, "quantity": n}],
        "hold": hold,
    }
    response = await api.client.post("/api/bookings/", json=body, headers=who.headers)
    assert response.status == 201, await response.text()
    return await response.json()


async def test_the_last_hour_minute_by_minute(api: Api) -> None:
    owner, fan = await api.organizer(), await api.attendee()
    event = await api.event(owner)
    ticket = await api.ticket_type(owner, event["id"])
    first = await _book(api, fan, event["id"], ticket["id"], 2)
    await _book(api, fan, event["id"], ticket["id"], 3)
    hold = await _book(api, fan, event["id"], ticket["id"], 4, hold=True)  # not yet a sale
    status, stats = await _stats(api, owner, event["id"])
    assert status == 200
    minutes = stats["per_minute"]
    assert len(minutes) == 60
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    last = datetime.fromisoformat(minutes[-1]["minute"])
    assert last in (now, now - timedelta(minutes=1))  # (a minute may have turned meanwhile)
    assert datetime.fromisoformat(minutes[0]["minute"]) == last - timedelta(minutes=59)
    counted = {k: sum(m[k] for m in minutes) for k in ("bookings", "tickets", "cancellations")}
    assert counted == {"bookings": 2, "tickets": 5, "cancellations": 0}
    path = f"/api/bookings/{hold['booking_reference']}/confirm/"
    assert (await api.client.post(path, headers=fan.headers)).status == 200
    assert await cancel(api, fan, first["booking_reference"]) == 200
    _, stats = await _stats(api, owner, event["id"])
    counted = {k: sum(m[k] for m in stats["per_minute"]) for k in counted}
    assert counted == {"bookings": 3, "tickets": 9, "cancellations": 1}
    assert stats["waitlist"] == {"waiting": 0, "offered": 0}
    assert stats["queue"] is None


async def test_waiting_list_and_room_figures(api: Api) -> None:
    shop = await sold_out(api, [1])
    await joined(api, await api.attendee(), shop)
    await joined(api, await api.attendee(), shop)
    buyer, booking = shop.bookings[0]
    await cancel(api, buyer, booking["booking_reference"])  # the first is offered the seat
    room = {"waiting_room": {"admit_per_minute": 30, "session_seconds": 60}}
    await api.client.patch(
        f"/api/events/{shop.event['id']}/", json=room, headers=shop.owner.headers
    )
    _, stats = await _stats(api, shop.owner, shop.event["id"])
    assert stats["waitlist"] == {"waiting": 1, "offered": 1}
    assert stats["queue"] == {"waiting": 0, "admitted": 0, "admit_per_minute": 30}
    fan = await api.attendee()
    await api.client.post(f"/api/events/{shop.event['id']}/queue/", headers=fan.headers)
    _, stats = await _stats(api, shop.owner, shop.event["id"])
    assert stats["queue"]["waiting"] + stats["queue"]["admitted"] == 1


async def test_only_the_organizer_and_admins_see_them(api: Api, config: Config) -> None:
    owner, rival, fan = await api.organizer(), await api.organizer(), await api.attendee()
    event = await api.event(owner)
    root = await admin(api, config)
    assert (await _stats(api, root, event["id"]))[0] == 200
    assert (await _stats(api, rival, event["id"]))[0] == 403
    assert (await _stats(api, fan, event["id"]))[0] == 403
    assert (await _stats(api, None, event["id"]))[0] == 401
    assert (await _stats(api, owner, 999999))[0] == 404
