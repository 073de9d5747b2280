// The native API from the browser. The key lives in localStorage and goes only into the
// Authorization header (never into a URL); events are read with fetch() streaming because
// EventSource cannot send that header.

const KEY_STORAGE = "restyle.apiKey";
const MAX_RETRIES = 3;

/** An error answer of the API: its status, stable code, sentence for people and parameter. */
export class ApiError extends Error {
  constructor(status, code, message, param = null) {
    super(message);
    this.status = status;
    this.code = code;
    this.param = param;
  }
}

export function storedKey() {
  return localStorage.getItem(KEY_STORAGE) || "";
}

export function storeKey(key) {
  if (key) localStorage.setItem(KEY_STORAGE, key);
  else localStorage.removeItem(KEY_STORAGE);
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function errorFrom(response) {
  let body = null;
  try {
    body = await response.json();
  } catch {
    // not JSON: a proxy's page or an empty answer
  }
  const error = body && body.error;
  if (error && error.message) return new ApiError(response.status, error.code, error.message, error.param || null);
  return new ApiError(response.status, `http.${response.status}`, `The server answered ${response.status} ${response.statusText}.`);
}

/**
 * fetch() against this server with the key; JSON answers are parsed, errors thrown as ApiError.
 * A 429 (submit rate) or 503 (queue full) is retried after its Retry-After, a few times.
 */
export async function call(method, path, { body = null, headers = {}, key = storedKey(), json = true } = {}) {
  const allHeaders = { ...headers };
  if (key) allHeaders.Authorization = `Bearer ${key}`;
  for (let attempt = 0; ; attempt += 1) {
    let response;
    try {
      response = await fetch(path, { method, body, headers: allHeaders, cache: "no-store" });
    } catch (exc) {
      throw new ApiError(0, "network", "The server could not be reached; check that restyle serve is running.");
    }
    if ((response.status === 429 || response.status === 503) && attempt < MAX_RETRIES) {
      const wait = Number(response.headers.get("Retry-After")) || 1;
      await sleep(Math.min(wait, 10) * 1000);
      continue;
    }
    if (!response.ok) throw await errorFrom(response);
    if (response.status === 204 || !json) return response;
    return response.json();
  }
}

/** Parse one server-sent event block ("event: x\ndata: {...}") into {event, data}, or null. */
function parseEvent(block) {
  let event = "message";
  const data = [];
  for (const line of block.split("\n")) {
    if (line.startsWith(":")) continue; // a keep-alive comment
    if (line.startsWith("event:")) event = line.slice(6).trim();
    else if (line.startsWith("data:")) data.push(line.slice(5).trimStart());
  }
  if (!data.length) return null;
  try {
    return { event, data: JSON.parse(data.join("\n")) };
  } catch {
    return null;
  }
}

/**
 * Follow GET /v1/tasks/{id}/events; onEvent(name, data) for each event. Resolves with the final
 * task JSON (succeeded, failed or canceled), or null when the stream ended without one.
 */
export async function follow(taskId, onEvent, signal = undefined) {
  const response = await fetch(`/v1/tasks/${encodeURIComponent(taskId)}/events`, {
    headers: { Authorization: `Bearer ${storedKey()}`, Accept: "text/event-stream" },
    cache: "no-store",
    signal,
  });
  if (!response.ok) throw await errorFrom(response);
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return null;
    buffer += value.replace(/\r\n?/g, "\n");
    let cut;
    while ((cut = buffer.indexOf("\n\n")) >= 0) {
      const parsed = parseEvent(buffer.slice(0, cut));
      buffer = buffer.slice(cut + 2);
      if (!parsed) continue;
      onEvent(parsed.event, parsed.data);
      if (["succeeded", "failed", "canceled"].includes(parsed.event)) {
        reader.cancel().catch(() => {});
        return parsed.data;
      }
      if (parsed.event === "error") {
        const error = parsed.data.error || {};
        throw new ApiError(404, error.code || "task.not_found", error.message || "The task is gone.");
      }
    }
  }
}
