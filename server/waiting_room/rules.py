"""The waiting room's rules: when it opens, what state a place is in, and how many places are
owed admission. Pure: no I/O, and ``now`` is an argument.

Admission is owed at ``admit_per_minute`` from the room's ``clock``: each admission moves the
clock on by one interval, so the rate holds however often, and from however many instances,
admission runs; when nobody is left waiting, or nothing can be bought, the clock stops at now
(nothing is banked for later).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

__all__ = ["OPENS_BEFORE", "Place", "Room", "admit", "ahead", "eta_seconds", "state_of"]

OPENS_BEFORE = timedelta(minutes=30)  # joining opens this long before sales start
# The observed admission rate: measured from MIN_WINDOW on, over windows of RATE_WINDOW.
MIN_WINDOW = timedelta(seconds=2)
RATE_WINDOW = timedelta(seconds=10)


@dataclass(slots=True)
class Room:
    event_id: int
    admit_per_minute: int
    session_seconds: int
    drawn_at: datetime | None
    last_position: int  # the last place given
    admitted_through: int  # places up to this one are admitted
    clock: datetime | None  # admissions are owed from here
    window_start: datetime | None
    window_admitted: int
    observed_per_minute: float | None
    sales_start: datetime | None
    tickets_available: int
    selling: bool  # the event is not cancelled, not started, its sales not over
    stamp: datetime  # when it was read: the transaction's now()

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> Room:
        return cls(*(row[field.name] for field in dataclasses.fields(cls)))

    def open(self, now: datetime) -> bool:
        """Whether one may join: from 30 minutes before sales start (at once without one)."""
        return self.sales_start is None or now >= self.sales_start - OPENS_BEFORE

    def started(self, now: datetime) -> bool:
        """Sales have started: the prequeue is drawn, and places are admitted."""
        return self.sales_start is None or self.sales_start <= now

    def sold_out(self, now: datetime) -> bool:
        """Nothing left to buy (or the event no longer sells): nobody more is admitted."""
        return not self.selling or (self.started(now) and self.tickets_available <= 0)

    def draw_due(self, now: datetime) -> bool:
        return self.drawn_at is None and self.started(now)

    def drawn(self, prequeued: int, now: datetime) -> None:
        """The prequeue (``prequeued`` places) was given places after the last one."""
        self.last_position += prequeued
        self.drawn_at, self.clock = now, now


@dataclass(slots=True)
class Place:
    position: int | None  # None in the prequeue
    admitted_at: datetime | None
    admitted_until: datetime | None


def state_of(room: Room, place: Place, now: datetime) -> str:
    if place.admitted_until is not None:
        return "admitted" if now < place.admitted_until else "expired"
    if room.sold_out(now):
        return "sold_out"
    return "prequeue" if place.position is None else "waiting"


def ahead(room: Room, place: Place) -> int | None:
    """How many not yet admitted stand before the place (None before the draw)."""
    if place.position is None:
        return None
    return max(0, place.position - room.admitted_through - 1)


def eta_seconds(room: Room, places_ahead: int | None) -> int | None:
    """Seconds until admission at the observed rate; None when it is unknown (or nil)."""
    if places_ahead is None or not room.observed_per_minute:
        return None
    return math.ceil(places_ahead * 60 / room.observed_per_minute)


def admit(room: Room, now: datetime) -> tuple[int, int]:
    """Admit the places owed by now; the positions admitted, as (after, through)."""
    first = room.admitted_through
    waiting = room.last_position - room.admitted_through
    if room.clock is None or room.sold_out(now) or not room.started(now):
        room.clock = now if room.started(now) else room.clock
        _measure(room, 0, now)
        return first, first
    interval = 60 / room.admit_per_minute
    owed = math.floor((now - room.clock).total_seconds() / interval)
    if owed >= waiting:  # caught up: the clock stops at now
        room.admitted_through, room.clock = room.last_position, now
    else:
        room.admitted_through += owed
        room.clock += timedelta(seconds=owed * interval)
    _measure(room, room.admitted_through - first, now)
    return first, room.admitted_through


def _measure(room: Room, admitted: int, now: datetime) -> None:
    """Count admissions over windows of RATE_WINDOW: the rate seen so far in the window once
    it is MIN_WINDOW old (the last window's until then)."""
    if room.window_start is None:
        room.window_start, room.window_admitted = now, 0
    room.window_admitted += admitted
    elapsed = now - room.window_start
    if elapsed >= MIN_WINDOW:
        room.observed_per_minute = room.window_admitted * 60 / elapsed.total_seconds()
    if elapsed >= RATE_WINDOW:
        room.window_start, room.window_admitted = now, 0
