"""One-time ballot codes kept as HMAC-SHA256 digests, keyed with a secret that is not in the database.

A ballot code is 8 digits: 10^8 values. A plain hash of so few values (what revisions before
``0004_code_hmac`` stored: ``sha256("sanhui-ballot-code:" + code)``) is reversed by trying them all,
in about a minute and a half on a laptop, so a copy of the database gave back every unused code.
Keyed with a 256-bit secret kept *outside* the database, the digest tells nothing without the secret.

Where the secret lives (:func:`code_secret`):

- **SQLite file** ``data/sanhui.db``: the file ``data/sanhui.db.secret`` beside it, created on first
  use with mode 0600 (owner only). A copy of the ``.db`` file alone cannot check or reverse a code;
  a copy opened elsewhere gets a new secret, under which the old codes simply do not verify.
- **SQLite in memory**: a random secret made once per process.
- **PostgreSQL**: the environment variable ``SANHUI_CODE_SECRET`` (at least 32 characters, e.g.
  ``python -c "import secrets; print(secrets.token_hex(32))"``), the same for every process that
  issues or checks codes. When it is missing, issuing or checking a code raises
  :class:`~toolkit.errors.StoreError` saying so; stores that use no codes need no secret.

Codes issued before ``0004_code_hmac`` keep ``scheme = 'sha256'`` and still verify (their slips may
be in residents' hands during a meeting); new codes are ``scheme = 'hmac'``.

>>> secret = bytes(32)
>>> hmac_code(secret, "1234-5678") == hmac_code(secret, "12345678")
True
>>> hmac_code(secret, "1234-5678") == legacy_code_hash("1234-5678")
False
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import os
import secrets
import stat
import time
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from toolkit.errors import StoreError

__all__ = [
    "HMAC",
    "LEGACY",
    "SECRET_ENV",
    "code_digests",
    "code_secret",
    "hmac_code",
    "legacy_code_hash",
    "normalize_code",
    "secret_path",
]

#: The environment variable holding the code secret for PostgreSQL stores.
SECRET_ENV = "SANHUI_CODE_SECRET"
#: ``ballot_codes.scheme`` of codes keyed with the store's secret.
HMAC = "hmac"
#: ``ballot_codes.scheme`` of codes issued before revision 0004 (unkeyed SHA-256).
LEGACY = "sha256"
_PREFIX = "sanhui-ballot-code:"
_SECRET_BYTES = 32
_MIN_ENV_CHARS = 32
_MEMORY_SECRET = secrets.token_bytes(_SECRET_BYTES)  # in-memory stores: one per process


def normalize_code(code: str) -> str:
    """The code as compared: letters and digits only, upper case (``"1234 5678"`` = ``"1234-5678"``)."""
    return "".join(ch for ch in str(code).upper() if ch.isalnum())


def legacy_code_hash(code: str) -> str:
    """The unkeyed digest stored before revision 0004 (reversible by brute force: 10^8 codes)."""
    return hashlib.sha256((_PREFIX + normalize_code(code)).encode()).hexdigest()


def hmac_code(secret: bytes, code: str) -> str:
    """HMAC-SHA256 of the normalised code under ``secret``: 64 hexadecimal digits."""
    return hmac.new(secret, (_PREFIX + normalize_code(code)).encode(), hashlib.sha256).hexdigest()


def code_digests(table: sa.Table, secret: bytes, code: str) -> Any:
    """The WHERE clause finding ``code`` in ``table`` under either scheme."""
    return sa.or_(
        sa.and_(table.c.code_hash == hmac_code(secret, code), table.c.scheme == HMAC),
        sa.and_(table.c.code_hash == legacy_code_hash(code), table.c.scheme == LEGACY),
    )


def secret_path(database: str | os.PathLike[str]) -> Path:
    """Where a SQLite database's code secret is kept: ``<database>.secret``."""
    return Path(str(database) + ".secret")


def code_secret(engine: Engine) -> bytes:
    """The store's code secret (see the module docstring for where it lives).

    Raises
    ------
    StoreError
        PostgreSQL without ``SANHUI_CODE_SECRET`` (or with a short one), or a secret file that
        cannot be read or made.
    """
    if engine.dialect.name != "sqlite":
        value = os.environ.get(SECRET_ENV, "")
        if len(value) < _MIN_ENV_CHARS:
            problem = "is not set" if not value else f"has {len(value)} characters"
            raise StoreError(
                f"ballot codes on PostgreSQL are keyed with a secret kept outside the database, "
                f"and the environment variable {SECRET_ENV} {problem}. Set it to at least "
                f'{_MIN_ENV_CHARS} random characters (python -c "import secrets; '
                f'print(secrets.token_hex(32))"), the same for every process that issues or '
                "checks codes; nothing was changed."
            )
        return value.encode("utf-8")
    database = engine.url.database
    if database in (None, "", ":memory:"):
        return _MEMORY_SECRET
    return _file_secret(secret_path(str(database)))


def _file_secret(path: Path) -> bytes:
    try:
        return _read_secret(path)
    except FileNotFoundError:
        pass
    except OSError as error:
        raise _secret_error(path, error) from None
    # made under a temporary name, then linked into place: a second process racing us either
    # links first (we read its secret) or finds ours complete; no one ever reads half a file
    temporary = path.with_name(f"{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    try:
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as handle:
            handle.write(secrets.token_hex(_SECRET_BYTES) + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        with contextlib.suppress(FileExistsError):
            os.link(temporary, path)
        return _read_secret(path)
    except OSError as error:
        raise _secret_error(path, error) from None
    finally:
        with contextlib.suppress(OSError):
            temporary.unlink()


def _read_secret(path: Path) -> bytes:
    for _ in range(50):  # a file being written by another process shows up complete shortly
        text = path.read_text("ascii").strip()
        if len(text) >= 2 * _SECRET_BYTES:
            break
        time.sleep(0.01)
    else:
        raise StoreError(
            f"the ballot-code secret {path} is damaged (too short). Codes issued under it can no "
            "longer be checked: move the file away (a new one is made) and issue new codes."
        )
    try:
        secret = bytes.fromhex(text[: 2 * _SECRET_BYTES])
    except ValueError:
        raise StoreError(
            f"the ballot-code secret {path} is damaged (not hexadecimal). Codes issued under it "
            "can no longer be checked: move the file away (a new one is made) and issue new codes."
        ) from None
    if stat.S_IMODE(path.stat().st_mode) & 0o077:
        with contextlib.suppress(OSError):
            path.chmod(0o600)
    return secret


def _secret_error(path: Path, error: OSError) -> StoreError:
    return StoreError(
        f"cannot read or create the ballot-code secret {path} ({error.strerror or error}). Check "
        "that the database's directory is writable by this account; nothing was changed."
    )
