"""Starting a training run from a bundle's weights (`python -m inat train --init-from BUNDLE`).

Two steps, both small:
  * `load_bundle_weights`: every tensor of the bundle whose name and shape fit the new model, except the
    head, which is rebuilt for the new classes; a species the bundle already knows (same scientific
    name) keeps its row of the old head, so fine-tuning an expert on its own species starts from its
    own answers.
  * `recalibrate_batchnorm`: a converted bundle whose batch norm was folded into its convolutions
    (the iNat 2017 experts: identity BN layers, `run.batchnorm == "folded"`) would, in train mode,
    normalise each layer by batch statistics it was never trained with, and the first steps would
    undo the pretrained network. Measuring each BN input's real mean and variance on training photos
    and re-expressing the layer with them changes nothing in eval mode (exactly the same function)
    while making train mode compute nearly the same function too.
"""
from __future__ import annotations

from ..core.taxonomy import Taxon
from ..models.architectures import get_spec, get_submodule
from ..models.bundle import Bundle, BundleError
from ..models.registry import resolve

CALIBRATION_BATCHES = 16  # batches of training photos whose statistics the BN layers take


def load_bundle_weights(model, arch: str, source: str | Bundle, taxa: list[Taxon]) -> dict:
    """Copy `source`'s weights into `model` (architecture `arch`, one output per taxon in `taxa`).

    Returns {"bundle", "tensors", "head_rows"}: the bundle, how many tensors were copied, and how many
    of the new classes took their head row from a bundle class with the same scientific name.
    Raises BundleError when the bundle's architecture is not `arch`.
    """
    import torch  # keeps torch out of start-up: only training calls this
    bundle = source if isinstance(source, Bundle) else resolve(source)
    if bundle.arch != arch:
        raise BundleError(f"{bundle.path or bundle.name} is a {bundle.arch} model; train it with --arch {bundle.arch}")
    state, own = bundle.state_dict(), model.state_dict()
    head = get_spec(arch).head
    body = {k: v for k, v in state.items()
            if k in own and own[k].shape == v.shape and not k.startswith(head + ".")}
    missing = [k for k in own if k not in body and not k.startswith(head + ".")]
    if missing:
        raise BundleError(f"{bundle.path or bundle.name}: its weights do not fit a {arch} model (e.g. {missing[0]})")
    model.load_state_dict(body, strict=False)
    # The old head's rows, by the output each of the bundle's classes has.
    out_of = {t.scientific_name: i for t, i in zip(bundle.classes, bundle.output_index)}
    layer = get_submodule(model, head)
    rows = 0
    with torch.no_grad():
        for new, taxon in enumerate(taxa):
            old = out_of.get(taxon.scientific_name)
            if old is not None:
                layer.weight[new] = state[f"{head}.weight"][old]
                layer.bias[new] = state[f"{head}.bias"][old]
                rows += 1
    return {"bundle": bundle, "tensors": len(body), "head_rows": rows}


def recalibrate_batchnorm(model, batches) -> int:
    """Give every BatchNorm layer the statistics of its real input without changing the eval-mode function.

    `batches` yields input tensors already on the model's device. For a BN layer with weight w, bias b,
    running mean m, running variance v, it computes y = (x − m)·a + b with a = w/√(v + eps); measured
    mean μ and variance σ² of x over the batches give the same y as (x − μ)·a + (b + (μ − m)·a), i.e.
    running (μ, σ²), weight a·√(σ² + eps), bias b + (μ − m)·a. Returns the number of layers changed.
    """
    import torch  # only while training
    norms = [m for m in model.modules() if isinstance(m, torch.nn.BatchNorm2d) and m.track_running_stats]
    stats = {id(m): [0.0, 0.0, 0] for m in norms}  # sum, sum of squares (per channel), count

    def record(module, args):
        x = args[0].detach().double()
        s = stats[id(module)]
        s[0] = s[0] + x.sum(dim=(0, 2, 3))
        s[1] = s[1] + (x * x).sum(dim=(0, 2, 3))
        s[2] += x.numel() // x.shape[1]
    hooks = [m.register_forward_pre_hook(record) for m in norms]
    was_training = model.training
    model.eval()  # every layer sees what the unchanged network computes
    try:
        with torch.no_grad():
            for x in batches:
                model(x)
    finally:
        for h in hooks:
            h.remove()
        model.train(was_training)
    changed = 0
    with torch.no_grad():
        for m in norms:
            total, squares, n = stats[id(m)]
            if not n:
                continue
            mu = total / n
            var = (squares / n - mu * mu).clamp_min(0)
            a = m.weight.double() / torch.sqrt(m.running_var.double() + m.eps)
            m.bias.copy_(m.bias.double() + (mu - m.running_mean.double()) * a)
            m.weight.copy_(a * torch.sqrt(var + m.eps))
            m.running_mean.copy_(mu)
            m.running_var.copy_(var)
            changed += 1
    return changed


def needs_recalibration(bundle: Bundle) -> bool:
    """Whether the bundle's BN layers are placeholders for folded batch norm (see the module docstring)."""
    return bundle.run.get("batchnorm") == "folded"


def calibration_batches(dataset, batch_size: int, device, batches: int = CALIBRATION_BATCHES, seed: int = 0):
    """Up to `batches` shuffled batches of `dataset`'s images, on `device` (labels dropped)."""
    import torch  # only while training
    from torch.utils.data import DataLoader
    loader = DataLoader(dataset, batch_size=batch_size, shuffle=True, num_workers=0,
                        generator=torch.Generator().manual_seed(seed))
    for i, (x, _) in enumerate(loader):
        if i >= batches:
            break
        yield x.to(device)
