"""The TOS SDK in custom-domain mode (``is_custom_domain=True``, protocols section 3 (b)): requests go
to ``/KEY`` with no bucket in the URL, and the server finds the bucket from its ``tos.custom_domains``
table (the live server maps ``localhost`` to one bucket)."""

from __future__ import annotations

import uuid
from urllib.parse import urlsplit

import pytest
import tos
from tos.exceptions import TosServerError

from restyle.api.fronts.tos.crc64 import crc64
from tests.fronts.conftest import CUSTOM_DOMAIN_BUCKET, LiveServer
from tests.fronts.test_tos import client_for


def test_put_get_process_and_list_through_a_custom_domain(
    live_server: LiveServer, astronaut_png: bytes
) -> None:
    account = live_server.accounts.create(f"cd-{uuid.uuid4().hex[:8]}", qps=100)
    creds = live_server.keys.issue(account)
    proxied = client_for(live_server, creds.access_key_id, creds.secret_access_key)
    proxied.create_bucket(CUSTOM_DOMAIN_BUCKET)  # made the usual way; reached below by the domain only
    port = urlsplit(live_server.base_url).port
    custom = tos.TosClientV2(
        creds.access_key_id,
        creds.secret_access_key,
        endpoint=f"http://localhost:{port}",
        region="cn-beijing",
        is_custom_domain=True,
        max_retry_count=0,
    )
    try:
        # the bucket argument is ignored by the SDK in this mode: the Host names it
        put = custom.put_object(CUSTOM_DOMAIN_BUCKET, "cd/face.png", content=astronaut_png)
        assert put.hash_crc64_ecma == crc64(astronaut_png)
        assert proxied.get_object(CUSTOM_DOMAIN_BUCKET, "cd/face.png").read() == astronaut_png
        assert custom.get_object(CUSTOM_DOMAIN_BUCKET, "cd/face.png").read() == astronaut_png
        small = custom.get_object(CUSTOM_DOMAIN_BUCKET, "cd/face.png", process="image/resize,w_64/format,png")
        assert small.read()[:8] == b"\x89PNG\r\n\x1a\n"
        assert [o.key for o in custom.list_objects_type2(CUSTOM_DOMAIN_BUCKET).contents] == ["cd/face.png"]
        with pytest.raises(TosServerError) as missing:
            custom.get_object(CUSTOM_DOMAIN_BUCKET, "cd/missing.png")
        assert (missing.value.status_code, missing.value.code) == (404, "NoSuchKey")
        custom.delete_object(CUSTOM_DOMAIN_BUCKET, "cd/face.png")
    finally:
        for listed in proxied.list_objects_type2(CUSTOM_DOMAIN_BUCKET).contents:
            proxied.delete_object(CUSTOM_DOMAIN_BUCKET, listed.key)
        proxied.delete_bucket(CUSTOM_DOMAIN_BUCKET)
