"""The key that signs model artifacts, kept outside the data root.

Model artifacts are pickles, and unpickling runs code. Whoever can write the data root could
replace a model file *and* the hash recorded beside it, so a hash alone proves nothing. Each
artifact therefore carries an HMAC-SHA256 over its model file and its metadata, made with a key
that does not live in the data root:

* ``RTLMP_ARTIFACT_KEY`` -- the key itself, as at least 64 hexadecimal digits (32 bytes); set it
  on every machine that trains or serves when workers share one data root;
* otherwise the file named by ``RTLMP_ARTIFACT_KEY_FILE`` (default
  ``~/.config/rtlmp-forecaster/artifact.key``), created with a random key and mode 0600 on first
  use. A key file that group or others can read or write is refused.

A model whose signature does not verify is never unpickled.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import stat
from collections.abc import Mapping
from pathlib import Path

KEY_ENV = "RTLMP_ARTIFACT_KEY"
KEY_FILE_ENV = "RTLMP_ARTIFACT_KEY_FILE"
DEFAULT_KEY_FILE = Path("~/.config/rtlmp-forecaster/artifact.key")
MIN_KEY_BYTES = 32


class SigningKeyError(ValueError):
    """The signing key is missing, too short or not private."""


def key_file(environ: Mapping[str, str] | None = None) -> Path:
    env = os.environ if environ is None else environ
    return Path(env.get(KEY_FILE_ENV) or DEFAULT_KEY_FILE).expanduser()


def signing_key(environ: Mapping[str, str] | None = None) -> bytes:
    """The artifact signing key: from ``RTLMP_ARTIFACT_KEY``, else the key file (created on first use)."""
    env = os.environ if environ is None else environ
    if env.get(KEY_ENV):
        return _parse(env[KEY_ENV], f"${KEY_ENV}")
    path = key_file(env)
    if not path.exists():
        _create(path)
    mode = path.stat().st_mode
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise SigningKeyError(f"the artifact key file {path} is readable or writable by others "
                        f"(mode {stat.filemode(mode)}); chmod 600 it")
    return _parse(path.read_text().strip(), str(path))


def _parse(text: str, where: str) -> bytes:
    try:
        key = bytes.fromhex(text.strip())
    except ValueError:
        raise SigningKeyError(f"the artifact key in {where} is not hexadecimal") from None
    if len(key) < MIN_KEY_BYTES:
        raise SigningKeyError(f"the artifact key in {where} has {len(key)} bytes; at least {MIN_KEY_BYTES} are needed")
    return key


def _create(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process created it first: use that one
        return
    with os.fdopen(descriptor, "w") as handle:
        handle.write(secrets.token_hex(MIN_KEY_BYTES) + "\n")


def sign(message: bytes, key: bytes) -> str:
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def verifies(message: bytes, signature: object, key: bytes) -> bool:
    return isinstance(signature, str) and hmac.compare_digest(sign(message, key), signature)
