"""The content-addressed cache of model calls.

A key is the SHA-256 of a canonical JSON document naming everything that decides
the result: the operation, the model's weights hash (or API model id), the full
input, the parameters and the seed. Values are bytes. Entries live in one SQLite
file in WAL mode, so each write is atomic, a killed writer leaves no partial
entry, and several processes (two studies, a study and a CLI command) share it.
"""

import errno
import hashlib
import json
import os
import sqlite3
import sys
import threading
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

CACHE_VERSION = 1
"""Bumped when the meaning of cached values changes, which retires old entries."""


def cache_key(**parts: Any) -> str:
    """SHA-256 of the canonical JSON of `parts` (keys sorted, no whitespace)."""
    text = json.dumps({"v": CACHE_VERSION, **parts}, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


def _writable(path: Path) -> bool:
    # WAL mode writes -wal and -shm files beside the database, so its folder counts too.
    return os.access(path, os.W_OK) and os.access(path.parent, os.W_OK)


def _readonly_error(exc: BaseException) -> bool:
    text = str(exc).lower().replace("-", "")
    return isinstance(exc, PermissionError) or "readonly" in text or "unable to open" in text


def default_cache_path() -> Path:
    from personascope._paths import home

    return home() / "cache" / "calls.sqlite"


def storage_error(path: Path, exc: BaseException, fixes: str) -> "PersonascopeError":
    """One user error for a file personascope cannot write: which path, why, and how
    to fix it (a full disk, a read-only folder, a broken database)."""
    from personascope.errors import PersonascopeError

    text = str(getattr(exc, "strerror", None) or exc)
    if "full" in text.lower() or getattr(exc, "errno", None) == errno.ENOSPC:
        why = f"the disk holding {path} is full"
        fixes = f"free some space, or {fixes}"
    elif _readonly_error(exc):
        why = f"{path} is not writable"
        fixes = f"chmod u+w {path}, or {fixes}"
    else:
        why = f"cannot use {path} ({text})"
    return PersonascopeError(f"{why}: {fixes}")


CACHE_FIXES = "run with --no-cache, or set PERSONASCOPE_HOME to a writable folder"


class Cache:
    """Bytes by content key, with hit and miss counters.

    `enabled=False` (the `--no-cache` flag) neither reads nor writes: every call
    reaches the model, and the cache file is left as it was. A cache file that
    exists but cannot be written (a shared, read-only cache) is read only: hits
    come from it, new results are not saved (with one warning).
    """

    def __init__(self, path: str | Path | None = None, *, enabled: bool = True) -> None:
        self.path = Path(path) if path is not None else default_cache_path()
        self.enabled = enabled
        self.read_only = False
        self.hits = 0
        self.misses = 0
        self._warned = False
        self._local = threading.local()
        if enabled:
            if self.path.is_file() and not _writable(self.path):
                self.read_only = True
                self._check_readable()
                return
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                self._db().execute("CREATE TABLE IF NOT EXISTS entries (key TEXT PRIMARY KEY, op TEXT, value BLOB)")
            except (OSError, sqlite3.Error) as exc:
                if self.path.is_file() and _readonly_error(exc):  # e.g. a read-only mount
                    self.read_only = True
                    self._check_readable()
                    return
                raise storage_error(self.path, exc, CACHE_FIXES) from None

    def _check_readable(self) -> None:
        # `mode=ro` sees the WAL's recent entries but needs its -shm file or a writable
        # folder; `immutable` reads the main file alone, which a read-only folder allows.
        for self._ro_flags in ("mode=ro", "mode=ro&immutable=1"):
            self._local = threading.local()
            try:
                self._db().execute("SELECT COUNT(*) FROM entries").fetchone()
                return
            except sqlite3.Error as exc:
                error = exc
        raise storage_error(self.path, error, CACHE_FIXES) from None

    def _db(self) -> sqlite3.Connection:
        # One connection per thread and process: sqlite connections must not cross either.
        db = getattr(self._local, "db", None)
        if db is None or getattr(self._local, "pid", None) != os.getpid():
            if self.read_only:
                uri = f"{self.path.resolve().as_uri()}?{self._ro_flags}"
                db = sqlite3.connect(uri, uri=True, timeout=60, isolation_level=None)
            else:
                db = sqlite3.connect(self.path, timeout=60, isolation_level=None)
                db.execute("PRAGMA journal_mode=WAL")
                db.execute("PRAGMA synchronous=NORMAL")
            self._local.db, self._local.pid = db, os.getpid()
        return db

    def _skip_writes(self, why: str) -> None:
        if not self._warned:
            print(f"warning: the cache {self.path} {why}: results are read from it but not saved "
                  f"(set PERSONASCOPE_HOME to a writable folder to save them)", file=sys.stderr)
            self._warned = True

    def get_many(self, keys: Iterable[str]) -> dict[str, bytes]:
        """The cached values among `keys` (counted as hits; the rest as misses)."""
        keys = list(dict.fromkeys(keys))
        found: dict[str, bytes] = {}
        if self.enabled:
            db = self._db()
            for start in range(0, len(keys), 500):
                chunk = keys[start : start + 500]
                marks = ",".join("?" * len(chunk))
                for key, value in db.execute(f"SELECT key, value FROM entries WHERE key IN ({marks})", chunk):
                    found[key] = value
        self.hits += len(found)
        self.misses += len(keys) - len(found)
        return found

    def get(self, key: str) -> bytes | None:
        """One entry, not counted in the hit/miss statistics (those count model calls)."""
        if not self.enabled:
            return None
        row = self._db().execute("SELECT value FROM entries WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def put_many(self, items: Mapping[str, bytes], op: str = "") -> None:
        """Store entries in one transaction: all of them land, or none."""
        if not self.enabled or not items:
            return
        if self.read_only:
            self._skip_writes("is read-only")
            return
        db = self._db()
        try:
            db.execute("BEGIN IMMEDIATE")
            try:
                db.executemany(
                    "INSERT OR REPLACE INTO entries VALUES (?, ?, ?)", [(k, op, v) for k, v in items.items()]
                )
                db.execute("COMMIT")
            except BaseException:
                if db.in_transaction:
                    db.execute("ROLLBACK")
                raise
        except sqlite3.OperationalError as exc:
            if _readonly_error(exc):  # made read-only while we ran
                self._skip_writes("became read-only")
                return
            raise storage_error(self.path, exc, CACHE_FIXES) from None

    def __len__(self) -> int:
        if not self.enabled or not self.path.is_file():
            return 0
        return self._db().execute("SELECT COUNT(*) FROM entries").fetchone()[0]

    def stats(self) -> dict[str, int]:
        return {"hits": self.hits, "misses": self.misses}
