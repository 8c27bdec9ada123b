"""The content-addressed cache of model calls.

A key is the SHA-256 of a canonical JSON document naming everything that decides
the result: the operation, the model's weights hash (or API model id), the full
input, the parameters and the seed. Values are bytes. Entries live in one SQLite
file in WAL mode, so each write is atomic, a killed writer leaves no partial
entry, and several processes (two studies, a study and a CLI command) share it.
"""

import hashlib
import json
import os
import sqlite3
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


def default_cache_path() -> Path:
    from personascope._paths import home

    return home() / "cache" / "calls.sqlite"


class Cache:
    """Bytes by content key, with hit and miss counters.

    `enabled=False` (the `--no-cache` flag) neither reads nor writes: every call
    reaches the model, and the cache file is left as it was.
    """

    def __init__(self, path: str | Path | None = None, *, enabled: bool = True) -> None:
        self.path = Path(path) if path is not None else default_cache_path()
        self.enabled = enabled
        self.hits = 0
        self.misses = 0
        self._local = threading.local()
        if enabled:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            db = self._db()
            db.execute("CREATE TABLE IF NOT EXISTS entries (key TEXT PRIMARY KEY, op TEXT, value BLOB)")

    def _db(self) -> sqlite3.Connection:
        # One connection per thread and process: sqlite connections must not cross either.
        db = getattr(self._local, "db", None)
        if db is None or getattr(self._local, "pid", None) != os.getpid():
            db = sqlite3.connect(self.path, timeout=60, isolation_level=None)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            self._local.db, self._local.pid = db, os.getpid()
        return db

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
        db = self._db()
        db.execute("BEGIN IMMEDIATE")
        try:
            db.executemany(
                "INSERT OR REPLACE INTO entries VALUES (?, ?, ?)", [(k, op, v) for k, v in items.items()]
            )
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise

    def __len__(self) -> int:
        if not self.enabled or not self.path.is_file():
            return 0
        return self._db().execute("SELECT COUNT(*) FROM entries").fetchone()[0]

    def stats(self) -> dict[str, int]:
        return {"hits": self.hits, "misses": self.misses}
