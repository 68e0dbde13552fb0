"""EXIF dates, time zones and GPS positions, from photos with EXIF written into them."""
import io
import shutil
from datetime import datetime, timedelta

import pytest
from conftest import shared
from PIL import Image, ImageFile
from PIL.TiffImagePlugin import IFDRational

from inat.observations.exif import PhotoMetadata, photo_metadata
from inat.testing.photos import (add_exif_to_jpeg, exif_block, picture, png_with_exif_after_pixels, rationals,
                                 raw_gps_exif, save_with_exif)

EMPTY = PhotoMetadata()

# (place, latitude, longitude): one point in each quarter of the globe.
POINTS = [("Santa Cruz CA", 36.9741, -122.0308), ("Hobart", -42.8821, 147.3272),
          ("Quito", -0.1807, -78.4678), ("Kyoto", 35.0116, 135.7681)]


@pytest.mark.parametrize("name,lat,lon", POINTS, ids=[p[0] for p in POINTS])
def test_jpeg_date_time_offset_and_position(tmp_path, name, lat, lon):
    path = save_with_exif(tmp_path / "p.jpg", exif_block("2024:05:04 09:15:30", "+09:30", lat, lon))
    m = photo_metadata(path)
    assert m.observed_on == "2024-05-04"
    assert m.observed_on_string == "2024-05-04 09:15:30"
    assert m.time_observed_at == "2024-05-04T09:15:30+09:30"
    assert abs(m.latitude - lat) < 0.01 and abs(m.longitude - lon) < 0.01
    assert (m.latitude < 0) == (lat < 0) and (m.longitude < 0) == (lon < 0)  # S and W are negative


def test_coordinates_are_exact_to_the_second(tmp_path):
    # 36° 58' 27.6" N, 122° 1' 50.4" W, as a phone writes it.
    ex = exif_block(gps={1: "N", 2: (36.0, 58.0, 27.6), 3: "W", 4: (122.0, 1.0, 50.4)})
    m = photo_metadata(save_with_exif(tmp_path / "p.jpg", ex))
    assert m.latitude == pytest.approx(36.974333, abs=1e-6)
    assert m.longitude == pytest.approx(-122.030667, abs=1e-6)


@pytest.mark.parametrize("suffix", ["png", "webp", "heic"])
def test_other_formats_carry_exif(tmp_path, suffix):
    if suffix == "heic":
        pillow_heif = pytest.importorskip("pillow_heif")
        pillow_heif.register_heif_opener()
    path = save_with_exif(tmp_path / f"p.{suffix}", exif_block("2023:12:31 23:59:59", "-03:00", -54.8019, -68.303,
                                                               accuracy=4.5))
    m = photo_metadata(path)
    assert m == PhotoMetadata("2023-12-31", "2023-12-31 23:59:59", "2023-12-31T23:59:59-03:00",
                              -54.8019, -68.303, 4.5)


def test_png_exif_after_the_pixels_is_found(tmp_path):
    path = png_with_exif_after_pixels(tmp_path / "late.png", exif_block(lat=51.5, lon=-0.12))
    m = photo_metadata(path)
    assert m.observed_on == "2024-05-04" and abs(m.latitude - 51.5) < 1e-4 and abs(m.longitude + 0.12) < 1e-4


@pytest.mark.shared
def test_real_photo_with_exif_spliced_in(tmp_path):
    photos = sorted(shared("data/inat21-plants47/val").glob("*/*.jpg"))[:1]
    plain = tmp_path / "plain.jpg"
    shutil.copy(photos[0], plain)
    assert photo_metadata(plain) == EMPTY  # the dataset strips EXIF
    tagged = add_exif_to_jpeg(plain, tmp_path / "tagged.jpg", exif_block("2019:04:27 10:35:00", "-07:00",
                                                                          37.0447, -122.1072))
    m = photo_metadata(tagged)
    assert (m.observed_on, m.time_observed_at) == ("2019-04-27", "2019-04-27T10:35:00-07:00")
    assert abs(m.latitude - 37.0447) < 0.01 and abs(m.longitude + 122.1072) < 0.01
    with Image.open(tagged) as im:  # still a whole, readable photo
        im.load()


# Real camera EXIF in ../shared/data/imagenet-samples: (file, observed_on) — a camera's
# DateTimeOriginal; a Photoshop save with only DateTime (its edit date); an Olympus writing zeros.
REAL_EXIF = [("n02117135_hyena.JPEG", "2007-01-14"), ("n01749939_green_mamba.JPEG", None),
             ("n03843555_oil_filter.JPEG", None)]


@pytest.mark.shared
@pytest.mark.parametrize("name,observed_on", REAL_EXIF, ids=[r[0].split("_", 1)[1] for r in REAL_EXIF])
def test_real_camera_exif(tmp_path, name, observed_on):
    src = shared(f"data/imagenet-samples/{name}")
    shutil.copy(src, tmp_path / name)
    with Image.open(tmp_path / name) as im:
        assert len(im.getexif()) > 3  # it does carry EXIF
    m = photo_metadata(tmp_path / name)
    assert m.observed_on == observed_on and m.latitude is None
    assert m.time_observed_at == (m.observed_on_string.replace(" ", "T") if m.observed_on_string else None)


def test_sources_path_bytes_file_and_pil_image(tmp_path):
    path = save_with_exif(tmp_path / "p.jpg", exif_block(lat=10.5, lon=-20.25))
    expected = photo_metadata(path)
    assert expected.latitude == 10.5
    assert photo_metadata(str(path)) == expected
    assert photo_metadata(path.read_bytes()) == expected
    with open(path, "rb") as f:
        assert photo_metadata(f) == expected
    with Image.open(path) as im:
        assert photo_metadata(im) == expected


def test_time_without_offset_is_local_time_without_an_offset(tmp_path):
    """Issue 25 item 7: the time was known and time_observed_at stayed empty."""
    m = photo_metadata(save_with_exif(tmp_path / "p.jpg", exif_block("2024:05:04 09:15:30", None)))
    assert m.observed_on == "2024-05-04" and m.observed_on_string == "2024-05-04 09:15:30"
    assert m.time_observed_at == "2024-05-04T09:15:30"


@pytest.mark.parametrize("tags", [
    {"ifd0": {0x0132: "2024:05:04 09:15:30"}},               # DateTime: the last edit, never the observation
    {"exif_ifd": {0x9004: "2024:05:04 09:15:30"}},           # DateTimeDigitized: a scan's date for film
], ids=["DateTime", "DateTimeDigitized"])
def test_only_datetime_original_dates_a_photo(tmp_path, tags):
    m = photo_metadata(save_with_exif(tmp_path / "p.jpg", exif_block(None, None, **tags)))
    assert m == EMPTY


def test_datetime_original_in_ifd0_is_accepted(tmp_path):
    m = photo_metadata(save_with_exif(tmp_path / "p.jpg", exif_block(None, None, ifd0={0x9003: "2020:02:29 12:00:00"})))
    assert m.observed_on == "2020-02-29"


def test_no_exif_gives_empty_fields(tmp_path):
    for fmt in ("jpg", "png", "webp", "tif", "bmp", "gif"):
        assert photo_metadata(save_with_exif(tmp_path / f"p.{fmt}", None)) == EMPTY, fmt


@pytest.mark.parametrize("source", [b"", b"not an image at all", b"\xff\xd8\xff\xe1\x00\x10Exif\x00\x00MM\x00*garbage"],
                         ids=["empty", "text", "truncated-exif"])
def test_unreadable_input_gives_empty_fields(source):
    assert photo_metadata(source) == EMPTY


def test_missing_file_and_folder_give_empty_fields(tmp_path):
    assert photo_metadata(tmp_path / "nope.jpg") == EMPTY
    assert photo_metadata(tmp_path) == EMPTY


BAD_DATES = ["0000:00:00 00:00:00", "    :  :     :  :  ", "2024:13:01 10:00:00", "2024:02:30 10:00:00",
             "2024:05:04 25:00:00", "yesterday", "", (datetime.now() + timedelta(days=3)).strftime("%Y:%m:%d %H:%M:%S")]


@pytest.mark.parametrize("when", BAD_DATES,
                         ids=["zeros", "blank", "month13", "feb30", "hour25", "text", "empty", "future"])
def test_malformed_dates_are_none(tmp_path, when):
    m = photo_metadata(save_with_exif(tmp_path / "p.jpg", exif_block(when, "+01:00", 48.2, 16.37)))
    assert (m.observed_on, m.observed_on_string, m.time_observed_at) == (None, None, None)
    assert m.latitude == pytest.approx(48.2, abs=1e-4)  # the other fields survive


@pytest.mark.parametrize("offset", ["+25:00", "+05:75", "12:00", "UTC", "   :  ", "+1:00"])
def test_malformed_offsets_leave_only_local_time(tmp_path, offset):
    m = photo_metadata(save_with_exif(tmp_path / "p.jpg", exif_block("2024:05:04 09:15:30", offset)))
    assert m.observed_on == "2024-05-04" and m.time_observed_at == "2024-05-04T09:15:30"


def test_dash_separated_date_and_compact_offset(tmp_path):
    m = photo_metadata(save_with_exif(tmp_path / "p.jpg", exif_block("2024-05-04 09:15:30", "-0330")))
    assert m.time_observed_at == "2024-05-04T09:15:30-03:30"


BAD_GPS = {
    "zero-denominator": {2: (IFDRational(36, 0), 1.0, 2.0)},
    "minutes-61": {2: (36.0, 61.0, 0.0)},
    "seconds-61": {2: (36.0, 1.0, 61.0)},
    "latitude-91": {2: (91.0, 0.0, 0.0)},
    "longitude-181": {4: (181.0, 0.0, 0.0)},
    "no-latitude-ref": {1: ""},
    "bad-ref": {1: "X"},
    "four-parts": {2: (36.0, 1.0, 2.0, 3.0)},
    "void-status": {9: "V"},
}


@pytest.mark.parametrize("gps", BAD_GPS.values(), ids=BAD_GPS.keys())
def test_malformed_gps_is_none_and_date_survives(tmp_path, gps):
    m = photo_metadata(save_with_exif(tmp_path / "p.jpg", exif_block(lat=36.97, lon=-122.03, gps=gps)))
    assert (m.latitude, m.longitude) == (None, None)
    assert m.observed_on == "2024-05-04"


RAW_GPS = {
    "latitude-text": [(1, 2, 2, b"N\x00"), (2, 2, 8, b"36 deg N"),
                      (3, 2, 2, b"W\x00"), (4, 5, 3, rationals((122, 1), (1, 1), (50, 1)))],
    "signed-rationals": [(1, 2, 2, b"N\x00"), (2, 10, 3, rationals((-36, 1), (1, 1), (2, 1), signed=True)),
                         (3, 2, 2, b"W\x00"), (4, 5, 3, rationals((122, 1), (1, 1), (50, 1)))],
    "zero-denominators": [(1, 2, 2, b"N\x00"), (2, 5, 3, rationals((36, 0), (0, 0), (0, 0))),
                          (3, 2, 2, b"W\x00"), (4, 5, 3, rationals((122, 1), (1, 1), (50, 1)))],
    "ref-as-number": [(1, 3, 1, b"\x00\x4e"), (2, 5, 3, rationals((36, 1), (1, 1), (2, 1))),
                      (3, 2, 2, b"W\x00"), (4, 5, 3, rationals((122, 1), (1, 1), (50, 1)))],
    "huge-count": [(1, 2, 2, b"N\x00"), (2, 5, 0x7FFFFFFF, b"\x00\x00\x00\x40"),
                   (3, 2, 2, b"W\x00"), (4, 5, 3, rationals((122, 1), (1, 1), (50, 1)))],
}


@pytest.mark.parametrize("entries", RAW_GPS.values(), ids=RAW_GPS.keys())
def test_raw_malformed_gps_is_none(entries):
    buf = io.BytesIO()
    picture().save(buf, "JPEG", exif=raw_gps_exif(entries))
    m = photo_metadata(buf.getvalue())
    assert (m.latitude, m.longitude) == (None, None)


def test_raw_builder_reads_back_when_well_formed():
    # The builder itself is right: the same layout with good values gives the position.
    entries = [(1, 2, 2, b"S\x00"), (2, 5, 3, rationals((33, 1), (55, 1), (0, 1))),
               (3, 2, 2, b"E\x00"), (4, 5, 3, rationals((18, 1), (2540, 100), (0, 1)))]
    buf = io.BytesIO()
    picture().save(buf, "JPEG", exif=raw_gps_exif(entries))
    m = photo_metadata(buf.getvalue())
    assert m.latitude == pytest.approx(-33.916667) and m.longitude == pytest.approx(18.423333)


def test_null_island_and_half_a_position_are_none(tmp_path):
    assert photo_metadata(save_with_exif(tmp_path / "a.jpg", exif_block(lat=0.0, lon=0.0))).latitude is None
    assert photo_metadata(save_with_exif(tmp_path / "b.jpg", exif_block(lat=12.0))).latitude is None
    # The equator or the prime meridian alone is a real place.
    m = photo_metadata(save_with_exif(tmp_path / "c.jpg", exif_block(lat=0.0, lon=-78.45)))
    assert (m.latitude, m.longitude) == (0.0, -78.45)


def test_lowercase_and_nul_padded_refs(tmp_path):
    ex = exif_block(gps={1: "s\x00", 2: (33.0, 55.0, 0.0), 3: b"w", 4: (18.0, 25.0, 0.0)})
    m = photo_metadata(save_with_exif(tmp_path / "p.jpg", ex))
    assert m.latitude == pytest.approx(-33.916667) and m.longitude == pytest.approx(-18.416667)


def test_decimal_degrees_in_one_rational(tmp_path):
    ex = exif_block(gps={1: "N", 2: (IFDRational(3697410, 100000),), 3: "W", 4: (IFDRational(12203080, 100000),)})
    m = photo_metadata(save_with_exif(tmp_path / "p.jpg", ex))
    assert (m.latitude, m.longitude) == (36.9741, -122.0308)


def test_pixels_are_never_decoded(tmp_path, monkeypatch):
    paths = [save_with_exif(tmp_path / f"p.{s}", exif_block(lat=1.5, lon=2.5)) for s in ("jpg", "png", "webp")]
    paths.append(png_with_exif_after_pixels(tmp_path / "late.png", exif_block(lat=1.5, lon=2.5)))

    def refuse(self, *a, **k):
        raise AssertionError("pixels decoded")

    monkeypatch.setattr(ImageFile.ImageFile, "load", refuse)
    monkeypatch.setattr(Image.Image, "load", refuse)
    for p in paths:
        assert photo_metadata(p).latitude == 1.5, p.name


def test_large_photo_is_cheap(tmp_path):
    # A 24-megapixel JPEG: metadata must not cost a decode (~0.3 s here); generous bound for a busy machine.
    import time
    path = tmp_path / "big.jpg"
    picture(size=(6000, 4000)).save(path, quality=80, exif=exif_block(lat=1.5, lon=2.5))
    t = time.perf_counter()
    for _ in range(10):
        photo_metadata(path)
    assert (time.perf_counter() - t) / 10 < 0.05


def test_exif_of_a_corrupt_block_never_raises():
    # A TIFF header pointing its IFD far past the end, and an IFD claiming thousands of entries.
    for raw in (b"Exif\x00\x00II*\x00\xff\xff\xff\x7f", b"Exif\x00\x00MM\x00*\x00\x00\x00\x08\xff\xff" + b"\x00" * 20):
        buf = io.BytesIO()
        picture().save(buf, "JPEG", exif=raw)
        assert photo_metadata(buf.getvalue()) == EMPTY
