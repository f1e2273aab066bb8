"""Every page of the documentation site as its readers open it: in headless Chromium at a
desktop's and a phone's width, checked by axe-core (`make axe`), for what leaves the
machine, what is wider than the screen, and picture text too small to read (issue 26).
Skipped, saying why, where chromium, its driver or axe-core is not installed."""

from __future__ import annotations

import functools
import http.server
import threading
from pathlib import Path

import pytest

from tests.helpers import AXE, ROOT, audit, build_site, copy_policies

WIDTHS = [1280, 390]

LOOK = """
const width = document.documentElement.clientWidth, here = location.origin;
const wide = [], outside = [], small = [], cut = [], unreachable = [];
for (const node of document.querySelectorAll("body *")) {
  const box = node.getBoundingClientRect();
  if (box.width && (box.right > width + 0.5 || box.left < -0.5)
      && !node.closest(".md-sidebar, .md-search, [hidden]"))
    wide.push(node.tagName.toLowerCase() + "." + node.className + " to " + Math.round(box.right));
}
if (document.documentElement.scrollWidth > width)
  wide.push("the page, " + document.documentElement.scrollWidth + " px");
for (const e of performance.getEntriesByType("resource"))
  if (!e.name.startsWith(here)) outside.push(e.name);
for (const n of document.querySelectorAll("[src], link[href]")) {
  const url = n.src || n.href;
  if (url && !url.startsWith(here) && !url.startsWith("data:")) outside.push(url);
}
for (const t of document.querySelectorAll("svg text")) {
  const m = t.getScreenCTM();
  if (!m || !t.getClientRects().length) continue;     // a drawing not shown at this width
  const px = parseFloat(getComputedStyle(t).fontSize) * Math.hypot(m.a, m.b);
  if (px < 12) small.push(t.textContent + " (" + px.toFixed(1) + " px)");
  if (t.textContent.includes("\u2026")) cut.push(t.textContent);
}
for (const box of document.querySelectorAll(".md-content pre > code, .md-typeset__scrollwrap"))
  if (box.scrollWidth > box.clientWidth + 1 && box.getAttribute("tabindex") !== "0")
    unreachable.push(box.tagName.toLowerCase() + " " + box.textContent.slice(0, 40));
const shown = [...document.querySelectorAll("svg text")].filter(t => t.getClientRects().length);
return {wide: wide.slice(0, 5), outside: [...new Set(outside)], small: small.slice(0, 5),
        cut: cut.slice(0, 5), unreachable: unreachable.slice(0, 5), pictures: shown.length};
"""


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """The site built from a copy of the tests' policies, served from this machine."""
    tmp = tmp_path_factory.mktemp("browsed")
    site = build_site(tmp, copy_policies(tmp / "policies"))
    handler = functools.partial(_Quiet, directory=str(site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield site, f"http://127.0.0.1:{server.server_port}/"
    server.shutdown()


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass


def _pages(site: Path) -> list[str]:
    return sorted("" if p.parent == site else p.parent.relative_to(site).as_posix() + "/"
                  for p in site.rglob("index.html"))


@pytest.mark.parametrize("width", WIDTHS, ids=lambda w: f"{w}px")
def test_every_page_reads_at_a_desktops_and_a_phones_width(browser, served, width):
    if not AXE.is_file():
        pytest.skip(f"axe-core is not installed ({AXE.relative_to(ROOT)} is missing): "
                    "`make axe` installs it with npm, which needs the network")
    site, address = served
    source = AXE.read_text(encoding="utf-8")
    browser.set_window_size(width, 900)
    problems, pictures = {}, 0
    pages = _pages(site)
    assert len(pages) > 25 and "terms/support-sla/" in pages
    for page in pages:
        browser.get(address + page)
        seen = browser.execute_script(LOOK)
        pictures += seen.pop("pictures")
        serious = [(v["id"], [n["target"] for n in v["nodes"]][:2])
                   for v in audit(browser, source) if v["impact"] in ("critical", "serious")]
        found = {k: v for k, v in {**seen, "axe": serious}.items() if v}
        if found:
            problems[page or "home"] = found
    assert problems == {}
    assert pictures > 100   # the pictures were measured, not missed


def test_the_site_opened_from_disk_follows_its_links_to_pages(browser, served):
    """Opened from disk (file://), with no server to pick a folder's index.html: a clause's
    link and a link of the navigation each open the page, never a folder's listing."""
    from selenium.webdriver.common.by import By
    site, _ = served
    browser.set_window_size(1280, 900)
    browser.get((site / "terms" / "support-sla" / "index.html").as_uri())
    link = browser.find_element(By.CSS_SELECTOR, '.md-content a[href*="agreement/"]'
                                                 '[href$="#clause-3-2"]')
    assert link.get_attribute("href").endswith("/terms/agreement/index.html#clause-3-2")
    link.click()
    assert browser.current_url == (site / "terms" / "agreement" / "index.html").as_uri() \
        + "#clause-3-2"
    assert browser.find_element(By.TAG_NAME, "h1").text == "The agreement"
    home = browser.find_element(By.CSS_SELECTOR, ".md-header a.md-logo, .md-header__button"
                                                 ".md-logo")
    home.click()
    assert browser.current_url == (site / "index.html").as_uri()
    assert "Index of" not in browser.title and browser.find_element(By.TAG_NAME, "h1").text


def test_the_agreements_words_read_as_strongly_as_the_rules_under_them(browser, served):
    site, address = served
    browser.set_window_size(390, 900)
    browser.get(address + "terms/support-sla/")
    quote, text = browser.execute_script(
        "const style = (s) => getComputedStyle(document.querySelector(s)).color;"
        "return [style('.md-content blockquote'), style('.md-content article > p')];")
    assert quote == text
