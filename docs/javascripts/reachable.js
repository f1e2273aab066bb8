// Every part of a page a reader can reach from the keyboard and name with a screen
// reader: a box that scrolls sideways (a wide table, a long line of code) takes the
// focus, so arrow keys scroll it; the theme's search dialog gets a name.
(function () {
  function reachable() {
    var search = document.querySelector(".md-search[role=dialog]");
    if (search && !search.hasAttribute("aria-label")) search.setAttribute("aria-label", "Search");
    document.querySelectorAll(".md-content pre > code, .md-typeset__scrollwrap").forEach(function (box) {
      if (box.scrollWidth > box.clientWidth + 1) {
        box.setAttribute("tabindex", "0");
        if (!box.hasAttribute("aria-label")) box.setAttribute("role", "region"),
          box.setAttribute("aria-label", box.tagName === "CODE" ? "code, scrolls sideways" : "table, scrolls sideways");
      } else if (box.getAttribute("tabindex") === "0") {
        box.removeAttribute("tabindex");
      }
    });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", reachable);
  else reachable();
  window.addEventListener("load", reachable);
  window.addEventListener("resize", reachable);
})();
