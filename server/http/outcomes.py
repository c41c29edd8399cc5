"""The booking rules' outcomes as HTTP answers: the one place their statuses are chosen."""

from __future__ import annotations

from typing import Any

from server.booking.outcomes import (
    Booked,
    Cancelled,
    Confirmed,
    Extended,
    Joined,
    Left,
    NotDone,
    Outcome,
    Reason,
    Refused,
)
from server.errors import ApiError, ServiceUnavailable

__all__ = ["REFUSAL_STATUS", "BookingRefused", "Done", "answered"]

# A refusal is a 400, as in the reference, but for these.
REFUSAL_STATUS = {
    Reason.NOT_FOUND: 404,
    Reason.KEY_IN_USE: 409,
    Reason.HOLD_EXPIRED: 409,
    Reason.NOT_PENDING: 409,
    Reason.EXTENSION_LIMIT: 409,
    Reason.KEY_REUSED: 422,
    Reason.ALREADY_WAITING: 409,
    Reason.QUEUE_REQUIRED: 403,
}

Done = Booked | Cancelled | Confirmed | Extended | Joined | Left


class BookingRefused(ApiError):
    """A command the booking rules refused: ``{"detail", "code"}`` and what the refusal adds
    (a limit and what one has already), plus the reference's ``non_field_errors`` for ticket
    types that are not the event's."""

    def __init__(self, refusal: Refused) -> None:
        status = REFUSAL_STATUS.get(refusal.reason, 400)
        super().__init__(refusal.detail, code=refusal.reason.value, status=status)
        self.extra = dict(refusal.extra)

    def body(self) -> dict[str, Any]:
        body = {**super().body(), **self.extra}
        if self.code == Reason.INVALID_TICKET_TYPES:
            body["non_field_errors"] = [self.detail]
        return body


def answered(outcome: Outcome) -> Done:
    """What was done; raises the HTTP error of a refusal or of a command not done."""
    if isinstance(outcome, Refused):
        raise BookingRefused(outcome)
    if isinstance(outcome, NotDone):
        raise ServiceUnavailable(
            outcome.detail, code=outcome.kind.value, headers={"Retry-After": "1"}
        )
    assert isinstance(outcome, Done)
    return outcome
