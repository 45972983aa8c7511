"""What a secret looks like in plain text: a key named like one, or a value that carries one."""
from __future__ import annotations

import re
from typing import Any

SECRET_WORDS = frozenset({"password", "passwd", "pwd", "secret", "secrets", "token", "credential", "credentials",
                          "passphrase", "apikey", "secretkey", "accesskey", "privatekey"})
KEY_QUALIFIERS = frozenset({"api", "access", "private", "secret", "signing", "encryption", "client", "master", "auth",
                            "ssh", "sas", "account"})
SECRET_VALUE_PATTERNS = (
    (re.compile(r"[a-z][a-z0-9+.-]*://[^/\s:@]+:[^@\s/]+@", re.I), "a URL with a password in it"),
    (re.compile(r"\b(password|passwd|pwd|secret)\s*[=:]\s*\S", re.I), "a password assignment"),
    (re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----"), "a private key"),
    (re.compile(r"\b(AKIA|ASIA)[0-9A-Z]{16}\b"), "an AWS access key id"),
)


def _words(key: str) -> list[str]:
    spaced = re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", key)
    return [word.lower() for word in re.split(r"[^A-Za-z0-9]+", spaced) if word]


def is_secret_key(key: str) -> bool:
    """True for names like DB_PASSWORD, DJANGO_SECRET_KEY, kafka.api.key, authToken (not output.key.format)."""
    words = _words(key)
    for index, word in enumerate(words):
        if word in SECRET_WORDS or word.endswith(("password", "secret", "token")):
            return True
        if word == "key" and index > 0 and words[index - 1] in KEY_QUALIFIERS:
            return True
    return False


def secret_value_kind(value: Any) -> str | None:
    """What secret a value looks like it carries, or None."""
    if not isinstance(value, str):
        return None
    for pattern, kind in SECRET_VALUE_PATTERNS:
        if pattern.search(value):
            return kind
    return None
