"""The exception tree of Netra Apex.

Domain code raises these and never an HTTP exception; the API maps them to statuses and
the WebSocket gateway to ``error`` messages, each in one table (``api/errors.py``).

    NetraError                      code            HTTP
    ├── InvalidInput                invalid_request 422
    │   └── InvalidDataset          invalid_dataset 422  (details: line, column)
    ├── Unauthorized                unauthorized    401
    │   └── InvalidCredentials      invalid_credentials 401
    ├── NotFound                    not_found       404  (also: another user's object)
    ├── Conflict                    conflict        409
    │   ├── EmailTaken              email_taken     409
    │   ├── ThreadBusy              thread_busy     409
    │   └── NotReady                not_ready       409
    ├── TooManyRuns                 too_many_runs   429
    ├── RateLimited                 rate_limited    429
    ├── PayloadTooLarge             payload_too_large 413
    ├── Unavailable                 unavailable     503  (a dependency is down: retry later)
    └── RunError                    run_failed      500  (ends a run with run_failed)

Every error has a snake_case ``code``, a human ``message`` and optional ``details``.
"""

from __future__ import annotations

from typing import Any, ClassVar


class NetraError(Exception):
    code: ClassVar[str] = "internal"

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.details = details


class InvalidInput(NetraError):
    code = "invalid_request"


class InvalidDataset(InvalidInput):
    """A usage file that cannot be read; ``details`` names ``line`` and/or ``column``."""

    code = "invalid_dataset"


class Unauthorized(NetraError):
    code = "unauthorized"


class InvalidCredentials(Unauthorized):
    """Same answer for an unknown email and a wrong password."""

    code = "invalid_credentials"


class NotFound(NetraError):
    code = "not_found"


class Conflict(NetraError):
    code = "conflict"


class EmailTaken(Conflict):
    code = "email_taken"


class ThreadBusy(Conflict):
    code = "thread_busy"


class NotReady(Conflict):
    code = "not_ready"


class TooManyRuns(NetraError):
    code = "too_many_runs"


class RateLimited(NetraError):
    code = "rate_limited"


class PayloadTooLarge(NetraError):
    code = "payload_too_large"


class Unavailable(NetraError):
    code = "unavailable"


class RunError(NetraError):
    """A failure inside a run (agent or tool); the run ends with ``run_failed``."""

    code = "run_failed"
