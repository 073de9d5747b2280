// The studio page: sign in, the form, submitting tasks and following them to a result.

import { ApiError, call, follow, storeKey, storedKey } from "./api.js";
import { clearError, clearErrors, showApiError, showError } from "./errors.js";
import { initGallery, presetTitle } from "./gallery.js";
import { clearHistory, initHistory, refreshHistory } from "./history.js";
import { chosenPhotos, initPhotos } from "./photos.js";
import { ResultCard } from "./result.js";

const SEED_MAX = 4294967295;
const $ = (id) => document.getElementById(id);
const cards = new Set();

// ---- sign in -------------------------------------------------------------------------------

function showSignedIn(account) {
  $("signin").hidden = Boolean(account);
  $("account").hidden = !account;
  $("account-name").textContent = account ? account.name || account.id : "";
}

async function signIn(key) {
  clearError("key");
  try {
    const account = await call("GET", "/v1/account", { key });
    storeKey(key);
    $("api-key").value = "";
    showSignedIn(account);
    refreshHistory();
    return true;
  } catch (error) {
    storeKey("");
    showSignedIn(null);
    clearHistory();
    showError("key", error.status === 401 || error.status === 403 ? error.message : `Could not sign in: ${error.message}`);
    return false;
  }
}

function signOut() {
  storeKey("");
  showSignedIn(null);
  clearHistory();
  for (const card of [...cards]) {
    card.stop.abort(); // no more events for a signed-out page
    card.remove(); // the next person at this browser sees none of it
  }
  cards.clear();
  $("api-key").focus();
}

// ---- the form ------------------------------------------------------------------------------

function randomSeed() {
  const words = new Uint32Array(1);
  crypto.getRandomValues(words);
  return Math.min(words[0], SEED_MAX);
}

/** The request's parameters as native API names (empty optional fields are left out). */
function formParams() {
  const params = {};
  const style = document.querySelector('input[name="style"]:checked');
  if (style && style.value) params.style = style.value;
  const prompt = $("prompt").value.trim();
  if (prompt) params.prompt = prompt;
  for (const name of ["strength", "hd", "beautify", "smooth", "seed", "output_format"]) params[name] = $(name).value;
  for (const name of ["mode", "width", "height"]) if ($(name).value !== "") params[name] = $(name).value;
  if ($("seed").value === "") params.seed = "-1";
  return params;
}

function requestBody(file, params, styleImage) {
  const body = new FormData();
  body.append("image", file, file.name);
  if (styleImage) body.append("style_image", styleImage, styleImage.name);
  for (const [name, value] of Object.entries(params)) body.append(name, value);
  return body;
}

/** The final task: from the event stream, or by reading the task when the stream breaks. */
async function finalTask(card, taskId) {
  try {
    const task = await follow(taskId, (name, data) => card.onEvent(name, data), card.stop.signal);
    if (task) return task;
  } catch (error) {
    if (error.name === "AbortError" || (error instanceof ApiError && error.status === 404)) throw error;
  }
  for (;;) {
    const task = await call("GET", `/v1/tasks/${encodeURIComponent(taskId)}`);
    if (["SUCCEEDED", "FAILED", "CANCELED"].includes(task.status)) return task;
    card.onEvent(task.status === "PENDING" ? "queued" : "step", task);
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
}

/** Submit one photo with `params` (and the style image, if any); resolves once the task exists and
 * follows it in a card meanwhile. */
async function run(photo, params, styleImage) {
  const card = new ResultCard(`${photo.file.name}: ${presetTitle(params.style)}`, photo.file.name, photo.url, (again) => {
    run(photo, { ...params, seed: String(randomSeed()) }, styleImage);
    again.root.scrollIntoView({ block: "nearest" });
  }, (taskId) => call("POST", `/v1/tasks/${encodeURIComponent(taskId)}/cancel`));
  cards.add(card);
  card.progress(0, "Uploading");
  let task;
  try {
    task = await call("POST", "/v1/tasks", { body: requestBody(photo.file, params, styleImage), headers: { Prefer: "respond-async" } });
  } catch (error) {
    card.remove();
    cards.delete(card);
    if (error.status === 401) showError("key", error.message);
    else showApiError(error, photo.file.name);
    return;
  }
  card.started(task.id);
  finalTask(card, task.id)
    .then((final) => card.show(final), (error) => card.fail(error.message))
    .finally(refreshHistory);
}

async function submit(event) {
  event.preventDefault();
  clearErrors();
  if (!storedKey()) {
    showError("key", "Sign in with an API key first.");
    $("api-key").focus();
    return;
  }
  const photos = chosenPhotos();
  if (!photos.length) {
    showError("image", "Choose at least one photo (drop it on the box or use Choose photos).");
    $("image").focus();
    return;
  }
  const params = formParams();
  $("submit").disabled = true;
  try {
    // one task per photo, submitted in order (a 429 from the account's rate limit is retried)
    const styleImage = $("style_image").files[0] || null;
    for (const photo of photos) await run(photo, params, styleImage);
    const newest = document.querySelector("#results .result");
    if (newest) newest.scrollIntoView({ block: "nearest" });
  } finally {
    $("submit").disabled = false;
  }
}

function reopen(task) {
  const card = new ResultCard(`From the history: ${presetTitle((task.parameters || {}).style)}`, task.id, null, null);
  cards.add(card);
  if (["SUCCEEDED", "FAILED", "CANCELED"].includes(task.status)) card.show(task);
  else finalTask(card, task.id).then((final) => card.show(final), (error) => card.fail(error.message));
  card.root.focus();
}

function forget(taskId) {
  for (const card of [...cards]) {
    if (card.root.dataset.taskId === taskId) {
      card.remove();
      cards.delete(card);
    }
  }
}

// ---- start ---------------------------------------------------------------------------------

function initControls() {
  for (const name of ["strength", "hd", "beautify", "smooth"]) {
    const slider = $(name);
    const shown = $(`${name}-value`);
    const update = () => { shown.textContent = Number(slider.value).toFixed(name === "strength" ? 2 : 1); };
    slider.addEventListener("input", () => { update(); clearError(name); });
    update();
  }
  for (const name of ["prompt", "seed", "width", "height", "mode", "output_format", "style_image"]) {
    $(name).addEventListener("input", () => clearError(name));
  }
  $("dice").addEventListener("click", () => {
    $("seed").value = String(randomSeed());
    clearError("seed");
  });
  // a photo dropped outside the drop zone must not make the browser leave the page
  for (const type of ["dragover", "drop"]) document.addEventListener(type, (event) => event.preventDefault());
}

function init() {
  initControls();
  initPhotos();
  initHistory(reopen, forget);
  initGallery();
  $("signin").addEventListener("submit", (event) => {
    event.preventDefault();
    const key = $("api-key").value.trim();
    if (!key) showError("key", "Enter the API key that restyle serve printed (or one from restyle keys create).");
    else signIn(key);
  });
  $("signout-button").addEventListener("click", signOut);
  $("studio-form").addEventListener("submit", submit);
  const key = storedKey();
  if (key) signIn(key);
  else {
    showSignedIn(null);
    clearHistory();
  }
}

init();
