"""The web studio in headless Chromium against a real ``restyle serve`` on loopback: sign in, upload
the bundled sample, pick a preset, follow the progress, compare, errors next to their fields, the
history, keyboard use and contrast, and the phone width."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from restyle.api.services import open_database
from restyle.auth.accounts import AccountStore
from restyle.auth.keys import KeyStore
from restyle.config import Settings
from tests.web.conftest import Shots, Studio

pytestmark = pytest.mark.slow

RUNNER_STEPS = {"load", "decode", "precheck", "detect", "prepare", "embed_input", "engine", "retouch",
                "guard", "postcheck", "label", "encode", "store"}  # fmt: skip
TIMEOUT_MS = 90_000  # the first gallery view renders every thumbnail; CI machines may be busy

# Every step text the page shows, in order (a task can pass a step faster than a poll would see it).
RECORD_STEPS = """() => {
  window.stepTexts = [];
  new MutationObserver(() => {
    for (const node of document.querySelectorAll('#results .step')) {
      const text = node.textContent;
      if (text && window.stepTexts[window.stepTexts.length - 1] !== text) window.stepTexts.push(text);
    }
  }).observe(document.getElementById('results'), {subtree: true, childList: true, characterData: true});
}"""

# WCAG contrast ratio of an element's text against the first opaque background behind it.
CONTRAST = """(element) => {
  const rgb = (value) => value.match(/[\\d.]+/g).map(Number);
  const luminance = ([r, g, b]) => {
    const channel = (c) => { c /= 255; return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4; };
    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b);
  };
  let node = element, background = null;
  while (node && node.nodeType === 1) {
    const colour = rgb(getComputedStyle(node).backgroundColor);
    if (colour.length < 4 || colour[3] > 0.99) { background = colour; break; }
    node = node.parentElement;
  }
  background = background || [255, 255, 255];
  const [a, b] = [luminance(rgb(getComputedStyle(element).color)), luminance(background)];
  return (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
}"""


def watch_errors(page: Any) -> list[str]:
    """Script errors and refusals (CSP) the page logs; the error answers the tests provoke on purpose
    ("Failed to load resource: ... 400") are expected and left out."""
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(f"script error: {error}"))
    page.on(
        "console",
        lambda message: problems.append(f"console: {message.text}")
        if message.type == "error" and "Failed to load resource" not in message.text
        else None,
    )
    return problems


@pytest.fixture
def page(browser: Any, studio: Studio) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    problems = watch_errors(page)
    page.goto(studio.url)
    yield page
    context.close()
    assert problems == []  # no script error, nothing refused by the Content-Security-Policy


def sign_in(page: Any, key: str) -> None:
    page.fill("#api-key", key)
    page.click("#signin-button")
    page.wait_for_selector("#account:not([hidden])")


def pick_preset(page: Any, name: str) -> None:
    page.click(f"label[for=style-{name}]")
    assert page.is_checked(f"#style-{name}")


def api(studio: Studio, method: str, path: str) -> httpx.Response:
    headers = {"Authorization": f"Bearer {studio.api_key}"}
    return httpx.request(method, studio.server.base + path, headers=headers, timeout=30)


def test_banner_names_the_studio(studio: Studio) -> None:
    assert f"Open the web studio: {studio.server.base}/ " in studio.banner
    assert "sign in with the API key above" in studio.banner


def test_gallery_before_sign_in_and_the_key_never_in_a_url(page: Any, studio: Studio, shots: Shots) -> None:
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    presets = httpx.get(studio.server.base + "/v1/styles").json()["data"]
    # 1. the gallery comes from the public GET /v1/styles, each preset with its rendered thumbnail
    page.wait_for_selector("#gallery input[value=sketch]", state="attached")
    assert page.locator("#gallery input[type=radio]").count() == len(presets) + 1  # + "Automatic"
    page.wait_for_function(
        "() => [...document.querySelectorAll('#gallery img')].every((img) => img.complete && img.naturalWidth === 160)"
    )
    shots.save(page, "studio-gallery")
    # 2. a wrong key is refused in words next to the key field
    page.fill("#api-key", "rsk_wrong")
    page.click("#signin-button")
    page.wait_for_selector("#error-key:not([hidden])")
    assert "API key" in page.inner_text("#error-key")
    assert page.is_hidden("#account")
    # 3. the right key signs in, is kept in the browser's storage and survives a reload
    sign_in(page, studio.api_key)
    assert page.inner_text("#account-name") == "demo"
    assert page.evaluate("localStorage.getItem('restyle.apiKey')") == studio.api_key
    page.reload()
    page.wait_for_selector("#account:not([hidden])")
    assert page.is_hidden("#error-key")
    # 4. ...and never travels in a URL
    assert requests and not [url for url in requests if studio.api_key in url]
    assert studio.api_key not in page.url


def test_restyle_two_photos_with_progress_result_compare_and_history(
    page: Any, studio: Studio, sample_files: dict[str, Path], shots: Shots
) -> None:
    sign_in(page, studio.api_key)
    page.evaluate(RECORD_STEPS)
    # 1. two photos, a phone's HEIC first (concurrency 1: the second waits in the queue), the sketch
    #    preset, a style image, a prompt, a slider moved and a seed from the dice
    page.set_input_files("#image", [str(sample_files["astronaut-2.heic"]), str(sample_files["astronaut.png"])])
    assert page.locator("#photos li").count() == 2
    assert page.locator("#photos li").first.locator(".placeholder").count() == 1  # no HEIC preview in Chromium
    pick_preset(page, "sketch")
    page.set_input_files("#style_image", str(sample_files["palette.png"]))
    page.fill("#prompt", "pencil 铅笔 zebra")
    page.fill("#smooth", "0.5")
    assert page.inner_text("#smooth-value") == "0.5"
    page.click("#dice")
    seed = int(page.input_value("#seed"))
    assert 0 <= seed <= 2**32 - 1
    page.click("#submit")
    page.wait_for_function("() => document.querySelectorAll('#results .result[data-status=SUCCEEDED]').length === 2")
    # 2. progress came from the event stream, with the runner's step names
    texts: list[str] = page.evaluate("window.stepTexts")
    named = {match.group(1) for text in texts if (match := re.match(r"Step (\w+)", text))}
    assert named & RUNNER_STEPS, texts
    assert any(text.startswith("Waiting in the queue") for text in texts), texts
    # 3. the result image, its identity distance and a verdict in plain words
    card = page.locator("#results .result").first
    task = api(studio, "GET", f"/v1/tasks/{card.get_attribute('data-task-id')}").json()
    assert task["status"] == "SUCCEEDED" and task["parameters"]["style"] == "sketch"
    assert task["parameters"]["smooth"] == 0.5 and task["parameters"]["seed"] == seed
    assert task["result"]["summary"]["seed"] == seed
    page.wait_for_function(
        "() => { const img = document.querySelector('#results .result .after'); return img.complete && img.naturalWidth > 0; }"
    )
    verdict = card.locator(".verdict").inner_text()
    assert re.search(r"Same person|guard stepped in|Warning", verdict)
    assert f"identity distance {task['result']['identity_distance']:.3f}" in verdict
    for part in (".verdict", ".words", ".facts"):
        assert card.locator(part).evaluate(CONTRAST) >= 4.5, part
    words = card.locator(".words").inner_text()
    summary = task["result"]["summary"]
    for word in summary["prompt_words_used"] + summary["prompt_words_ignored"]:
        assert word in words
    assert summary["prompt_words_ignored"], summary  # "zebra" is no style word
    assert f"seed {summary['seed']}" in card.locator(".facts").inner_text()
    download = card.locator(".download-image")
    assert (download.get_attribute("href") or "").split("?")[0] == task["result"]["images"][0]["url"].split("?")[0]
    assert download.get_attribute("download").endswith("_sketch.png")
    heic_card = page.locator("#results .result").nth(1)  # the HEIC one: restyled, no preview of its photo
    assert heic_card.locator(".result-title").inner_text().startswith("astronaut-2.heic")
    heic_card.locator(".no-before").wait_for()
    # 4. the before/after slider, by keyboard: the after image's clip follows it
    slider = card.locator(".compare-range")
    slider.focus()
    for _ in range(10):
        page.keyboard.press("ArrowRight")
    assert slider.input_value() == "60"
    clip = card.locator(".after").evaluate("(img) => getComputedStyle(img).clipPath")
    assert "60%" in clip, clip
    shots.save(page, "studio-result")
    # 5. again with another seed: a third task with a new seed
    card.locator(".again").click()
    page.wait_for_function("() => document.querySelectorAll('#results .result[data-status=SUCCEEDED]').length === 3")
    newest = page.locator("#results .result").first
    again = api(studio, "GET", f"/v1/tasks/{newest.get_attribute('data-task-id')}").json()
    assert again["result"]["summary"]["seed"] != summary["seed"]
    # 6. the history lists the account's tasks, reopens one and deletes one (and its result card)
    page.wait_for_function("() => document.querySelectorAll('#history li[data-task-id]').length >= 3")
    listed = page.locator("#history li[data-task-id]")
    first_id = listed.first.get_attribute("data-task-id")
    listed.first.locator("button", has_text="Open").click()
    page.wait_for_selector("#results .result h3:has-text('From the history')")
    shots.save(page.locator(".history"), "studio-history")
    count = listed.count()
    page.locator(f"#history li[data-task-id='{first_id}'] button", has_text="Delete").click()
    page.wait_for_function(f"() => document.querySelectorAll('#history li[data-task-id]').length === {count - 1}")
    assert page.locator(f"#results .result[data-task-id='{first_id}']").count() == 0
    assert api(studio, "GET", f"/v1/tasks/{first_id}").status_code == 404


def test_errors_are_shown_next_to_their_field(page: Any, studio: Studio, sample_files: dict[str, Path], shots: Shots) -> None:
    # 1. not signed in: the key field says so
    page.set_input_files("#image", str(sample_files["astronaut.png"]))
    page.click("#submit")
    assert "Sign in" in page.inner_text("#error-key")
    sign_in(page, studio.api_key)
    # 2. a parameter the server refuses: next to that field
    page.fill("#width", "10")
    page.click("#submit")
    page.wait_for_selector("#error-width:not([hidden])")
    assert "width" in page.inner_text("#error-width") and "64" in page.inner_text("#error-width")
    assert page.get_attribute("#width", "aria-invalid") == "true"
    page.fill("#width", "")
    # 3. a file that is not an image: the server's error next to the photos, naming the file
    page.locator("#photos button").click()  # remove the photo
    dropped = page.evaluate_handle(
        """() => { const data = new DataTransfer();
                   data.items.add(new File(['these are notes, not a photo'], 'notes.txt', {type: 'text/plain'}));
                   return data; }"""
    )
    page.dispatch_event("#dropzone", "drop", {"dataTransfer": dropped})  # dropped on the drop zone
    assert page.inner_text("#photos .name") == "notes.txt"
    pick_preset(page, "anime")
    page.click("#submit")
    page.wait_for_selector("#error-image:not([hidden])")
    message = page.inner_text("#error-image")
    assert message.startswith("notes.txt: ") and "image" in message, message
    assert "invalid" in (page.get_attribute("#field-image", "class") or "")
    assert page.locator("#results .result").count() == 0  # no task was made
    assert page.is_hidden("#error-width")
    shots.save(page, "studio-error")


def test_cancel_a_waiting_task_and_sign_out_clears_the_page(
    page: Any, studio: Studio, sample_files: dict[str, Path], shots: Shots
) -> None:
    # 1. an account with concurrency 0 (paused): its task waits in the queue until canceled
    settings = Settings(data_dir=studio.data_dir)
    db, server_key = open_database(settings)  # the server's own database, as `restyle keys create` opens it
    try:
        account = AccountStore(db, settings.limits).create("paused", concurrency=0)
        key = KeyStore(db, server_key).issue(account).api_key
    finally:
        db.dispose()
    sign_in(page, key)
    page.set_input_files("#image", str(sample_files["astronaut.png"]))
    page.click("#submit")
    card = page.locator("#results .result").first
    page.wait_for_selector("#results .result .step:has-text('Waiting in the queue')")
    shots.save(page.locator(".results"), "studio-queued")
    # 2. Cancel: the task ends CANCELED and the card says so
    card.locator(".cancel").click()
    page.wait_for_selector("#results .result[data-status=CANCELED]")
    assert "canceled" in card.locator(".result-error").inner_text()
    headers = {"Authorization": f"Bearer {key}"}
    task_id = card.get_attribute("data-task-id")
    assert httpx.get(f"{studio.server.base}/v1/tasks/{task_id}", headers=headers).json()["status"] == "CANCELED"
    page.wait_for_selector(f"#history li[data-task-id='{task_id}']")
    # 3. signing out leaves nothing of the account on the page or in the browser's storage
    page.click("#signout-button")
    assert page.locator("#results .result").count() == 0
    assert page.inner_text("#history") == "Sign in to see your recent tasks."
    assert page.evaluate("localStorage.getItem('restyle.apiKey')") is None
    assert page.is_visible("#signin")
    assert page.is_hidden("#error-history")


def test_labels_keyboard_focus_and_contrast(page: Any) -> None:
    # 1. every control has a label and every button a name
    unlabelled = page.evaluate(
        """() => [...document.querySelectorAll('input, select, textarea, button')]
              .filter((el) => !(el.labels && el.labels.length) && !el.getAttribute('aria-label') && !el.textContent.trim())
              .map((el) => el.id || el.outerHTML.slice(0, 60))"""
    )
    assert unlabelled == []
    # 2. keyboard: Tab reaches the key field, the sign-in button and the file input, focus is visible
    reached = []
    for _ in range(8):
        page.keyboard.press("Tab")
        reached.append(page.evaluate("document.activeElement.id"))
        if reached[-1] == "signin-button":
            outline = page.evaluate("getComputedStyle(document.activeElement).outlineWidth")
            assert outline == "3px", outline
    assert {"api-key", "signin-button", "image"} <= set(reached), reached
    # 3. the preset radios move with the arrow keys, and the focused one is outlined
    page.wait_for_selector("#style-auto", state="attached")
    page.focus("#style-auto")
    page.keyboard.press("ArrowRight")
    assert page.evaluate("document.activeElement.id") != "style-auto"
    focused = page.evaluate("document.activeElement.id")
    assert page.is_checked(f"#{focused}")
    outline = page.evaluate(f"getComputedStyle(document.querySelector('label[for={focused}]')).outlineStyle")
    assert outline == "solid"
    # 4. text contrast at least 4.5:1 (WCAG AA) across the kinds of text on the page
    for selector in ("h1", "h2", "label[for=prompt]", ".muted", "#gallery .zh", "button.primary", "button.quiet",
                     "#signin-button", ".dropzone p", "#prompt"):  # fmt: skip
        ratio = page.locator(selector).first.evaluate(CONTRAST)
        assert ratio >= 4.5, (selector, ratio)
    page.click("#submit")  # not signed in: an error text
    ratio = page.locator("#error-key").evaluate(CONTRAST)
    assert ratio >= 4.5, ratio


def test_phone_width_has_no_horizontal_scroll(
    browser: Any, studio: Studio, sample_files: dict[str, Path], shots: Shots
) -> None:
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    problems = watch_errors(page)
    try:
        page.goto(studio.url)
        page.wait_for_selector("#gallery input[value=anime]", state="attached")
        wide = "() => document.documentElement.scrollWidth - window.innerWidth"
        assert page.evaluate(wide) <= 0
        sign_in(page, studio.api_key)
        page.set_input_files("#image", str(sample_files["astronaut.png"]))
        pick_preset(page, "anime")
        page.fill("#width", "200")
        page.fill("#height", "240")
        page.select_option("#output_format", "webp")
        page.select_option("#mode", "reference_char")
        shots.save(page, "studio-phone")
        page.click("#submit")
        page.wait_for_selector("#results .result[data-status=SUCCEEDED] .after")
        card = page.locator("#results .result").first
        task = api(studio, "GET", f"/v1/tasks/{card.get_attribute('data-task-id')}").json()
        image = task["result"]["images"][0]
        assert (image["width"], image["height"], image["format"]) == (200, 240, "webp")
        assert task["parameters"]["mode"] == "reference_char"
        assert card.locator(".download-image").get_attribute("download") == "astronaut_anime.webp"
        page.wait_for_function(
            "() => { const img = document.querySelector('#results .result .after'); return img.complete && img.naturalWidth > 0; }"
        )
        assert page.evaluate(wide) <= 0
        box = page.locator("#results .result .compare-frame").bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 390
        shots.save(page.locator("#results .result"), "studio-phone-result")
        assert problems == []
    finally:
        context.close()
