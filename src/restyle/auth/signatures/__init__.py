"""Request-signature verifiers for the Volcengine ``HMAC-SHA256`` and TOS ``TOS4-HMAC-SHA256`` schemes.

Pure functions: they take the request as it came over the wire, a ``secret_for(access_key_id)``
lookup, the service the endpoint serves and the time ``now``, and return a ``VerifiedSignature``
or raise a ``restyle.errors.SignatureError`` subclass with a distinct ``code``.
"""

from __future__ import annotations

from restyle.auth.signatures.common import WINDOW, HeaderView, SignedRequest, Target, VerifiedSignature
from restyle.auth.signatures.replay import ReplayCache
from restyle.auth.signatures.tos import needs_body, verify_tos
from restyle.auth.signatures.verify import SecretLookup
from restyle.auth.signatures.volc import verify_volc

__all__ = [
    "WINDOW",
    "HeaderView",
    "ReplayCache",
    "SecretLookup",
    "SignedRequest",
    "Target",
    "VerifiedSignature",
    "needs_body",
    "verify_tos",
    "verify_volc",
]
