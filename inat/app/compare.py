"""What the Compare tab shows, as pure functions: run records (`inat.training.runs.list_runs()`) in, rows and Markdown out.

Runs are named in words ("EfficientNet-Lite0 · fine-tuned · 224 px", not "lite0_imagenet_224"), the
three ways of starting a run are explained, and the data set the curves were measured on and its chance
level are stated and drawn, so the thesis's numbers (another data set, 10,000 species) are not read
as comparable with them.
"""
from __future__ import annotations

import math

from ..training.plots import METRICS, THESIS_HEADERS, format_duration, markdown_table, thesis_table
from .views import NBSP, fmt_pct, md

ARCH_NAMES = {"efficientnet_lite0": "EfficientNet-Lite0", "efficientnet_b0": "EfficientNet-B0",
              "efficientnet_b3": "EfficientNet-B3", "efficientnet_v2_s": "EfficientNetV2-S", "resnet50": "ResNet-50",
              "alexnet": "AlexNet", "mobilenet_v2_tf": "MobileNetV2"}
# init as a run records it → (its short name, what it means)
REGIMES = {
    "imagenet": ("fine-tuned", "starts from weights learnt on ImageNet's 1.3 million photos, and trains every layer"),
    "transfer": ("frozen", "starts from the same ImageNet weights, keeps them fixed and trains only the last layer"),
    "scratch": ("from scratch", "starts from random weights and learns everything from these photos"),
}
PHOTOS = {"validation": 1, "training": 0}   # → index of the history key in inat.training.plots.METRICS
THESIS_DATASET = "iNat 2021, 10,000 species"
TABLE_HEADERS = ["Run", "Best top-1", "Best epoch", "Epochs", "Training time", "Record"]  # top-1 on validation


def run_label(run: dict) -> str:
    """'EfficientNet-Lite0 · fine-tuned · 224 px' from a run's architecture, start and input size."""
    parts = [ARCH_NAMES.get(run.get("arch"), run.get("arch") or run["name"])]
    if run.get("init"):
        parts.append(REGIMES.get(run["init"], (run["init"],))[0])
    if run.get("img_size"):
        parts.append(f"{run['img_size']} px")
    return " · ".join(str(p) for p in parts)


def run_labels(runs: list[dict]) -> dict[str, str]:
    """{run name: label}; two runs that would read the same keep their record name in brackets."""
    labels = {r["name"]: run_label(r) for r in runs}
    seen: dict[str, int] = {}
    for label in labels.values():
        seen[label] = seen.get(label, 0) + 1
    return {n: (f"{label} ({n})" if seen[label] > 1 else label) for n, label in labels.items()}


def run_choices(runs: list[dict]) -> list[tuple[str, str]]:
    """(label, name) for the runs checkbox group."""
    labels = run_labels(runs)
    return [(labels[r["name"]], r["name"]) for r in runs]


def datasets(runs: list[dict]) -> dict[str, int | None]:
    """{data set: number of classes} over the runs (None when a record does not say)."""
    out: dict[str, int | None] = {}
    for r in runs:
        out.setdefault(r.get("dataset") or "unknown data", r.get("num_classes"))
    return out


def chance(metric: str, classes: int) -> float:
    """What guessing evenly among `classes` scores: top-1 1/n, top-5 5/n (as %), loss ln n."""
    if metric == "loss":
        return math.log(classes)
    k = 5 if metric == "top-5" else 1
    return 100 * min(1.0, k / classes)


def chance_label(metric: str, classes: int) -> str:
    """The chance line's name, as the plot's legend shows it: 'guessing at random (2.1 %)'."""
    if metric == "loss":
        return f"guessing at random (loss ln {classes} = {chance(metric, classes):.2f})"
    return f"guessing at random ({fmt_pct(chance(metric, classes) / 100)})"


def is_chance(run: str) -> bool:
    """Whether a plotted line (a row's "run") is a chance line rather than a run."""
    return run.startswith("guessing at random")


def curve_rows(runs: list[dict], metric: str = "top-1", photos: str = "validation", names=None) -> list[dict]:
    """Rows {"epoch", "value", "run"} for a line plot: each selected run's `metric` per epoch on the
    validation or training photos, then the chance level of each data set as a flat line over the same epochs."""
    if metric not in METRICS:
        raise ValueError(f"unknown metric {metric!r}; choose one of: {', '.join(METRICS)}")
    if photos not in PHOTOS:
        raise ValueError(f"unknown photos {photos!r}; choose one of: {', '.join(PHOTOS)}")
    key, percent = METRICS[metric][PHOTOS[photos]], METRICS[metric][3]
    labels = run_labels(runs)
    rows, last = [], 1
    for r in runs:
        if names is not None and r["name"] not in names:
            continue
        for i, h in enumerate(r.get("history") or [], 1):
            v = h.get(key) if key else None
            if v is None:
                continue
            epoch = h.get("epoch", i)
            last = max(last, epoch)
            rows.append({"epoch": epoch, "value": round(100 * v if percent else v, 3), "run": labels[r["name"]]})
    for n in sorted({c for c in datasets(runs).values() if c}):
        rows += [{"epoch": e, "value": round(chance(metric, n), 3), "run": chance_label(metric, n)} for e in (1, last)]
    return rows


def epoch_axis(rows: list[dict]) -> tuple[list[dict], list[str]]:
    """(rows, order) for a plot whose x axis names whole epochs only: each row's epoch as a category ('1', '2', …)
    and the categories in the order of the epochs. On a number axis the browser puts ticks where it likes
    (1.0, 1.5, 2.0 …), and no run has an epoch 1.5."""
    epochs = sorted({int(r["epoch"]) for r in rows})
    return [{**r, "epoch": str(int(r["epoch"]))} for r in rows], [str(e) for e in epochs]


def curve_note(runs: list[dict], metric: str, photos: str, names) -> str:
    """A line under the plot when it shows no run: why, and what to do."""
    if not runs:
        return "No recorded runs yet: train one with `python -m inat train`."
    if names is not None and not names:
        return "No run selected: tick one or more runs above to draw them."
    key = METRICS[metric][PHOTOS[photos]]
    if key is None:
        return f"Training records no {metric} on the training photos: choose the validation photos."
    return ""


def compare_intro(runs: list[dict], descriptions: dict[str, str] | None = None) -> str:
    """The tab's opening: which data set the runs were measured on, its chance level, and the three starts.

    `descriptions`: {data set name: words} from the bundles trained on it (plants47's scope says
    "47 plant species of coastal California (Santa Cruz County)")."""
    descriptions = descriptions or {}
    sets = datasets(runs)
    lines = ["### How the architectures learn"]
    for name, n in sets.items():
        words = descriptions.get(name) or (f"{n} classes" if n else "")
        about = f"{md(words)} (`{md(name)}`)" if words else f"`{md(name)}`"
        if n:
            lines.append(f"Every run below learnt **{about}** and is measured on photos of them it never trained "
                         f"on. Guessing at random would be right **{fmt_pct(1 / n)}** of the time (1 in {n}): "
                         f"the flat line in the plot.")
        else:
            lines.append(f"Runs on **{about}**.")
    lines += ["How each run started: " + "; ".join(f"**{short}** {words}" for short, words in REGIMES.values()) + ".",
              "Runs at 64 px compare every architecture at a size a small computer can train; 224 px is the "
              "thesis's size."]
    return "\n\n".join(lines)


def table_rows(runs: list[dict]) -> list[list]:
    """One row per run, columns TABLE_HEADERS: its label, best validation top-1 (%), the epoch of it, epochs,
    training time and the record's name; a dash where unknown."""
    labels = run_labels(runs)
    rows = []
    for r in runs:
        scored = [h for h in r.get("history") or [] if h.get("val_top1") is not None]
        best = max(scored, key=lambda h: h["val_top1"], default=None)
        rows.append([labels[r["name"]], fmt_pct(best["val_top1"]) if best else "—",
                     best.get("epoch", "—") if best else "—", r.get("epochs") or len(r.get("history") or []),
                     format_duration(r.get("seconds")) or "—", r["name"]])
    return rows


def runs_markdown(runs: list[dict]) -> str:
    """The runs table under its heading (`table_rows`; the record names in code type)."""
    if not runs:
        return "### Our runs\n\nNo recorded runs yet: train one with `python -m inat train`."
    rows = [[md(label), best, epoch, epochs, time, f"`{name}`"]
            for label, best, epoch, epochs, time, name in table_rows(runs)]
    return ("### Our runs, at their best epoch\n\nBest top-1 on the validation photos; the record is the folder in "
            "`weights/` or `runs/`.\n\n" + markdown_table(TABLE_HEADERS, rows))


def thesis_markdown() -> str:
    """The thesis's results, headed as what they are: another data set, not comparable with the curves."""
    return (f"### Another data set: the thesis ({THESIS_DATASET})\n\n"
            "The thesis trained on iNat 2021's *train_mini* (10,000 species, 224 × 224 px) and reports these "
            f"final validation results; guessing there is right 0.01{NBSP}% of the time. With over 200 times as many "
            "species as the runs above, its numbers cannot be compared with theirs. We have only these numbers, "
            "not the runs.\n\n"
            + markdown_table(THESIS_HEADERS, thesis_table()))
