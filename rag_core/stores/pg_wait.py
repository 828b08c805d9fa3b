"""A client-side deadline on every statement, on every connection the pgvector store opens.

A server that stops answering without closing the connection (a network partition, a frozen
proxy: the kernel keeps acknowledging, so TCP keepalives never fire) used to hang a search or an
ingest for ever; the server's statement_timeout cannot help, it never hears of it. Every
blocking wait of psycopg goes through `Connection.wait`, so the connection class here gives each
one a timeout: the connection's current rule (seconds, what it waits for, the variable that sets
it), and for a write transaction also what is left of its whole budget (RAG_PG_INGEST_DEADLINE_S,
all its waits together). When one passes, the statement is cancelled on the server (bounded, when
libpq can), the connection is closed, and `WaitExpired` says which server did not answer what
within how long. It is a StoreError (the CLI exits 2, the app shows it) and a psycopg
OperationalError (psycopg and the pool treat the connection as broken).

Needs psycopg >= 3.3 (`Connection.wait(..., timeout=)`).
"""

from __future__ import annotations

import os
import socket
import time
from contextlib import contextmanager
from dataclasses import dataclass

from rag_core.core.errors import StoreError

READ_VAR, WRITE_VAR = "RAG_PG_SEARCH_DEADLINE_S", "RAG_PG_WRITE_DEADLINE_S"
COMMIT_VAR, INGEST_VAR = "RAG_PG_COMMIT_DEADLINE_S", "RAG_PG_INGEST_DEADLINE_S"
#: how long a cancel request may take before the connection is closed without it
CANCEL_S = 5.0


@dataclass(frozen=True)
class Rule:
    seconds: float
    what: str
    variable: str


class Budget:
    """What is left of one write transaction's total wait (mutable: it is spent)."""

    def __init__(self, seconds: float) -> None:
        self.total = self.left = float(seconds)


_CLASSES: dict[str, type] = {}
#: the rule of a connection that has none set (reads, the extension check, the catalog)
_DEFAULT = [Rule(60.0, "a statement", READ_VAR)]


def set_default(seconds: float) -> None:
    _DEFAULT[0] = Rule(float(seconds), "a statement", READ_VAR)


def connection_class() -> type:
    """psycopg.Connection with deadlines (built on first use: psycopg is imported lazily)."""
    if "conn" not in _CLASSES:
        _CLASSES.update(_build())
    return _CLASSES["conn"]


def expired_class() -> type:
    connection_class()
    return _CLASSES["error"]


def _build() -> dict[str, type]:
    import psycopg
    from psycopg import errors

    class WaitExpired(StoreError, psycopg.OperationalError):
        """A statement got no answer within its client-side deadline; the connection was closed."""

    class DeadlineConnection(psycopg.Connection):
        _rag_rule: Rule | None = None
        _rag_budget: Budget | None = None
        _rag_where: str | None = None

        def wait(self, gen, interval: float = 0.1, timeout: float | None = None):
            rule, budget = self._rag_rule or _DEFAULT[0], self._rag_budget
            limit = rule.seconds if budget is None else max(0.001, min(rule.seconds, budget.left))
            ours = timeout is None or timeout >= limit
            started = time.monotonic()
            try:
                return super().wait(gen, interval=interval, timeout=limit if ours else timeout)
            except errors._WaitTimeout:
                if not ours:
                    raise
                by_budget = budget is not None and budget.left < rule.seconds
                self._rag_expire()
                raise WaitExpired(_message(self, rule, budget if by_budget else None), kind="deadline",
                                  seconds=budget.total if by_budget else rule.seconds) from None
            finally:
                if budget is not None:
                    budget.left -= time.monotonic() - started

        def _rag_expire(self) -> None:
            """Cancel the statement (bounded) and close the connection: its state is unknown."""
            from psycopg import capabilities, pq

            try:  # cancel_safe is bounded only with libpq >= 17; an older one would block on a partition
                if capabilities.has_cancel_safe() and self.pgconn.transaction_status == pq.TransactionStatus.ACTIVE:
                    self.cancel_safe(timeout=CANCEL_S)
            except Exception:  # noqa: BLE001 - a partitioned server cannot take the cancel either
                pass
            try:
                with socket.socket(fileno=os.dup(self.pgconn.socket)) as sock:
                    sock.shutdown(socket.SHUT_RDWR)
            except (OSError, psycopg.Error, ValueError):
                pass
            try:
                self.close()
            except Exception:  # noqa: BLE001
                pass

    return {"conn": DeadlineConnection, "error": WaitExpired}


def _message(conn, rule: Rule, budget: Budget | None) -> str:
    where = conn._rag_where or _host_port(conn)
    if budget is not None:
        return (f"PostgreSQL at {where} did not finish this write's database work within {budget.total:g} s (all "
                f"its statements together; it was waiting on {rule.what}); the connection was closed and nothing "
                f"was written. Check the server and the network; {INGEST_VAR} sets the wait")
    return (f"PostgreSQL at {where} did not answer {rule.what} within {rule.seconds:g} s; the connection was "
            f"closed (nothing more was written). Check the server and the network; {rule.variable} sets the wait")


def _host_port(conn) -> str:
    try:
        return f"{conn.info.host}:{conn.info.port}"
    except Exception:  # noqa: BLE001
        return "the server"


def set_rule(conn, rule: Rule | None) -> Rule | None:
    """Give `conn` this rule (None: the default); the previous one is returned."""
    previous = getattr(conn, "_rag_rule", None)
    if hasattr(conn, "_rag_rule"):
        conn._rag_rule = rule
    return previous


def set_budget(conn, budget: Budget | None) -> None:
    if hasattr(conn, "_rag_budget"):
        conn._rag_budget = budget


def set_where(conn, where: str) -> None:
    if hasattr(conn, "_rag_where"):
        conn._rag_where = where


@contextmanager
def rule(conn, seconds: float, what: str, variable: str):
    """Every wait in the block has this deadline (then the connection's rule is restored)."""
    previous = set_rule(conn, Rule(float(seconds), what, variable))
    try:
        yield
    finally:
        set_rule(conn, previous)
