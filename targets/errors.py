"""Errors of the stores, shared by the local and the object store."""


class StoreError(OSError):
    """The store cannot be used as asked (not writable, not a folder, unreachable, refused)."""
