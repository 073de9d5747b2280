// The account's recent tasks (GET /v1/tasks): reopen one in the results, or delete it and its files.

import { call, storedKey } from "./api.js";
import { presetTitle } from "./gallery.js";

let handlers = { open: () => {}, deleted: () => {} };

function showHistoryError(message) {
  const slot = document.getElementById("error-history");
  slot.textContent = message;
  slot.hidden = !message;
}

function when(iso) {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : date.toLocaleString();
}

function item(task) {
  const li = document.createElement("li");
  li.dataset.taskId = task.id;
  const image = task.result && task.result.images && task.result.images[0];
  let picture;
  if (image) {
    picture = document.createElement("img");
    picture.src = image.url;
    picture.alt = "";
    picture.loading = "lazy";
  } else {
    picture = document.createElement("span");
    picture.className = "placeholder";
    picture.textContent = task.status.slice(0, 4);
  }
  const style = (task.result && task.result.summary && task.result.summary.style) || (task.parameters || {}).style;
  const what = document.createElement("div");
  what.className = "what";
  const title = document.createElement("strong");
  title.textContent = presetTitle(style);
  const status = document.createElement("span");
  status.className = `status-${task.status}`;
  status.textContent = ` ${task.status.toLowerCase()}`;
  const time = document.createElement("div");
  time.className = "muted";
  time.textContent = when(task.created_at);
  what.append(title, status, time);
  const open = document.createElement("button");
  open.type = "button";
  open.textContent = "Open";
  open.setAttribute("aria-label", `Open the ${presetTitle(style)} task of ${when(task.created_at)}`);
  open.addEventListener("click", () => handlers.open(task));
  const remove = document.createElement("button");
  remove.type = "button";
  remove.className = "quiet";
  remove.textContent = "Delete";
  remove.setAttribute("aria-label", `Delete the ${presetTitle(style)} task of ${when(task.created_at)}`);
  remove.addEventListener("click", async () => {
    remove.disabled = true;
    try {
      await call("DELETE", `/v1/tasks/${encodeURIComponent(task.id)}`);
      li.remove();
      handlers.deleted(task.id);
      showHistoryError("");
    } catch (error) {
      remove.disabled = false;
      showHistoryError(error.message);
    }
  });
  li.append(picture, what, open, remove);
  return li;
}

/** Reload the list (newest 20). */
export async function refreshHistory() {
  const list = document.getElementById("history");
  if (!storedKey()) {
    clearHistory();
    return;
  }
  try {
    const page = await call("GET", "/v1/tasks?limit=20");
    list.replaceChildren(...page.data.map(item));
    if (!page.data.length) list.append(note("No tasks yet."));
    showHistoryError("");
  } catch (error) {
    list.replaceChildren();
    showHistoryError(error.message);
  }
}

function note(text) {
  const line = document.createElement("li");
  line.className = "muted";
  line.textContent = text;
  return line;
}

/** Empty the list (signed out). */
export function clearHistory() {
  document.getElementById("history").replaceChildren(note("Sign in to see your recent tasks."));
  showHistoryError("");
}

export function initHistory(onOpen, onDeleted) {
  handlers = { open: onOpen, deleted: onDeleted };
  document.getElementById("history-refresh").addEventListener("click", refreshHistory);
}
