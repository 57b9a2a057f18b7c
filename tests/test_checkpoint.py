"""save_checkpoint / load_checkpoint: exact resume, pruning, and surviving a SIGKILL mid-save."""

import copy
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

from rlvr.trainers.run.checkpoint import latest_checkpoint, load_checkpoint, save_checkpoint

ROOT = Path(__file__).resolve().parents[1]
SEED = 1234


def assert_same(a, b):
    """Nested dicts, lists and tuples of tensors and plain values are equal, tensors bitwise."""
    if isinstance(a, torch.Tensor):
        assert isinstance(b, torch.Tensor) and a.dtype == b.dtype and torch.equal(a, b)
    elif isinstance(a, dict):
        assert a.keys() == b.keys()
        for key in a:
            assert_same(a[key], b[key])
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b)
        for x, y in zip(a, b, strict=True):
            assert_same(x, y)
    else:
        assert a == b


def linear_run():
    model = nn.Linear(4, 3)
    optimizer = torch.optim.AdamW(model.parameters(), lr=0.1)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: 0.9**s)

    def train_step():
        loss = model(torch.randn(5, 4)).pow(2).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        scheduler.step()

    return model, optimizer, scheduler, train_step


def step_dirs(run_dir):
    return sorted(p.name for p in (run_dir / "checkpoints").iterdir() if p.name.startswith("step-"))


def test_round_trip_restores_everything_to_the_moment_of_the_save(tmp_path):
    torch.manual_seed(0)
    random.seed(0)
    np.random.seed(0)
    model, optimizer, scheduler, train_step = linear_run()
    for _ in range(3):
        train_step()
    path = save_checkpoint(tmp_path, 3, model=model, optimizer=optimizer, scheduler=scheduler, extra={"best": 0.5})
    params = copy.deepcopy(model.state_dict())
    optimizer_state = copy.deepcopy(optimizer.state_dict())
    epoch, lr = scheduler.last_epoch, optimizer.param_groups[0]["lr"]
    draws = (random.random(), np.random.rand(3).tolist(), torch.rand(3))

    for _ in range(4):
        train_step()
    random.random()
    np.random.rand()
    assert not torch.equal(model.weight, params["weight"])
    assert scheduler.last_epoch == epoch + 4

    assert latest_checkpoint(tmp_path) == path == tmp_path / "checkpoints" / "step-00000003"
    assert sorted(p.name for p in path.iterdir()) == ["meta.json", "model.pt", "optimizer.pt", "rng.pt", "scheduler.pt"]
    info = load_checkpoint(path, model=model, optimizer=optimizer, scheduler=scheduler)

    assert info == {"step": 3, "extra": {"best": 0.5}}
    assert_same(model.state_dict(), params)
    assert_same(optimizer.state_dict(), optimizer_state)
    assert (scheduler.last_epoch, optimizer.param_groups[0]["lr"]) == (epoch, lr)
    assert_same((random.random(), np.random.rand(3).tolist(), torch.rand(3)), draws)


def test_keep_prunes_older_checkpoints(tmp_path):
    model, optimizer, scheduler, train_step = linear_run()
    for step in range(1, 6):
        train_step()
        save_checkpoint(tmp_path, step, model=model, optimizer=optimizer, scheduler=scheduler, keep=2)
    assert step_dirs(tmp_path) == ["step-00000004", "step-00000005"]
    assert (tmp_path / "checkpoints" / "latest").read_text() == "step-00000005\n"

    save_checkpoint(tmp_path, 7, model=model, optimizer=optimizer, scheduler=scheduler, keep=3)
    assert step_dirs(tmp_path) == ["step-00000004", "step-00000005", "step-00000007"]
    assert [p.name for p in (tmp_path / "checkpoints").iterdir() if p.name.startswith(".")] == []


def test_saving_an_earlier_step_abandons_later_checkpoints(tmp_path):
    model, optimizer, scheduler, _ = linear_run()
    for step in (2, 4, 6):
        save_checkpoint(tmp_path, step, model=model, optimizer=optimizer, scheduler=scheduler, keep=3)
    # Resumed from step 4 (say step 6 was saved but the run was restarted from 4): the next save is 5.
    save_checkpoint(tmp_path, 5, model=model, optimizer=optimizer, scheduler=scheduler, keep=3)
    assert step_dirs(tmp_path) == ["step-00000002", "step-00000004", "step-00000005"]
    # Saving the same step again replaces it.
    save_checkpoint(tmp_path, 5, model=model, optimizer=optimizer, scheduler=scheduler, extra={"again": True})
    assert step_dirs(tmp_path) == ["step-00000004", "step-00000005"]
    assert load_checkpoint(latest_checkpoint(tmp_path), model=model, optimizer=None, scheduler=None) == {
        "step": 5,
        "extra": {"again": True},
    }


def test_latest_checkpoint_of_an_empty_run_is_none(tmp_path):
    assert latest_checkpoint(tmp_path) is None
    assert latest_checkpoint(tmp_path / "no-such-run") is None
    (tmp_path / "checkpoints").mkdir()
    assert latest_checkpoint(tmp_path) is None


def test_unfinished_saves_are_never_picked_up(tmp_path):
    model, optimizer, scheduler, _ = linear_run()
    path = save_checkpoint(tmp_path, 3, model=model, optimizer=optimizer, scheduler=None)
    root = tmp_path / "checkpoints"
    (root / ".tmp-step-00000009-0123456789ab").mkdir()  # what a save killed mid-write leaves
    (root / ".tmp-step-00000009-0123456789ab" / "model.pt").write_bytes(b"half")
    (root / "step-00000008").mkdir()  # no meta.json: not a checkpoint
    assert latest_checkpoint(tmp_path) == path

    (root / "latest").write_text("step-00000007\n")  # names a checkpoint that is gone: fall back to a scan
    assert latest_checkpoint(tmp_path) == path
    (root / "latest").unlink()
    assert latest_checkpoint(tmp_path) == path

    with pytest.raises(FileNotFoundError, match="saved with scheduler=None"):
        load_checkpoint(path, model=model, optimizer=optimizer, scheduler=scheduler)
    with pytest.raises(FileNotFoundError, match="not a complete checkpoint"):
        load_checkpoint(root / "step-00000008", model=model, optimizer=optimizer, scheduler=None)


def test_extra_must_be_json(tmp_path):
    model, optimizer, _, _ = linear_run()
    with pytest.raises(TypeError, match="JSON-serialisable"):
        save_checkpoint(tmp_path, 1, model=model, optimizer=optimizer, scheduler=None, extra={"model": model})
    assert latest_checkpoint(tmp_path) is None
    assert not (tmp_path / "checkpoints").exists()


SAVE_FOREVER = """
import sys
from pathlib import Path
import torch
from rlvr.trainers.run.checkpoint import save_checkpoint

model = torch.nn.Linear(512, 512)
optimizer = torch.optim.AdamW(model.parameters())
model(torch.randn(2, 512)).sum().backward()
optimizer.step()
step = 0
while True:
    step += 1
    with torch.no_grad():
        for p in model.parameters():
            p.fill_(step)
    save_checkpoint(Path(sys.argv[1]), step, model=model, optimizer=optimizer, scheduler=None, extra={"step": step})
    if step == 1:
        print("saved", flush=True)
"""


def test_sigkill_mid_save_leaves_a_complete_checkpoint(tmp_path):
    process = subprocess.Popen(
        [sys.executable, "-c", SAVE_FOREVER, str(tmp_path)], cwd=ROOT, stdout=subprocess.PIPE, text=True
    )
    try:
        assert process.stdout is not None and process.stdout.readline() == "saved\n"
        time.sleep(1.0)
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait()
    assert process.returncode == -signal.SIGKILL

    latest = latest_checkpoint(tmp_path)
    assert latest is not None and latest.parent == tmp_path / "checkpoints"
    for path in (tmp_path / "checkpoints").iterdir():
        if path.name.startswith("step-"):  # every directory that looks like a checkpoint is one
            model = nn.Linear(512, 512)
            info = load_checkpoint(path, model=model, optimizer=torch.optim.AdamW(model.parameters()), scheduler=None)
            assert path.name == f"step-{info['step']:08d}" and info["extra"] == {"step": info["step"]}
            assert all(torch.all(p == info["step"]) for p in model.parameters())  # no files from another step
    step = int(latest.name.removeprefix("step-"))
    assert step > 1

    model = nn.Linear(512, 512)
    optimizer = torch.optim.AdamW(model.parameters())
    assert load_checkpoint(latest, model=model, optimizer=optimizer, scheduler=None)["step"] == step
    save_checkpoint(tmp_path, step + 1, model=model, optimizer=optimizer, scheduler=None)  # and the run goes on
    assert [p.name for p in (tmp_path / "checkpoints").iterdir() if p.name.startswith(".")] == []


# Exact resume: a seeded loop whose batch is a function of (seed, step), and which also draws from the
# global python, numpy and torch streams (dropout), as sampling rollouts would.


def seed_everything(seed):
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def make_training(init_seed):
    torch.manual_seed(init_seed)
    model = nn.Sequential(nn.Linear(8, 16), nn.Dropout(0.2), nn.Tanh(), nn.Linear(16, 1))
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-2, weight_decay=0.01)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: 1 / (1 + s))
    return model, optimizer, scheduler


def train(model, optimizer, scheduler, start, stop):
    for step in range(start, stop):
        generator = torch.Generator().manual_seed(SEED + step)
        x = torch.randn(32, 8, generator=generator)
        y = x.sum(dim=1, keepdim=True)
        scale = 1 + 0.1 * random.random() + 0.1 * float(np.random.normal())
        loss = scale * (model(x) - y).pow(2).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        scheduler.step()


RESUME_IN_NEW_PROCESS = """
import sys
from pathlib import Path
import torch
sys.path.insert(0, sys.argv[1])
from test_checkpoint import make_training, seed_everything, train
from rlvr.trainers.run.checkpoint import latest_checkpoint, load_checkpoint

run_dir = Path(sys.argv[2])
seed_everything(999)
model, optimizer, scheduler = make_training(init_seed=999)
info = load_checkpoint(latest_checkpoint(run_dir), model=model, optimizer=optimizer, scheduler=scheduler)
train(model, optimizer, scheduler, info["step"], 10)
torch.save(model.state_dict(), run_dir / "final.pt")
"""


@pytest.mark.parametrize("resume_in", ["fresh_objects", "new_process"])
def test_resumed_training_is_bitwise_identical(tmp_path, resume_in):
    seed_everything(0)
    model, optimizer, scheduler = make_training(init_seed=0)
    train(model, optimizer, scheduler, 0, 10)
    straight = model.state_dict()

    seed_everything(0)
    model, optimizer, scheduler = make_training(init_seed=0)
    train(model, optimizer, scheduler, 0, 5)
    save_checkpoint(tmp_path, 5, model=model, optimizer=optimizer, scheduler=scheduler)
    train(model, optimizer, scheduler, 5, 7)  # the run goes on a little, then dies

    if resume_in == "fresh_objects":
        seed_everything(999)
        model, optimizer, scheduler = make_training(init_seed=999)
        info = load_checkpoint(latest_checkpoint(tmp_path), model=model, optimizer=optimizer, scheduler=scheduler)
        assert info["step"] == 5
        train(model, optimizer, scheduler, info["step"], 10)
        resumed = model.state_dict()
    else:
        subprocess.run(
            [sys.executable, "-c", RESUME_IN_NEW_PROCESS, str(Path(__file__).parent), str(tmp_path)],
            cwd=ROOT,
            check=True,
        )
        resumed = torch.load(tmp_path / "final.pt", weights_only=True)

    assert straight.keys() == resumed.keys()
    for name in straight:
        assert torch.equal(straight[name], resumed[name]), name
