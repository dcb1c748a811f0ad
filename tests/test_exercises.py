"""Every checker accepts the instructor's solution, rejects the registered wrong answer, and its stored
numbers are those the solution gives and (where the library has the function) those the library gives."""

import ast
import inspect
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the instructor/ folder at the repository root

from instructor.solutions import ORACLES, SOLUTIONS, WRONG
from stylelab.course import exercises as X

ROOT = Path(__file__).resolve().parent.parent
X._load_all()
IDS = sorted(X.EXERCISES)


def test_every_notebook_with_exercises_has_several_and_every_exercise_a_solution_and_a_wrong_answer():
    by_notebook = {}
    for ex_id in IDS:
        by_notebook.setdefault(ex_id.split(".")[0], []).append(ex_id)
    assert all(len(v) >= 2 for v in by_notebook.values()), by_notebook
    assert set(SOLUTIONS) == set(IDS) == set(WRONG)


@pytest.mark.parametrize("ex_id", IDS)
def test_solution_passes(ex_id, capsys):
    assert X.check(ex_id, SOLUTIONS[ex_id]) is True
    assert "correct" in capsys.readouterr().out


@pytest.mark.parametrize("ex_id", IDS)
def test_wrong_answer_fails_with_hint(ex_id):
    with pytest.raises(AssertionError, match="Hint"):
        X.check(ex_id, WRONG[ex_id])


@pytest.mark.parametrize("ex_id", IDS)
def test_unattempted_stub_does_not_fail(ex_id, capsys):
    def stub(*args, **kwargs):
        raise NotImplementedError

    assert X.check(ex_id, stub) is False
    assert "not attempted" in capsys.readouterr().out


@pytest.mark.parametrize("ex_id", IDS)
def test_stored_inputs_are_the_seeded_cases(ex_id):
    ex = X.get(ex_id)
    stored = X.stored_cases(ex)
    fresh = ex.cases()
    assert len(stored) == len(fresh)
    from tools.make_exercise_refs import same_array

    for (inputs, _), again in zip(stored, fresh):
        assert len(inputs) == len(again)
        for a, b in zip(inputs, again):  # floats to the last bits that BLAS kernels of other CPUs may change
            assert same_array(np.asarray(a), np.asarray(b)), (np.asarray(a), np.asarray(b))


@pytest.mark.parametrize("ex_id", sorted(ORACLES))
def test_stored_numbers_agree_with_an_independent_computation(ex_id):
    """The reference numbers are right: the library (or NumPy/PyTorch) gives the same on the stored inputs."""
    ex = X.get(ex_id)
    for inputs, expected in X.stored_cases(ex):
        got = ex.call(ORACLES[ex_id], inputs)
        np.testing.assert_allclose(got, expected, rtol=max(ex.rtol, 1e-9), atol=max(ex.atol, 1e-12))


def test_reference_files_are_up_to_date():
    from tools import make_exercise_refs as module

    assert module.main(["--check"]) == 0, "run `python tools/make_exercise_refs.py`"


def test_student_package_holds_no_solution():
    """stylelab/ never imports the instructor's solutions (they are not shipped with the package)."""
    for path in (ROOT / "stylelab").rglob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                assert not (node.module or "").startswith("instructor"), path
            elif isinstance(node, ast.Import):
                assert not any(a.name.startswith("instructor") for a in node.names), path
    assert not hasattr(X, "solution")


def test_use_returns_the_student_function_once_it_passes_else_the_fallback(capsys):
    def stub(features):
        raise NotImplementedError

    assert X.use("01.gram", stub) is X.get("01.gram").fallback
    out = capsys.readouterr().out
    assert "reference version" in out and "not your work yet" in out
    assert "stats" not in out and "gram(" not in out  # the library function that answers it is not named
    assert X.drawn_by(X.get("01.gram").fallback) == "reference version"  # what a figure's title says
    assert X.use("01.gram", SOLUTIONS["01.gram"]) is SOLUTIONS["01.gram"]
    assert "use your gram" in capsys.readouterr().out
    assert X.drawn_by(SOLUTIONS["01.gram"]) == "your function"
    with pytest.raises(AssertionError, match="Hint"):
        X.use("01.gram", WRONG["01.gram"])


def test_checker_messages_for_bad_output():
    with pytest.raises(AssertionError, match="shape"):
        X.check("01.gram", lambda f: f)
    with pytest.raises(AssertionError, match="NaN"):
        X.check("01.gram", lambda f: SOLUTIONS["01.gram"](f) * float("nan"))
    with pytest.raises(AssertionError, match="numbers"):
        X.check("01.gram", lambda f: "a string")
    with pytest.raises(AssertionError, match="stored reference"):
        X.check("01.gram", lambda f: SOLUTIONS["01.gram"](f) + 1e-3)


def test_closure_checker_rejects_a_closure_that_does_not_clamp():
    def no_clamp(optimizer, x, loss_fn):
        def closure():
            optimizer.zero_grad()
            loss = loss_fn(x)
            loss.backward()
            return loss

        return closure

    with pytest.raises(AssertionError, match="Hint"):
        X.check("02.closure", no_clamp)


def test_unknown_exercise():
    with pytest.raises(KeyError, match="Known"):
        X.check("99.nothing", lambda: None)


# ---------------------------------------------------------------------------- the answer is not one call away
def _library_calls():
    """``return stylelab.<answer>(...)`` for every exercise the library answers in one call (the student's shortcut)."""
    import torch

    from stylelab.features import colour, evaluation, linalg, losses, optim, stats, transforms
    from stylelab.features import linalg
    from stylelab.smoothing import matting, solvers as smoothing_solvers
    from stylelab.media import video
    from stylelab.features import efdm, wavelets, whitening
    from stylelab.course import visualise
    from stylelab.media import warping
    from stylelab.methods import cyclegan, gatys
    from stylelab.features.norms import ConditionalInstanceNorm2d

    def cin(x, gamma, beta, weights):
        layer = ConditionalInstanceNorm2d(x.shape[1], gamma.shape[0]).double()
        with torch.no_grad():
            layer.weight.copy_(gamma)
            layer.bias.copy_(beta)
        return layer(x, weights / weights.sum())

    return {
        "00.mean_colour": lambda im: transforms.mean_std(im)[0].flatten(1),
        "00.luminance": lambda im: colour.luminance(im),
        "00.contrast": lambda im: transforms.mean_std(colour.luminance(im), unbiased=False, eps=0.0)[1].flatten(),
        "01.gram": lambda f: stats.gram(f),
        "01.style_layer_loss": lambda f, s: losses.gram_loss(f, losses.gram_target(s, "paper"), "paper"),
        "01.mmd_linear": lambda x, y: stats.mmd2(x, y, kernel="linear"),
        "01b.saliency": visualise.saliency,
        "01b.class_loss": visualise.class_loss,
        "01b.inversion_loss": visualise.inversion_loss,
        "01b.fooling_step": visualise.fooling_step,
        "02.gatys_loss": gatys.paper_loss,
        "02.closure": optim.make_closure,
        "02.total_variation": lambda x: losses.total_variation(x, "squared", "sum"),
        "02.match_histogram": lambda x, t: losses.match_histograms(
            x.view(1, 1, -1), losses.histogram_target(t.view(1, 1, -1))).view(-1),
        "02b.cin": cin,
        "02b.cycle_loss": cyclegan.cycle_loss,
        "02b.gram_style_loss": lambda o, s: losses.gram_loss(o, losses.gram_target(s, "tutorial"), "tutorial")
        * o.shape[1] ** 2,
        "02b.lsgan_d": lambda r, f: 0.5 * (cyclegan.lsgan_loss(r, True) + cyclegan.lsgan_loss(f, False)),
        "03.instance_norm": lambda x: (x - transforms.mean_std(x, unbiased=False)[0])
        / transforms.mean_std(x, unbiased=False)[1],
        "03.adain": lambda c, s: transforms.adain(c, s, preset="pytorch"),
        "03.style_loss": lambda g, s: sum(torch.nn.functional.mse_loss(a, b)
                                          for a, b in zip(transforms.mean_std(g), transforms.mean_std(s))),
        "04.covariance": lambda f: linalg.covariance(f),
        "04.whiten": lambda f: whitening.whiten(f.view(1, f.shape[0], 1, -1), eig_threshold=0.0).view(f.shape),
        "04.wct": lambda c, s: transforms.wct(c.view(1, c.shape[0], 1, -1), s.view(1, s.shape[0], 1, -1),
                                              preset="exact")[0].reshape(c.shape),
        "05.smooth": lambda W, y, beta: smoothing_solvers.solve_affinity(W, y, beta),
        "06.window": lambda p, eps: matting.laplacian(
            torch.from_numpy(p.reshape(round(len(p) ** 0.5), -1, 3)).permute(2, 0, 1)[None], eps=eps).toarray(),
        "07.haar_ll": lambda x: wavelets.haar_dwt(x)[0],
        "07.haar_inverse": lambda *bands: wavelets.haar_idwt(*bands),
        "07.temporal_change": video.temporal_change,
        "08.ssim_box": lambda x, y: evaluation.ssim(x, y, window="uniform", win_size=7, sample_covariance=False)[0],
        "08.gram_distance": lambda a, s: evaluation.gram_distance(a, s)[0],
        "08.pareto": evaluation.pareto_front,
        "05.upsample_nearest": lambda x: torch.nn.functional.interpolate(x, scale_factor=2, mode="nearest"),  # torch's
        "05.max_unpool": lambda p, i, size: torch.nn.functional.max_unpool2d(p, i, 2, 2, output_size=size),  # torch's
        "09.efdm": lambda c, s: efdm.efdm(c, s),
        "09.cholesky_whiten": lambda f: whitening.whiten(f.view(1, f.shape[0], 1, -1),
                                                         whitening="cholesky").view(f.shape),
        "09.warping_errors": lambda o, fw, m: warping.warping_errors(o, warping.ClipFlow(fw, m, "given")),
    }


LIBRARY_CALLS = _library_calls()


def _other_library_calls():
    """Second routes through the library (or torch) to the same answer: refused too."""
    import torch

    from stylelab.features import colour, losses, transforms, whitening
    from stylelab.features import linalg

    def centred(f):
        return f - f.mean(1, keepdim=True)

    return [("00.mean_colour", lambda im: colour.colour_stats(im)[0]),
            ("00.luminance", lambda im: colour.rgb_to_yiq(im)[:, :1]),
            ("01.gram", lambda f: losses.gram_target(f, "paper")),  # the Gram divided by H·W
            ("03.instance_norm", lambda x: torch.nn.InstanceNorm2d(x.shape[1]).double()(x)),
            ("04.covariance", lambda f: linalg.covariance(f[None, :, None])[0]),
            ("04.wct", lambda c, s: whitening.wct_matrix(centred(c), s) @ centred(c) + s.mean(1, keepdim=True))]


@pytest.mark.parametrize("ex_id, call", _other_library_calls())
def test_other_routes_through_the_library_are_refused_too(ex_id, call):
    with pytest.raises(AssertionError, match="write it yourself"):
        X.check(ex_id, call, quiet=True)


@pytest.mark.parametrize("ex_id", sorted(LIBRARY_CALLS))
def test_calling_the_library_function_that_answers_an_exercise_does_not_pass_it(ex_id):
    """While an answer is checked, the library function that answers the exercise refuses to run."""
    with pytest.raises(AssertionError, match="write it yourself"):
        X.check(ex_id, LIBRARY_CALLS[ex_id], quiet=True)


@pytest.mark.parametrize("ex_id", IDS)
def test_checking_the_registered_fallback_does_not_pass(ex_id, capsys):
    """The reference version a notebook draws with until the student's function passes is no answer:
    neither itself, nor a copy of its code, nor a function that calls it; use() still falls back to it."""
    import types

    ex = X.get(ex_id)
    fallback = ex.fallback
    with pytest.raises(AssertionError, match="write it yourself"):
        X.check(ex_id, fallback, quiet=True)
    f = inspect.unwrap(fallback)
    if isinstance(f, types.FunctionType):
        copy = types.FunctionType(f.__code__, f.__globals__, "mine", f.__defaults__, f.__closure__)
        with pytest.raises(AssertionError, match="write it yourself"):
            X.check(ex_id, copy, quiet=True)
        if not f.__code__.co_freevars:
            with pytest.raises(AssertionError, match="write it yourself"):
                X.check(ex_id, lambda *args: fallback(*args), quiet=True)

    def stub(*args, **kwargs):
        raise NotImplementedError

    assert X.use(ex_id, stub) is fallback
    assert "reference version" in capsys.readouterr().out
    assert X.drawn_by(fallback) == "reference version"
    assert X.check(ex_id, SOLUTIONS[ex_id], quiet=True) is True  # the fallback is back after a refusal


def test_every_exercise_the_library_answers_has_its_library_call_listed():
    """Exercises whose answer the library has declare it (``answers=``); the test above covers each of them."""
    declared = {ex_id for ex_id in IDS if getattr(X.get(ex_id), "answers", ())}
    assert declared == set(LIBRARY_CALLS)


@pytest.mark.parametrize("ex_id", IDS)
def test_every_exercise_has_two_cases(ex_id):
    assert len(X.get(ex_id).cases()) >= 2


# ---------------------------------------------------------------------------- every exercise drives the notebook
def _notebook_uses():
    """``{notebook: [(exercise id, name bound to use(...), source after that line)]}`` from notebooks/src."""
    import re

    found = {}
    for path in sorted((ROOT / "notebooks" / "src").glob("*.py")):
        src = path.read_text()
        nb = path.name.split("_")[0]
        found[nb] = []
        for m in re.finditer(r'^(\w+) = use\("([\w.]+)", \w+\)', src, flags=re.M):
            found[nb].append((m.group(2), m.group(1), src[m.end():]))
    return found


def test_notebooks_only_use_exercises_never_only_check_them():
    for path in sorted((ROOT / "notebooks" / "src").glob("*.py")):
        assert "check(" not in path.read_text(), f"{path.name}: an exercise is only checked; `use` it"


def test_every_exercise_is_used_by_its_notebook_and_each_notebook_has_three():
    """Each registered exercise is ``name = use(id, ...)`` in its notebook, and ``name`` is used further down."""
    import re

    uses = _notebook_uses()
    used_ids = set()
    for nb, rows in uses.items():
        if not rows:
            continue
        assert len(rows) >= 3, f"notebook {nb} has {len(rows)} used exercises"
        for ex_id, name, after in rows:
            assert ex_id.split(".")[0] == nb, (nb, ex_id)
            assert re.search(rf"\b{name}\b", after), f"{nb}: the result of use({ex_id!r}) ({name}) is never used afterwards"
            used_ids.add(ex_id)
    assert used_ids == set(IDS), set(IDS) ^ used_ids


def test_instructor_material_is_outside_the_lab_folder_and_the_installed_package():
    """Solutions and answer keys live in instructor/: not under notebooks/ (what `make lab` opens), not packaged."""
    import tomllib

    from setuptools import find_packages

    assert (ROOT / "instructor" / "solutions").is_dir() and (ROOT / "instructor" / "questionnaires").is_dir()
    assert "--notebook-dir=notebooks" in (ROOT / "Makefile").read_text()
    for path in (ROOT / "notebooks").rglob("*"):
        assert "instructor" not in path.parts, path
        if path.is_file() and path.suffix in (".py", ".ipynb", ".md"):
            assert "BEGIN SOLUTION" not in path.read_text(), path
    cfg = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]["find"]
    packaged = find_packages(str(ROOT), include=cfg["include"], exclude=cfg.get("exclude", ()))
    assert packaged and not any(p.split(".")[0] == "instructor" for p in packaged), packaged
    assert "Honour code" in (ROOT / "README.md").read_text()
