"""inat.training.distributed: one process, or one of a torchrun group (the DDP training run itself: test_train.py)."""
import torch

from inat.training.distributed import all_reduce, describe_device, distributed, setup_device


def test_outside_torchrun_nothing_is_joined(monkeypatch):
    monkeypatch.delenv("WORLD_SIZE", raising=False)
    assert not distributed()
    assert all_reduce(torch.device("cpu"), 3.0, 4) == (3.0, 4)  # the values themselves
    assert setup_device("cpu") == (torch.device("cpu"), 0, 1)
    assert setup_device("auto")[0].type == ("cuda" if torch.cuda.is_available() else "cpu")


def test_the_device_as_the_run_record_names_it(monkeypatch):
    monkeypatch.setattr(torch, "get_num_threads", lambda: 2)
    one = describe_device(torch.device("cpu"), 1)
    assert one.startswith("cpu (2 threads, ") and one.endswith(")")
    assert describe_device(torch.device("cpu"), 4) == "4 × " + one
    monkeypatch.setattr(torch, "get_num_threads", lambda: 1)
    assert describe_device(torch.device("cpu"), 1).startswith("cpu (1 thread, ")
