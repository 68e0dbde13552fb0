"""inat.app.photo: the photo input opens uploads with inat.images.open_image and refuses them in one sentence."""
import base64

import pytest
from PIL import Image

from inat.app.photo import photo_input_class

pytestmark = pytest.mark.integration  # a Gradio component: gradio takes seconds to load


@pytest.fixture(scope="module")
def photo(gr):
    return photo_input_class()(type="pil", render=False)


def test_renders_as_an_image_input(photo, gr):
    assert isinstance(photo, gr.Image) and photo.get_block_name() == "image"
    assert photo.preprocess(None) is None


def test_opens_uploads_like_the_predictor(photo, tmp_path):
    from gradio.data_classes import ImageData
    rgba = tmp_path / "a.png"
    Image.new("RGBA", (7, 5), (0, 0, 0, 0)).save(rgba)
    im = photo.preprocess(ImageData(path=str(rgba), orig_name="a.png"))
    assert im.mode == "RGB" and im.size == (7, 5) and im.getpixel((0, 0)) == (255, 255, 255)  # alpha on white
    exif = Image.Exif()
    exif[0x0112] = 6  # stored sideways: shown upright
    Image.new("RGB", (40, 20), "green").save(tmp_path / "r.jpg", exif=exif)
    assert photo.preprocess(ImageData(path=str(tmp_path / "r.jpg"), orig_name="r.jpg")).size == (20, 40)


def test_a_data_url_is_decoded(photo, gr, tmp_path):
    from gradio.data_classes import ImageData
    Image.new("RGB", (6, 4), "red").save(tmp_path / "p.png")
    url = "data:image/png;base64," + base64.b64encode((tmp_path / "p.png").read_bytes()).decode()
    assert photo.preprocess(ImageData(url=url, orig_name="clip.png")).size == (6, 4)
    with pytest.raises(gr.Error, match="clip.png is not usable"):
        photo.preprocess(ImageData(url="data:image/png;base64,@@@", orig_name="clip.png"))


def test_unusable_files_are_one_escaped_sentence(photo, gr, tmp_path):
    from gradio.data_classes import ImageData
    bad = tmp_path / "bad.jpg"
    bad.write_bytes(b"nope")
    with pytest.raises(gr.Error) as err:
        photo.preprocess(ImageData(path=str(bad), orig_name="<i>x.jpg"))
    assert str(err.value.message) == "&lt;i&gt;x.jpg is not usable: not an image file Pillow can read."
    with pytest.raises(gr.Error, match="No photo received"):
        photo.preprocess(ImageData(orig_name="x.jpg"))
