"""Errors of the stores, shared by the local and the object store."""


class StoreError(OSError):
    """The store cannot be used as asked (not writable, not a folder, unreachable, refused)."""


class StoreUnavailable(StoreError):
    """The object store stopped answering (connection refused, reset or timed out after the client's
    retries). The message names the endpoint; for a while every later call fails at once with it
    (:data:`targets.s3.OUTAGE_SECONDS`), and a luigi run takes no new task (:mod:`targets.outage`)."""
