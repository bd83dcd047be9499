"""Users of the service, their roles, and their tokens (stored as SHA-256 hashes only).

A token is 32 random bytes (``secrets.token_urlsafe``), shown once when the user is added
or the token renewed; the store keeps its SHA-256. A random 256-bit secret needs no slow
password hash: the hash only keeps a copied store from giving the tokens away.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from zoning.core.errors import UsageError
from zoning.service.config import ROLES

#: the user database under --data
USERS_FILE = "users.sqlite"


@dataclass(frozen=True)
class User:
    """Who is asking, and what they may do."""

    name: str
    role: str

    def may(self, role: str) -> bool:
        """True if this user's role includes ``role`` (viewer < checker < admin)."""
        return ROLES.index(self.role) >= ROLES.index(role)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _connect(data_dir: str | Path) -> sqlite3.Connection:
    d = Path(data_dir)
    d.mkdir(parents=True, exist_ok=True)
    con = sqlite3.connect(d / USERS_FILE, timeout=10)
    con.execute("CREATE TABLE IF NOT EXISTS users (name TEXT PRIMARY KEY, role TEXT NOT NULL, "
                "token_sha256 TEXT NOT NULL UNIQUE, created TEXT NOT NULL)")
    return con


def _check(name: str, role: str | None = None) -> None:
    if not name or len(name) > 64 or not all(c.isalnum() or c in "._-@" for c in name):
        raise UsageError(f"user name {name!r}: expected 1-64 letters, digits or . _ - @")
    if role is not None and role not in ROLES:
        raise UsageError(f"--role {role!r}: expected one of {', '.join(ROLES)}")


def add_user(data_dir: str | Path, name: str, role: str) -> str:
    """Add a user; returns the token (shown once, stored hashed). UsageError if the name exists."""
    _check(name, role)
    token = secrets.token_urlsafe(32)
    with _connect(data_dir) as con:
        if con.execute("SELECT 1 FROM users WHERE name = ?", (name,)).fetchone():
            raise UsageError(f"user {name!r} exists; `zoning users token {name}` gives a new token")
        con.execute("INSERT INTO users VALUES (?, ?, ?, ?)",
                    (name, role, hash_token(token), dt.datetime.now(dt.UTC).isoformat(timespec="seconds")))
    return token


def renew_token(data_dir: str | Path, name: str) -> str:
    """A new token for ``name`` (the old one stops working)."""
    _check(name)
    token = secrets.token_urlsafe(32)
    with _connect(data_dir) as con:
        cur = con.execute("UPDATE users SET token_sha256 = ? WHERE name = ?", (hash_token(token), name))
        if cur.rowcount == 0:
            raise UsageError(f"no user {name!r}")
    return token


def set_role(data_dir: str | Path, name: str, role: str) -> None:
    _check(name, role)
    with _connect(data_dir) as con:
        if con.execute("UPDATE users SET role = ? WHERE name = ?", (role, name)).rowcount == 0:
            raise UsageError(f"no user {name!r}")


def remove_user(data_dir: str | Path, name: str) -> None:
    with _connect(data_dir) as con:
        if con.execute("DELETE FROM users WHERE name = ?", (name,)).rowcount == 0:
            raise UsageError(f"no user {name!r}")


def list_users(data_dir: str | Path) -> list[tuple[str, str, str]]:
    """(name, role, created) of every user, by name."""
    with _connect(data_dir) as con:
        return [tuple(r) for r in con.execute("SELECT name, role, created FROM users ORDER BY name")]


class UserStore:
    """Token and name look-ups for the running service (read per request: changes apply at once)."""

    #: seconds a look-up is reused (a removed user or renewed token stops working within it)
    TTL_S = 2.0

    def __init__(self, data_dir: str | Path) -> None:
        self.data_dir = Path(data_dir)
        _connect(self.data_dir).close()
        self._seen: dict[str, tuple[float, User | None]] = {}

    def by_token(self, token: str) -> User | None:
        import time

        digest = hash_token(token)
        now = time.monotonic()
        hit = self._seen.get(digest)
        if hit is not None and now - hit[0] < self.TTL_S:
            return hit[1]
        user = self._lookup(digest)
        if len(self._seen) > 10_000:
            self._seen.clear()
        self._seen[digest] = (now, user)
        return user

    def _lookup(self, digest: str) -> User | None:
        con = _connect(self.data_dir)
        try:
            row = con.execute("SELECT name, role, token_sha256 FROM users WHERE token_sha256 = ?", (digest,)).fetchone()
        finally:
            con.close()
        if row is None or not hmac.compare_digest(row[2], digest):
            return None
        return User(row[0], row[1])

    def role_of(self, name: str) -> str | None:
        con = _connect(self.data_dir)
        try:
            row = con.execute("SELECT role FROM users WHERE name = ?", (name,)).fetchone()
        finally:
            con.close()
        return row[0] if row else None
