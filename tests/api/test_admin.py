"""Account management over the API with an admin key."""

from __future__ import annotations

from tests.api.conftest import App, multipart
from tests.api.test_errors import assert_error


def test_an_admin_manages_accounts_and_keys(live: App, astronaut_png: bytes) -> None:
    admin, user = live.caller(is_admin=True), live.caller()
    assert_error(
        live.client.get("/v1/accounts", headers=user.headers), 403, "auth.forbidden", "admin key", None
    )
    created = live.client.post(
        "/v1/accounts", headers=admin.headers, json={"name": "studio-7", "qps": 5, "concurrency": 2}
    )
    assert created.status_code == 201, created.text
    account, credentials = created.json()["account"], created.json()["credentials"]
    assert (account["qps"], account["concurrency"], account["is_admin"]) == (5, 2, False)
    headers = {"Authorization": f"Bearer {credentials['api_key']}"}
    me = live.client.get("/v1/account", headers=headers).json()
    assert me["id"] == account["id"] and me["webhook_secret"].startswith("whsec_")
    duplicate = live.client.post("/v1/accounts", headers=admin.headers, json={"name": "studio-7"})
    assert_error(duplicate, 409, "account.exists", "already exists", None)
    invalid = live.client.post("/v1/accounts", headers=admin.headers, json={"name": "x", "qps": -1})
    assert_error(invalid, 400, "param.invalid", "greater than 0", "qps")
    patched = live.client.patch(
        f"/v1/accounts/{account['id']}", headers=admin.headers, json={"concurrency": 4}
    )
    assert patched.json()["concurrency"] == 4 and patched.json()["qps"] == 5
    second = live.client.post(f"/v1/accounts/{account['id']}/keys", headers=admin.headers).json()
    detail = live.client.get(f"/v1/accounts/{account['id']}", headers=admin.headers).json()
    assert len(detail["keys"]) == 2 and all("secret" not in str(k) for k in detail["keys"])
    revoked = live.client.delete(
        f"/v1/accounts/{account['id']}/keys/{credentials['key_id']}", headers=admin.headers
    )
    assert revoked.json()["revoked_at"] is not None
    assert_error(live.client.get("/v1/tasks", headers=headers), 401, "auth.invalid", "not valid", None)
    second_headers = {"Authorization": f"Bearer {second['api_key']}"}
    assert live.client.get("/v1/tasks", headers=second_headers).status_code == 200
    live.client.patch(f"/v1/accounts/{account['id']}", headers=admin.headers, json={"disabled": True})
    assert_error(
        live.client.post("/v1/tasks", headers=second_headers, **multipart(astronaut_png)),
        401,
        "auth.invalid",
        "disabled",
        None,
    )
    names = [a["name"] for a in live.client.get("/v1/accounts", headers=admin.headers).json()["data"]]
    assert "studio-7" in names
    assert_error(
        live.client.get("/v1/accounts/acc_nope", headers=admin.headers),
        404,
        "account.not_found",
        "acc_nope",
        None,
    )
