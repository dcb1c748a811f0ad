"""The method registry: every method file registers itself, and everything that lists methods reads the registry."""

from __future__ import annotations

import os
import pkgutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import stylelab
from stylelab import bench, cli, methods, weights

ROOT = Path(__file__).resolve().parent.parent


def test_every_method_file_registers_one_method_named_as_the_file():
    files = {m.name for m in pkgutil.iter_modules(methods.__path__) if not m.name.startswith("_")}
    reg = methods.registry()
    assert set(reg) == files
    for name, m in reg.items():
        assert m.module == f"stylelab.methods.{name}" and m.summary and m.run_cli and m.add_cli_arguments


def test_registry_feeds_exports_cli_bench_and_weights():
    reg = methods.registry()
    assert list(reg) == sorted(reg, key=lambda n: reg[n].order)
    for name, m in reg.items():
        assert getattr(stylelab.methods, name).__name__ == m.module  # its one path: stylelab.methods.<name>
        assert name not in stylelab.__all__ and not hasattr(stylelab, name)  # no top-level shortcut
        for ckpt in m.checkpoints:
            assert ckpt in weights.names(), (name, ckpt)
        parser = cli.build_parser(name, "transfer")  # the method's options parse with the common ones
        args = parser.parse_args(["transfer", "--method", name, "c.png", "s.png", "-o", "o.png"])
        assert args.method == name
    rows = [r.key for m in reg.values() for r in m.bench]
    assert len(rows) == len(set(rows)) and set(rows) == set(bench.ROWS)
    # table order: methods in registry order, pixel-space rows last
    assert bench.method_names() == [r.key for r in methods.bench_rows()]
    families = [bench.ROWS[k].family == "pixel" for k in bench.method_names()]
    assert families == sorted(families)
    trainable = sorted(n for n, m in reg.items() if m.train is not None)
    train_action = next(a for a in cli.build_parser()._subparsers._group_actions[0].choices["train"]._actions
                        if a.dest == "method")
    assert sorted(train_action.choices) == trainable


def test_bad_registrations_and_unknown_names_say_what_to_do():
    with pytest.raises(ValueError, match="lower-case"):
        methods.register(methods.Method(name="Bad-Name", order=0, summary="x"))
    with pytest.raises(ValueError, match="registered twice"):
        methods.register(methods.Method(name="adain", order=0, summary="x"), module="somewhere.else")
    with pytest.raises(ValueError, match="unknown method 'nope'; choose from gatys, .*adain"):
        methods.get("nope")


def test_a_new_method_file_is_all_it_takes(tmp_path):
    """A method module dropped into the package appears in the CLI, the bench table, train and stylelab.methods"""
    (tmp_path / "toy.py").write_text(textwrap.dedent('''
        from stylelab.methods import BenchRow, Method, Runner, TrainJob, TrainSpec, register

        class Toy:
            pass

        def add_cli_arguments(parser):
            parser.add_argument("--toy-strength", type=float, default=0.5)

        def run_cli(content, style, run, *, toy_strength):
            return content * toy_strength

        def _train(images, run):
            raise ValueError("toy has nothing to train")

        register(Method(name="toy", order=25, summary="a toy", add_cli_arguments=add_cli_arguments,
                        run_cli=run_cli, bench=(BenchRow("toy", "Toy", "feed-forward", lambda cfg, d: Runner(lambda c, s: c, None)),),
                        train=TrainSpec(_train, help="nothing")))
    '''))
    code = textwrap.dedent(f'''
        import stylelab.methods as M
        M.__path__.append({str(tmp_path)!r})
        import stylelab
        from stylelab import bench, cli
        assert stylelab.methods.toy.Toy.__name__ == "Toy"
        assert bench.method_names()[:4] == ["gatys", "adain", "toy", "wct"], bench.method_names()
        args = cli.build_parser("toy", "transfer").parse_args(
            ["transfer", "--method", "toy", "a", "b", "-o", "c", "--toy-strength", "2"])
        assert args.toy_strength == 2
        assert cli.main(["train", "--method", "toy", {str(tmp_path)!r}]) == 1  # the method's own error
        print("ok")
    ''')
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert out.returncode == 0 and "ok" in out.stdout, out.stderr[-3000:]


# ----------------------------------------------------------------------------- capabilities declared once
def test_tile_acceptance_and_the_memory_advice_agree_for_every_method(tmp_path):
    """``--tile`` is accepted exactly for the methods whose out-of-memory advice proposes ``--tile auto``."""
    from stylelab import io, memory, tiling

    import torch

    io.save_image(torch.rand(1, 3, 16, 16), tmp_path / "c.png")
    for name, m in methods.registry().items():
        advice = str(memory.advice_for_oom(RuntimeError("out of memory"), name, 3000, 4000)) if m.memory else ""
        args = cli.build_parser(name, "transfer").parse_args(
            ["transfer", "--method", name, str(tmp_path / "c.png"), str(tmp_path / "c.png"), "-o",
             str(tmp_path / f"{name}.png"), "--size", "16", "--tile", "auto", "--tile-budget", "1e-6"])
        try:
            cli._plan(args, m, cli._method_options(args, m), "cpu")
            accepted = True
        except memory.MemoryBudgetError:
            accepted = True  # accepted, then refused by the (absurd) budget: the tile plan ran
        except (ValueError, FileNotFoundError) as err:
            accepted = "--tile works with" not in str(err)
        assert accepted == m.tiles, (name, m.tiles)
        assert ("--tile auto" in advice) == m.tiles or m.memory is None, (name, advice)
        assert (name in methods.tiled()) == m.tiles
        if m.tiles:
            assert m.memory is not None, f"{name} tiles, so it needs a memory model (the tile budget uses it)"
    assert set(methods.tiled()) == {"adain", "photowct", "wct2"}  # wct runs whole: no --tile, no advice of it
    assert "--tile auto" not in str(memory.advice_for_oom(RuntimeError("out of memory"), "wct", 3000, 4000))
    help_text = " ".join(cli.build_parser("adain", "transfer")._subparsers._group_actions[0].choices["transfer"]
                         .format_help().split())
    assert f"({', '.join(methods.tiled())})" in help_text  # --tile's help lists the same methods
    assert tiling  # (the module that reads the registry for its help)


def test_memory_models_come_from_the_registrations():
    from stylelab import memory

    reg = methods.registry()
    assert memory.known_methods() == tuple(n for n, m in reg.items() if m.memory is not None) + ("smooth",)
    for name in memory.known_methods()[:-1]:
        model = reg[name].memory
        assert isinstance(model, memory.MemoryModel)
        # the estimate is the declared model: weights + content bytes per pixel (style smaller than the content)
        got = memory.estimate_peak_bytes(name, 100, 100, style_hw=(1, 1), steps=0)
        assert got == int(model.weights + model.content_bpp * 100 * 100), name
    assert reg["gatys"].memory.lbfgs_history == 100 and reg["dpst"].memory.lbfgs_history == 50
    assert [n for n, m in reg.items() if m.memory is not None and m.memory.smooths] == ["photowct"]


def test_runners_take_typed_options_named_as_the_cli_options():
    """``run_cli``/``check_options``/``run_cli_video`` receive the method's own options by keyword (never a Namespace)."""
    import inspect

    for name, m in methods.registry().items():
        options = set(methods.option_names(m))
        parser = cli.build_parser(name, "transfer")
        args = vars(parser.parse_args(["transfer", "--method", name, "c.png", "s.png", "-o", "o.png"]))
        assert options <= set(args), name
        for fn in (m.run_cli, m.check_options, m.run_cli_video):
            if fn is None:
                continue
            params = inspect.signature(fn).parameters
            positional = [p for p in params.values() if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
            assert len(positional) == (3 if fn is not m.check_options else 0), (name, fn.__name__)
            keywords = {p.name for p in params.values() if p.kind == p.KEYWORD_ONLY}
            assert keywords <= options, (name, fn.__name__, keywords - options)
            if not any(p.kind == p.VAR_KEYWORD for p in params.values()):
                assert keywords == options, (name, fn.__name__, options - keywords)
            fn_src = inspect.getsource(fn)
            assert "args." not in fn_src and "getattr(args" not in fn_src, (name, fn.__name__)
    assert methods.option_names("wct") == ("alpha", "wct_preset", "levels", "vgg", "decoder_dir", "weights")
    for name, m in methods.registry().items():  # stylelab train: build(images, run, **options)
        if m.train is None:
            continue
        params = inspect.signature(m.train.build).parameters
        positional = [p for p in params.values() if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
        assert len(positional) == 2, name
        keywords = {p.name for p in params.values() if p.kind == p.KEYWORD_ONLY}
        assert keywords <= set(methods.option_names(m, "train")), name
    assert methods.option_names("wct", "train") == ("level", "feature_weight")


def test_a_method_runner_gets_a_transfer_run_and_its_options(tmp_path, monkeypatch):
    """``stylelab transfer`` calls ``run_cli(content, style, TransferRun, **options)``: seen from inside."""
    import torch

    from stylelab import io

    seen = {}

    def fake(content, style, run, **options):
        seen.update(run=run, options=options)
        return content

    m = methods.get("wct2")
    monkeypatch.setattr(m, "run_cli", fake)
    io.save_image(torch.rand(1, 3, 24, 24), tmp_path / "c.png")
    rc = cli.main(["transfer", "--method", "wct2", str(tmp_path / "c.png"), str(tmp_path / "c.png"), "-o",
                   str(tmp_path / "o.png"), "--alpha", "0.5", "--seed", "3", "--tile", "auto", "--device", "cpu"])
    assert rc == 0
    run = seen["run"]
    assert isinstance(run, methods.TransferRun) and run.seed == 3 and run.labels is None
    assert run.tile.tile == "auto" and run.tile.overlap == 64 and str(run.device) == "cpu"
    assert seen["options"] == {"unpool": "cat5", "transfer_at": ["encoder", "skip", "decoder"], "alpha": 0.5,
                               "encoder_weights": None, "decoder_weights": None, "weights": None}
