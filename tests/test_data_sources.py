"""Records, prompt formats, split checks and the MATH source resolver."""
from __future__ import annotations

import json
import logging
import sys
import types
from pathlib import Path

import pytest

from src.data import sources
from src.data.math import PROMPT_FORMATS, check_splits, format_cot, format_direct
from src.data.records import DataFormatError, MathRecord, read_jsonl, read_math_jsonl, write_jsonl
from src.data.sources import MathSplits, load_math, rebuild_prm800k_split, record_from_hendrycks
from src.data.synthetic import generate_math
from src.data.answers import extract_boxed

FIXTURE = Path(__file__).parent / "fixtures" / "math_tiny"
REAL_MATH = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "math"


def record(uid="u/0", problem="What is $1 + 1$?", solution="$1 + 1 = \\boxed{2}$.", answer="2", level=1):
    return MathRecord(problem, solution, answer, "Prealgebra", level, uid)


@pytest.fixture
def offline(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")


# ---------------------------------------------------------------------------------------- records


def test_write_then_read_round_trips_and_leaves_no_temp_file(tmp_path):
    rows = [record("a/1"), record("a/2", level=None)]
    write_jsonl(tmp_path / "out" / "rows.jsonl", rows)
    assert read_math_jsonl(tmp_path / "out" / "rows.jsonl") == rows
    assert read_jsonl(tmp_path / "out" / "rows.jsonl")[1]["level"] is None
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["rows.jsonl"]


def test_a_failed_write_keeps_the_old_file_and_no_temp_file(tmp_path):
    path = write_jsonl(tmp_path / "rows.jsonl", [record()])

    def rows():
        yield record("b/1")
        raise RuntimeError("killed mid-write")

    with pytest.raises(RuntimeError):
        write_jsonl(path, rows())
    assert read_math_jsonl(path) == [record()]
    assert [p.name for p in tmp_path.iterdir()] == ["rows.jsonl"]


def write_lines(path: Path, *lines: str) -> Path:
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return path


def test_malformed_json_names_file_and_line(tmp_path):
    path = write_lines(tmp_path / "bad.jsonl", json.dumps(record().to_dict()), "{not json")
    with pytest.raises(DataFormatError, match=r"bad.jsonl:2: malformed JSON"):
        read_jsonl(path)


def test_a_line_that_is_not_an_object_is_rejected(tmp_path):
    with pytest.raises(DataFormatError, match=r"list.jsonl:1: expected a JSON object, got list"):
        read_jsonl(write_lines(tmp_path / "list.jsonl", "[1, 2]"))


def test_missing_fields_are_named(tmp_path):
    row = record().to_dict()
    del row["answer"], row["subject"]
    path = write_lines(tmp_path / "missing.jsonl", "", json.dumps(row))
    with pytest.raises(DataFormatError, match=r"missing.jsonl:2: missing required field\(s\) 'answer', 'subject'"):
        read_math_jsonl(path)


@pytest.mark.parametrize("field, value", [("level", "Level 3"), ("level", True), ("answer", 2), ("problem", None)])
def test_wrong_types_are_named(tmp_path, field, value):
    path = write_lines(tmp_path / "types.jsonl", json.dumps({**record().to_dict(), field: value}))
    with pytest.raises(DataFormatError, match=rf"types.jsonl:1: field '{field}' must be"):
        read_math_jsonl(path)


@pytest.mark.parametrize("content", ["", "\n  \n"])
def test_an_empty_file_is_an_error_naming_the_file(tmp_path, content):
    (tmp_path / "empty.jsonl").write_text(content)
    with pytest.raises(DataFormatError, match=r"empty.jsonl: no records"):
        read_math_jsonl(tmp_path / "empty.jsonl")


# ---------------------------------------------------------------------------------------- formats


def test_direct_format_targets_the_answer_only():
    prompt, target = format_direct(record(answer="\\frac{3}{4}"))
    assert prompt == "Question: What is $1 + 1$?\nAnswer:" and target == " \\frac{3}{4}"
    assert PROMPT_FORMATS["direct"] is format_direct and PROMPT_FORMATS["cot"] is format_cot


def test_cot_format_keeps_a_boxed_solution_and_boxes_an_unboxed_one():
    prompt, target = format_cot(record())
    assert prompt.endswith("\nSolution:") and target == " $1 + 1 = \\boxed{2}$."
    _, target = format_cot(record(solution="One plus one is two.\n"))
    assert target == " One plus one is two. The answer is $\\boxed{2}$."
    assert extract_boxed(target) == "2"


def test_check_splits_reports_counts_and_catches_problems():
    train = [record("a"), record("b", problem="Other?"), record("c", problem="other?")]
    assert check_splits(train, [record("t", problem="New?")]) == {
        "train": 3, "test": 1, "train_repeated_texts": 1, "test_repeated_texts": 0}
    with pytest.raises(ValueError, match="test split is empty"):
        check_splits(train, [])
    with pytest.raises(ValueError, match="unique_id.*repeat in the train split"):
        check_splits([record("a"), record("a", problem="x")], [record("t", problem="y")])
    with pytest.raises(ValueError, match="1 shared unique_id"):
        check_splits(train, [record("a", problem="Brand new?")])
    with pytest.raises(ValueError, match="1 shared problem text"):
        check_splits(train, [record("t", problem="  WHAT is $1 +  1$?")])


# ---------------------------------------------------------------------------------------- sources


def stage(folder: Path, train_name: str, test_name: str) -> Path:
    train, test = generate_math(14, 7, seed=2)
    write_jsonl(folder / train_name, train)
    write_jsonl(folder / test_name, test)
    return folder


@pytest.mark.parametrize("names", sources.SPLIT_FILES)
def test_path_source_reads_both_naming_conventions(tmp_path, names):
    splits = load_math("path", path=stage(tmp_path, *names))
    assert (len(splits.train), len(splits.test)) == (14, 7)
    assert splits.resolved_source == f"path:{tmp_path.resolve()}"


def test_path_source_rejects_missing_and_ambiguous_folders(tmp_path):
    with pytest.raises(FileNotFoundError, match="nowhere.*does not exist.*train.jsonl \\+ test.jsonl"):
        load_math("path", path=tmp_path / "nowhere")
    write_jsonl(tmp_path / "train.jsonl", [record()])
    with pytest.raises(FileNotFoundError, match="holds none.*found \\['train.jsonl'\\]"):
        load_math("path", path=tmp_path)
    stage(tmp_path, "train.jsonl", "test.jsonl")
    stage(tmp_path, "math_train_12k.jsonl", "math500_test.jsonl")
    with pytest.raises(FileNotFoundError, match="holds more than one"):
        load_math("path", path=tmp_path)
    with pytest.raises(ValueError, match="data.source=path needs data.path"):
        load_math("path")


def test_the_tiny_fixture_loads_and_subsets_deterministically():
    full = load_math("path", path=FIXTURE)
    assert (len(full.train), len(full.test)) == (40, 10)
    small = load_math("path", path=FIXTURE, n_train=8, n_test=3, seed=1)
    assert small == load_math("path", path=FIXTURE, n_train=8, n_test=3, seed=1)
    assert small.train != load_math("path", path=FIXTURE, n_train=8, seed=2).train
    positions = [full.train.index(r) for r in small.train]
    assert (len(small.train), len(small.test)) == (8, 3) and positions == sorted(positions)
    with pytest.raises(ValueError, match="n_train=41 but the train split has 40"):
        load_math("path", path=FIXTURE, n_train=41)


def test_invalid_source_lists_the_accepted_values():
    with pytest.raises(ValueError, match="accepted: auto, path, hub, builtin"):
        load_math("kaggle")


def test_hub_is_unreachable_when_offline(offline):
    assert sources.hub_reachable() is False


def test_auto_prefers_an_existing_path(offline):
    assert load_math(path=FIXTURE).resolved_source.startswith("path:")


@pytest.mark.parametrize("source", ["auto", "path"])
def test_a_given_path_that_does_not_exist_is_an_error_naming_it(source, tmp_path, monkeypatch):
    monkeypatch.setattr(sources, "hub_reachable", lambda *a, **k: pytest.fail("the hub was probed"))
    with pytest.raises(FileNotFoundError, match=r"data.path=.*typo.*does not exist \(expected a folder with "
                                                r"train.jsonl \+ test.jsonl or math_train_12k.jsonl"):
        load_math(source, path=tmp_path / "typo")


def test_a_given_path_without_split_files_is_an_error_listing_what_it_holds(tmp_path):
    (tmp_path / "notes.jsonl").write_text("{}\n")
    with pytest.raises(FileNotFoundError, match=r"holds none of the accepted file pairs.*found \['notes.jsonl'\]"):
        load_math(path=tmp_path)


@pytest.mark.parametrize("source", ["builtin", "hub"])
def test_a_path_beside_another_source_is_refused(source, tmp_path):
    with pytest.raises(ValueError, match=rf"data.path=.* is given but data.source={source} would ignore it"):
        load_math(source, path=stage(tmp_path, "train.jsonl", "test.jsonl"))


def test_auto_without_a_path_is_builtin_with_a_banner_of_the_sizes_used(tmp_path, caplog, monkeypatch):
    monkeypatch.setattr(sources, "hub_reachable", lambda *a, **k: pytest.fail("the hub was probed"))
    with caplog.at_level(logging.WARNING, logger="src.data.sources"):
        splits = load_math(n_train=35, n_test=7, synthetic={"n_train": 80, "n_test": 20, "levels": (1, 2)})
    assert splits.resolved_source == "builtin"
    assert (len(splits.train), len(splits.test)) == (35, 7) and {r.level for r in splits.train} == {1, 2}
    assert "BUILT-IN SYNTHETIC MATH GENERATOR" in caplog.text and "35 train / 7 test problems" in caplog.text
    assert "n_train=80" not in caplog.text


def test_builtin_passes_synthetic_settings_to_the_generator():
    splits = load_math("builtin", seed=5, synthetic={"n_train": 20, "n_test": 5, "families": ["counting"]})
    assert (splits.train, splits.test) == generate_math(20, 5, seed=5, families=["counting"])


def test_hub_source_without_datasets_says_how_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "datasets", None)
    with pytest.raises(ImportError, match=r"pip install -e \.\[hub\]"):
        load_math("hub")


def failing_datasets(error: Exception):
    def load_dataset(*args, **kwargs):
        raise error
    return types.SimpleNamespace(load_dataset=load_dataset)


def test_an_unreachable_hub_fails_at_once_with_the_alternatives(monkeypatch):
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.delenv("HF_DATASETS_OFFLINE", raising=False)
    monkeypatch.setattr(sources, "hub_reachable", lambda *a, **k: False)
    monkeypatch.setitem(sys.modules, "datasets", failing_datasets(AssertionError("load_dataset was called")))
    with pytest.raises(sources.HubUnavailable, match=r"unreachable\. Alternatives: a local copy, data.path=.*"
                                                     r"data.source=builtin"):
        load_math("hub")


def test_a_hub_download_error_ends_in_the_package_message_not_a_connection_error(offline, monkeypatch):
    monkeypatch.setitem(sys.modules, "datasets", failing_datasets(ConnectionError("Couldn't reach the hub")))
    with pytest.raises(sources.HubUnavailable) as raised:
        load_math("hub")
    message = str(raised.value)
    assert sources.MATH500_HUB_ID in message and "offline mode" in message and "Couldn't reach" in message
    assert "data.path=" in message and "data.source=builtin" in message
    assert raised.value.__cause__ is None and raised.value.__suppress_context__


# ------------------------------------------------------------------------------ hub row mapping


def hendrycks_row(problem, solution, level="Level 2", kind="Algebra"):
    return {"problem": problem, "level": level, "type": kind, "solution": solution}


def test_hendrycks_rows_map_to_the_prm800k_schema():
    mapped = record_from_hendrycks(
        hendrycks_row("  Find $x$. \n", "So $x = \\boxed{ \\frac{1}{2} }$.", "Level 5", "Number Theory"), "train/x/1")
    assert mapped == MathRecord("Find $x$.", "So $x = \\boxed{ \\frac{1}{2} }$.", "\\frac{1}{2}",
                                "Number Theory", 5, "train/x/1")
    assert record_from_hendrycks(hendrycks_row("p", "is $\\boxed 9$.", "Level ?"), "i").level is None
    assert record_from_hendrycks(hendrycks_row("p", "is $\\boxed 9$."), "i").answer == "9"
    with pytest.raises(DataFormatError, match="train/y/2: the solution has no"):
        record_from_hendrycks(hendrycks_row("p", "no box"), "train/y/2")
    with pytest.raises(DataFormatError, match="missing field\\(s\\) 'type'"):
        record_from_hendrycks({"problem": "p", "level": "Level 1", "solution": "s"}, "z")


def test_rebuild_drops_the_math500_problems_from_train():
    math500 = [record("test/algebra/1.json", problem="Solve $x+1=2$.", solution="$\\boxed{1}$", answer="1")]
    raw = [
        ("train/algebra/row0", hendrycks_row("What is 2+2?", "$\\boxed{4}$")),
        ("test/algebra/row0", hendrycks_row("Solve  $x+1=2$. ", "$\\boxed{1}$")),  # MATH-500, other spacing
        ("test/algebra/row1", hendrycks_row("What is 3+3?", "$\\boxed{6}$")),
    ]
    train, test = rebuild_prm800k_split(raw, [r.to_dict() for r in math500])
    assert test == math500
    assert [r.unique_id for r in train] == ["train/algebra/row0", "test/algebra/row1"]
    check_splits(train, test)


def fake_datasets(math500, by_config):
    def load_dataset(name, config=None, split=None):
        return math500 if name == sources.MATH500_HUB_ID else by_config[config][split]
    return types.SimpleNamespace(load_dataset=load_dataset)


def test_load_hub_wiring_and_count_check(monkeypatch):
    math500 = [record("test/algebra/1.json", problem="Solve $x+1=2$.").to_dict()]
    by_config = {c: {"train": [hendrycks_row(f"{c} train?", "$\\boxed{1}$")],
                     "test": [hendrycks_row(f"{c} test?", "$\\boxed{2}$")]} for c in sources.MATH_CONFIGS}
    monkeypatch.setitem(sys.modules, "datasets", fake_datasets(math500, by_config))
    with pytest.raises(ValueError, match="14 train / 1 test records, expected 12000 / 500"):
        load_math("hub")
    monkeypatch.setattr(sources, "PRM800K_SIZES", (14, 1))
    splits = load_math("hub")
    assert splits.resolved_source == f"hub:{sources.MATH_HUB_ID}+{sources.MATH500_HUB_ID}"
    assert splits.train[0].unique_id == "train/algebra/row0" and splits.test[0].answer == "2"


# ------------------------------------------------------------------------------------- real data


@pytest.mark.realdata
def test_staged_prm800k_split_has_12000_and_500_disjoint_records():
    if not (REAL_MATH / "math_train_12k.jsonl").is_file():
        pytest.skip(f"staged MATH data not found at {REAL_MATH}")
    splits = load_math("path", path=REAL_MATH)  # check_splits: zero id and normalised-text overlap
    assert (len(splits.train), len(splits.test)) == (12_000, 500)
    assert check_splits(splits.train, splits.test)["train_repeated_texts"] == 2


@pytest.mark.realdata
def test_hub_mapping_rebuilds_the_staged_split_from_raw_math():
    raw_file = REAL_MATH / "hendrycks_math_all_12500.jsonl"
    if not raw_file.is_file():
        pytest.skip(f"raw MATH file not found at {raw_file}")
    raw = [(row["unique_id"], row) for row in read_jsonl(raw_file)]
    staged = MathSplits(read_math_jsonl(REAL_MATH / "math_train_12k.jsonl"),
                        read_math_jsonl(REAL_MATH / "math500_test.jsonl"), "")
    train, test = rebuild_prm800k_split(raw, [r.to_dict() for r in staged.test])
    assert test == staged.test
    assert sorted(train, key=lambda r: r.unique_id) == sorted(staged.train, key=lambda r: r.unique_id)


def test_cut_targets_are_counted_in_a_warning_naming_the_knob(caplog):
    from src.data.datamodule import MathDataModule
    from src.models.tokenizer import train_bpe_tokenizer

    def setup(max_target_tokens):
        module = MathDataModule(source="path", path=str(FIXTURE), max_target_tokens=max_target_tokens)
        module.attach_tokenizer(train_bpe_tokenizer(module.training_text(), vocab_size=400))
        caplog.clear()
        with caplog.at_level(logging.WARNING, logger="src.data.tokenized_datamodule"):
            module.setup("fit")
        return module

    roomy = setup(512)
    assert not caplog.records
    longest = max(len(e.target_ids) for e in roomy.test_examples)
    setup(longest - 1)
    expected = sum(len(e.target_ids) == longest for e in roomy.test_examples)
    assert f"{expected} of 10 test targets are longer than data.max_target_tokens={longest - 1}" in caplog.text
