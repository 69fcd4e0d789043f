"""The built-in generator: deterministic, disjoint, correct, diverse, MATH-shaped."""
from __future__ import annotations

import re
from collections import Counter, defaultdict
from fractions import Fraction

import pytest

from conftest import compose_config, in_fresh_interpreter

from src.data.math import check_splits, format_cot, normalize_problem
from src.data.synthetic import DEFAULT_FAMILIES, FAMILIES, LEVELS, generate_math, main
from src.data.answers import extract_boxed

N_CELLS = len(DEFAULT_FAMILIES) * len(LEVELS)


@pytest.fixture(scope="module")
def splits():
    return generate_math(n_train=20 * N_CELLS, n_test=4 * N_CELLS, seed=0)


def family(record) -> str:
    return record.unique_id.split("/")[1]


def test_same_seed_same_records_other_seed_other_records():
    assert repr(generate_math(40, 10, seed=3)) == in_fresh_interpreter("s.generate_math(40, 10, seed=3)")
    assert generate_math(40, 10, seed=3) != generate_math(40, 10, seed=4)


def test_test_split_does_not_depend_on_train_size():
    assert generate_math(10, 20, seed=1)[1] == generate_math(200, 20, seed=1)[1]


def test_train_and_test_are_disjoint(splits):
    train, test = splits
    report = check_splits(train, test)
    assert report["train"] == 20 * N_CELLS and report["test"] == 4 * N_CELLS
    assert report["train_repeated_texts"] == report["test_repeated_texts"] == 0
    assert not {normalize_problem(r.problem) for r in train} & {normalize_problem(r.problem) for r in test}


def test_every_family_level_cell_is_present_and_balanced(splits):
    for split, per_cell in zip(splits, (20, 4)):
        cells = Counter((family(r), r.level) for r in split)
        assert cells == {(f, level): per_cell for f in DEFAULT_FAMILIES for level in LEVELS}
        assert {r.subject for r in split} == {FAMILIES[f][0] for f in DEFAULT_FAMILIES}


def test_answer_is_the_last_boxed_content_of_the_solution(splits):
    for record in splits[0] + splits[1]:
        assert record.answer and extract_boxed(record.solution) == record.answer, record
        assert format_cot(record)[1].endswith(f"\\boxed{{{record.answer}}}$.")


def test_every_written_equation_in_the_solutions_is_true(splits):
    """An independent check of the arithmetic: every `a op b op ... = c` and `\\frac{p}{q} \\cdot n = c`."""
    result = r" = (?:\\boxed\{)?(-?\d+)(?!\d)"
    chain = re.compile(r"(?<![\d\-(^{])(\d+(?: (?:\+|-|\\times|\\cdot) \d+)+)" + result)
    percent = re.compile(r"\\frac\{(\d+)\}\{(\d+)\} \\cdot (\d+)" + result)
    checked = 0
    for record in splits[0] + splits[1]:
        for expression, value in chain.findall(record.solution):
            python = expression.replace("\\times", "*").replace("\\cdot", "*")
            assert eval(python) == int(value), (record.solution, expression, value)  # digits and + - * only
            checked += 1
        for p, q, n, value in percent.findall(record.solution):
            assert Fraction(int(p), int(q)) * int(n) == int(value), record.solution
            checked += 1
    assert checked > len(splits[0])


def _value(tex: str) -> Fraction:
    """Evaluate a tiny TeX expression: integers, \\frac{p}{q}, + - \\cdot \\div."""
    python = re.sub(r"\\frac\{(\d+)\}\{(\d+)\}", r"Fraction(\1, \2)", tex)
    return eval(python.replace("\\cdot", "*").replace("\\div", "/"), {"Fraction": Fraction})


def test_fraction_and_equation_answers_are_right(splits):
    for record in splits[0] + splits[1]:
        if family(record) == "fractions":
            expression = re.search(r"\$(.*)\$", record.problem).group(1)
            assert _value(expression) == _value(record.answer), record
        if family(record) == "linear_equation":
            equation = re.search(r"\$([^$]*x[^$]*=[^$]*)\$", record.problem + record.solution).group(1)
            substituted = re.sub(r"(\d*)x", lambda m: f"{m.group(1) or 1} * ({record.answer})", equation)
            left, right = substituted.split("=")
            assert _value(left) == _value(right), record


def test_answers_are_many_and_spread(splits):
    train, test = splits
    records = train + test
    assert len({r.answer for r in records}) / len(records) > 0.3
    assert len({r.answer for r in test}) / len(test) > 0.5
    by_family = defaultdict(set)
    for r in records:
        by_family[family(r)].add(r.answer)
    per_family = len(records) / len(FAMILIES)
    assert all(len(answers) / per_family > 0.15 for answers in by_family.values()), {
        f: len(a) for f, a in by_family.items()}
    most_common_share = Counter(r.answer for r in records).most_common(1)[0][1] / len(records)
    assert most_common_share < 0.05


def test_problems_and_answers_are_short(splits):
    for record in splits[0] + splits[1]:
        assert 10 <= len(record.problem.split()) <= 40, record.problem
        assert len(record.answer) <= 16, record.answer


def test_families_and_levels_can_be_restricted():
    train, test = generate_math(30, 6, families=["fractions", "counting"], levels=(4, 5))
    assert {family(r) for r in train + test} == {"fractions", "counting"}
    assert {r.level for r in train + test} == {4, 5}


@pytest.mark.parametrize(
    "kwargs, message",
    [({"families": ["geometry"]}, "accepted: arithmetic"), ({"levels": (0, 6)}, "levels"), ({"n_train": -1}, ">= 0")],
)
def test_bad_arguments_are_rejected(kwargs, message):
    with pytest.raises(ValueError, match=message):
        generate_math(**{"n_train": 5, "n_test": 5, **kwargs})


def test_an_exhausted_problem_space_fails_loudly():
    with pytest.raises(ValueError, match="counting level 1: no new distinct problem"):
        generate_math(n_train=3000, n_test=0, families=["counting"], levels=(1,))


def test_main_prints_samples(capsys):
    main(["--n-train", "2", "--n-test", "1", "--seed", "5"])
    printed = capsys.readouterr().out
    assert printed.count("[train]") == 2 and printed.count("[test]") == 1 and "\\boxed{" in printed


@pytest.mark.parametrize("family", ["column_arithmetic", "precedence"])
def test_skill_family_answers_match_pythons_evaluation_of_the_problem(family):
    import re

    train, test = generate_math(200, 50, seed=3, families=[family])
    for record in train + test:
        expression = re.search(r"\$(.*)\$", record.problem)[1].replace("\\times", "*")
        assert int(record.answer) == eval(expression) >= 0, record  # noqa: S307 (digits and + - * ( ) only)
        assert f"\\boxed{{{record.answer}}}" in record.solution


def test_the_mechanism_protocols_held_out_sums_are_new_sums_not_rephrased_training_ones():
    """data=skills: a held-out problem tests the sum the model learnt, not a training sum in other words
    (the texts differ anyway; the operands must too)."""
    data = compose_config(["data=skills"], tiny=False).data.synthetic
    train, test = generate_math(data.n_train, data.n_test, seed=0, families=data.families, levels=data.levels)
    operands = lambda record: re.search(r"\$(\d+) \+ (\d+)\$", record.problem).groups()  # noqa: E731
    assert not {operands(r) for r in train} & {operands(r) for r in test}


def test_excluded_problem_texts_are_never_drawn():
    _, test = generate_math(0, 40, seed=0, families=["precedence"], levels=(1,))
    train, _ = generate_math(400, 0, seed=0, families=["precedence"], levels=(1,),
                             exclude=[r.problem.upper() for r in test])  # matched after normalisation
    assert not {r.problem for r in train} & {r.problem for r in test}
    unexcluded, _ = generate_math(400, 0, seed=0, families=["precedence"], levels=(1,))
    assert {r.problem for r in unexcluded} & {r.problem for r in test}  # the exclusion is what separates them


def test_place_value_answers_are_the_rounded_or_shifted_number_and_many_need_a_carry():
    train, test = generate_math(300, 100, seed=2, families=["place_value"])
    carries = 0
    for record in train + test:
        n, *rest = map(int, re.findall(r"\d+", record.problem))
        answer = int(record.answer)
        place = re.search(r"nearest (ten|hundred|thousand)", record.problem)
        if place:  # round half up
            unit = {"ten": 10, "hundred": 100, "thousand": 1000}[place[1]]
            assert answer % unit == 0 and (n - unit // 2 < answer <= n + unit // 2), record
        else:
            unit, sign = rest[0], 1 if "+" in record.problem or "adds" in record.problem else -1
            assert answer == n + sign * unit, record
        above_n, above_answer = str(n // unit), str(answer // unit)  # the digits from the changed place up
        carries += (len(above_n) != len(above_answer)
                    or sum(a != b for a, b in zip(above_n, above_answer)) > 1)
    assert carries / len(train + test) > 0.1  # the errors a copy-but-no-carry model makes are common
