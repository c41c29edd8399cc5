"""A batch's plan: the rules run over its commands, in order, against the locked state, and
the rows that carry out what they decided (mails included, composed by ``Notices``)."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime

from server.actors.idempotency import Keys, Repeat
from server.actors.store import BookingRow, ItemRow, KeyRow, MailRow, Writes
from server.booking import rules
from server.booking.commands import BookTickets, Command
from server.booking.outcomes import (
    Booked,
    Cancelled,
    Outcome,
    Receipt,
    ReceiptItem,
)
from server.booking.state import EventState

__all__ = ["Notices", "Plan", "make_plan"]

# The mail (subject, body) that tells a booking's owner what happened to it, for the event
# named: composed outside this layer, written in the batch's transaction.
Notices = Callable[[str, Booked | Cancelled], tuple[str, str]]


@dataclass(slots=True)
class Plan:
    """What a batch will write, and the answer each command gets once it is committed."""

    state: EventState
    stamp: datetime  # the transaction's now(): it marks what the batch wrote
    outcomes: list[Outcome]
    writes: Writes

    def receipts(self, item_ids: list[int]) -> None:
        """Give each new booking its receipt (the 201 body's facts), now that it is written;
        ``item_ids`` are the new items' ids, in the order the bookings and lines were written."""
        ids = iter(item_ids)
        for index, outcome in enumerate(self.outcomes):
            if isinstance(outcome, Booked) and not outcome.replayed:
                self.outcomes[index] = _with_receipt(self, outcome, ids)


async def make_plan(
    keys: Keys, state: EventState, commands: Sequence[Command], stamp: datetime, notices: Notices
) -> Plan:
    decided: list[Outcome | Repeat] = []
    writes = Writes()
    for index, command in enumerate(commands):
        if isinstance(command, BookTickets) and command.idempotency_key is not None:
            earlier = await keys.claim(index, command)
            if earlier is not None:
                decided.append(earlier)
                continue
        outcome = rules.decide(state, command, stamp)
        rules.apply(state, outcome)
        decided.append(outcome)
        if isinstance(command, BookTickets) and command.idempotency_key is not None:
            if isinstance(outcome, Booked):
                key = KeyRow(command.user_id, command.idempotency_key, outcome.reference)
                writes.keys.append(key)
            else:
                await keys.release(command)
        _record(writes, state, outcome, notices)
    return Plan(state, stamp, _resolve_repeats(decided), writes)


def _record(writes: Writes, state: EventState, outcome: Outcome, notices: Notices) -> None:
    if isinstance(outcome, Booked):
        writes.bookings.append(BookingRow(outcome.reference, outcome.user_id, outcome.total))
        writes.items += [
            ItemRow(outcome.reference, line.type_id, line.quantity, line.price)
            for line in outcome.lines
        ]
    elif isinstance(outcome, Cancelled):
        writes.cancelled.append(state.bookings[outcome.reference].id)
    else:
        return
    writes.mails.append(MailRow(outcome.user_id, *notices(state.name, outcome)))


def _resolve_repeats(decided: list[Outcome | Repeat]) -> list[Outcome]:
    outcomes: list[Outcome] = []
    for outcome in decided:
        if isinstance(outcome, Repeat):
            first = outcomes[outcome.first]  # always earlier in the batch
            outcomes.append(rules.repeat_of(first))
        else:
            outcomes.append(outcome)
    return outcomes


def _with_receipt(plan: Plan, booked: Booked, item_ids: Iterator[int]) -> Booked:
    items = tuple(
        ReceiptItem(next(item_ids), line.name, line.quantity, line.price) for line in booked.lines
    )
    receipt = Receipt(
        booked.reference, plan.state.id, plan.state.name, plan.stamp, items, booked.total
    )
    return Booked(booked.reference, booked.user_id, booked.lines, booked.total, receipt=receipt)
