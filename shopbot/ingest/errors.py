from __future__ import annotations


class IngestError(Exception):
    """A file cannot be ingested. The message is shown to the store clerk as is, so it says
    what is wrong with the file and what to do about it."""
