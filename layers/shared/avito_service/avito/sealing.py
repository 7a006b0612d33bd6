"""Envelope encryption of Avito's bearer tokens (access tokens in TokensTable, OAuth refresh tokens in Secrets
Manager) under the stack's KMS key (``TokensKey``, ``TOKENS_KEY_ID``), whose key policy lets only the functions
that call Avito use it.

A sealed value is ``kms1.<encrypted data key>.<nonce + AES-256-GCM ciphertext>`` (URL-safe base64). The data key
comes from ``kms:GenerateDataKey`` (encryption context ``{"purpose": "avito-tokens"}``, which the key policy
requires) and is reused by this container for ``DATA_KEY_SECONDS`` or ``DATA_KEY_USES`` seals; a data key read
back is decrypted with ``kms:Decrypt`` once and remembered (``OPENED_KEYS`` of them), so a warm container seals
and opens without calling KMS. The associated data binds a sealed value to its account and field: a ciphertext
copied to another account's item, or to another attribute, does not open.

Hand-written on purpose over ``cryptography``'s AES-GCM rather than the AWS Encryption SDK (PyPI
``aws-encryption-sdk`` 4.0.7): the SDK pulls ``attrs``, ``wrapt`` and its own ``boto3``/``botocore`` pins into
the layer (the runtime provides boto3), its default suite signs every message with ECDSA (a second key pair and
~100 bytes per token), and its data-key cache (``CachingCryptoMaterialsManager``) is legacy in 4.x in favour of
the Material Providers Library, a much larger dependency. What is needed here is one GenerateDataKey, one
AES-GCM call and a dict: ~100 lines, and ``cryptography`` is in the layer anyway (PyJWT needs it for RS256).
"""

from __future__ import annotations

import base64
import os
import threading
import time
from dataclasses import dataclass

from botocore.exceptions import ClientError
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from avito_service import aws, snapstart
from avito_service.config import get_settings

VERSION = "kms1"
ENCRYPTION_CONTEXT = {"purpose": "avito-tokens"}  # the key policy allows the key's use with this context only
DATA_KEY_SECONDS = 3600.0  # one data key seals for at most an hour per container ...
DATA_KEY_USES = 100_000  # ... and at most this many values (far below AES-GCM's random-nonce bound)
OPENED_KEYS = 64  # data keys read back and remembered per container (one per container that sealed recently)


class SealError(Exception):
    """A sealed value that is malformed, was tampered with, or belongs to another account or field."""


@dataclass
class _DataKey:
    plaintext: bytes
    encrypted: bytes
    created: float
    uses: int = 0


_lock = threading.Lock()
_current: _DataKey | None = None
_opened: dict[bytes, bytes] = {}  # encrypted data key -> plaintext data key


@snapstart.after_restore  # copies restored from one snapshot must not share a data key (nor its nonces' space)
def forget_keys() -> None:
    global _current  # noqa: PLW0603 - the container's data key, replaced only under the lock
    with _lock:
        _current = None
        _opened.clear()


def is_sealed(value: object) -> bool:
    return isinstance(value, str) and value.startswith(VERSION + ".")


def _aad(account_id: str, field: str) -> bytes:
    return f"{VERSION}\0{account_id}\0{field}".encode()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _key_id() -> str:
    key_id = get_settings().tokens_key_id
    if not key_id:
        raise RuntimeError("TOKENS_KEY_ID is not set: the function cannot seal or open Avito tokens")
    return key_id


def _data_key() -> _DataKey:
    global _current  # noqa: PLW0603 - the container's data key, replaced only under the lock
    with _lock:
        key = _current
        if key is None or key.uses >= DATA_KEY_USES or time.monotonic() - key.created > DATA_KEY_SECONDS:
            answer = aws.kms_client().generate_data_key(
                KeyId=_key_id(), KeySpec="AES_256", EncryptionContext=ENCRYPTION_CONTEXT
            )
            key = _current = _DataKey(answer["Plaintext"], answer["CiphertextBlob"], time.monotonic())
            _opened[key.encrypted] = key.plaintext
        key.uses += 1
        return key


def seal(plaintext: str, *, account_id: str, field: str) -> str:
    """``plaintext`` encrypted for storage in ``field`` of ``account_id``'s record."""
    key = _data_key()
    nonce = os.urandom(12)
    ciphertext = AESGCM(key.plaintext).encrypt(nonce, plaintext.encode(), _aad(account_id, field))
    return f"{VERSION}.{_b64(key.encrypted)}.{_b64(nonce + ciphertext)}"


def open_sealed(sealed: str, *, account_id: str, field: str) -> str:
    """The plaintext of a value :func:`seal` made for the same account and field; SealError otherwise."""
    try:
        version, encrypted_key, body = sealed.split(".")
        encrypted, payload = _unb64(encrypted_key), _unb64(body)
    except (AttributeError, ValueError) as exc:
        raise SealError("not a sealed value") from exc
    if version != VERSION or len(payload) < 12 + 16:
        raise SealError("not a sealed value")
    try:
        plaintext = AESGCM(_opened_key(encrypted)).decrypt(payload[:12], payload[12:], _aad(account_id, field))
    except InvalidTag as exc:
        raise SealError("the sealed value does not open for this account and field") from exc
    return plaintext.decode()


def _opened_key(encrypted: bytes) -> bytes:
    with _lock:
        found = _opened.get(encrypted)
    if found is not None:
        return found
    try:
        plaintext = aws.kms_client().decrypt(
            CiphertextBlob=encrypted, KeyId=_key_id(), EncryptionContext=ENCRYPTION_CONTEXT
        )["Plaintext"]
    except ClientError as exc:  # a forged or foreign data key; a refused call (AccessDenied...) is raised as is
        if exc.response["Error"]["Code"] not in ("InvalidCiphertextException", "IncorrectKeyException"):
            raise
        raise SealError("the data key does not open under this key") from exc
    with _lock:
        if len(_opened) >= OPENED_KEYS:
            _opened.pop(next(iter(_opened)))
        _opened[encrypted] = plaintext
    return plaintext
