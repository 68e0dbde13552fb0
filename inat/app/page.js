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
