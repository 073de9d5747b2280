// The chosen photos: dropped on the drop zone or picked with the file input, one preview each.
// The server decodes HEIC and applies EXIF rotation; a preview the browser cannot show (HEIC)
// becomes a placeholder.

import { clearError } from "./errors.js";

const photos = []; // {file, url}

/** A preview <img> of a photo, or a placeholder when the browser cannot decode it. */
export function preview(url, alt, className = "") {
  const img = document.createElement("img");
  img.alt = alt;
  if (className) img.className = className;
  img.addEventListener("error", () => {
    const box = document.createElement("div");
    box.className = `placeholder ${className}`.trim();
    box.textContent = "no preview";
    box.setAttribute("role", "img");
    box.setAttribute("aria-label", `${alt} (no preview in this browser)`);
    img.replaceWith(box);
  }, { once: true });
  img.src = url;
  return img;
}

function render() {
  const list = document.getElementById("photos");
  list.replaceChildren();
  photos.forEach((photo, index) => {
    const item = document.createElement("li");
    item.append(preview(photo.url, `Photo ${photo.file.name}`));
    const name = document.createElement("p");
    name.className = "name";
    name.textContent = photo.file.name;
    const remove = document.createElement("button");
    remove.type = "button";
    remove.className = "quiet";
    remove.textContent = "Remove";
    remove.setAttribute("aria-label", `Remove ${photo.file.name}`);
    remove.addEventListener("click", () => {
      URL.revokeObjectURL(photo.url);
      photos.splice(index, 1);
      render();
    });
    item.append(name, remove);
    list.append(item);
  });
}

function add(files) {
  for (const file of files) photos.push({ file, url: URL.createObjectURL(file) });
  clearError("image");
  render();
}

export function chosenPhotos() {
  return photos.slice();
}

export function initPhotos() {
  const zone = document.getElementById("dropzone");
  const input = document.getElementById("image");
  input.addEventListener("change", () => {
    add([...input.files]);
    input.value = ""; // the same file can be chosen again
  });
  zone.addEventListener("dragover", (event) => {
    event.preventDefault();
    zone.classList.add("over");
  });
  zone.addEventListener("dragleave", () => zone.classList.remove("over"));
  zone.addEventListener("drop", (event) => {
    event.preventDefault();
    zone.classList.remove("over");
    add([...event.dataTransfer.files]);
  });
}
