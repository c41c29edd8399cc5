"""The webhook deliveries a batch writes, in its own transaction: one row per thing that
happened (``apply_batch`` copies it to each of the organizer's webhooks that wants its type).
Only built when the organizer has webhooks (``EventState.hooked``, read under the event's lock).

A booking is ``booking.created`` when it is confirmed (at once, or when its hold is confirmed),
so that a hold that runs out is only ever ``hold.expired``."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import orjson

from server.actors.rows import HookRow
from server.booking.outcomes import Booked, Cancelled, Closed, Confirmed, Expired, Offered, Outcome
from server.booking.state import EventState
from server.webhooks.payloads import HookType, booking_data, sold_out_data

__all__ = ["hook_rows"]


def hook_rows(
    state: EventState,
    now: datetime,
    available_before: int,
    outcomes: Sequence[Outcome],
    expired: Sequence[Expired],
    settled: Sequence[Offered | Closed],
) -> list[HookRow]:
    rows: list[HookRow] = []

    def add(kind: HookType, data: dict[str, object]) -> None:
        rows.append(HookRow(kind, orjson.dumps(data).decode()))

    for outcome in outcomes:
        if (isinstance(outcome, Booked) and not outcome.replayed and not outcome.held) or (
            isinstance(outcome, Confirmed) and not outcome.already
        ):
            data = booking_data(
                state.id, outcome.reference, outcome.user_id, "confirmed", outcome.lines
            )
            add("booking.created", data)
        elif isinstance(outcome, Cancelled):
            data = booking_data(
                state.id, outcome.reference, outcome.user_id, "cancelled", outcome.lines
            )
            add("booking.cancelled", data)
    for gone in expired:
        data = booking_data(state.id, gone.reference, gone.user_id, "expired", gone.lines)
        add("hold.expired", data)
    for done in settled:
        if isinstance(done, Offered):
            hold = done.hold
            data = booking_data(
                state.id, hold.reference, hold.user_id, "pending", hold.lines, hold.expires_at
            )
            add("waitlist.offered", {**data, "waitlist_entry_id": done.entry.id})
    if available_before > 0 and _sold_out(state, now):
        held = state.held + state.kept
        add(
            "event.sold_out",
            sold_out_data(state.id, state.name, state.total_capacity, state.sold, held),
        )
    return rows


def _sold_out(state: EventState, now: datetime) -> bool:
    """Nothing left to book while tickets are on sale (not: the sales closed)."""
    selling = any(state.selling(ticket, now) for ticket in state.types.values())
    return selling and state.public(now) == 0
