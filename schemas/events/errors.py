"""The one error every event parser raises for input it cannot read."""


class MalformedEvent(ValueError):
    """The record cannot become an event; `reason` is one short line (fit for logs and the DLQ)."""

    def __init__(self, reason: str) -> None:
        self.reason = " ".join(reason.split())
        super().__init__(self.reason)
