"""inat.training.checkpoint: the resume checkpoint, one safetensors file with its state as JSON; nothing pickled."""
import json
import random

import numpy as np
import pytest
import torch

from inat.training import checkpoint


def parts(seed: int = 0):
    """A small model with SGD momentum, a per-step schedule and a (disabled) grad scaler, after two steps."""
    torch.manual_seed(seed)
    model = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.BatchNorm1d(8), torch.nn.Linear(8, 3))
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, nesterov=True)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda step: 1 / (step + 1))
    scaler = torch.amp.GradScaler("cpu", enabled=False)
    for _ in range(2):
        model(torch.randn(5, 4)).sum().backward()
        opt.step()
        opt.zero_grad()
        sched.step()
    return model, opt, sched, scaler


def test_round_trip_restores_everything(tmp_path):
    model, opt, sched, scaler = parts()
    random.seed(1)
    np.random.seed(2)
    torch.manual_seed(3)
    checkpoint.save(tmp_path / "resume.safetensors", model, opt, sched, scaler, epoch=2, history=[{"epoch": 1}],
                    config={"lr": 0.1}, command="python -m inat train ...")
    want = (random.random(), float(np.random.rand()), float(torch.rand(1)))
    state = checkpoint.load(tmp_path / "resume.safetensors")
    assert (state["epoch"], state["history"], state["config"]) == (2, [{"epoch": 1}], {"lr": 0.1})
    assert state["tensors"]["rng.torch"].dtype == torch.uint8
    assert any(k.endswith("momentum_buffer") for k in state["tensors"])
    fresh = parts(seed=9)
    checkpoint.restore(state, *fresh)
    m2, opt2, sched2, _ = fresh
    assert all(torch.equal(a, b) for a, b in zip(model.state_dict().values(), m2.state_dict().values()))
    assert sched2.state_dict()["last_epoch"] == sched.state_dict()["last_epoch"] == 2
    assert opt2.param_groups[0]["lr"] == pytest.approx(opt.param_groups[0]["lr"])
    for p1, p2 in zip(model.parameters(), m2.parameters()):
        assert torch.equal(opt.state[p1]["momentum_buffer"], opt2.state[p2]["momentum_buffer"])
    # Every random number generator continues where the saved run was.
    assert (random.random(), float(np.random.rand()), float(torch.rand(1))) == want
    assert not list(tmp_path.glob("*.tmp"))


def test_the_file_holds_no_pickle(tmp_path):
    checkpoint.save(tmp_path / "r.safetensors", *parts(), epoch=1)
    raw = (tmp_path / "r.safetensors").read_bytes()
    # A safetensors file: 8 bytes of header length, then that much JSON (not a pickle, not torch.save's zip).
    # The first byte alone proves nothing: it is the length's low byte, 0x80 one time in 256.
    n = int.from_bytes(raw[:8], "little")
    header = json.loads(raw[8:8 + n])
    assert 0 < n < len(raw) and raw[:2] != b"PK"
    assert json.loads(header["__metadata__"]["state"])["format"] == "inat-resume"


def test_files_that_are_not_checkpoints(tmp_path):
    checkpoint.save(tmp_path / "r.safetensors", *parts(), epoch=1)
    raw = (tmp_path / "r.safetensors").read_bytes()
    (tmp_path / "torn.safetensors").write_bytes(raw[: len(raw) // 2])
    with pytest.raises(ValueError, match="torn.safetensors: not a readable resume checkpoint"):
        checkpoint.load(tmp_path / "torn.safetensors")
    from safetensors.torch import save_file
    save_file({"x": torch.zeros(1)}, str(tmp_path / "weights.safetensors"), metadata={"state": '{"format": "other"}'})
    with pytest.raises(ValueError, match="not a resume checkpoint \\(format 'other'\\)"):
        checkpoint.load(tmp_path / "weights.safetensors")
    with pytest.raises(ValueError, match="not a readable"):
        checkpoint.load(tmp_path / "missing.safetensors")
