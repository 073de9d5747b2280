// The preset gallery from GET /v1/styles (public: it shows before sign-in), one radio per preset
// with the bundled sample rendered in it (/studio/thumbs/<name>.webp, made by the server).

import { call } from "./api.js";
import { clearError, showApiError } from "./errors.js";

let presets = [];

function card(value, titleEn, titleZh, description, thumbnail) {
  const box = document.createElement("div");
  box.className = "preset";
  const input = document.createElement("input");
  input.type = "radio";
  input.name = "style";
  input.value = value;
  input.id = `style-${value || "auto"}`;
  input.addEventListener("change", () => clearError("style"));
  const label = document.createElement("label");
  label.htmlFor = input.id;
  if (description) label.title = description;
  let picture;
  if (thumbnail) {
    picture = document.createElement("img");
    picture.alt = "";
    picture.loading = "lazy";
    picture.width = 160;
    picture.height = 160;
    picture.src = thumbnail;
    picture.addEventListener("error", () => {
      const fallback = document.createElement("span");
      fallback.className = "thumb-fallback";
      fallback.textContent = titleEn.slice(0, 1);
      picture.replaceWith(fallback);
    }, { once: true });
  } else {
    picture = document.createElement("span");
    picture.className = "thumb-fallback";
    picture.textContent = "Auto";
  }
  const english = document.createElement("span");
  english.textContent = titleEn;
  const chinese = document.createElement("span");
  chinese.className = "zh";
  chinese.lang = "zh";
  chinese.textContent = titleZh;
  label.append(picture, english, chinese);
  box.append(input, label);
  return box;
}

export async function initGallery() {
  const gallery = document.getElementById("gallery");
  try {
    const answer = await call("GET", "/v1/styles", { key: "" });
    presets = answer.data;
  } catch (error) {
    gallery.replaceChildren();
    showApiError(error);
    return;
  }
  const cards = [card("", "Automatic", "自动", "From the prompt or the style image, else the default preset.", null)];
  for (const preset of presets) {
    cards.push(card(preset.name, preset.title_en, preset.title_zh, preset.description, `/studio/thumbs/${preset.name}.webp`));
  }
  gallery.replaceChildren(...cards);
  gallery.querySelector("input").checked = true;
}

/** The display name of a preset name (for result titles). */
export function presetTitle(name) {
  const preset = presets.find((item) => item.name === name);
  return preset ? `${preset.title_en} (${preset.title_zh})` : name || "automatic";
}

export function selectPreset(name) {
  const input = document.getElementById(`style-${name || "auto"}`);
  if (input) input.checked = true;
}
