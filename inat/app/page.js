// The page's small behaviours, loaded in <head> (launch(head=...)). Gradio renders components after this
// runs, so names are given as elements appear, and the result is scrolled to by an event's js.

// Accessible names for the example thumbnails (Gradio renders them as unnamed buttons around an <img alt="">).
(() => {
  const name = () => {
    const names = window.inatExampleNames || [];
    document.querySelectorAll("#examples .gallery-item").forEach((button, i) => {
      if (!names[i]) return;
      if (button.getAttribute("aria-label") !== names[i]) {
        button.setAttribute("aria-label", names[i]);
        button.setAttribute("title", names[i]);
      }
      const img = button.querySelector("img");
      if (img && img.getAttribute("alt") !== names[i]) img.setAttribute("alt", names[i]);
    });
  };
  new MutationObserver(name).observe(document.documentElement, { childList: true, subtree: true });
  document.addEventListener("DOMContentLoaded", name);
})();

// A file that is not an image by its type (a .txt, a PDF), chosen or dropped on the photo box: Gradio would refuse it
// in the browser with a toast naming MIME types and leave the previous result on screen. Passed on as an image of
// unknown type, it reaches the server's check like any photo that cannot be opened: the previous result is cleared
// and the card says in one sentence what to choose instead.
(() => {
  const isImage = (file) => file.type.startsWith("image/");
  const asImages = (files) => {
    const data = new DataTransfer();
    [...files].forEach((f) => data.items.add(isImage(f) ? f : new File([f], f.name, { type: "image/x-unknown" })));
    return data;
  };
  document.addEventListener("change", (event) => {
    const input = event.target;
    if (!(input instanceof HTMLInputElement) || input.type !== "file" || !input.closest("#photo")) return;
    if (input.files && ![...input.files].every(isImage)) input.files = asImages(input.files).files;
  }, true);
  document.addEventListener("drop", (event) => {
    const files = [...(event.dataTransfer?.files || [])];
    if (!(event.target instanceof Element) || !event.target.closest("#photo") || files.every(isImage)) return;
    event.preventDefault();
    event.stopImmediatePropagation();
    event.target.dispatchEvent(new DragEvent("drop", { bubbles: true, cancelable: true, dataTransfer: asImages(files) }));
  }, true);
})();

// A file that is no photo leaves a broken-image icon in the photo box (the card says what is wrong): hide it.
document.addEventListener("error", (event) => {
  const img = event.target;
  if (img instanceof HTMLImageElement && img.closest("#photo")) img.style.visibility = "hidden";
}, true);
document.addEventListener("load", (event) => {
  const img = event.target;
  if (img instanceof HTMLImageElement && img.closest("#photo")) img.style.visibility = "";
}, true);

// A photo the user gave (upload, paste, webcam) replaces an example: the thumbnail that was clicked must not stay
// highlighted. Gradio highlights the thumbnail under the pointer (set on mouseenter, cleared on mouseleave), and a
// tap on a phone or a paste never moves the pointer off it: tell it the pointer has left, and drop its focus.
window.inatClearExample = () => {
  document.querySelectorAll("#examples .gallery-item").forEach((button) => {
    button.dispatchEvent(new MouseEvent("mouseleave"));
    if (document.activeElement === button) button.blur();
  });
};

// After a result arrives: bring its heading into view when it is below the fold (a phone, where the
// result sits under the photo); on a wide screen it is already in view and nothing moves.
window.inatShowResult = () => {
  const card = document.querySelector("#taxonomy-card");
  if (!card || !card.querySelector("h2")) return;  // the placeholder: nothing to show
  const top = card.getBoundingClientRect().top;
  if (top > window.innerHeight * 0.6 || top < 0) {
    card.scrollIntoView({ behavior: "smooth", block: "start" });
  }
};
