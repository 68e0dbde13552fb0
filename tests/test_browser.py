"""The app in a real browser (Playwright's sync API driving Debian's chromium).

Uploads a photo, reads the label and the taxonomy card from the page, checks that an example sets the
photo and keeps the chosen model, that a bad file gives an error and the page keeps working, and opens
Compare to see the plot. The app serves conftest's `felids` and `scoped` models (`served` fixture).
Screenshots go to $INAT_SCREENSHOTS (default: the test's tmp folder): app_identify.png, app_compare.png...
Skipped when chromium or playwright is missing.
"""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from photos import sample_photo

CHROMIUM = os.environ.get("INAT_CHROMIUM", "/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
TIMEOUT_MS = 120_000  # first inference loads the model; a busy 2-core machine needs the margin

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(not (Path(CHROMIUM).exists() or shutil.which(CHROMIUM)), reason=f"no browser at {CHROMIUM}"),
]


@pytest.fixture(scope="module")
def page(served):
    sync_api = pytest.importorskip("playwright.sync_api")  # here, not at import: the quick loop never loads it
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        page = browser.new_page(viewport={"width": 1280, "height": 1000})
        page.set_default_timeout(TIMEOUT_MS)
        page.goto(served[0])
        yield page
        browser.close()


def pick_model(page, name: str) -> None:
    page.locator("#model-picker input").click()
    page.get_by_role("option", name=name).click()


def shots(tmp_path) -> Path:
    out = Path(os.environ.get("INAT_SCREENSHOTS") or tmp_path)
    out.mkdir(parents=True, exist_ok=True)
    return out


def test_identify_in_browser(page, tmp_path):
    from playwright.sync_api import expect
    page.locator("#taxonomy-card").wait_for()
    page.locator("input[type=file]").first.set_input_files(sample_photo("lion.jpg"))
    card = page.locator("#taxonomy-card")
    expect(card).to_contain_text("We're pretty sure this is in genus Panthera", timeout=TIMEOUT_MS)
    expect(card).to_contain_text("Felidae")
    label = page.locator("#top5")
    expect(label).to_contain_text("Lion (Panthera leo)")
    expect(label).to_contain_text("40%")
    text = card.inner_text()
    assert "40.0 % · Lion" in text and "Panthera leo" in text
    page.screenshot(path=str(shots(tmp_path) / "app_identify.png"), full_page=True)


def test_an_example_sets_the_photo_and_keeps_the_chosen_model(page, tmp_path):
    from playwright.sync_api import expect
    card = page.locator("#taxonomy-card")
    pick_model(page, "scoped")  # the lion on screen is identified again, with this model
    expect(card).to_contain_text("This does not look like an organism I know", timeout=TIMEOUT_MS)
    cheetahs = page.locator("img[src*='cheetah']")
    expect(cheetahs).to_have_count(1)  # the example's thumbnail
    page.locator(".gallery-item").nth(1).click()
    expect(cheetahs).to_have_count(2, timeout=TIMEOUT_MS)  # and now the photo
    expect(card).to_contain_text("This does not look like an organism I know", timeout=TIMEOUT_MS)
    expect(page.locator("#model-picker input")).to_have_value("scoped — efficientnet_lite0, 4 classes, top-1 50.0 %")
    pick_model(page, "felids")
    expect(card).to_contain_text("We're pretty sure this is in genus Panthera", timeout=TIMEOUT_MS)
    page.screenshot(path=str(shots(tmp_path) / "app_example.png"), full_page=True)


def test_compare_tab_shows_a_plot(page, tmp_path):
    from playwright.sync_api import expect
    page.get_by_role("tab", name="Compare architectures").click()
    img = page.locator("#compare-plot img")
    expect(img).to_be_visible(timeout=TIMEOUT_MS)
    assert page.evaluate("(el) => el.naturalWidth", img.element_handle()) > 300
    expect(page.locator("#runs-table")).to_contain_text("resnet_run")
    expect(page.locator("#thesis-table")).to_contain_text("59.82")
    page.screenshot(path=str(shots(tmp_path) / "app_compare.png"), full_page=True)
    with page.expect_download() as download:
        page.get_by_text("Download PNG").click()
    assert download.value.suggested_filename.endswith(".png")


def test_bad_file_shows_error_and_page_keeps_working(page, tmp_path):
    from playwright.sync_api import expect
    bad = tmp_path / "notes.jpg"
    bad.write_text("not a photo")
    page.get_by_role("tab", name="Identify").click()
    page.get_by_label("Remove Image").first.click()
    page.locator("input[type=file]").first.set_input_files(str(bad))
    expect(page.get_by_text("notes.jpg is not usable").first).to_be_visible(timeout=TIMEOUT_MS)
    # The server keeps serving: switch to the out-of-scope model and identify the tower.
    page.get_by_label("Remove Image").first.click()
    page.locator("input[type=file]").first.set_input_files(sample_photo("tower.jpg"))
    pick_model(page, "scoped")
    expect(page.locator("#taxonomy-card")).to_contain_text("This does not look like an organism I know",
                                                           timeout=TIMEOUT_MS)
    expect(page.locator("#top5")).to_contain_text("This does not look like an organism I know")
    page.screenshot(path=str(shots(tmp_path) / "app_out_of_scope.png"), full_page=True)


def test_oversize_upload_is_refused_with_a_sentence(page, tmp_path):
    # Over max_file_size: Gradio refuses the upload itself (the server answers 413 without reading it);
    # the page must say so in words, and keep working.
    import re
    from playwright.sync_api import expect
    big = tmp_path / "huge.jpg"
    big.write_bytes(b"\xff\xd8\xff" + os.urandom(21 * 1024 * 1024))
    page.get_by_role("tab", name="Identify").click()
    page.get_by_label("Remove Image").first.click()
    page.locator("input[type=file]").first.set_input_files(str(big))
    expect(page.get_by_text(re.compile(r"exceed|too large|maximum", re.I)).first).to_be_visible(timeout=TIMEOUT_MS)
    page.screenshot(path=str(shots(tmp_path) / "app_oversize.png"), full_page=True)
    page.locator("input[type=file]").first.set_input_files(sample_photo("lion.jpg"))
    expect(page.locator("#taxonomy-card")).to_contain_text("Panthera leo", timeout=TIMEOUT_MS)
