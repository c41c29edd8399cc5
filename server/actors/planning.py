"""A batch's plan: what is due done first (holds whose time ran out, a sales window that passed),
then the rules run over its commands, in order, against the locked state; and the rows that
carry out what they decided (mails included, composed by ``Notices``)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from server.actors.entries import Entries
from server.actors.hooks import hook_rows
from server.actors.idempotency import Keys, Repeat
from server.actors.rows import (
    BookingRow,
    ChangeRow,
    EntryChangeRow,
    EntryRow,
    ItemRow,
    KeyRow,
    MailRow,
    Minute,
    Writes,
)
from server.actors.store import Locked, Written
from server.booking import rules
from server.booking.commands import BookTickets, Command, ConfirmHold, Keyed
from server.booking.outcomes import (
    Booked,
    Cancelled,
    Closed,
    Confirmed,
    Expired,
    Extended,
    Offered,
    Outcome,
    Receipt,
    ReceiptItem,
    Settled,
)
from server.booking.state import BookingState, EventState

__all__ = ["Notices", "Plan", "make_plan"]

# The mail (subject, body) that tells a booking's owner (or a waiting entry's) what happened to
# it, for the event named; None for no mail. Composed outside this layer, written in the
# batch's transaction.
Notices = Callable[[str, Outcome | Settled], tuple[str, str] | None]


@dataclass(slots=True)
class Plan:
    """What a batch will write, and the answer each command gets once it is committed."""

    state: EventState
    stamp: datetime  # the transaction's now(): it marks what the batch wrote
    outcomes: list[Outcome]
    expired: list[Expired]  # holds the batch gives back, their time having run out
    settled: list[Offered | Closed]  # what its waiting list offered and closed
    writes: Writes

    def written(self, written: Written) -> None:
        """Fill in what only the write tells: the new entries' ids, and each booking's receipt
        (its answer's facts)."""
        for entry, entry_id in zip(self.state.joined, written.entry_ids, strict=True):
            entry.id = entry_id
        self._receipts(written.item_ids)

    def _receipts(self, item_ids: list[int]) -> None:
        """Give each booking the batch made, confirmed or extended its receipt; ``item_ids``
        are the new items' ids, in the order the new bookings and their lines were written
        (the commands' first, then the waiting list's offers)."""
        ids = iter(item_ids)
        for outcome in self.outcomes:
            if isinstance(outcome, Booked) and not outcome.replayed:
                items = tuple(
                    ReceiptItem(next(ids), line.name, line.quantity, line.price)
                    for line in outcome.lines
                )
                outcome.receipt = Receipt(
                    outcome.reference, self.state.id, self.state.name,
                    "pending" if outcome.held else "confirmed", self.stamp, self.stamp, items,
                    outcome.total, outcome.expires_at,
                )  # fmt: skip
            elif isinstance(outcome, Confirmed | Extended):
                outcome.receipt = self._receipt(self.state.bookings[outcome.reference])

    def _receipt(self, booking: BookingState) -> Receipt:
        """An existing booking's receipt, as this batch leaves it."""
        names = {t.id: t.name for t in self.state.types.values()}
        items = tuple(
            ReceiptItem(booking.item_ids[t], names[t], quantity, price)
            for t, quantity, price in booking.items
        )
        total = sum((price * quantity for _, quantity, price in booking.items), Decimal(0))
        created = booking.created_at or self.stamp
        updated = self.stamp if booking.changed else (booking.updated_at or created)
        return Receipt(
            booking.reference, self.state.id, self.state.name, booking.status, created, updated,
            items, total, booking.expires_at,
        )  # fmt: skip

    def deadline(self, times: Locked, next_transition: datetime | None) -> datetime | None:
        """When the event next has something due: the earliest pending hold's end (at once
        when this batch expired some: the next one is then read afresh), or the next
        sales-window boundary."""
        pending = [b.expires_at for b in self.state.bookings.values() if b.status == "pending"]
        pending += [row.expires_at for row in self.writes.bookings]
        if times.next_expiry is not None:
            pending.append(max(times.next_expiry, self.stamp))
        moments = [m for m in (*pending, next_transition) if m is not None]
        return min(moments, default=None)


async def make_plan(
    keys: Keys,
    entries: Entries,
    state: EventState,
    commands: Sequence[Command],
    times: Locked,
    notices: Notices,
) -> Plan:
    passed = times.next_transition is not None and times.next_transition <= times.stamp
    writes = Writes(transition=passed)
    available_before = state.public(times.stamp) if state.hooked else 0  # event.sold_out
    expired = rules.expire(state, times.stamp)
    for gone in expired:
        rules.apply(state, gone)
    decided: list[Outcome | Repeat] = []
    for index, command in enumerate(commands):
        keyed = command if isinstance(command, BookTickets | ConfirmHold) else None
        if keyed is not None and keyed.idempotency_key is not None:
            earlier = await keys.claim(index, keyed)
            if earlier is not None:
                decided.append(earlier)
                continue
        outcome = rules.decide(state, command, times.stamp)
        rules.apply(state, outcome)
        decided.append(outcome)
        if keyed is not None and keyed.idempotency_key is not None:
            await _settle_key(keys, writes, keyed, outcome)
        _record(writes, state, outcome, notices)
    settled = await entries.settle(times.stamp, everything=passed)
    for done in settled:
        if isinstance(done, Offered):
            _record(writes, state, done.hold, notices)
        mail = notices(state.name, done)
        if mail is not None:
            writes.mails.append(MailRow(done.entry.user_id, *mail))
    _changed_rows(state, writes)
    outcomes = _resolve_repeats(decided)
    if state.hooked:
        writes.hooks = hook_rows(state, times.stamp, available_before, outcomes, expired, settled)
    return Plan(state, times.stamp, outcomes, expired, settled, writes)


def _changed_rows(state: EventState, writes: Writes) -> None:
    """The bookings and entries the batch changed, and those it added to the waiting list."""
    writes.changes = [
        ChangeRow(b.id, b.status, b.expires_at) for b in state.bookings.values() if b.changed
    ]
    writes.entries = [
        EntryRow(e.user_id, e.type_id, e.quantity, e.status, e.reference) for e in state.joined
    ]
    writes.entry_changes = [
        EntryChangeRow(e.id, e.status, e.reference)
        for e in state.entries.values()
        if e.changed and e.id is not None
    ]
    writes.minute = _minute(state, writes)


def _minute(state: EventState, writes: Writes) -> Minute:
    """The bookings the batch confirms (new, or holds confirmed), their tickets, and the
    bookings it cancels."""
    booked = {row.reference for row in writes.bookings if row.status == "confirmed"}
    tickets = sum(item.quantity for item in writes.items if item.reference in booked)
    confirmed = cancelled = 0
    for booking in state.bookings.values():
        if booking.changed and booking.status == "confirmed":
            confirmed += 1
            tickets += sum(quantity for _, quantity, _ in booking.items)
        elif booking.changed and booking.status == "cancelled":
            cancelled += 1
    return Minute(len(booked) + confirmed, tickets, cancelled)


async def _settle_key(keys: Keys, writes: Writes, command: Keyed, outcome: Outcome) -> None:
    """A key names the booking its command made or confirmed; a refused command frees it."""
    assert command.idempotency_key is not None
    if isinstance(outcome, Booked | Confirmed):
        writes.keys.append(KeyRow(command.user_id, command.idempotency_key, outcome.reference))
    else:
        await keys.release(command)


def _record(writes: Writes, state: EventState, outcome: Outcome, notices: Notices) -> None:
    if isinstance(outcome, Booked) and not outcome.replayed:
        status = "pending" if outcome.held else "confirmed"
        row = BookingRow(
            outcome.reference, outcome.user_id, outcome.total, status, outcome.expires_at
        )
        writes.bookings.append(row)
        writes.items += [
            ItemRow(outcome.reference, line.type_id, line.quantity, line.price)
            for line in outcome.lines
        ]
    if isinstance(outcome, Booked | Cancelled | Confirmed):
        mail = notices(state.name, outcome)
        if mail is not None:
            writes.mails.append(MailRow(outcome.user_id, *mail))


def _resolve_repeats(decided: list[Outcome | Repeat]) -> list[Outcome]:
    outcomes: list[Outcome] = []
    for outcome in decided:
        if isinstance(outcome, Repeat):
            first = outcomes[outcome.first]  # always earlier in the batch
            outcomes.append(rules.repeat_of(first))
        else:
            outcomes.append(outcome)
    return outcomes
