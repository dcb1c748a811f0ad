"""Every exercise checker accepts its reference solution and rejects the plausible wrong answer."""

import pytest

from stylelab import exercises as X

X._load_all()
IDS = sorted(X.EXERCISES)


def test_every_notebook_with_exercises_has_several():
    by_notebook = {}
    for ex_id in IDS:
        by_notebook.setdefault(ex_id.split(".")[0], []).append(ex_id)
    assert all(len(v) >= 2 for v in by_notebook.values()), by_notebook


@pytest.mark.parametrize("ex_id", IDS)
def test_solution_passes(ex_id, capsys):
    assert X.check(ex_id, X.EXERCISES[ex_id].solution) is True
    assert "correct" in capsys.readouterr().out


@pytest.mark.parametrize("ex_id", IDS)
def test_wrong_answer_fails_with_hint(ex_id):
    ex = X.EXERCISES[ex_id]
    assert ex.wrong is not None, f"{ex_id} registers no wrong answer to test the checker with"
    with pytest.raises(AssertionError, match="Hint"):
        X.check(ex_id, ex.wrong)


@pytest.mark.parametrize("ex_id", IDS)
def test_unattempted_stub_does_not_fail(ex_id, capsys):
    def stub(*args, **kwargs):
        raise NotImplementedError

    assert X.check(ex_id, stub) is False
    assert "not attempted" in capsys.readouterr().out


def test_solution_prints_source(capsys):
    if not IDS:
        pytest.skip("no exercises registered yet")
    src = X.solution(IDS[0])
    assert "def " in src and src in capsys.readouterr().out


def test_unknown_exercise():
    with pytest.raises(KeyError, match="Known"):
        X.check("99.nothing", lambda: None)
