"""The thread policy: torch threads from the cores actually free, overridable; grading workers likewise."""
import pytest

from src.utils import threads


@pytest.mark.parametrize("cores, load, free", [(2, 0.2, 2), (2, 0.7, 1), (2, 1.6, 1), (2, 9.0, 1), (16, 4.2, 12)])
def test_free_cores_are_the_usable_cores_less_the_load(monkeypatch, cores, load, free):
    monkeypatch.setattr(threads.os, "sched_getaffinity", lambda pid: set(range(cores)))
    monkeypatch.setattr(threads.os, "getloadavg", lambda: (load, load, load))
    assert threads.free_cores() == free


def test_auto_follows_omp_num_threads_then_the_free_cores(monkeypatch):
    monkeypatch.setattr(threads, "free_cores", lambda: 5)
    monkeypatch.setenv("OMP_NUM_THREADS", "3")
    assert threads.torch_threads("auto") == 3
    monkeypatch.delenv("OMP_NUM_THREADS")
    assert threads.torch_threads("auto") == 5
    monkeypatch.setenv("LOCAL_WORLD_SIZE", "2")  # two DDP ranks on this node share the free cores
    assert threads.torch_threads("auto") == 2
    assert threads.grading_workers("auto") == 4


def test_explicit_settings_win_and_bad_ones_name_the_key():
    assert threads.torch_threads(7) == 7 and threads.grading_workers(2) == 2
    with pytest.raises(ValueError, match="threads=0; accepted: auto or an integer"):
        threads.torch_threads(0)
    with pytest.raises(ValueError, match="evaluation.grading_workers='many'"):
        threads.grading_workers("many")
