// What Quasar renders without a name or a way in for keyboards, set right
// on every page (and again whenever Vue redraws it): a scrolling region
// (the live log) takes the focus; the uploader's hidden file input is the
// control (named), and the button around it is only its picture; a progress
// indicator (the uploader's spinner while files go up) says what it measures.
(() => {
  const fix = () => {
    document.querySelectorAll(".q-scrollarea__container:not([tabindex])").forEach((el) => {
      el.tabIndex = 0;
    });
    document.querySelectorAll("[role=progressbar]:not([aria-label]):not([aria-labelledby])").forEach((el) => {
      el.setAttribute("aria-label", el.closest(".q-uploader") ? "Upload progress" : "Loading");
    });
    document.querySelectorAll(".q-uploader__input").forEach((input) => {
      if (input.tabIndex !== 0) input.tabIndex = 0;
      if (!input.getAttribute("aria-label")) input.setAttribute("aria-label", "Choose files to upload");
      const button = input.closest("[role=button]");
      if (button) {
        button.setAttribute("role", "presentation");
        button.tabIndex = -1;
      }
    });
  };
  new MutationObserver(fix).observe(document.documentElement, { childList: true, subtree: true });
  document.addEventListener("DOMContentLoaded", fix);
})();
