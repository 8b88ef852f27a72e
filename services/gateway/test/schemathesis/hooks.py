"""Schemathesis hooks of the contract fuzz suite (SCHEMATHESIS_HOOKS), loaded by schemathesis itself."""

import gzip
import json

import schemathesis
from schemathesis.core import NotSet

GZIP_CODINGS = {"gzip", "x-gzip"}


@schemathesis.hook
def before_call(context, case, kwargs):
    """Send the body in the coding the generated Content-Encoding names, as any client must.

    The document gives Content-Encoding its accepted values and the body's schema is that of the
    decoded body (OpenAPI has no way to say "gzip of this"); without this, every generated
    `Content-Encoding: gzip` would go out with a plain body and be refused, rightly, with 400.
    """
    headers = {name.lower(): value for name, value in (case.headers or {}).items()}
    coding = str(headers.get("content-encoding", "")).strip().lower()
    if coding in GZIP_CODINGS and not isinstance(case.body, NotSet):
        # Generated JSON bodies are Python values; some negative ones are raw bytes already.
        raw = case.body if isinstance(case.body, bytes) else json.dumps(case.body).encode("utf-8")
        kwargs["data"] = gzip.compress(raw)


@schemathesis.check
def unavailable_only_while_waiting_for_a_token(ctx, response, case):
    """A 503 is expected only as the consistency timeout (schemathesis.toml); anything else fails."""
    if response.status_code != 503:
        return None
    try:
        detail = str(response.json().get("detail", ""))
    except Exception:
        detail = response.text
    if "has not applied the writes of this consistency token" not in detail:
        raise AssertionError(f"503 that is not a consistency-token timeout: {detail or response.text}")
    return None
