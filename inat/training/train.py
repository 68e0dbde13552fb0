"""`python -m inat train`: train one architecture on an iNat 2021 dataset into a bundle.

    python -m inat train --data ../shared/data/inat21-plants47 --arch efficientnet_lite0 \\
        --init imagenet --epochs 15 --out weights/plants47

Three regimes (`--init`): scratch; imagenet (fine-tune everything from ImageNet weights); transfer
(ImageNet weights, backbone frozen, only the head trained). After every epoch the OUT bundle gets
the history so far and the weights of the best epoch so far, and a resume checkpoint is written,
each atomically; `--resume` continues a killed run where it stopped, with the same numbers it would
have produced uninterrupted. Under torchrun (WORLD_SIZE > 1) it trains with DistributedDataParallel
and rank 0 writes every file.

Shaped after torchvision's references/classification/train.py: `train_one_epoch`, `evaluate`,
`load_data` and `train` (the main loop). The settings are `inat/training/config.py`'s, the command line
`inat/cli/train.py`'s, the checkpoint format `inat/training/checkpoint.py`'s.
"""
from __future__ import annotations

import math
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from tqdm import tqdm

from ..core.preprocess import Preprocess, draft_size, eval_transform, train_transform
from ..core.rollup import TaxonTree
from ..models.architectures import create_model, get_spec, get_submodule, load_imagenet_weights
from ..models.bundle import JSON_NAME, Bundle, load_bundle, save_bundle, settle, write_json_atomic
from ..models.registry import resolve
from . import checkpoint
from .calibration import calibrate, format_calibration, save_calibration
from .config import TrainConfig, resumed_config
from .data import ImageDataset, load_split, split_taxa
from .distributed import all_reduce, describe_device, distributed, setup_device
from .warmstart import calibration_batches, load_bundle_weights, needs_recalibration, recalibrate_batchnorm

RESUME_NAME = "resume.safetensors"


# -- the pieces ----------------------------------------------------------------------------------
def training_preprocess(arch: str, img_size: int, random_resized_crop: bool) -> Preprocess:
    """The Preprocess stored in the bundle: the arch's ImageNet preprocessing at `img_size` (squashing
    for the thesis recipe, which has no random crops), so evaluation sees what training saw."""
    pre = get_spec(arch).preprocess.replace(input_size=img_size)
    return pre if random_resized_crop else pre.replace(resize="squash")


def load_data(data_dir, train_split: str, val_split: str, pre, *, random_resized_crop: bool, hflip: bool,
              rotation: float):
    """(train dataset, val dataset, taxa); both splits index classes in the training split's id order."""
    taxa = split_taxa(data_dir, train_split)
    # JPEGs decode at a reduced scale, by the same rule as the predictor's.
    train_tf = train_transform(pre, random_resized_crop=random_resized_crop, hflip=hflip, rotation=rotation)
    train = ImageDataset(load_split(data_dir, train_split, taxa), train_tf, draft_size=draft_size(pre))
    val = ImageDataset(load_split(data_dir, val_split, taxa), eval_transform(pre), draft_size=draft_size(pre))
    return train, val, taxa


def init_model(arch: str, num_classes: int, init: str, init_from: str | None = None, taxa=None):
    """A fresh model ready to train: ImageNet weights (or the `init_from` bundle's) unless scratch, backbone
    frozen for transfer."""
    model = create_model(arch, num_classes)
    if init_from:
        load_bundle_weights(model, arch, init_from, taxa)
    elif init != "scratch":
        load_imagenet_weights(model, arch)
    if init == "transfer":
        head = get_submodule(model, get_spec(arch).head)
        for p in model.parameters():
            p.requires_grad_(False)
        for p in head.parameters():
            p.requires_grad_(True)
    return model


def set_train_mode(model, arch: str, init: str) -> None:
    """train() for fine-tuning; for transfer the frozen backbone stays in eval mode.

    A frozen backbone must not update its BatchNorm statistics (nor apply dropout): it is a fixed
    feature extractor, and only the head learns.
    """
    if init == "transfer":
        model.eval()
        get_submodule(model, get_spec(arch).head).train()
    else:
        model.train()


def build_optimizer(model, optimizer: str, lr: float, weight_decay: float):
    """AdamW or SGD over the trainable parameters; norms and biases (1-D tensors) get no decay."""
    import torch  # only while training
    params = [p for p in model.parameters() if p.requires_grad]
    groups = [{"params": [p for p in params if p.ndim > 1], "weight_decay": weight_decay},
              {"params": [p for p in params if p.ndim <= 1], "weight_decay": 0.0}]
    if optimizer == "sgd":
        return torch.optim.SGD(groups, lr=lr, momentum=0.9, nesterov=True)
    return torch.optim.AdamW(groups, lr=lr)


def build_scheduler(optimizer, steps_per_epoch: int, epochs: int, warmup_epochs: float):
    """Per-step linear warm-up from lr/steps to lr, then cosine decay to 0 at the last step."""
    import torch  # only while training
    total = max(1, steps_per_epoch * epochs)
    warm = min(total - 1, int(round(warmup_epochs * steps_per_epoch)))

    def factor(step: int) -> float:
        if step < warm:
            return (step + 1) / (warm + 1)
        return 0.5 * (1.0 + math.cos(math.pi * (step - warm) / max(1, total - warm)))
    return torch.optim.lr_scheduler.LambdaLR(optimizer, factor)


def topk_correct(logits, targets, ks=(1, 5)) -> list[int]:
    """How many rows have their target among the k largest logits, for each k (k capped at classes)."""
    kmax = min(max(ks), logits.shape[1])
    top = logits.topk(kmax, dim=1).indices
    hit = top.eq(targets[:, None])
    return [int(hit[:, :min(k, kmax)].any(dim=1).sum()) for k in ks]


def _progress(iterable, desc: str, enabled: bool):
    # In a log file (not a terminal) a bar redraw is a line: redraw rarely there.
    return tqdm(iterable, desc=desc, disable=not enabled, leave=False, dynamic_ncols=True,
                mininterval=0.5 if sys.stderr.isatty() else 30)


def train_one_epoch(model, criterion, optimizer, scheduler, scaler, loader, device, *, amp: bool,
                    channels_last: bool, desc: str = "train", show: bool = True) -> dict:
    """One pass over `loader`. Returns {"loss", "top1", "n", "seconds", "lr"} (summed over processes)."""
    import torch  # only while training
    start, loss_sum, correct, n = time.perf_counter(), 0.0, 0, 0
    bar = _progress(loader, desc, show)
    lr = optimizer.param_groups[0]["lr"]
    for images, targets in bar:
        images, targets = images.to(device, non_blocking=True), targets.to(device, non_blocking=True)
        if channels_last:
            images = images.contiguous(memory_format=torch.channels_last)
        with torch.autocast(device.type, dtype=torch.float16, enabled=amp):
            logits = model(images)
            loss = criterion(logits, targets)
        optimizer.zero_grad(set_to_none=True)
        scaler.scale(loss).backward()
        scaler.step(optimizer)
        scaler.update()
        lr = optimizer.param_groups[0]["lr"]  # the rate this step used
        scheduler.step()
        b = targets.shape[0]
        loss_sum += float(loss.detach()) * b
        correct += topk_correct(logits.detach().float(), targets, (1,))[0]
        n += b
        if show:
            bar.set_postfix(loss=f"{loss_sum / n:.3f}", img_s=f"{n / (time.perf_counter() - start):.1f}")
    loss_sum, correct, n = all_reduce(device, loss_sum, correct, n)
    return {"loss": loss_sum / max(n, 1), "top1": correct / max(n, 1), "n": int(n),
            "seconds": time.perf_counter() - start, "lr": lr}


def evaluate(model, loader, device, *, amp: bool = False, channels_last: bool = False, show: bool = True) -> dict:
    """Plain cross-entropy and top-1/top-5 over `loader`. Returns {"loss", "top1", "top5", "n"}."""
    import torch  # only while training
    model.eval()
    loss_sum, c1, c5, n = 0.0, 0, 0, 0
    with torch.inference_mode():
        for images, targets in _progress(loader, "val", show):
            images, targets = images.to(device, non_blocking=True), targets.to(device, non_blocking=True)
            if channels_last:
                images = images.contiguous(memory_format=torch.channels_last)
            with torch.autocast(device.type, dtype=torch.float16, enabled=amp):
                logits = model(images).float()
            loss_sum += float(torch.nn.functional.cross_entropy(logits, targets, reduction="sum"))
            k1, k5 = topk_correct(logits, targets)
            c1, c5, n = c1 + k1, c5 + k5, n + targets.shape[0]
    loss_sum, c1, c5, n = all_reduce(device, loss_sum, c1, c5, n)
    return {"loss": loss_sum / max(n, 1), "top1": c1 / max(n, 1), "top5": c5 / max(n, 1), "n": int(n)}


# -- data loaders ---------------------------------------------------------------------------------
def _loader(dataset, batch_size: int, workers: int, *, train: bool, seed: int, epoch: int, rank: int,
            world: int, distributed: bool, pin: bool):
    import torch  # only while training
    from torch.utils.data import DataLoader, DistributedSampler, Subset
    # A generator seeded by (seed, epoch) fixes the shuffle and the workers' augmentation seeds, so an
    # epoch's batches do not depend on what ran before it (this is what makes --resume exact).
    gen = torch.Generator().manual_seed(seed * 100_003 + epoch)
    if distributed and train:
        sampler = DistributedSampler(dataset, num_replicas=world, rank=rank, shuffle=True, seed=seed, drop_last=True)
        sampler.set_epoch(epoch)
        return DataLoader(dataset, batch_size, sampler=sampler, num_workers=workers, pin_memory=pin,
                          generator=gen, drop_last=len(dataset) // world > batch_size)
    if distributed:
        # Every val image exactly once across processes (DistributedSampler would pad with repeats).
        dataset = Subset(dataset, range(rank, len(dataset), world))
    # drop_last on train: a last batch of 1 would break BatchNorm.
    return DataLoader(dataset, batch_size, shuffle=train, num_workers=workers, pin_memory=pin, generator=gen,
                      drop_last=train and len(dataset) > batch_size)


# -- the run ---------------------------------------------------------------------------------------
@dataclass
class _Process:
    """One training process's parts: its device and rank, the data, the model (and its DDP wrapper), the optimiser."""
    device: object
    rank: int
    world: int
    amp: bool
    channels_last: bool
    preprocess: Preprocess
    train_set: object
    val_set: object
    taxa: list
    model: object
    ddp: object
    optimizer: object
    scheduler: object
    scaler: object
    criterion: object
    distributed: bool

    @property
    def main(self) -> bool:
        return self.rank == 0


def _process(cfg: TrainConfig, resuming: bool) -> _Process:
    """Device, data, model, optimiser, schedule and loss for `cfg` (batch norm recalibrated for a fresh
    --init-from run)."""
    import torch

    device, rank, world = setup_device(cfg.device)
    amp = cfg.amp if cfg.amp is not None else device.type == "cuda"
    channels_last = cfg.channels_last if cfg.channels_last is not None else True
    torch.manual_seed(cfg.seed + rank)
    pre = training_preprocess(cfg.arch, cfg.img_size, cfg.random_resized_crop)
    train_set, val_set, taxa = load_data(cfg.data, cfg.train_split, cfg.val_split, pre,
                                         random_resized_crop=cfg.random_resized_crop, hflip=cfg.hflip,
                                         rotation=cfg.rotation)
    model = init_model(cfg.arch, len(taxa), cfg.init, cfg.init_from, taxa).to(device)
    if cfg.init_from and not resuming:
        _recalibrate_batchnorm(model, cfg, train_set, device, rank == 0)
    if channels_last:
        model = model.to(memory_format=torch.channels_last)
    is_distributed = distributed()
    ddp = model
    if is_distributed:
        ids = [device.index] if device.type == "cuda" else None
        ddp = torch.nn.parallel.DistributedDataParallel(model, device_ids=ids)
    optimizer = build_optimizer(model, cfg.optimizer, cfg.lr, cfg.weight_decay)
    per_rank = len(train_set) // world
    steps = max(1, per_rank // cfg.batch_size if per_rank > cfg.batch_size else 1)
    scheduler = build_scheduler(optimizer, steps, cfg.epochs, cfg.warmup_epochs)
    return _Process(device, rank, world, amp, channels_last, pre, train_set, val_set, taxa, model, ddp, optimizer,
                    scheduler, torch.amp.GradScaler(device.type, enabled=amp),
                    torch.nn.CrossEntropyLoss(label_smoothing=cfg.label_smoothing), is_distributed)


def _epoch(p: _Process, cfg: TrainConfig, epoch: int, show: bool) -> dict:
    """Train one epoch, then validate: its history row."""
    t0 = time.perf_counter()
    set_train_mode(p.model, cfg.arch, cfg.init)
    where = dict(seed=cfg.seed, epoch=epoch, rank=p.rank, world=p.world, distributed=p.distributed,
                 pin=p.device.type == "cuda")
    loader = _loader(p.train_set, cfg.batch_size, cfg.workers, train=True, **where)
    tr = train_one_epoch(p.ddp, p.criterion, p.optimizer, p.scheduler, p.scaler, loader, p.device, amp=p.amp,
                         channels_last=p.channels_last, desc=f"epoch {epoch}/{cfg.epochs}", show=show and p.main)
    val_loader = _loader(p.val_set, cfg.batch_size, cfg.workers, train=False, **where)
    ev = evaluate(p.model, val_loader, p.device, amp=p.amp, channels_last=p.channels_last, show=show and p.main)
    seconds = time.perf_counter() - t0
    return {"epoch": epoch, "train_loss": tr["loss"], "train_top1": tr["top1"], "val_loss": ev["loss"],
            "val_top1": ev["top1"], "val_top5": ev["top5"], "lr": tr["lr"], "seconds": round(seconds, 2),
            "images_per_s": round(tr["n"] / tr["seconds"], 2)}


def _say_epoch(h: dict, epochs: int) -> None:
    print(f"epoch {h['epoch']}/{epochs}: train loss {h['train_loss']:.4f} top-1 {h['train_top1']:.3f} | "
          f"val loss {h['val_loss']:.4f} top-1 {h['val_top1']:.3f} top-5 {h['val_top5']:.3f} | "
          f"{h['images_per_s']:.1f} img/s, {h['seconds']:.0f} s", file=sys.stderr, flush=True)


def _run_info(cfg: TrainConfig, state: dict | None, command: str | None, p: _Process) -> dict:
    """The run's record in its bundle: how it started (the first command, not a resume's) and where it ran."""
    init = f"{cfg.init} from {cfg.init_from}" if cfg.init_from else cfg.init
    info = {"init": init, "dataset": Path(cfg.data).name, "img_size": cfg.img_size, "epochs": cfg.epochs,
            "command": command, "device": describe_device(p.device, p.world), "config": asdict(cfg)}
    if state is not None and state.get("command"):
        info["command"] = state["command"]
    return info


def train(cfg: TrainConfig, *, resume: bool = False, command: str | None = None, show: bool = True,
          stop_after: int | None = None) -> Bundle:
    """Train `cfg` into the bundle folder cfg.out and return the bundle (best epoch's metrics).

    `resume` continues from cfg.out's resume checkpoint when there is one (its saved config wins).
    `stop_after` ends the process's work after that many epochs of this call, as a kill would
    (tests use it to interrupt a run cleanly).
    """
    out = Path(cfg.out)
    state = checkpoint.load(out / RESUME_NAME) if resume and (out / RESUME_NAME).is_file() else None
    if state is not None:
        cfg = resumed_config(cfg, state["config"])
    p = _process(cfg, resuming=state is not None)
    history, start_epoch, spent = [], 1, 0.0
    if state is not None:
        checkpoint.restore(state, p.model, p.optimizer, p.scheduler, p.scaler)
        history, start_epoch, spent = state["history"], state["epoch"] + 1, state["seconds"]
        if p.main:
            print(f"resuming {out} after epoch {state['epoch']} of {cfg.epochs}", file=sys.stderr)
    if p.main:
        out.mkdir(parents=True, exist_ok=True)
        settle(out)  # a run killed while saving: finish or drop its half-done files
    bundle = Bundle(name=out.name, arch=cfg.arch, classes=p.taxa, preprocess=p.preprocess, history=history)
    run_info = _run_info(cfg, state, command, p)
    for done, epoch in enumerate(range(start_epoch, cfg.epochs + 1), start=1):
        history.append(_epoch(p, cfg, epoch, show))
        spent += history[-1]["seconds"]
        if p.main:
            _write_epoch(bundle, p.model, history, run_info, cfg.val_split, spent, out)
            checkpoint.save(out / RESUME_NAME, p.model, p.optimizer, p.scheduler, p.scaler, config=asdict(cfg),
                            history=history, epoch=epoch, seconds=spent, command=run_info["command"])
            _say_epoch(history[-1], cfg.epochs)
        if stop_after is not None and done >= stop_after:
            break
    if start_epoch > cfg.epochs and p.main:  # resumed a run that had already finished
        print(f"{out}: all {cfg.epochs} epochs already done", file=sys.stderr)
    if p.main and cfg.calibrate and (out / JSON_NAME).is_file():
        record = calibrate(load_bundle(out), cfg.data, cfg.val_split)
        save_calibration(out, {**record, "command": run_info["command"]})
        print(format_calibration(out.name, record), file=sys.stderr)
    return _reload(out, bundle) if p.main else bundle


def _recalibrate_batchnorm(model, cfg: TrainConfig, train_set, device, main: bool) -> None:
    """Real batch-norm statistics for a bundle whose BN was folded away (see inat/training/warmstart.py)."""
    if needs_recalibration(resolve(cfg.init_from)):
        n = recalibrate_batchnorm(model, calibration_batches(train_set, cfg.batch_size, device, seed=cfg.seed))
        if main:
            print(f"{cfg.init_from}: batch norm statistics of {n} layers measured on training photos", file=sys.stderr)


def _write_epoch(bundle: Bundle, model, history: list[dict], run_info: dict, val_split: str, spent: float,
                 out: Path) -> None:
    """Record the epoch: history always; the weights only when this epoch is the best so far."""
    best = max(history, key=lambda h: (h["val_top1"], h["val_top5"], -h["epoch"]))
    bundle.history = history
    bundle.run = {**run_info, "best_epoch": best["epoch"], "seconds": round(spent, 1)}
    bundle.run = {k: bundle.run[k] for k in ("init", "dataset", "img_size", "epochs", "best_epoch", "command",
                                             "device", "seconds", "config")}
    bundle.metrics = {"val_top1": best["val_top1"], "val_top5": best["val_top5"], "split": val_split}
    bundle.provenance = {"dataset": str(Path(run_info["config"]["data"])), "trained_by": "python -m inat train",
                         "command": run_info["command"], "date": time.strftime("%Y-%m-%d")}
    bundle.scope = default_scope(bundle.classes, run_info["dataset"])
    if best is history[-1] or not (out / JSON_NAME).is_file():
        save_bundle(bundle, out, model)  # weights + bundle.json, each replaced atomically
    else:
        write_json_atomic(out / JSON_NAME, bundle.to_json())


def default_scope(taxa, dataset: str) -> dict:
    """The world a trained bundle knows: the deepest taxon all its classes share (editable in bundle.json)."""
    shared = TaxonTree(taxa).shared()
    if not shared:
        return {}
    rank, name = shared[-1]
    return {"rank": rank, "name": name, "description": f"{len(taxa)} species of {dataset}"}


def _reload(out: Path, bundle: Bundle) -> Bundle:
    return load_bundle(out) if (out / JSON_NAME).is_file() else bundle
