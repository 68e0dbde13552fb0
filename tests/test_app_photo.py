"""inat.app.photo: the photo input opens uploads with inat.core.images.open_image and refuses them in one sentence
(an UnusablePhoto: the API raises it, the page shows it in the card)."""
import base64

import pytest
from PIL import Image

from inat.app.photo import UnusablePhoto, photo_input_class

pytestmark = pytest.mark.integration  # a Gradio component: gradio takes seconds to load


@pytest.fixture(scope="module")
def photo(gr):
    return photo_input_class()(type="pil", render=False)


def ImageData(**kw):  # noqa: N802 - gradio's upload payload, imported with gradio
    from gradio.data_classes import ImageData
    return ImageData(**kw)


def test_renders_as_an_image_input(photo, gr):
    assert isinstance(photo, gr.Image) and photo.get_block_name() == "image"
    assert photo.preprocess(None) is None


def test_opens_uploads_like_the_predictor(photo, tmp_path):
    rgba = tmp_path / "a.png"
    Image.new("RGBA", (7, 5), (0, 0, 0, 0)).save(rgba)
    im = photo.preprocess(ImageData(path=str(rgba), orig_name="a.png"))
    assert im.mode == "RGB" and im.size == (7, 5) and im.getpixel((0, 0)) == (255, 255, 255)  # alpha on white
    exif = Image.Exif()
    exif[0x0112] = 6  # stored sideways: shown upright
    Image.new("RGB", (40, 20), "green").save(tmp_path / "r.jpg", exif=exif)
    assert photo.preprocess(ImageData(path=str(tmp_path / "r.jpg"), orig_name="r.jpg")).size == (20, 40)


def test_a_data_url_is_decoded(photo, tmp_path):
    Image.new("RGB", (6, 4), "red").save(tmp_path / "p.png")
    url = "data:image/png;base64," + base64.b64encode((tmp_path / "p.png").read_bytes()).decode()
    assert photo.preprocess(ImageData(url=url, orig_name="clip.png")).size == (6, 4)
    bad = photo.preprocess(ImageData(url="data:image/png;base64,@@@", orig_name="clip.png"))
    assert bad == UnusablePhoto("clip.png is empty: choose a photo file (JPEG, PNG, WebP or HEIC).")  # "@@@": nothing


def test_unusable_files_are_one_escaped_sentence(photo, tmp_path, caplog):
    bad = tmp_path / "bad.jpg"
    bad.write_bytes(b"nope")
    with caplog.at_level("INFO", logger="inat"):
        refused = photo.preprocess(ImageData(path=str(bad), orig_name="<i>x.jpg"))
    assert refused == UnusablePhoto("&lt;i&gt;x.jpg is not a photo this app can open: choose a JPEG, PNG, WebP or "
                                    "HEIC file.")
    assert "not an image file Pillow can read" in caplog.text  # the technical reason is logged, not shown
    assert photo.preprocess(ImageData(orig_name="x.jpg")) == UnusablePhoto("No photo received: upload one again.")


def test_an_empty_upload_never_shows_the_servers_path(photo, tmp_path):
    # Finding 5: Gradio's upload folder path appeared in the message ("empty.jpg is not usable: /tmp/gradio/…").
    empty = tmp_path / "gradio" / "0123abcd" / "empty.jpg"
    empty.parent.mkdir(parents=True)
    empty.write_bytes(b"")
    message = photo.preprocess(ImageData(path=str(empty), orig_name="empty.jpg")).message
    assert message == "empty.jpg is empty: choose a photo file (JPEG, PNG, WebP or HEIC)."
    assert str(tmp_path) not in message and "/" not in message
