// API errors in words next to the field their `param` names; anything else next to the button.

// form params with their own slot; others (unknown parameters, no param) go to the form's slot
const FIELDS = new Set([
  "image", "style", "style_image", "prompt", "strength", "hd", "beautify", "smooth",
  "mode", "seed", "width", "height", "output_format",
]);
// parameters the page does not show as their own fields, and the field that stands for them
const ALIASES = { negative_prompt: "prompt", output_quality: "output_format" };
// slots whose control has another id than the slot's name
const CONTROLS = { key: "api-key", style: "gallery" };

function control(name) {
  return document.getElementById(CONTROLS[name] || name);
}

/** The name of the field an error belongs to: a field of the form, or "form". */
export function fieldOf(error) {
  const param = error && error.param ? String(error.param).split(".")[0] : "";
  const name = ALIASES[param] || param;
  return FIELDS.has(name) ? name : "form";
}

export function showError(name, message) {
  const slot = document.getElementById(`error-${name}`);
  if (!slot) return;
  slot.textContent = message;
  slot.hidden = false;
  const field = document.getElementById(`field-${name}`);
  if (field) field.classList.add("invalid");
  const input = control(name);
  if (input) {
    input.setAttribute("aria-invalid", "true");
    input.setAttribute("aria-describedby", slot.id);
  }
}

export function clearError(name) {
  const slot = document.getElementById(`error-${name}`);
  if (slot) {
    slot.textContent = "";
    slot.hidden = true;
  }
  const field = document.getElementById(`field-${name}`);
  if (field) field.classList.remove("invalid");
  const input = control(name);
  if (input) input.removeAttribute("aria-invalid");
}

export function clearErrors() {
  for (const name of [...FIELDS, "form", "key"]) clearError(name);
}

/** Show an ApiError next to its field; a photo's error names the photo. */
export function showApiError(error, photoName = "") {
  const name = fieldOf(error);
  const prefix = name === "image" && photoName ? `${photoName}: ` : "";
  showError(name, prefix + error.message);
}
