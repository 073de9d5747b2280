// One result card: live progress with the runner's step names, then the before/after compare,
// the identity verdict in plain words, the prompt words used and ignored, and the downloads.

import { presetTitle } from "./gallery.js";

const STEP_WORDS = {
  load: "reading the inputs",
  decode: "decoding the photo",
  precheck: "checking the content",
  detect: "finding the faces",
  prepare: "cropping and sizing",
  embed_input: "measuring the face",
  engine: "painting the style",
  retouch: "retouching",
  guard: "checking the identity",
  postcheck: "checking the result",
  label: "adding the AI labels",
  encode: "encoding",
  store: "saving",
};
const SAME_PERSON = 0.6; // dlib's standard: a distance below it is the same person

function fixed(value, digits = 3) {
  return typeof value === "number" ? value.toFixed(digits) : "not measured";
}

/** The verdict on a SUCCEEDED task's faces: {kind: same|guard|warn, text}. */
export function verdict(task) {
  const result = task.result || {};
  const summary = result.summary || {};
  const faces = summary.faces || [];
  const distance = result.identity_distance;
  const limit = (task.parameters || {}).min_identity;
  if (!faces.length || distance === null || distance === undefined) {
    return { kind: "warn", text: "Warning: no face was found, so the identity was not measured." };
  }
  if (summary.guard_passed === false || faces.some((face) => face.identity_lost)) {
    const over = limit ? ` (limit ${limit})` : "";
    return { kind: "warn", text: `Warning: the face may not look like the same person: identity distance ${fixed(distance)}${over}.` };
  }
  if (summary.guard_applied) {
    return { kind: "guard", text: `Same person: the guard stepped in and redrew the face to keep it recognisable (identity distance ${fixed(distance)}).` };
  }
  const words = distance < SAME_PERSON ? "Same person" : "Warning: identity kept only loosely";
  return { kind: distance < SAME_PERSON ? "same" : "warn", text: `${words} (identity distance ${fixed(distance)}; below ${SAME_PERSON} means the same person).` };
}

function stem(name) {
  const base = (name || "photo").replace(/\.[^.]+$/, "");
  return base.replace(/[^\w\u4e00-\u9fff-]+/g, "_") || "photo";
}

/** A card in the results list; `again()` is called by its "again with another seed" button and
 * `cancel(taskId)` by its "Cancel" button while the task waits or runs. */
export class ResultCard {
  constructor(title, photoName, beforeUrl, again, cancel = null) {
    const template = document.getElementById("result-template");
    this.root = template.content.firstElementChild.cloneNode(true);
    this.photoName = photoName;
    this.beforeUrl = beforeUrl;
    this.taskId = null;
    this.stop = new AbortController(); // ends the card's event stream (sign-out)
    this.$ = (selector) => this.root.querySelector(selector);
    this.$(".result-title").textContent = title;
    const againButton = this.$(".again");
    if (again && beforeUrl) againButton.addEventListener("click", () => again(this));
    else againButton.hidden = true;
    const cancelButton = this.$(".cancel");
    if (cancel) {
      cancelButton.addEventListener("click", async () => {
        cancelButton.disabled = true;
        try {
          await cancel(this.taskId);
        } catch (error) {
          cancelButton.disabled = false;
          this.$(".step").textContent = error.message;
        }
      });
    }
    this.cancellable = Boolean(cancel);
    const range = this.$(".compare-range");
    range.addEventListener("input", () => this.$(".compare-frame").style.setProperty("--pos", `${range.value}%`));
    document.getElementById("results-empty").hidden = true;
    document.getElementById("results").prepend(this.root);
  }

  /** The task exists: it can be canceled from now on. */
  started(taskId) {
    this.taskId = taskId;
    this.root.dataset.taskId = taskId;
    this.$(".cancel").hidden = !this.cancellable;
  }

  progress(fraction, text) {
    const bar = this.$("progress");
    bar.value = Math.max(0, Math.min(1, fraction || 0));
    bar.setAttribute("aria-label", `Progress of ${this.photoName}`);
    this.$(".step").textContent = text;
  }

  /** A server-sent event of the task. */
  onEvent(name, data) {
    if (name === "queued") {
      const ahead = data.queue_position ? `, ${data.queue_position} task(s) ahead` : "";
      this.progress(0, `Waiting in the queue${ahead}`);
    } else if (name === "running" || name === "step") {
      const step = data.step || "starting";
      const words = STEP_WORDS[step] ? `: ${STEP_WORDS[step]}` : "";
      this.progress(data.progress, `Step ${step}${words} (${Math.round(100 * (data.progress || 0))} %)`);
    }
  }

  fail(message, status = "FAILED") {
    this.$(".progress").hidden = true;
    this.$(".cancel").hidden = true;
    const slot = this.$(".result-error");
    slot.textContent = message;
    slot.hidden = false;
    this.root.dataset.status = status;
  }

  /** Show a finished task. */
  show(task) {
    this.taskId = task.id;
    this.root.dataset.taskId = task.id;
    this.root.dataset.status = task.status;
    if (task.status !== "SUCCEEDED") {
      const error = task.error || {};
      const reason = task.status === "CANCELED" ? "The task was canceled." : (error.message || "The task failed.");
      this.fail(`${reason}${error.code ? ` (${error.code})` : ""}`, task.status);
      return;
    }
    this.progress(1, "Done");
    this.$(".progress").hidden = true;
    this.$(".cancel").hidden = true;
    const image = task.result.images[0];
    const summary = task.result.summary || {};
    const after = this.$(".after");
    after.addEventListener("error", () => {
      const note = this.$(".no-after");
      note.textContent = `This browser cannot show ${String(image.format || "this").toUpperCase()} images; use Download image.`;
      note.hidden = false;
    }, { once: true });
    after.src = image.url;
    if (image.width && image.height) this.$(".compare-frame").style.setProperty("aspect-ratio", `${image.width} / ${image.height}`);
    after.alt = `After: ${this.photoName} in ${presetTitle(summary.style)}`;
    const before = this.$(".before");
    if (this.beforeUrl) {
      before.src = this.beforeUrl;
      before.addEventListener("error", () => this.noBefore(), { once: true });
    } else {
      this.noBefore();
    }
    const { kind, text } = verdict(task);
    const verdictLine = this.$(".verdict");
    verdictLine.className = `verdict ${kind}`;
    verdictLine.textContent = text;
    const warnings = this.$(".warnings");
    warnings.replaceChildren(...(summary.warnings || []).map((warning) => {
      const item = document.createElement("li");
      item.textContent = warning;
      return item;
    }));
    const used = summary.prompt_words_used || [];
    const ignored = summary.prompt_words_ignored || [];
    this.$(".words").textContent = used.length || ignored.length
      ? `Prompt words used: ${used.join(", ") || "none"}. Ignored: ${ignored.join(", ") || "none"}.`
      : "";
    const seconds = task.timings_ms && task.timings_ms.total ? `, ${(task.timings_ms.total / 1000).toFixed(1)} s` : "";
    this.$(".facts").textContent = `${presetTitle(summary.style)}, seed ${summary.seed}, ${image.width}×${image.height} ${String(image.format || "").toUpperCase()}${seconds}`;
    const download = this.$(".download-image");
    download.href = image.url;
    download.download = `${stem(this.photoName)}_${summary.style || "restyled"}.${image.format || "png"}`;
    const json = this.$(".download-json");
    json.href = URL.createObjectURL(new Blob([JSON.stringify(task, null, 2)], { type: "application/json" }));
    json.download = `${stem(this.photoName)}_${task.id}.json`;
    this.$(".outcome").hidden = false;
  }

  noBefore() {
    this.$(".before").hidden = true;
    this.$(".no-before").hidden = false;
    this.$(".compare-frame").style.setProperty("--pos", "0%");
    this.$(".compare-label").hidden = true;
  }

  remove() {
    this.root.remove();
    if (!document.getElementById("results").children.length) document.getElementById("results-empty").hidden = false;
  }
}
