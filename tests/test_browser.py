"""The app in a real browser (Playwright's sync API driving Debian's chromium), as a naturalist uses it.

At desktop size (1400 × 1000): a photo's result leads with what the model is sure of; a file that is no
photo clears the previous result and is explained in the card, with no server path; an example keeps the chosen model; the examples have
names; About speaks without raw keys; Compare states its data set and chance level; help text is
readable (contrast ≥ 4.5:1) and the keyboard order follows the page; Observations turns several uploads
(one broken) into a table, a map and a CSV link. At phone size (390 × 844): the result's heading comes
into view after an upload, the rank table breaks no word, the four tab names fit, observations are cards.
The app serves conftest's `felids` (Lion 40 %, genus Panthera 75 %, whatever the photo) and `scoped`
(90 % out of scope) models (`served` fixture). Screenshots go to $INAT_SCREENSHOTS (default: the
test's tmp folder). Skipped when chromium or playwright is missing.
"""
from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest

from inat.testing.photos import TRIP, geotagged_day, sample_photo

CHROMIUM = os.environ.get("INAT_CHROMIUM", "/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
TIMEOUT_MS = 120_000  # first inference loads the model; a busy 2-core machine needs the margin
DESKTOP, PHONE = {"width": 1400, "height": 1000}, {"width": 390, "height": 844}
HEADING = "A big cat — most likely Lion, 40\u00a0%"   # felids on any photo: genus Panthera 75 %
OUT_OF_SCOPE = "This does not look like an organism I know"

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(not (Path(CHROMIUM).exists() or shutil.which(CHROMIUM)), reason=f"no browser at {CHROMIUM}"),
]


def expect(*args, **kw):
    from playwright.sync_api import expect  # imported by the fixtures' importorskip: the quick loop never loads it
    return expect(*args, **kw)


@pytest.fixture(scope="module")
def browser(served):
    sync_api = pytest.importorskip("playwright.sync_api")  # here, not at import: the quick loop never loads it
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        yield browser
        browser.close()


def open_page(browser, url, viewport):
    page = browser.new_page(viewport=viewport)
    page.set_default_timeout(TIMEOUT_MS)
    page.goto(url)
    page.locator("#taxonomy-card").wait_for()
    return page


@pytest.fixture(scope="module")
def page(browser, served):
    page = open_page(browser, served[0], DESKTOP)
    yield page
    page.close()


def pick_model(page, name: str) -> None:
    page.locator("#model-picker input").click()
    page.get_by_role("option", name=name).click()


def upload(page, path) -> None:
    page.get_by_role("tab", name="Identify").click()
    remove = page.get_by_label("Remove Image")
    if remove.count():
        remove.first.click()
    page.locator("#photo input[type=file]").set_input_files(str(path))


def shots(tmp_path) -> Path:
    out = Path(os.environ.get("INAT_SCREENSHOTS") or tmp_path)
    out.mkdir(parents=True, exist_ok=True)
    return out


def test_the_result_leads_with_what_the_model_is_sure_of(page, tmp_path):
    upload(page, sample_photo("lion.jpg"))
    card = page.locator("#taxonomy-card")
    expect(card.locator("h2")).to_have_text(HEADING, timeout=TIMEOUT_MS)
    expect(card).to_contain_text("It is sure of genus Panthera (75\u00a0%), but no single species reaches 70")
    # The possibilities are in the card, with the page's one rounding rule (the label rounded on its own).
    expect(card.locator("li").first).to_contain_text("Lion (Panthera leo) — 40\u00a0%")
    expect(page.locator("#top5")).to_be_hidden()
    # The rank table is one click away and reads whole words.
    card.get_by_text("How sure at each rank").click()
    expect(card.locator("table")).to_contain_text("Felidae")
    page.screenshot(path=str(shots(tmp_path) / "app_identify.png"), full_page=True)


def a_bad_file_replaces_the_lion(page, bad):
    """Upload the lion, then `bad`: the card says the file cannot be used, and nothing of the lion stays. The card."""
    card = page.locator("#taxonomy-card")
    upload(page, sample_photo("lion.jpg"))
    expect(card.locator("h2")).to_have_text(HEADING, timeout=TIMEOUT_MS)
    upload(page, bad)
    expect(card.locator("h2")).to_have_text("This file cannot be used", timeout=TIMEOUT_MS)
    expect(card).to_contain_text(f"{bad.name} is not a photo this app can open: choose a JPEG")
    expect(card).not_to_contain_text("Panthera")
    return card


def test_an_error_clears_the_previous_result_at_once(page, tmp_path):
    # Finding 1: after a failed upload the previous photo's card and label stayed on screen.
    bad = tmp_path / "notes.jpg"
    bad.write_text("not a photo")
    card = a_bad_file_replaces_the_lion(page, bad)
    expect(page.locator("#top5")).to_be_hidden()
    expect(page.get_by_text("Error", exact=True)).to_have_count(0)  # no red badges over the outputs
    expect(page.locator("#photo img").first).to_be_hidden()  # no broken-image icon
    page.screenshot(path=str(shots(tmp_path) / "app_error.png"), full_page=True)
    # A removed photo leaves nothing behind either.
    upload(page, sample_photo("lion.jpg"))
    expect(card.locator("h2")).to_have_text(HEADING, timeout=TIMEOUT_MS)
    page.get_by_label("Remove Image").first.click()
    expect(card.locator("h2")).to_have_count(0)
    expect(card).not_to_contain_text("Lion")  # the possibilities went with the card


def test_a_file_that_is_no_image_clears_the_result_and_says_why(page, tmp_path):
    # A .txt given to the photo box was refused in the browser (a toast naming MIME types, or nothing at all) and
    # the previous photo's result stayed on screen.
    card = page.locator("#taxonomy-card")
    page.get_by_role("tab", name="Identify").click()
    if page.get_by_label("Remove Image").count():
        page.get_by_label("Remove Image").first.click()
    expect(page.locator("#photo")).to_contain_text("Drop a photo here — or click to choose one")
    expect(page.locator("#photo")).not_to_contain_text("Drop Image Here")
    notes = tmp_path / "notes.txt"
    notes.write_text("seen on the walk: a lion")
    a_bad_file_replaces_the_lion(page, notes)
    expect(page.get_by_text(re.compile("Invalid file type|allowed"))).to_have_count(0)
    # Dropped on the empty box, a PDF gets the same sentence.
    page.get_by_label("Remove Image").first.click()
    expect(card.locator("h2")).to_have_count(0)
    data = page.evaluate_handle("""() => { const d = new DataTransfer();
        d.items.add(new File(['%PDF-1.4'], 'field notes.pdf', {type: 'application/pdf'})); return d; }""")
    page.locator("#photo button.upload-container").dispatch_event("drop", {"dataTransfer": data})
    expect(card).to_contain_text("field notes.pdf is not a photo this app can open", timeout=TIMEOUT_MS)
    expect(page.get_by_text(re.compile("Invalid file type|allowed"))).to_have_count(0)


def test_an_error_names_no_server_path(page, tmp_path):
    # Finding 5: an empty upload showed the full path of the file in Gradio's upload folder.
    empty = tmp_path / "empty.jpg"
    empty.write_bytes(b"")
    upload(page, empty)
    card = page.locator("#taxonomy-card")
    expect(card).to_contain_text("empty.jpg is empty", timeout=TIMEOUT_MS)
    text = card.inner_text()
    assert "choose a photo file" in text and "/" not in text and "gradio" not in text.lower()


def test_an_example_sets_the_photo_and_keeps_the_chosen_model(page, tmp_path):
    card = page.locator("#taxonomy-card")
    upload(page, sample_photo("lion.jpg"))
    expect(card.locator("h2")).to_have_text(HEADING, timeout=TIMEOUT_MS)
    pick_model(page, "scoped")  # the lion on screen is identified again, with this model
    expect(card.locator("h2")).to_have_text(OUT_OF_SCOPE, timeout=TIMEOUT_MS)
    expect(page.locator("#top5")).to_be_hidden()  # the sentence is said once, by the card (finding 13)
    page.get_by_role("button", name="Example: a cheetah").click()
    expect(page.locator("#photo img[src*='cheetah']")).to_have_count(1, timeout=TIMEOUT_MS)
    expect(card.locator("h2")).to_have_text(OUT_OF_SCOPE, timeout=TIMEOUT_MS)
    expect(page.locator("#model-picker input")).to_have_value("4 species (scoped)")
    pick_model(page, "felids")
    expect(card.locator("h2")).to_have_text(HEADING, timeout=TIMEOUT_MS)
    page.screenshot(path=str(shots(tmp_path) / "app_example.png"), full_page=True)


def test_a_photo_of_ones_own_clears_the_examples_highlight(page):
    # A clicked thumbnail stayed highlighted after another photo was uploaded or pasted over it (the pointer never
    # left the thumbnail: a tap on a phone, or a paste).
    card = page.locator("#taxonomy-card")
    page.get_by_role("tab", name="Identify").click()
    cheetah = page.get_by_role("button", name="Example: a cheetah")
    cheetah.click()
    expect(page.locator("#photo img[src*='cheetah']")).to_have_count(1, timeout=TIMEOUT_MS)
    expect(card.locator("h2")).to_have_count(1, timeout=TIMEOUT_MS)
    page.locator("#photo input[type=file]").set_input_files(sample_photo("lion.jpg"))  # the pointer stays put
    expect(page.locator("#photo img[src*='cheetah']")).to_have_count(0, timeout=TIMEOUT_MS)
    expect(page.locator("#examples .selected")).to_have_count(0)
    assert not cheetah.evaluate("b => b === document.activeElement")
    expect(card.locator("h2")).to_have_text(HEADING, timeout=TIMEOUT_MS)


def test_examples_and_images_have_names(page):
    # Finding 12: the example buttons were "button, button, button" to a screen reader; the photo had alt="".
    for name in ("Example: a lion", "Example: a cheetah", "Example: oxeye daisies, a plant",
                 "Example: a tower, not an organism"):
        button = page.get_by_role("button", name=name, exact=True)
        expect(button).to_have_count(1)
        expect(button.locator("img")).to_have_attribute("alt", name)
    upload(page, sample_photo("lion.jpg"))
    expect(page.locator("#photo img").first).to_have_attribute("alt", "The photo to identify", timeout=TIMEOUT_MS)


def _contrast(page, selector: str) -> float:
    """WCAG contrast of the first element matching `selector` against the first opaque background behind it."""
    return page.evaluate("""(sel) => {
      const el = document.querySelector(sel);
      const rgb = s => (s.match(/[\\d.]+/g) || []).map(Number);
      const lum = ([r, g, b]) => { const c = [r, g, b].map(v => { v /= 255;
        return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); });
        return 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2]; };
      let bg = [255, 255, 255];
      for (let n = el; n; n = n.parentElement) {
        const c = rgb(getComputedStyle(n).backgroundColor);
        if (c.length >= 3 && (c.length < 4 || c[3] > 0.9)) { bg = c.slice(0, 3); break; }
      }
      const fg = lum(rgb(getComputedStyle(el).color)), b = lum(bg);
      return (Math.max(fg, b) + 0.05) / (Math.min(fg, b) + 0.05);
    }""", selector)


def test_help_text_can_be_read(page):
    # Finding 6 and 12: the picker's help text was grey at 1.9:1.
    page.get_by_role("tab", name="Identify").click()
    expect(page.locator("#model-summary p")).to_contain_text("Knows", timeout=TIMEOUT_MS)
    for selector in ("#model-summary p", "#photo-tips p", "#examples .label", "#taxonomy-card p"):
        assert _contrast(page, selector) >= 4.5, selector


def test_the_keyboard_order_follows_the_page(page):
    # Nothing jumps the queue (no positive tabindex), and the controls come in reading order.
    page.get_by_role("tab", name="Identify").click()
    order = page.evaluate("""() => {
      const all = [...document.querySelectorAll('a[href], button, input, select, textarea, [tabindex]')]
        .filter(e => e.tabIndex >= 0 && e.offsetParent !== null);
      const first = sel => all.findIndex(e => e.closest(sel));
      return {positive: all.filter(e => e.tabIndex > 0).length, photo: first('#photo'), examples: first('#examples'),
              picker: first('#model-picker'), identify: all.findIndex(e => e.textContent.trim() === 'Identify'
              && e.tagName === 'BUTTON' && !e.getAttribute('role'))};
    }""")
    assert order["positive"] == 0
    assert 0 <= order["photo"] < order["examples"] < order["picker"] < order["identify"], order


def test_about_speaks_without_raw_keys(page, tmp_path):
    # Finding 9: val_top1 and top1 side by side, in_scope_threshold, measured_by, a ../shared path, the command twice.
    page.get_by_role("tab", name="About").click()
    about = page.locator("#about-model")
    expect(about).to_contain_text("How often it is right", timeout=TIMEOUT_MS)
    expect(about).to_contain_text("What it cannot do")
    text = about.inner_text()
    people = text.split("More species:")[0]  # how to add experts gives its commands
    for raw in ("val_top1", "top1", "in_scope_threshold", "measured_by", "../", "efficientnet_lite0", "python -m"):
        assert raw not in people, raw
    expect(about).to_contain_text("needs the internet")
    expect(about).to_contain_text("python -m inat download inat2017-birds")
    technical = page.locator("#technical-details")
    expect(technical).not_to_contain_text("val_top1", use_inner_text=True)  # collapsed
    technical.get_by_text("Technical details").click()
    expect(technical).to_contain_text("val_top1", use_inner_text=True)
    page.screenshot(path=str(shots(tmp_path) / "app_about.png"), full_page=True)


def test_compare_states_its_data_set_and_chance(page, tmp_path):
    page.get_by_role("tab", name="Compare").click()
    intro = page.locator("#compare-intro")
    expect(intro).to_contain_text("Guessing at random would be right", timeout=TIMEOUT_MS)
    expect(intro).to_contain_text("(1 in 4)")  # felids learnt 4 classes: chance 25 %
    expect(intro).to_contain_text("from scratch")  # the regimes are explained
    expect(page.locator("#compare-runs")).to_contain_text("EfficientNet-Lite0 · fine-tuned · 32 px")
    expect(page.locator("#compare-plot svg").first).to_be_visible(timeout=TIMEOUT_MS)
    # The chance line is named in the plot's legend, which names nothing else (the checkboxes carry the runs'
    # colours); every tick on the x axis is a whole epoch; the axis title and the legend are not cut off.
    legend = page.locator("#compare-plot svg .role-legend-label text")
    expect(legend).to_have_text(["guessing at random (25.0\u00a0%)"], timeout=TIMEOUT_MS)
    ticks = page.locator("#compare-plot svg .role-axis-label text").all_text_contents()
    assert "1" in ticks and "3" in ticks and not any("." in t for t in ticks), ticks
    block = page.locator("#compare-plot").bounding_box()
    for text in (page.locator("#compare-plot svg .role-axis-title text", has_text="Epoch"), legend.first):
        box = text.bounding_box()
        assert box and block["y"] <= box["y"] and box["y"] + box["height"] <= block["y"] + block["height"], box
    expect(page.locator("#thesis-table")).to_contain_text("Another data set: the thesis (iNat 2021, 10,000 species)")
    expect(page.locator("#runs-table")).to_contain_text("resnet_run")
    page.get_by_role("checkbox", name="EfficientNet-Lite0 · fine-tuned · 32 px").uncheck()
    page.get_by_role("checkbox", name=re.compile("ResNet-50")).uncheck()
    expect(page.locator("#compare-note")).to_contain_text("No run selected", timeout=TIMEOUT_MS)
    page.screenshot(path=str(shots(tmp_path) / "app_compare.png"), full_page=True)


def test_oversize_upload_is_refused_with_a_sentence(page, tmp_path):
    # Over max_file_size: Gradio refuses the upload itself (the server answers 413 without reading it);
    # the page must say so in words, and keep working.
    big = tmp_path / "huge.jpg"
    big.write_bytes(b"\xff\xd8\xff" + os.urandom(21 * 1024 * 1024))
    upload(page, big)
    expect(page.get_by_text(re.compile(r"exceed|too large|maximum", re.I)).first).to_be_visible(timeout=TIMEOUT_MS)
    upload(page, sample_photo("lion.jpg"))
    expect(page.locator("#taxonomy-card h2")).to_have_text(HEADING, timeout=TIMEOUT_MS)


# -- a phone ------------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def phone(browser, served):
    page = open_page(browser, served[0], PHONE)
    yield page
    page.close()


def test_on_a_phone_the_result_comes_into_view_after_an_upload(phone, tmp_path):
    # Finding 7: after an upload the result started at y = 754 of 844, and the page did not bring it up.
    phone.locator("#photo input[type=file]").set_input_files(sample_photo("lion.jpg"))
    heading = phone.locator("#taxonomy-card h2")
    expect(heading).to_have_text(HEADING, timeout=TIMEOUT_MS)
    # The page scrolls smoothly: wait until the scroll has brought the whole heading in (it was read mid-scroll,
    # at y 824 + 54 of 844, in a busy full run), then check the same thing.
    phone.wait_for_function("""() => { const r = document.querySelector('#taxonomy-card h2').getBoundingClientRect();
        return r.top >= 0 && r.bottom <= window.innerHeight; }""", timeout=10_000)
    box = heading.bounding_box()
    assert 0 <= box["y"] and box["y"] + box["height"] <= PHONE["height"], box
    phone.screenshot(path=str(shots(tmp_path) / "app_phone_result.png"))


def test_on_a_phone_the_rank_table_breaks_no_word(phone):
    card = phone.locator("#taxonomy-card")
    expect(card.locator("h2")).to_have_count(1, timeout=TIMEOUT_MS)
    card.get_by_text("How sure at each rank").click()
    expect(card.locator("table")).to_be_visible()
    broken = phone.evaluate("""() => [...document.querySelectorAll('#taxonomy-card th, #taxonomy-card td')]
        .filter(c => c.getBoundingClientRect().height > 1.8 * parseFloat(getComputedStyle(c).lineHeight))
        .map(c => c.textContent)""")
    assert broken == []  # "Kingdo m", "Specie s", "Probabil ity" before


def test_on_a_phone_the_four_tab_names_fit(phone):
    names = ("Identify", "Observations", "Compare", "About")
    for name in names:
        expect(phone.get_by_role("tab", name=name)).to_be_visible()
    expect(phone.get_by_role("button", name="More tabs")).to_be_hidden()  # nothing behind "•••"
    room = phone.evaluate("""() => {
      const tabs = [...document.querySelectorAll('button[role=tab]')];
      const bar = tabs[0].parentElement.getBoundingClientRect();
      return bar.width - tabs.reduce((w, t) => w + t.getBoundingClientRect().width, 0);
    }""")
    assert room >= 0, f"the tab names overflow by {-room:.0f} px"


def test_on_a_phone_the_tab_names_fit_before_the_font_arrives(browser, served):
    # Gradio measures the tab row once: if the page's font is late (a slow phone network), the wider fallback
    # font decides, and whatever did not fit then stays behind "•••".
    page = browser.new_page(viewport=PHONE)
    page.set_default_timeout(TIMEOUT_MS)
    page.route(re.compile(r"\.(woff2?|ttf|otf)(\?|$)|fonts\.(googleapis|gstatic)"), lambda route: route.abort())
    try:
        page.goto(served[0])
        page.locator("#taxonomy-card").wait_for()
        for name in ("Identify", "Observations", "Compare", "About"):
            expect(page.get_by_role("tab", name=name)).to_be_visible()
        expect(page.get_by_role("button", name="More tabs")).to_be_hidden()
    finally:
        page.close()


# -- the Observations tab -------------------------------------------------------------------------------------
def observe_day(page, tmp_path):
    """Upload the geotagged day (5 files, one broken) on the Observations tab and wait for the table."""
    page.get_by_role("tab", name="Observations").click()
    page.locator("#obs-files input[type=file]").set_input_files(geotagged_day(tmp_path / "day"))
    expect(page.locator("#obs-files").get_by_role("button", name="Remove this file")).to_have_count(
        5, timeout=TIMEOUT_MS)  # all five uploaded
    page.get_by_role("button", name="Identify all").click()
    rows = page.locator("#obs-table tbody tr")
    expect(rows).to_have_count(5, timeout=TIMEOUT_MS)
    return rows


def test_observations_reads_a_days_photos_into_a_table_map_and_csv(page, tmp_path):
    rows = observe_day(page, tmp_path)
    intro = page.locator("#obs-intro")
    expect(intro).to_contain_text("Up to 200 photos at a time")
    expect(intro).to_contain_text("Place names are computed offline")
    expect(page.locator("#obs-model")).to_contain_text("felids")
    expect(page.locator("#obs-summary")).to_contain_text("5 photos: 4 identified, 1 could not be used")
    headers = page.locator("#obs-table thead th").all_inner_texts()
    assert headers == ["#", "Photo", "Date", "Place", "Species", "Probability"]
    expect(rows.nth(0)).to_contain_text("broken.jpg is damaged or incomplete")
    for row, (name, _, when, _, _, _, town) in zip([rows.nth(1), rows.nth(2), rows.nth(3)], TRIP):
        expect(row).to_contain_text(name)
        expect(row).to_contain_text(when[:10].replace(":", "-"))
        expect(row).to_contain_text(town)
        expect(row).to_contain_text("A big cat — most likely Lion, 40\u00a0%")
        expect(row).to_contain_text("75\u00a0%")
        expect(row.locator("img")).to_have_attribute("alt", name)
    assert rows.nth(1).locator("img").evaluate("img => img.naturalWidth") > 0  # the thumbnail shows
    # The CSV: a download link to a file with the command line's columns.
    link = page.locator("#obs-csv a[download]")
    expect(link).to_have_attribute("download", "observations.csv")
    body = page.request.get(link.get_attribute("href")).text()
    assert body.startswith("file,observed_on,time_observed_at,latitude,longitude,place_guess,scientific_name,")
    assert "IMG_0001.jpg,2024-05-04,2024-05-04T09:15:30-07:00,36.9741" in body
    # The map: three positions, drawn here (no image or tile from anywhere).
    expect(page.locator("#obs-map svg.obs-map-wide circle")).to_have_count(3)
    expect(page.locator("#obs-map svg.obs-map-wide")).to_be_visible()
    map_w = page.locator("#obs-map svg.obs-map-wide").bounding_box()["width"]
    assert map_w >= 0.9 * page.locator("#obs-table").bounding_box()["width"]  # across the page
    expect(page.locator("#obs-map")).to_contain_text("3 of 5 photos have a position")
    assert page.locator("#obs-map img, #obs-map image").count() == 0
    page.screenshot(path=str(shots(tmp_path) / "app_observations.png"), full_page=True)


def test_on_a_phone_observations_are_cards_that_fit(phone, tmp_path):
    rows = observe_day(phone, tmp_path)
    expect(rows.nth(1)).to_contain_text("Santa Cruz, California, US")
    fits = phone.evaluate("""() => {
      const table = document.querySelector('#obs-table table');
      const cells = [...document.querySelectorAll('#obs-table td')].filter(c => c.offsetParent !== null);
      return {overflow: table.scrollWidth - table.parentElement.clientWidth,
              outside: cells.filter(c => c.getBoundingClientRect().right > window.innerWidth).length};
    }""")
    assert fits["overflow"] <= 0 and fits["outside"] == 0, fits  # nothing hides off the right edge
    box = rows.nth(1).locator(".obs-p").bounding_box()  # the probability sits beside the species name
    assert box["x"] + box["width"] <= PHONE["width"]
    phone.screenshot(path=str(shots(tmp_path) / "app_phone_observations.png"), full_page=True)
