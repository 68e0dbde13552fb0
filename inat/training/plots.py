"""Figures and tables that compare training runs: the app's Compare tab, reusable from a notebook.

    >>> from inat.training.runs import list_runs
    >>> runs = list_runs()
    >>> plot_runs(runs, "top-1").savefig("top1.png")   # train dashed, validation solid, a colour per run
    >>> runs_table(runs)                               # one row per run, columns TABLE_HEADERS

Figures are built with `matplotlib.figure.Figure`, not pyplot: no global state, so the app can draw
for several users at once, and a notebook with the inline backend still shows them.
The thesis's numbers are a separate table (`thesis_table`): we have its final results, not its curves.
"""
from __future__ import annotations

from pathlib import Path

# metric → (train key, validation key, axis label, shown in percent); the keys are run history keys.
METRICS = {
    "loss": ("train_loss", "val_loss", "Loss (cross-entropy)", False),
    "top-1": ("train_top1", "val_top1", "Top-1 accuracy (%)", True),
    "top-5": (None, "val_top5", "Top-5 accuracy (%)", True),  # training records no top-5
}
TABLE_HEADERS = ["Run", "Architecture", "Init", "Best val top-1 (%)", "Best epoch", "Lowest val loss", "Epochs",
                 "Input (px)", "Training time"]

THESIS_CAPTION = "Reported in the thesis, iNat 2021 train_mini, 224×224"
THESIS_HEADERS = ["Model", "Initialisation", "Val top-1 (%)", "Val loss", "Notes"]
# Final validation results as the thesis reports them; None where it gives no number.
THESIS_RESULTS = [
    {"model": "AlexNet", "init": None, "val_top1": 14.71, "val_loss": None, "notes": None},
    {"model": "ResNet-50", "init": None, "val_top1": 55.66, "val_loss": 2.0433, "notes": None},
    {"model": "EfficientNet-B0", "init": "ImageNet", "val_top1": 42.92, "val_loss": None, "notes": None},
    {"model": "EfficientNet-B0", "init": "from scratch", "val_top1": 13.61, "val_loss": None, "notes": None},
    {"model": "EfficientNet-B0", "init": "ImageNet, frozen backbone (transfer)", "val_top1": 10.9,
     "val_loss": None, "notes": None},
    {"model": "EfficientNet-B3", "init": None, "val_top1": 53.31, "val_loss": 2.1402, "notes": None},
    {"model": "EfficientNetV2-S", "init": None, "val_top1": 59.82, "val_loss": 1.7577,
     "notes": "25 epochs, 28 h 50 min on an RTX 3060"},
]


def _series(history: list[dict], key: str | None, percent: bool) -> tuple[list, list]:
    """(epochs, values) for one history key, skipping epochs that lack it."""
    if key is None:
        return [], []
    xs, ys = [], []
    for i, h in enumerate(history, 1):
        v = h.get(key)
        if v is None:
            continue
        xs.append(h.get("epoch", i))
        ys.append(100 * float(v) if percent else float(v))
    return xs, ys


def plot_runs(runs: list[dict], metric: str = "top-1", names=None, *, width: float = 9.0, height: float = 5.0):
    """A Figure with one colour per run: training dashed, validation solid, x = epoch.

    `runs` are run records (`inat.training.runs.list_runs()`); `names` limits the plot to those runs while
    each run keeps the colour of its position in `runs`, so colours do not shift as runs are toggled.
    """
    from matplotlib.figure import Figure  # keeps matplotlib out of start-up: only drawing needs it
    from matplotlib.lines import Line2D

    if metric not in METRICS:
        raise ValueError(f"unknown metric {metric!r}; choose one of: {', '.join(METRICS)}")
    train_key, val_key, ylabel, percent = METRICS[metric]
    fig = Figure(figsize=(width, height), dpi=100, layout="constrained")
    ax = fig.add_subplot()
    handles = []
    for i, run in enumerate(runs):
        colour = f"C{i % 10}"  # by position in `runs`, so a run keeps its colour when others are hidden
        if names is not None and run["name"] not in names:
            continue
        history = run.get("history") or []
        drawn = False
        for key, style in ((train_key, "--"), (val_key, "-")):
            xs, ys = _series(history, key, percent)
            if xs:
                ax.plot(xs, ys, style, color=colour, marker="o" if len(xs) == 1 else None, linewidth=1.8)
                drawn = True
        if drawn:
            handles.append(Line2D([], [], color=colour, linewidth=2.5, label=_run_label(run)))

    if not handles:
        ax.set_axis_off()
        msg = ("No recorded runs yet: train one with  python -m inat train" if not runs else
               f"No selected run records {metric}.")
        ax.text(0.5, 0.5, msg, ha="center", va="center", fontsize=12, color="0.35", transform=ax.transAxes)
        return fig

    ax.set_xlabel("Epoch")
    ax.set_ylabel(ylabel)
    ax.set_title(f"{ylabel.split(' (')[0]} per epoch")
    ax.grid(True, alpha=0.3)
    ax.xaxis.get_major_locator().set_params(integer=True)
    styles = [Line2D([], [], color="0.3", linestyle="-", label="validation")]
    if train_key is not None:
        styles.insert(0, Line2D([], [], color="0.3", linestyle="--", label="training"))
    # Figure-level legends placed "outside": constrained layout shrinks the axes to make room.
    fig.legend(handles=handles, title="Run", loc="outside right upper", fontsize=9)
    fig.legend(handles=styles, loc="outside right lower", fontsize=9)
    return fig


def _run_label(run: dict) -> str:
    extra = ", ".join(str(x) for x in (run.get("arch"), run.get("init")) if x)
    return f"{run['name']} ({extra})" if extra else str(run["name"])


def plot_reliability(bins: list[dict], before: list[dict] | None = None, *, title: str = "",
                     width: float = 5.0, height: float = 4.2):
    """A reliability diagram: accuracy against confidence per bin (`inat.training.calibration.reliability`), the
    diagonal where they would be equal, the bin's photo count as the marker's size; `before` drawn faint."""
    from matplotlib.figure import Figure  # keeps matplotlib out of start-up: only drawing needs it
    fig = Figure(figsize=(width, height), dpi=100, layout="constrained")
    ax = fig.add_subplot()
    ax.plot([0, 1], [0, 1], ":", color="0.5", linewidth=1, label="probability = how often right")
    total = max(1, sum(b["n"] for b in bins))
    for data, style, label in ((before, dict(color="0.6", alpha=0.7), "before calibration"),
                               (bins, dict(color="C0"), "calibrated" if before else "measured")):
        if not data:
            continue
        xs, ys = [b["confidence"] for b in data], [b["accuracy"] for b in data]
        ax.plot(xs, ys, "-", linewidth=1.5, **style)
        ax.scatter(xs, ys, s=[20 + 400 * b["n"] / total for b in data], label=label, zorder=3, **style)
    ax.set(xlim=(0, 1), ylim=(0, 1.02), xlabel="Probability of the top answer", ylabel="Share of top answers that were right",
           title=title or "Reliability")
    ax.grid(True, alpha=0.3)
    ax.legend(loc="lower right", fontsize=8)
    return fig


def save_png(fig, path: str | Path, dpi: int = 150) -> Path:
    """Write the figure as a PNG and return its path."""
    path = Path(path)
    fig.savefig(path, format="png", dpi=dpi)
    return path


def format_duration(seconds) -> str | None:
    """'28 h 50 min', '12 min', '40 s'; None when unknown."""
    if not seconds:
        return None
    seconds = round(float(seconds))
    if seconds < 60:
        return f"{seconds} s"
    hours, minutes = divmod(round(seconds / 60), 60)
    return f"{hours} h {minutes} min" if hours else f"{minutes} min"


def runs_table(runs: list[dict]) -> list[list]:
    """One row per run, columns TABLE_HEADERS: best validation top-1 (%, with its epoch), lowest
    validation loss, epochs, input size and training time; None where the run did not record it."""
    rows = []
    for r in runs:
        history = r.get("history") or []
        scored = [h for h in history if h.get("val_top1") is not None]
        best = max(scored, key=lambda h: h["val_top1"], default=None)
        losses = [h["val_loss"] for h in history if h.get("val_loss") is not None]
        rows.append([
            r["name"], r.get("arch"), r.get("init"),
            round(100 * best["val_top1"], 2) if best else None,
            best.get("epoch") if best else None,
            round(min(losses), 4) if losses else None,
            r.get("epochs") or len(history), r.get("img_size"), format_duration(r.get("seconds")),
        ])
    return rows


def thesis_table() -> list[list]:
    """The thesis's reported results (THESIS_RESULTS) as rows, columns THESIS_HEADERS; None where not reported."""
    return [[t["model"], t["init"], t["val_top1"], t["val_loss"], t["notes"]] for t in THESIS_RESULTS]


def markdown_table(headers: list[str], rows: list[list], missing: str = "—") -> str:
    """A Markdown table; numbers keep their given precision, None becomes `missing`."""
    def cell(v):
        return missing if v is None else str(v).replace("|", "\\|")
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)
