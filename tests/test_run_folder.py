"""A run folder is never silently wrong (issue 13), in-process checks: one config per folder, statuses
that tell the truth, config errors before any folder exists, reports that list every run left out,
no code execution from files, and clear messages for malformed inputs. Signals, kills and sweeps
run as subprocesses in tests/test_interruptions.py."""
import json
import math
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from conftest import REPO, TINY, compose_config
from src.figures.report import draw_report
from src.run import train
from src.run.checks import check_config
from src.run.folder import FolderConflict, config_differences
from src.run.train import RunStopped
from src.utils.run_dir import RunDir, evaluated_epochs, final_status

# --- 1. one config per folder -------------------------------------------------------------------


def test_resume_with_another_config_is_refused_naming_the_keys(tmp_path):
    train(compose_config(["objective=dco", "objective.n=16"], run_dir=tmp_path))
    RunDir(tmp_path).update_meta(status="interrupted")  # as a signal leaves it
    with pytest.raises(FolderConflict, match=r"objective\.n: 16 → 64"):
        train(compose_config(["objective=dco", "objective.n=64", f"resume={tmp_path}"], run_dir=tmp_path))
    with pytest.raises(FolderConflict, match=r"objective\._target_"):  # the override dropped
        train(compose_config([f"resume={tmp_path}"], run_dir=tmp_path))
    assert json.loads((tmp_path / "meta.json").read_text())["objective"]["n"] == 16


def test_resume_may_extend_max_epochs(tmp_path):
    train(compose_config([], run_dir=tmp_path))
    train(compose_config(["trainer.max_epochs=2", f"resume={tmp_path}"], run_dir=tmp_path))
    assert [m["epoch"] for m in RunDir(tmp_path).metrics()] == [1, 2] and RunDir(tmp_path).completed


def test_fresh_run_into_a_used_folder_is_refused(tmp_path):
    train(compose_config([], run_dir=tmp_path))
    meta = (tmp_path / "meta.json").read_text()
    with pytest.raises(FolderConflict, match="already holds a run .status: completed.; continue it with resume="):
        train(compose_config(["seed=1"], run_dir=tmp_path))
    assert (tmp_path / "meta.json").read_text() == meta


def test_claiming_a_folder_is_exclusive(tmp_path):
    RunDir(tmp_path).claim(status="running")
    with pytest.raises(FileExistsError):
        RunDir(tmp_path).claim(status="running")


def test_config_differences_allow_only_growing_max_epochs():
    saved = {"trainer": {"max_epochs": 3}, "objective": {"n": 16}, "resume": None}
    assert config_differences(saved, {**saved, "resume": "x", "trainer": {"max_epochs": 5}}) == []
    assert config_differences(saved, {**saved, "trainer": {"max_epochs": 2}}) == ["trainer.max_epochs: 3 → 2"]
    assert config_differences(saved, {"trainer": {"max_epochs": 3}, "resume": None}) == ["objective.n: 16 → '<absent>'"]


# --- 6. statuses that tell the truth --------------------------------------------------------------


def test_a_run_whose_loss_goes_nan_is_diverged_and_stops(tmp_path):
    with pytest.raises(RunStopped, match="diverged: training loss is nan at step 2"):
        train(compose_config(["model.optimizer.lr=inf", "trainer.max_epochs=2"], run_dir=tmp_path))
    meta = RunDir(tmp_path).meta()
    assert meta["status"] == "diverged" and "step 2" in meta["reason"]
    assert RunDir(tmp_path).metrics() == []  # stopped in epoch 1: nothing evaluated


@pytest.mark.parametrize("metrics,epochs,expected", [
    ([{"epoch": 1, "test": {"a": 0.5}}, {"epoch": 2, "test": {"a": 0.7}}], [1, 2], ("completed", None)),
    ([{"epoch": 1, "test": {"a": 0.5}}], [1, 2, 3],
     ("failed", "epochs [2, 3] are missing from metrics.jsonl (expected [1, 2, 3])")),
    ([], [1], ("failed", "epochs [1] are missing from metrics.jsonl (expected [1])")),
    ([{"epoch": 1, "test": {"coverage": {"4": math.nan}}}], [1],
     ("diverged", "epoch 1: test.coverage.4 is not finite")),
    ([{"epoch": 1, "test": {"b": [1.0, math.inf]}}], [1], ("diverged", "epoch 1: test.b.1 is not finite")),
])
def test_final_status(metrics, epochs, expected):
    assert final_status(metrics, epochs) == expected


def test_evaluated_epochs():
    assert evaluated_epochs(3) == [1, 2, 3]
    assert evaluated_epochs(20, check_val_every_n_epoch=20) == [20]  # debug=overfit
    assert evaluated_epochs(6, check_val_every_n_epoch=4) == [4]
    assert evaluated_epochs(12, fast_dev_run=True) == [1]  # debug=fdr


def test_a_run_with_missing_epochs_is_failed_not_completed(tmp_path, monkeypatch):
    """What data.refill with a batch larger than the kept examples did: epochs without a metrics line."""
    from src.run.callbacks import RunRecorder

    record = RunRecorder.on_validation_end
    def skip_epoch_2(self, trainer, module):
        return None if trainer.current_epoch == 1 else record(self, trainer, module)

    monkeypatch.setattr(RunRecorder, "on_validation_end", skip_epoch_2)
    with pytest.raises(RunStopped, match=r"epochs \[2\] are missing"):
        train(compose_config(["trainer.max_epochs=3"], run_dir=tmp_path))
    assert RunDir(tmp_path).meta()["status"] == "failed"


# --- 10. bad values are refused before any folder exists ------------------------------------------


@pytest.mark.parametrize("override,message", [
    ("objective.n=0", "n must be a finite number >= 1"),
    ("data.refill=foo", "data.refill='foo'; accepted: one of off | exact | cached"),
    ("trainer.max_epochs=0", "trainer.max_epochs=0; accepted: an integer >= 1"),
    ("data.eval_problems=0", "data.eval_problems=0; accepted: null"),
    ("evaluation.grading_timeout=0", "evaluation.grading_timeout=0; accepted: a number of seconds > 0"),
    ("evaluation.grader=loose", "evaluation.grader='loose'; accepted: equivalent | strict"),
    ("evaluation.sampling.top_p=0", "evaluation.sampling.top_p=0; accepted"),
    ("evaluation.pass_ks=[1,64]", "needs evaluation.samples_per_problem >= 64"),
])
def test_bad_values_are_refused_at_composition(override, message):
    with pytest.raises(ValueError, match=message):
        check_config(compose_config(["objective=dco", override]))


def test_a_misspelt_base_model_corpus_is_refused_at_composition():
    with pytest.raises(ValueError, match="base_model.corpus.source='solutions'; accepted: builtin | train"):
        check_config(compose_config(["base_model=builtin", "base_model.corpus.source=solutions"]))


def test_a_refused_config_leaves_no_folder(tmp_path):
    runs = tmp_path / "runs"
    for args in ([f"hydra.run.dir={runs / 'single'}", "objective.n=0"],
                 ["-m", f"hydra.sweep.dir={runs / 'sweep'}", "objective.n=4,0"]):
        done = subprocess.run([sys.executable, "-m", "src.run", *args[:-1], *TINY, "objective=dco", args[-1]],
                              cwd=REPO, capture_output=True, text=True, timeout=300)
        assert done.returncode != 0 and "config error: objective" in done.stderr
    assert not runs.exists()


# --- 7. reports list every run left out, and why ------------------------------------------------


def test_report_lists_jobs_that_never_wrote_meta(tmp_path):
    train(compose_config([], run_dir=tmp_path / "0_cross_entropy"))
    (tmp_path / "1_cross_entropy" / ".hydra").mkdir(parents=True)  # a job that died before training
    report = draw_report(tmp_path).read_text()
    assert "- `1_cross_entropy`: not started (no meta.json" in report


# --- 8. no code execution from files --------------------------------------------------------------


class _Payload:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return Path.touch, (Path(self.marker),)


def test_resume_never_unpickles_code_from_a_checkpoint(tmp_path):
    train(compose_config([], run_dir=tmp_path))
    RunDir(tmp_path).update_meta(status="interrupted")
    marker = tmp_path / "code_ran"
    torch.save({"global_step": _Payload(str(marker))}, tmp_path / "checkpoints" / "last.ckpt")  # a valid file
    with pytest.raises(RuntimeError, match="last.ckpt is unreadable"):
        train(compose_config([f"resume={tmp_path}"], run_dir=tmp_path))
    assert not marker.exists()


@pytest.mark.parametrize("statement", [
    "#eval IO.Process.run {cmd := \"touch\", args := #[\"/tmp/pwned\"]}\ntheorem t : True := by",
    "theorem t : True := by\n  run_tac (IO.Process.run {cmd := \"sh\"})\n  trivial\n:= by",
    "run_cmd Lean.logInfo \"x\"\ntheorem t : True := by",
    "def x := 1\ntheorem t : True := by",
])
def test_hostile_lean_statements_are_refused(statement):
    from src.search.lean import check_statement

    with pytest.raises(ValueError, match="Lean statement refused"):
        check_statement(statement)


def test_lean_checks_accept_minif2f_and_refuse_hostile_headers_and_tactics(shared_data):
    from src.search.lean import check_header, check_statement, check_tactic

    rows = [json.loads(line) for line in (shared_data / "minif2f" / "minif2f_test.jsonl").open()]
    for row in rows:
        check_header(row.get("header", "")), check_statement(row["formal_statement"])
    with pytest.raises(ValueError, match="header refused"):
        check_header("import Mathlib\n#eval IO.println 1")
    with pytest.raises(ValueError, match="tactic refused"):
        check_tactic("run_tac do IO.Process.exit 0")


# --- 9. input gaps ----------------------------------------------------------------------------


def test_non_utf8_byte_names_file_line_and_column(tmp_path):
    from src.data.records import DataFormatError, read_jsonl

    path = tmp_path / "train.jsonl"
    path.write_bytes(b'{"a": 1}\n{"a": "caf\xe9"}\n')
    with pytest.raises(DataFormatError, match=r"train.jsonl:2: not UTF-8 text \(byte 0xe9 at column 11\)"):
        read_jsonl(path)


def test_long_whitespace_free_field_is_cut_for_bpe_training(caplog):
    from src.models.tokenizer import MAX_RUN, cut_long_runs

    text = "ab" * 40_000
    pieces = list(cut_long_runs(["short one", text]))
    assert pieces[0] == "short one" and pieces[1].replace(" ", "") == text
    assert max(len(w) for w in pieces[1].split()) == MAX_RUN
    assert "training text #1 has a 80000-character run without whitespace" in caplog.text


def test_truncated_tokenizer_json_names_the_file_and_the_recovery(tmp_path):
    from src.models.tokenizer import load_tokenizer

    load_tokenizer(None, ["hello world"] * 20, 300, save_dir=tmp_path / "tokenizer")
    saved = tmp_path / "tokenizer" / "tokenizer.json"
    saved.write_text(saved.read_text()[:100])
    with pytest.raises(ValueError, match=r"tokenizer.json is unreadable .*Delete the folder"):
        load_tokenizer(None, ["hello world"], 300, save_dir=tmp_path / "tokenizer")


def test_huge_numbers_normalise_exactly():
    from src.evaluation.grading import normalize_answer

    big = "9" * 1_000_000
    assert normalize_answer(big) == big  # raised decimal.Overflow in the parent, outside the time limit
    a, b = "1" * 35 + "0", "1" * 35 + "1"  # equal in the first 28 digits only
    assert normalize_answer(a) == a and normalize_answer(b) == b
    assert normalize_answer("1,000.50") == "1000.5" and normalize_answer("-0.0") == "0"


def test_checkpoints_load_as_tensors_only(tmp_path):
    from src.run.checkpoint_io import AtomicCheckpointIO

    io = AtomicCheckpointIO()
    io.save_checkpoint({"w": torch.ones(3), "global_step": 7}, tmp_path / "last.ckpt")
    assert io.load_checkpoint(tmp_path / "last.ckpt")["global_step"] == 7
    torch.save({"x": _Payload(str(tmp_path / "code_ran"))}, tmp_path / "bad.ckpt")
    with pytest.raises(Exception):
        io.load_checkpoint(tmp_path / "bad.ckpt")
    assert not (tmp_path / "code_ran").exists()
