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
        exported = getattr(stylelab, m.export or name)
        assert exported.__module__ == m.module if m.export else exported.__name__ == m.module
        assert (m.export or name) in stylelab.__all__
        for ckpt in m.checkpoints:
            assert ckpt in weights.names(), (name, ckpt)
        parser = cli.build_parser(name, "transfer")  # the method's options parse with the common ones
        args = parser.parse_args(["transfer", "--method", name, "c.png", "s.png", "-o", "o.png"])
        assert args.method == name
    rows = [r.key for m in reg.values() for r in m.bench]
    assert len(rows) == len(set(rows)) and set(rows) == set(bench.METHODS)
    # table order: methods in registry order, pixel-space rows last
    assert bench.method_names() == [r.key for r in methods.bench_rows()]
    families = [bench.METHODS[k].family == "pixel" for k in bench.method_names()]
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
    assert methods.get("adain").export == "AdaIN"


def test_a_new_method_file_is_all_it_takes(tmp_path):
    """A method module dropped into the package appears in the CLI, the bench table, train and stylelab.*"""
    (tmp_path / "toy.py").write_text(textwrap.dedent('''
        from stylelab.methods import BenchRow, Method, Runner, TrainJob, TrainSpec, register

        class Toy:
            pass

        def add_cli_arguments(parser):
            parser.add_argument("--toy-strength", type=float, default=0.5)

        def run_cli(args, content, style, device):
            return content * args.toy_strength

        def _train(args, images, device, random):
            raise ValueError("toy has nothing to train")

        register(Method(name="toy", order=25, summary="a toy", export="Toy", add_cli_arguments=add_cli_arguments,
                        run_cli=run_cli, bench=(BenchRow("toy", "Toy", "feed-forward", lambda cfg, d: Runner(run_cli, None)),),
                        train=TrainSpec(_train, help="nothing")))
    '''))
    code = textwrap.dedent(f'''
        import stylelab.methods as M
        M.__path__.append({str(tmp_path)!r})
        import stylelab
        from stylelab import bench, cli
        assert stylelab.Toy.__name__ == "Toy"
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
