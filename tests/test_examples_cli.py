"""Smoke runs of every example command on tiny generated data: one epoch, a results line, a checkpoint, ``--json``;
resuming continues exactly; bad input is one clear line and exit status 2."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
import torch

import nets
from engine.cli import run_main
from examples import charlm, dbn, gan, mnist, sdae
from tests.conftest import ROOT
from tests.test_examples_data import write_fake_mnist


@pytest.fixture(scope="module")
def fake_mnist(tmp_path_factory):
    folder = tmp_path_factory.mktemp("mnist")
    write_fake_mnist(folder, n_train=48, n_test=16)
    return folder


@pytest.fixture(scope="module")
def text_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("text") / "verse.txt"
    path.write_text("To be, or not to be, that is the question:\nWhether 'tis nobler in the mind to suffer\n" * 8)
    return path


def _run(main, argv, capsys) -> tuple[list[str], dict]:
    assert main(argv) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    result = json.loads(lines[-1])                      # --json: the last line is one JSON object
    return lines, result


MNIST_ARGS = ["--epochs", "1", "--limit", "32", "--no-verify", "--no-progress", "--json"]


@pytest.mark.parametrize("model", ["mlp", "lenet", "cnn"])
def test_mnist_smoke(tmp_path, fake_mnist, capsys, model):
    run = tmp_path / model
    lines, result = _run(mnist.main, ["--model", model, "--data-dir", str(fake_mnist), "--run-dir", str(run),
                                      "--batch-size", "16", *MNIST_ARGS], capsys)
    assert lines[-2].startswith(f"result: mnist {model} test accuracy ") and "1 epochs" in lines[-2]
    assert result["epochs"] == 1 and 0.0 <= result["test_accuracy"] <= 1.0 and result["cpu_s"] > 0
    assert result["command"].startswith("python -m examples.mnist --model")
    model_back, ckpt = nets.load_model(run / "model.pt")
    assert ckpt.extra["epoch"] == 1 and nets.num_parameters(model_back) == result["parameters"]
    assert json.loads((run / "results.json").read_text())["test_accuracy"] == result["test_accuracy"]
    if model == "lenet":
        assert result["parameters"] == 51_902


def test_mnist_resume_continues_exactly(tmp_path, fake_mnist, capsys):
    common = ["--model", "cnn", "--data-dir", str(fake_mnist), "--batch-size", "8", "--scheduler", "none",
              "--limit", "24", "--no-verify", "--no-progress", "--json"]
    _, straight = _run(mnist.main, [*common, "--epochs", "2", "--run-dir", str(tmp_path / "a")], capsys)
    _run(mnist.main, [*common, "--epochs", "1", "--run-dir", str(tmp_path / "b")], capsys)
    _, resumed = _run(mnist.main, [*common, "--epochs", "2", "--run-dir", str(tmp_path / "b"), "--resume"], capsys)
    assert resumed["epochs"] == 2 and resumed["test_loss"] == straight["test_loss"]
    a, b = (nets.read_checkpoint(tmp_path / d / "model.pt") for d in "ab")
    assert all(torch.equal(a.model[k], b.model[k]) for k in a.model)       # dropout, augmentation, order: replayed
    assert len(b.extra["history"]) == 2


def test_dbn_smoke_generates_digits(tmp_path, fake_mnist, capsys):
    run = tmp_path / "dbn"
    lines, result = _run(dbn.main, ["--data-dir", str(fake_mnist), "--run-dir", str(run), "--sizes", "20,20,30",
                                    "--pretrain-epochs", "1", "--pretrain-batch-size", "16", "--gibbs-steps", "3",
                                    "--samples-per-digit", "2", *MNIST_ARGS], capsys)
    assert lines[-2].startswith("result: dbn 784-20-20-30-10 fine-tuned test accuracy")
    assert [layer["shape"] for layer in result["pretrain"]] == [[784, 20], [20, 20], [30, 30]]
    assert (run / "samples.png").read_bytes()[:4] == b"\x89PNG"
    for name in ("rbm1.pt", "rbm2.pt", "rbm3.pt", "finetune.pt"):
        assert nets.read_checkpoint(run / name).extra["done"]
    # the top RBM learned by PCD (the default): its checkpoint holds the persistent chains, one per batch row
    assert [layer["negative"] for layer in result["pretrain"]] == ["cd", "cd", "pcd"]
    assert "free_energy_chains" in result["pretrain"][2]
    assert nets.read_checkpoint(run / "rbm3.pt").extra["states"]["persistent"]["state"].shape == (16, 30)


def test_dbn_top_rbm_by_cd_and_fine_tuning_options(tmp_path, fake_mnist, capsys):
    run = tmp_path / "dbn"
    _, result = _run(dbn.main, ["--data-dir", str(fake_mnist), "--run-dir", str(run), "--sizes", "20,30",
                                "--pretrain-epochs", "1", "--top", "cd", "--samples-per-digit", "0",
                                "--finetune-dropout", "0.5", "--finetune-input-dropout", "0.2", *MNIST_ARGS], capsys)
    assert [layer["negative"] for layer in result["pretrain"]] == ["cd", "cd"]
    assert result["pretrain"][1]["lr"] == result["pretrain_config"]["lr"]      # cd: the pre-training rate
    assert nets.read_checkpoint(run / "finetune.pt").config["backbone"]["dropout"] == 0.5


def test_sdae_smoke(tmp_path, fake_mnist, capsys):
    run = tmp_path / "sdae"
    lines, result = _run(sdae.main, ["--data-dir", str(fake_mnist), "--run-dir", str(run), "--sizes", "20,10",
                                     "--pretrain-epochs", "1", *MNIST_ARGS], capsys)
    assert lines[-2].startswith("result: sdae 784-20-10-10 fine-tuned test accuracy")
    assert len(result["pretrain"]) == 2 and (run / "finetune.pt").exists() and (run / "dae2.pt").exists()


def test_gan_smoke_writes_sample_grids(tmp_path, fake_mnist, capsys):
    run = tmp_path / "gan"
    classifier = tmp_path / "mlp"
    _run(mnist.main, ["--data-dir", str(fake_mnist), "--run-dir", str(classifier), *MNIST_ARGS], capsys)
    lines, result = _run(gan.main, ["--data-dir", str(fake_mnist), "--run-dir", str(run), "--width", "4",
                                    "--noise-dim", "8", "--samples", "4", "--batch-size", "16",
                                    "--classifier", str(classifier / "model.pt"), *MNIST_ARGS], capsys)
    assert lines[-2].startswith("result: gan samples in") and "classifier score" in lines[-2]
    assert 1.0 <= result["classifier_score"] <= 10.0
    assert (run / "samples_epoch001.png").read_bytes()[:4] == b"\x89PNG" and (run / "samples.png").exists()
    assert nets.read_checkpoint(run / "model.pt").extra["optimizers"].keys() == {"generator", "discriminator"}


@pytest.mark.parametrize("model", ["lstm", "gru", "gpt"])
def test_charlm_smoke_samples_text(tmp_path, text_file, capsys, model):
    run = tmp_path / model
    lines, result = _run(charlm.main, ["--model", model, "--text", str(text_file), "--run-dir", str(run),
                                       "--epochs", "1", "--steps-per-epoch", "3", "--context", "16", "--layers", "1",
                                       "--width", "16", "--heads", "2", "--batch-size", "4", "--sample", "40",
                                       "--no-progress", "--json"], capsys)
    assert lines[-2].startswith(f"result: charlm {model} validation loss")
    assert result["steps"] == 3 and result["val_loss"] > 0
    assert len(result["sample"]) == 41 and result["sample"][0] == "\n"           # prompt + 40 characters
    assert set(result["sample"]) <= set(text_file.read_text())
    model_back, ckpt = nets.load_model(run / "model.pt")
    assert ckpt.metadata["chars"] == sorted(set(text_file.read_text()))


def test_gpt_validation_loss_is_exact_over_the_split():
    torch.manual_seed(0)
    model = nets.GPT(5, max_len=4, dim=8, depth=1, heads=2).eval()
    tokens = torch.randint(0, 5, (11,))
    got = charlm.validation_loss(model, tokens, context=4, recurrent=False, batch_size=2)
    # by hand: windows [0:4], [4:8], then the tail [8:10] predicting tokens 1..10
    total = 0.0
    for start, end in ((0, 4), (4, 8), (8, 10)):
        logits = model(tokens[start:end][None])[0]
        total += torch.nn.functional.cross_entropy(logits, tokens[start + 1:end + 1], reduction="sum").item()
    assert got == pytest.approx(total / 10, rel=1e-5)


@pytest.mark.parametrize("main, argv, message", [
    (mnist.main, ["--data-dir", "{tmp}"], "MNIST file train-images-idx3-ubyte (or train-images-idx3-ubyte.gz) is "
                                          "missing; looked in {tmp}"),
    (mnist.main, ["--lr", "0"], "lr must be > 0"),
    (dbn.main, ["--sizes", "500,x"], "layer sizes must be comma-separated integers"),
    (dbn.main, ["--pcd-chains", "0"], "--pcd-chains must be >= 1, got 0"),
    (sdae.main, ["--finetune-input-dropout", "1"], "--finetune-input-dropout must be in [0, 1), got 1.0"),
    (charlm.main, ["--text", "{tmp}/none.txt"], "text corpus {tmp}/none.txt does not exist"),
    (gan.main, ["--classifier", "{tmp}/none.pt"], "checkpoint {tmp}/none.pt does not exist"),
])
def test_bad_input_is_one_line_and_status_2(tmp_path, capsys, main, argv, message):
    argv = [a.format(tmp=tmp_path) for a in argv] + ["--run-dir", str(tmp_path / "run")]
    with pytest.raises(SystemExit) as exit_info:
        run_main(main, argv)
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("error: ") and message.format(tmp=tmp_path) in err, err


def test_commands_run_as_modules(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "examples.sdae", "--sizes", "0"], capture_output=True, text=True,
                          cwd=ROOT, timeout=300)
    assert proc.returncode == 2 and proc.stderr == "error: layer sizes must be positive integers, got '0'\n"
