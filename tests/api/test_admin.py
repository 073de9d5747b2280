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


def test_deleting_an_account_removes_its_keys_tasks_and_files(live: App, astronaut_png: bytes) -> None:
    admin = live.caller(is_admin=True)
    doomed = live.caller()
    task = live.client.post("/v1/tasks", headers=doomed.headers, **multipart(astronaut_png)).json()
    url = task["result"]["images"][0]["url"]
    assert live.client.get(url).status_code == 200
    assert_error(
        live.client.delete(f"/v1/accounts/{admin.account.id}", headers=admin.headers),
        409,
        "account.self",
        "own account",
        None,
    )
    assert live.client.delete(f"/v1/accounts/{doomed.account.id}", headers=admin.headers).status_code == 204
    assert_error(live.client.get("/v1/tasks", headers=doomed.headers), 401, "auth.invalid", "not valid", None)
    assert live.client.get(url).status_code == 404
    root = live.services.storage.root / "tasks" / doomed.account.id  # type: ignore[attr-defined]
    assert not root.exists() or not any(p.is_file() for p in root.rglob("*"))
    assert_error(
        live.client.delete(f"/v1/accounts/{doomed.account.id}", headers=admin.headers),
        404,
        "account.not_found",
        doomed.account.id,
        None,
    )


def test_admin_bodies_refuse_unknown_fields_and_name_the_problem(live: App) -> None:
    admin = live.caller(is_admin=True)
    typo = live.client.post("/v1/accounts", headers=admin.headers, json={"name": "t1", "concurency": 5})
    assert_error(typo, 400, "param.invalid", "Extra inputs are not permitted", "concurency")
    target = live.caller()
    path = f"/v1/accounts/{target.account.id}"
    assert_error(
        live.client.patch(path, headers=admin.headers, json={"concurency": 5}),
        400, "param.invalid", "Extra inputs", "concurency",
    )
    assert_error(
        live.client.patch(path, headers=admin.headers, json=[1]), 400, "param.invalid", "The request body", None
    )
    assert_error(
        live.client.patch(path, headers={**admin.headers, "Content-Type": "application/json"}, content=b"{x"),
        400, "request.invalid_json", "not valid JSON", None,
    )


def test_deleting_an_account_removes_its_buckets_and_image_services_files(live: App) -> None:
    from restyle.storage.buckets import BucketStore, bucket_prefix
    from restyle.storage.imagex_services import ImagexServiceStore, object_key

    admin, victim = live.caller(is_admin=True), live.caller()
    db, storage = live.services.db, live.services.storage
    bucket = BucketStore(db).create(f"b-{victim.account.id[-8:]}", victim.account.id, "cn-beijing")
    service = ImagexServiceStore(db).create(victim.account.id)
    keys = [f"{bucket_prefix(bucket)}/o/aa/object", object_key(service.service_id, "out/portrait.png")]
    for key in keys:
        storage.put(key, b"data")
    assert live.client.delete(f"/v1/accounts/{victim.account.id}", headers=admin.headers).status_code == 204
    assert not any(storage.exists(key) for key in keys)
