"""stylelab.bench: the table's cells, skips, outputs and CLI (tiny sizes, random weights)."""

from __future__ import annotations

import csv
import json
import time

import pytest
import torch

from stylelab import bench, cli, weights
from stylelab import methods as methods_mod
from stylelab.methods import BenchRow


def _fake(monkeypatch, key, fn=None, build_error=None, pretrained=None, family="pixel"):
    def build(cfg, device):
        if build_error is not None:
            raise build_error
        return methods_mod.Runner(fn or (lambda c, s: c), pretrained)

    monkeypatch.setitem(bench.ROWS, key, BenchRow(key, f"fake {key}", family, build))


@pytest.mark.slow
def test_quick_run_writes_every_output(tmp_path):
    methods = ["pixel-adain", "pixel-wct", "wavelet-ll"]
    result = bench.run(quick=True, methods=methods, progress=False)
    assert result.sizes == [64, 96]
    assert [c.method for c in result.cells] == [m for m in methods for _ in (64, 96)]
    assert all(c.status == "ok" and c.seconds > 0 and c.peak_mib is not None for c in result.cells), result.cells
    assert result.meta["torch"] == torch.__version__ and result.meta["quick"] is True
    assert result.meta["inputs"]

    folder = result.save(tmp_path / "out")
    assert folder.parent == tmp_path / "out"
    assert {p.name for p in folder.iterdir()} == {"results.csv", "results.md", "time_vs_size.png", "meta.json"}
    rows = list(csv.DictReader(open(folder / "results.csv")))
    assert len(rows) == 6 and {r["method"] for r in rows} == set(methods)
    assert all(float(r["seconds"]) > 0 for r in rows)
    md = (folder / "results.md").read_text()
    assert f"torch {torch.__version__}" in md and "device: cpu" in md and "machine:" in md and "weights:" in md
    table = [ln for ln in md.splitlines() if ln.startswith("| ")]
    assert len(table) == 1 + len(methods) and "64 px" in table[0] and "96 px" in table[0]
    assert (folder / "time_vs_size.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert json.loads((folder / "meta.json").read_text())["sizes"] == [64, 96]

    # a second save never touches the first folder
    before = (folder / "results.md").read_text()
    again = result.save(tmp_path / "out")
    assert again != folder and (folder / "results.md").read_text() == before


def test_quick_run_of_a_network_method_says_random_weights():
    result = bench.run(sizes=[32], methods=["adain"], quick=True, progress=False, warmup=False)
    cell = result.cells[0]
    assert cell.status == "ok", cell.status
    assert cell.weights == "random"
    assert "RANDOM" in result.meta["weights"] and "random" in result.to_markdown()


@pytest.mark.slow
def test_the_wct2_row_says_random_weights_on_its_row_as_the_other_network_rows():
    result = bench.run(sizes=[32], methods=["adain", "wct2", "wavelet-ll"], quick=True, progress=False, warmup=False)
    assert [c.status for c in result.cells] == ["ok"] * 3
    rows = {line.split(" | ")[0].lstrip("| "): line.split(" | ")[1] for line in result.to_markdown().splitlines()
            if line.startswith("| ") and not line.startswith("| method")}
    assert rows == {bench.ROWS["adain"].label: "random", bench.ROWS["wct2"].label: "random",
                    bench.ROWS["wavelet-ll"].label: "—"}  # no weights at all: a dash, not "random"
    assert bench.ROWS["wct2"].label in result.meta["weights"].split("RANDOM")[1]


def test_missing_weights_are_a_skip_not_a_crash(monkeypatch):
    monkeypatch.delenv("STYLELAB_RANDOM_WEIGHTS", raising=False)
    result = bench.run(sizes=[32, 48], methods=["wct2"], random_weights=False, progress=False)
    assert [c.status for c in result.cells] == ["no weights (pass --random-weights)"] * 2


@pytest.mark.slow
def test_skips_unavailable_oom_and_predicted_time(monkeypatch):
    _fake(monkeypatch, "gone", build_error=ImportError("no module", name="stylelab.methods.gone"))

    def oom_above_32(c, s):
        if c.shape[-1] > 32:
            raise MemoryError("simulated")
        return c

    _fake(monkeypatch, "oom", oom_above_32)

    def slow(c, s):
        time.sleep(0.05)
        return c

    _fake(monkeypatch, "slow", slow)
    result = bench.run(sizes=[16, 48, 64], methods=["gone", "oom", "slow"], max_seconds=0.2, progress=False)
    status = {(c.method, c.size): c.status for c in result.cells}
    assert status[("gone", 16)].startswith("n/a: not installed")
    assert [status[("oom", s)] for s in (16, 48, 64)] == ["ok", "OOM", "OOM"]
    # 0.05 s at 16 px predicts 0.45 s at 48 px (pixel ratio 9) > 0.2 s
    assert status[("slow", 16)] == "ok" and status[("slow", 48)].startswith("skipped")
    slow_cell = result.cell("slow", 16)
    assert 0.05 <= slow_cell.seconds < 1.0  # the timer covers the call
    md = result.to_markdown()
    assert "OOM" in md and "skipped" in md and "n/a" in md


def test_errors_are_reported_per_cell(monkeypatch):
    def broken(c, s):
        raise RuntimeError("shapes do not match")

    _fake(monkeypatch, "broken", broken)
    result = bench.run(sizes=[16, 32], methods=["broken"], progress=False, warmup=False)
    assert all(c.status.startswith("error: RuntimeError") for c in result.cells)


def test_bad_arguments():
    with pytest.raises(ValueError, match="unknown method"):
        bench.run(sizes=[32], methods=["nope"], progress=False)
    with pytest.raises(ValueError, match="at least 16"):
        bench.run(sizes=[8], methods=["pixel-adain"], progress=False)


def test_default_sizes():
    assert bench.default_sizes("cpu") == (128, 256, 512, 768, 1024)
    assert bench.default_sizes("cpu", quick=True) == (64, 96)
    if torch.cuda.is_available():
        assert bench.default_sizes("cuda")[-2:] == (2048, 4096)


def test_cli_bench_quick(tmp_path, capsys):
    out = tmp_path / "res"
    rc = cli.main(["bench", "--quick", "--methods", "pixel-adain", "--out", str(out), "--no-progress"])
    assert rc == 0
    folders = list(out.iterdir())
    assert len(folders) == 1 and (folders[0] / "results.csv").exists()
    printed = capsys.readouterr().out
    assert "| pixel AdaIN" in printed and "wrote" in printed


def test_plot_is_log_log():
    result = bench.run(sizes=[32, 48], methods=["pixel-adain"], progress=False)
    fig = result.plot(published=True)
    ax = fig.axes[0]
    assert ax.get_xscale() == "log" and ax.get_yscale() == "log"
    import matplotlib.pyplot as plt

    plt.close(fig)


@pytest.mark.slow
def test_quick_mode_runs_every_row(tmp_path):
    result = bench.run(sizes=[48], quick=True, progress=False, warmup=False)
    assert {c.method for c in result.cells} == set(bench.method_names())
    bad = [(c.method, c.size, c.status) for c in result.cells if c.status != "ok" and not c.status.startswith("n/a")]
    assert not bad, bad
    result.save(tmp_path)


def test_rows_cover_the_issue():
    names = bench.method_names()
    for key in ("gatys", "adain", "wct", "photowct", "photowct-direct", "photowct-cg", "photowct-gif", "dpst", "wct2",
                "pixel-adain", "pixel-wct", "wavelet-ll", "wavelet-all", "efdm", "colour-map"):
        assert key in names
    assert set(bench.method_names("pixel")) == {"pixel-adain", "pixel-wct", "pixel-wct-gif", "wavelet-ll", "wavelet-all",
                                                "pixel-efdm", "pixel-colour-map"}
    with pytest.raises(ValueError, match="unknown method"):
        bench.load("nope")


@pytest.mark.slow
def test_interrupt_keeps_measured_cells(monkeypatch):
    def interrupt_at_48(c, s):
        if c.shape[-1] == 48:
            raise KeyboardInterrupt
        return c

    _fake(monkeypatch, "ctrlc", interrupt_at_48)
    result = bench.run(sizes=[32, 48], methods=["pixel-adain", "ctrlc", "pixel-wct"], progress=False, warmup=False)
    assert [(c.method, c.size) for c in result.cells] == [("pixel-adain", 32), ("pixel-adain", 48), ("ctrlc", 32)]
    assert result.meta["interrupted"] is True and "interrupted" in result.to_markdown()
