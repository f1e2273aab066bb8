// The site opened from disk (file://): a link to a page's folder ("../agreement/") would
// open the folder's listing there, as no server picks its index.html. Each such link is
// pointed at the page inside the folder, so every link of the site works without a
// server. Served over http(s), nothing changes.
(function () {
  if (location.protocol !== "file:") return;
  var elsewhere = /^([a-z][a-z0-9+.-]*:|\/|#)/i;   // another site or host root, or this page
  function local() {
    document.querySelectorAll("a[href]").forEach(function (link) {
      var href = link.getAttribute("href");
      if (!href || elsewhere.test(href)) return;
      var cut = href.search(/[?#]/);
      var path = cut < 0 ? href : href.slice(0, cut), rest = cut < 0 ? "" : href.slice(cut);
      if (/(^|\/)\.{1,2}$/.test(path)) path += "/";
      if (path.endsWith("/")) link.setAttribute("href", path + "index.html" + rest);
    });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", local);
  else local();
})();
