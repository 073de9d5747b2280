"""A submit that fails half-way leaves no stored input behind (nothing would ever expire it)."""

from __future__ import annotations

from pathlib import Path

import pytest

from restyle.domain import ImageSource
from restyle.errors import StorageUnavailable, StoreUnavailable
from restyle.pipeline import Pipeline
from restyle.storage.local import LocalStorage
from restyle.tasks.models import TaskRow
from restyle.tasks.service import Submission
from tests.tasks.test_runner import World, pipeline  # noqa: F401 - the module-scoped pipeline fixture


class StyleImagePutFails(LocalStorage):
    """Local disk whose write of a style image fails, as an object store that went away would."""

    def put(self, key: str, data: bytes, content_type: str | None = None) -> None:
        if key.endswith("style_image"):
            raise StorageUnavailable("The object store did not answer (test).")
        super().put(key, data, content_type)


def test_a_failed_second_input_removes_the_first(
    tmp_path: Path,
    pipeline: Pipeline,  # noqa: F811
    astronaut_png: bytes,
) -> None:
    world = World(tmp_path, pipeline)
    world.service.storage = world.storage = StyleImagePutFails(world.settings.storage_root)
    submission = Submission(
        fields={"style": "sketch"},
        image=ImageSource(data=astronaut_png),
        style_image=ImageSource(data=astronaut_png),
    )
    with pytest.raises(StorageUnavailable):
        world.service.submit(world.account, submission)
    assert world.files() == []  # the photo written first is gone too
    assert world.store.pending_count() == 0 and world.queue.notified == []


def test_a_commit_whose_answer_was_lost_keeps_the_inputs_of_its_row(
    tmp_path: Path,
    pipeline: Pipeline,  # noqa: F811
    astronaut_png: bytes,
) -> None:
    world = World(tmp_path, pipeline)
    insert = world.store.insert

    def insert_then_lose_the_answer(row: TaskRow) -> tuple[TaskRow, bool]:
        insert(row)  # the row is committed...
        raise StoreUnavailable("The task database did not answer (test).")  # ...but the caller never hears

    world.store.insert = insert_then_lose_the_answer  # type: ignore[method-assign]
    with pytest.raises(StoreUnavailable):
        world.service.submit(
            world.account, Submission(fields={"style": "sketch"}, image=ImageSource(data=astronaut_png))
        )
    rows, _ = world.store.page(world.account.id, limit=10)
    assert len(rows) == 1 and world.files()  # the row exists, so its photo stays for the worker
