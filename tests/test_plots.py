"""inat.training.plots: Compare-tab figures and tables, from run records shaped like inat.training.runs.list_runs()."""
from __future__ import annotations

import pytest

from inat.training.plots import (TABLE_HEADERS, THESIS_HEADERS, format_duration, markdown_table, plot_runs, runs_table,
                                 save_png, thesis_table)


def history(scale: float, epochs: int = 3, **drop):
    out = []
    for e in range(1, epochs + 1):
        h = {"epoch": e, "train_loss": 3.0 / e, "train_top1": 0.2 * e * scale, "val_loss": 3.5 / e,
             "val_top1": 0.15 * e * scale, "val_top5": 0.3 * e * scale, "lr": 0.01, "seconds": 100.0,
             "images_per_s": 50.0}
        for k in drop:
            h[k] = None
        out.append(h)
    return out


RUNS = [
    {"name": "b0", "arch": "efficientnet_b0", "init": "imagenet", "img_size": 224, "epochs": 3,
     "history": history(1.0), "seconds": 300.0},
    {"name": "r50", "arch": "resnet50", "init": "scratch", "img_size": 160, "epochs": 3,
     "history": history(0.5), "seconds": 5400.0},
]


def lines(fig):
    (ax,) = fig.axes
    return ax.get_lines()


def test_train_dashed_validation_solid_one_colour_per_run():
    fig = plot_runs(RUNS, "top-1")
    got = [(ln.get_linestyle(), ln.get_color(), list(ln.get_ydata())) for ln in lines(fig)]
    assert [g[0] for g in got] == ["--", "-", "--", "-"]
    assert got[0][1] == got[1][1] != got[2][1] == got[3][1]
    assert got[1][2] == pytest.approx([15.0, 30.0, 45.0])  # validation top-1, in percent
    assert fig.axes[0].get_xlabel() == "Epoch" and "%" in fig.axes[0].get_ylabel()
    legend_texts = [t.get_text() for lg in fig.legends for t in lg.get_texts()]
    assert "b0 (efficientnet_b0, imagenet)" in legend_texts and "training" in legend_texts


def test_loss_is_not_scaled_and_top5_has_no_training_curve():
    loss = lines(plot_runs(RUNS, "loss"))
    assert list(loss[0].get_ydata()) == pytest.approx([3.0, 1.5, 1.0])
    top5 = lines(plot_runs(RUNS, "top-5"))
    assert len(top5) == 2 and {ln.get_linestyle() for ln in top5} == {"-"}


def test_selection_keeps_each_runs_colour():
    all_colours = [ln.get_color() for ln in lines(plot_runs(RUNS, "loss"))]
    only_r50 = lines(plot_runs(RUNS, "loss", names=["r50"]))
    assert len(only_r50) == 2 and only_r50[0].get_color() == all_colours[2]


def test_missing_values_and_empty_inputs():
    gappy = [{"name": "g", "history": history(1.0, val_top1=True)}]
    assert [ln.get_linestyle() for ln in lines(plot_runs(gappy, "top-1"))] == ["--"]
    empty = plot_runs([], "loss")
    assert not lines(empty) and "No recorded runs" in empty.axes[0].texts[0].get_text()
    none_selected = plot_runs(RUNS, "loss", names=[])
    assert not lines(none_selected) and none_selected.axes[0].texts
    with pytest.raises(ValueError, match="loss, top-1, top-5"):
        plot_runs(RUNS, "top-3")


def test_save_png(tmp_path):
    path = save_png(plot_runs(RUNS, "top-1"), tmp_path / "c.png", dpi=50)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_runs_table():
    rows = runs_table(RUNS)
    assert len(rows[0]) == len(TABLE_HEADERS)
    assert rows[0] == ["b0", "efficientnet_b0", "imagenet", 45.0, 3, 1.1667, 3, 224, "5 min"]
    assert rows[1][3] == 22.5 and rows[1][-1] == "1 h 30 min" and rows[1][7] == 160
    bare = runs_table([{"name": "x", "history": [{"epoch": 1, "train_loss": 2.0}]}])[0]
    assert bare == ["x", None, None, None, None, None, 1, None, None]


def test_format_duration():
    assert format_duration(None) is None and format_duration(0) is None
    assert format_duration(40) == "40 s"
    assert format_duration(720) == "12 min"
    assert format_duration(28 * 3600 + 50 * 60) == "28 h 50 min"


def test_thesis_table_is_the_reported_numbers():
    rows = {(r[0], r[1]): r for r in thesis_table()}
    assert rows[("AlexNet", None)][2] == 14.71
    assert rows[("ResNet-50", None)][2:4] == [55.66, 2.0433]
    assert rows[("EfficientNet-B0", "ImageNet")][2] == 42.92
    assert rows[("EfficientNet-B0", "from scratch")][2] == 13.61
    assert rows[("EfficientNet-B0", "ImageNet, frozen backbone (transfer)")][2] == 10.9
    assert rows[("EfficientNet-B3", None)][2:4] == [53.31, 2.1402]
    v2s = rows[("EfficientNetV2-S", None)]
    assert v2s[2:] == [59.82, 1.7577, "25 epochs, 28 h 50 min on an RTX 3060"]
    assert len(rows) == 7


def test_markdown_table():
    text = markdown_table(THESIS_HEADERS, thesis_table())
    assert text.splitlines()[0] == "| Model | Initialisation | Val top-1 (%) | Val loss | Notes |"
    assert "| AlexNet | — | 14.71 | — | — |" in text
    assert markdown_table(["a"], [["x|y"]]).splitlines()[-1] == "| x\\|y |"
