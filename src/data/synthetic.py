"""Built-in offline MATH-style problems: the `builtin` data source.

The point is to put a tiny language model (a ~1-3M parameter Llama trained from scratch on a few
thousand direct-answer records) in the paper's regime: most test problems are too hard to compute
in one step, answers spread over hundreds of values (multi-digit integers, fractions, negatives),
so large-N coverage depends on how widely the model spreads its confidence, and many epochs of
cross-entropy make it confidently wrong on unseen problems.

Three skill families (place_value, column_arithmetic, precedence) have rules a small model can
learn and carry to held-out problems, and so be confidently right on some and confidently wrong on
others (carries, order of operations); column_arithmetic at level 1 is the mechanism protocol's
problem (data=skills, docs/mechanism.md).

Each family draws numbers whose size (and the number of terms or steps) grows with the level
(1-5), renders one of a few short phrasings, and writes one fixed, imitable solution template per
problem kind ending in `\\boxed{answer}`, so a chain-of-thought format is learnable too.
Records are deterministic in the seed; train and test never share a problem text.

    python -m src.data.synthetic --n-train 5 --n-test 2
"""
from __future__ import annotations

import argparse
import math
import random
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from fractions import Fraction
from pathlib import Path

from src.data.math import normalize_problem
from src.data.records import MathRecord, write_jsonl

Rng = random.Random
Problem = tuple[str, str, str]  # (problem, solution, answer)

NAMES = ("Ava", "Ben", "Carla", "Dev", "Emma", "Finn", "Gina", "Hugo", "Iris", "Jon",
         "Kai", "Lena", "Maya", "Noah", "Omar", "Priya", "Quinn", "Rosa", "Sam", "Tara")
GROUPS = (("club", "members"), ("class", "students"), ("team", "players"), ("choir", "singers"),
          ("book club", "readers"))
ITEMS = ("apples", "marbles", "stickers", "coins", "books", "pencils", "cards", "shells", "stamps", "beads")
MAX_ANSWER = 99_999


def _pick(level: int, per_level: Sequence):
    return per_level[level - 1]


def _answer_text(value: Fraction) -> str:
    if value.denominator == 1:
        return str(value.numerator)
    sign = "-" if value < 0 else ""
    return f"{sign}\\frac{{{abs(value.numerator)}}}{{{value.denominator}}}"


def _tex(numerator: int | Fraction, denominator: int | None = None) -> str:
    """\\frac{p}{q} as written (not reduced); a Fraction alone is written in lowest terms."""
    if denominator is None:
        numerator, denominator = numerator.numerator, numerator.denominator
    return f"\\frac{{{numerator}}}{{{denominator}}}"


def _affine(coefficient: int, constant: int) -> str:
    """3x + 5, x - 2, 4x."""
    term = "x" if coefficient == 1 else f"{coefficient}x"
    if constant == 0:
        return term
    return f"{term} {'+' if constant > 0 else '-'} {abs(constant)}"


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _paren(n: int) -> str:
    return f"({n})" if n < 0 else str(n)


# ---------------------------------------------------------------- families: (rng, level) -> Problem


def arithmetic(rng: Rng, level: int) -> Problem:
    """A running total: start, then add / remove / double / triple."""
    name, items = rng.choice(NAMES), rng.choice(ITEMS)
    top = _pick(level, (20, 60, 150, 400, 1000))
    total = start = rng.randint(2, top)
    actions, steps = [], []
    for _ in range(_pick(level, (2, 2, 3, 3, 4))):
        kind = rng.choice(("add", "remove", "multiply") if level >= 3 else ("add", "remove"))
        if kind == "multiply" and total <= 2 * top:
            factor = rng.choice((2, 3))
            actions.append("doubles them" if factor == 2 else "triples them")
            steps.append(f"${total} \\times {factor} = {total * factor}$")
            total *= factor
        elif kind == "remove" and total > 1:
            k = rng.randint(1, total - 1)
            actions.append(f"{rng.choice(('gives away', 'loses', 'sells'))} {k}")
            steps.append(f"${total} - {k} = {total - k}$")
            total -= k
        else:
            k = rng.randint(1, top)
            actions.append(f"{rng.choice(('gets', 'buys', 'finds'))} {k} more")
            steps.append(f"${total} + {k} = {total + k}$")
            total += k
    problem = (f"{name} has {start} {items}. Then {name} {', then '.join(actions)}. "
               f"How many {items} does {name} have at the end?")
    steps_text = " ".join(f"Next, {step}." for step in steps)
    solution = f"Start with {start}. {steps_text} The answer is $\\boxed{{{total}}}$."
    return problem, solution, str(total)


def linear_equation(rng: Rng, level: int) -> Problem:
    """ax + b = c (levels 1-3) or (a + c)x + b = cx + d (levels 4-5), integer solution."""
    x = rng.randint(*_pick(level, ((1, 20), (1, 40), (-20, 30), (-30, 50), (-99, 99))))
    b = rng.randint(1, _pick(level, (30, 30, 60, 60, 200))) * (-1 if level == 3 else 1)
    a = 1 if level == 1 else rng.randint(2, _pick(level, (1, 5, 9, 9, 15)))
    if level <= 3:
        c = a * x + b
        if rng.random() < 0.5:
            problem = f"Solve the equation ${_affine(a, b)} = {c}$ for $x$. What is the value of $x$?"
        else:
            times = "" if a == 1 else f", multiplies it by {a},"
            change = f"adds {b}" if b > 0 else f"subtracts {-b}"
            problem = (f"{rng.choice(NAMES)} thinks of a number{times} and then {change}. "
                       f"The result is {c}. What was the number?")
        move = f"Subtract {b} from" if b > 0 else f"Add {-b} to"
        solution = f"The equation is ${_affine(a, b)} = {c}$. {move} both sides: ${_affine(a, 0)} = {c - b}$."
    else:
        c = rng.randint(1, a)
        d = a * x + b
        problem = (f"Find the value of $x$ that satisfies ${_affine(a + c, b)} = {_affine(c, d)}$. "
                   f"Give your answer as an integer.")
        solution = f"Subtract ${_affine(c, 0)}$ and {b} from both sides: ${_affine(a, 0)} = {d} - {b} = {d - b}$."
    if a != 1:
        solution += f" Divide both sides by {a}: $x = \\frac{{{a * x}}}{{{a}}}$."
    return problem, solution + f" So $x = \\boxed{{{x}}}$.", str(x)


def _coprime_pair(rng: Rng, top: int) -> tuple[int, int]:
    while True:
        p, q = rng.randint(2, top), rng.randint(2, top)
        if p != q and math.gcd(p, q) == 1:
            return p, q


def number_theory(rng: Rng, level: int) -> Problem:
    """Greatest common divisor (Euclid), least common multiple, remainders."""
    kind = rng.choice(("gcd", "lcm", "remainder"))
    if kind == "gcd":
        g = rng.randint(2, _pick(level, (12, 25, 50, 100, 200)))
        p, q = _coprime_pair(rng, _pick(level, (5, 7, 10, 13, 16)))
        a, b = g * max(p, q), g * min(p, q)
        problem = rng.choice((
            f"What is the greatest common divisor of {a} and {b}? Give your answer as a positive integer.",
            f"What is the largest whole number that divides both {a} and {b} with no remainder?",
        ))
        steps, (x, y) = [], (a, b)
        while y:
            steps.append(f"${x} = {x // y} \\cdot {y} + {x % y}$.")
            x, y = y, x % y
        solution = (f"Use the Euclidean algorithm. {' '.join(steps)} "
                    f"The last nonzero remainder is {g}, so the answer is $\\boxed{{{g}}}$.")
        return problem, solution, str(g)
    if kind == "lcm":
        g = rng.randint(1, _pick(level, (4, 8, 12, 20, 30)))
        p, q = _coprime_pair(rng, _pick(level, (6, 8, 10, 12, 15)))
        a, b, lcm = g * p, g * q, g * p * q
        problem = f"What is the least common multiple of {a} and {b}? Give your answer as a positive integer."
        solution = (f"Write ${a} = {g} \\cdot {p}$ and ${b} = {g} \\cdot {q}$, "
                    f"where {p} and {q} have no common factor. "
                    f"The least common multiple is ${g} \\cdot {p} \\cdot {q} = \\boxed{{{lcm}}}$.")
        return problem, solution, str(lcm)
    m = rng.randint(3, _pick(level, (9, 12, 20, 40, 99)))
    n = rng.randint(m + 1, _pick(level, (100, 500, 2000, 10000, 100000)))
    quotient, r = divmod(n, m)
    problem = rng.choice((
        f"What is the remainder when {n} is divided by {m}? Give your answer as a whole number.",
        f"{n} {rng.choice(ITEMS)} are shared equally among {m} children, each getting as many as possible. "
        f"How many are left over?",
    ))
    solution = (f"Divide: ${n} = {m} \\cdot {quotient} + {r}$ with $0 \\le {r} < {m}$, "
                f"so the remainder is $\\boxed{{{r}}}$.")
    return problem, solution, str(r)


def counting(rng: Rng, level: int) -> Problem:
    """Committees (combinations), prizes (permutations), menus (product rule)."""
    kind = rng.choice(("committee", "prizes", "menu"))
    group, people = rng.choice(GROUPS)
    if kind == "menu":
        top = _pick(level, (9, 12, 16, 24, 36))
        a, b, c = (rng.randint(2, top) for _ in range(3))
        problem = (f"A restaurant offers {a} starters, {b} main courses and {c} desserts. "
                   f"How many different meals with one starter, one main course and one dessert are possible?")
        solution = f"Choose each course independently: ${a} \\times {b} \\times {c} = \\boxed{{{a * b * c}}}$."
        return problem, solution, str(a * b * c)
    while True:
        n = rng.randint(4, _pick(level, (10, 12, 14, 16, 20)))
        k = rng.randint(2, min(n - 1, _pick(level, (2, 3, 4, 5, 6))))
        falling = [n - i for i in range(k)]
        answer = math.comb(n, k) if kind == "committee" else math.perm(n, k)
        if answer <= MAX_ANSWER:
            break
    product = " \\times ".join(map(str, falling))
    if kind == "committee":
        problem = (f"A {group} has {n} {people}. In how many ways can the {group} choose a committee "
                   f"of {k} {people}, if the order of choosing does not matter?")
        solution = (f"The number of ways is $\\binom{{{n}}}{{{k}}} = \\frac{{{product}}}{{{k}!}} = "
                    f"\\frac{{{math.perm(n, k)}}}{{{math.factorial(k)}}} = \\boxed{{{answer}}}$.")
    else:
        problem = (f"A {group} has {n} {people}. In how many ways can {k} different prizes be given to them, "
                   f"if nobody can get more than one prize?")
        solution = (f"The first prize can go to any of the {n} {people}, the next to {n - 1}, and so on, "
                    f"so the number of ways is ${product} = \\boxed{{{answer}}}$.")
    return problem, solution, str(answer)


def fractions(rng: Rng, level: int) -> Problem:
    """Sums and differences over a common denominator (levels 1-3, 5), products and quotients (4)."""

    def draw(denominator: int | None = None) -> Fraction:  # a proper fraction in lowest terms
        while True:
            d = denominator or rng.randint(2, 12)
            n = rng.randint(1, d - 1)
            if math.gcd(n, d) == 1:
                return Fraction(n, d)

    if level == 4:
        x, y = draw(), draw()
        if rng.random() < 0.5:
            expr, answer = f"{_tex(x)} \\cdot {_tex(y)}", x * y
            steps = (f"Multiply the numerators and the denominators: "
                     f"${expr} = {_tex(x.numerator * y.numerator, x.denominator * y.denominator)}")
        else:
            expr, answer = f"{_tex(x)} \\div {_tex(y)}", x / y
            flipped = _tex(y.denominator, y.numerator)
            product = _tex(x.numerator * y.denominator, x.denominator * y.numerator)
            steps = f"Dividing by ${_tex(y)}$ is multiplying by ${flipped}$: ${_tex(x)} \\cdot {flipped} = {product}"
    else:
        while True:
            same_denominator = rng.randint(3, 20) if level == 1 else None
            terms = [draw(same_denominator) for _ in range(3 if level == 5 else 2)]
            signs = [1] + [rng.choice((1, -1)) if level >= 3 else 1 for _ in terms[1:]]
            answer = sum(sign * term for sign, term in zip(signs, terms))
            if answer > 0:
                break
        common = math.lcm(*(t.denominator for t in terms))

        def signed_sum(texts: list[str]) -> str:
            pairs = zip(signs[1:], texts[1:])
            return texts[0] + "".join(f" {'+' if sign > 0 else '-'} {text}" for sign, text in pairs)

        expr = signed_sum([_tex(t) for t in terms])
        over_common = signed_sum([_tex(t.numerator * (common // t.denominator), common) for t in terms])
        steps = (f"Write each fraction over the common denominator {common}: "
                 f"${expr} = {over_common} = {_tex(answer.numerator * (common // answer.denominator), common)}")
    problem = f"What is ${expr}$? Express your answer as a fraction in simplest form (or as a whole number)."
    return problem, f"{steps} = \\boxed{{{_answer_text(answer)}}}$.", _answer_text(answer)


def sequences(rng: Rng, level: int) -> Problem:
    """n-th term and sums of arithmetic sequences; n-th term of geometric sequences."""
    if level == 5:
        while True:
            a, r, n = rng.randint(1, 30), rng.randint(2, 6), rng.randint(3, 10)
            if a * r ** (n - 1) <= MAX_ANSWER:
                break
        term = a * r ** (n - 1)
        shown = ", ".join(str(a * r**i) for i in range(3)) + ", \\ldots"
        problem = rng.choice((
            f"The first term of a geometric sequence is {a}, and each term is {r} times the term before it. "
            f"What is the {_ordinal(n)} term of the sequence?",
            f"Each term of the sequence ${shown}$ is the previous term times the same number. "
            f"What is the {_ordinal(n)} term?",
        ))
        solution = (f"The $n$th term is $a \\cdot r^{{n-1}}$, so the {_ordinal(n)} term is "
                    f"${a} \\cdot {r}^{{{n - 1}}} = {a} \\cdot {r ** (n - 1)} = \\boxed{{{term}}}$.")
        return problem, solution, str(term)
    a = rng.randint(*_pick(level, ((1, 20), (1, 30), (20, 100), (1, 20))))
    d = rng.choice((-1, 1)) * rng.randint(2, 12) if level == 3 else rng.randint(2, _pick(level, (9, 12, 12, 10)))
    n = rng.randint(*_pick(level, ((5, 20), (10, 30), (10, 40), (5, 20))))
    last = a + (n - 1) * d
    shown = ", ".join(str(a + i * d) for i in range(4)) + ", \\ldots"
    nth_term = f"{a} + ({n} - 1) \\cdot {_paren(d)} = {a} + {_paren((n - 1) * d)}"
    if level == 4:
        total = n * (a + last) // 2
        problem = f"What is the sum of the first {n} terms of the arithmetic sequence ${shown}$?"
        solution = (f"The {_ordinal(n)} term is ${nth_term} = {last}$. The sum is "
                    f"$\\frac{{{n}({a} + {last})}}{{2}} = \\frac{{{n * (a + last)}}}{{2}} = \\boxed{{{total}}}$.")
        return problem, solution, str(total)
    if level == 1:
        problem = (f"The first term of an arithmetic sequence is {a}, and each term is {d} more than "
                   f"the term before it. What is the {_ordinal(n)} term?")
    else:
        problem = (f"The terms of the sequence ${shown}$ change by the same amount each time. "
                   f"What is the {_ordinal(n)} term?")
    solution = (f"The first term is {a} and the common difference is {d}, "
                f"so the {_ordinal(n)} term is ${nth_term} = \\boxed{{{last}}}$.")
    return problem, solution, str(last)


def percentages(rng: Rng, level: int) -> Problem:
    """Percent of a number, increases, discounts, two successive changes (integer results)."""
    limit = _pick(level, (400, 1000, 2000, 5000, 10000))
    while True:
        if level == 1:
            p = rng.choice((5, 10, 20, 25, 40, 50, 60, 75, 80))
        else:
            p = rng.randint(1, 99 if level == 2 else 60)
        q = rng.randint(1, 60)
        factors = {1: [Fraction(p, 100)], 2: [Fraction(p, 100)], 3: [Fraction(100 + p, 100)],
                   4: [Fraction(100 - p, 100)], 5: [Fraction(100 + p, 100), Fraction(100 - q, 100)]}[level]
        step = math.lcm(*(math.prod(factors[: i + 1]).denominator for i in range(len(factors))))
        if step <= limit // 2:
            break
    n = step * rng.randint(1, limit // step)
    values = [n * math.prod(factors[: i + 1]) for i in range(len(factors))]
    answer = str(values[-1])
    if level <= 2:
        problem = rng.choice((
            f"What is ${p}\\%$ of {n}? Give your answer as a whole number.",
            f"A school has {n} students, and ${p}\\%$ of them walk to school. How many students walk to school?",
        ))
        solution = f"${p}\\%$ of {n} is $\\frac{{{p}}}{{100}} \\cdot {n} = \\boxed{{{answer}}}$."
    elif level in (3, 4):
        change = f"goes up by ${p}\\%$" if level == 3 else f"is reduced by ${p}\\%$ in a sale"
        problem = f"A bike costs {n} dollars. Its price {change}. What is the new price, in dollars?"
        percent = 100 + p if level == 3 else 100 - p
        solution = (f"The new price is ${percent}\\%$ of the old one: "
                    f"$\\frac{{{percent}}}{{100}} \\cdot {n} = \\boxed{{{answer}}}$.")
    else:
        problem = (f"A town has {n} people. Its population grows by ${p}\\%$ in one year and then falls by ${q}\\%$ "
                   f"in the next year. How many people live there after the two years?")
        solution = (f"After the growth: $\\frac{{{100 + p}}}{{100}} \\cdot {n} = {values[0]}$. "
                    f"After the fall: $\\frac{{{100 - q}}}{{100}} \\cdot {values[0]} = \\boxed{{{answer}}}$.")
    return problem, solution, answer


def _columns(a: int, b: int, op: str) -> list[str]:
    """The worked steps of a + b or a - b (a ≥ b ≥ 0), one per column, ones first."""
    digits_b = str(b)[::-1]
    carry, steps = 0, []
    for place, x in enumerate(map(int, str(a)[::-1])):
        y = int(digits_b[place]) if place < len(digits_b) else 0
        name = PLACES[place] if place < len(PLACES) else f"{10 ** place}s"
        if op == "+":
            total = x + y + carry
            shown = f"{x} + {y}" + (" + 1" if carry else "")
            carry = total // 10
            steps.append(f"{name}: ${shown} = {total}$" + (f", write {total % 10} and carry 1" if carry else ""))
        else:
            x -= carry
            carry = int(x < y)
            steps.append(f"{name}: ${x + 10 * carry} - {y} = {x + 10 * carry - y}$"
                         + (" after borrowing 1" if carry else ""))
    if carry:
        steps.append("carry the final 1")
    return steps


PLACES = ("ones", "tens", "hundreds", "thousands")


def column_arithmetic(rng: Rng, level: int) -> Problem:
    """Multi-digit sums and differences, whose carries and borrows a small model learns to
    generalise (and gets systematically wrong when it has not). The levels add columns: level 1 adds
    a one-digit number to a four-digit one (one column to add, a carry that may ripple, 81,000
    distinct sums, so held-out problems are new sums rather than rephrased training ones)."""
    digits = _pick(level, ((4, 1), (2, 2), (3, 2), (3, 3), (4, 3)))
    a, b = (rng.randint(10 ** (d - 1) if d > 1 else 1, 10 ** d - 1) for d in digits)
    op = "+" if level <= 2 else rng.choice("+-")
    a, b = max(a, b), min(a, b)
    answer, steps = (a + b if op == "+" else a - b), _columns(a, b, op)
    name = rng.choice(NAMES)
    problem = rng.choice((f"What is the value of ${a} {op} {b}$? Give your answer as a whole number.",
                          f"Compute ${a} {op} {b}$ and give the result as a whole number.",
                          f"{name} works out ${a} {op} {b}$ by hand. What number does {name} get?"))
    solution = f"Work column by column from the right. {'. '.join(steps)}. So ${a} {op} {b} = \\boxed{{{answer}}}$."
    return problem, solution, str(answer)


def precedence(rng: Rng, level: int) -> Problem:
    """Mixed + − × with and without parentheses: multiplication first, a rule whose absence shows as
    a confident left-to-right answer."""
    top = _pick(level, (9, 9, 12, 12, 15))
    n = [rng.randint(2, top) for _ in range(5)]
    shape = _pick(level, ("a+b*c", "a*b+c", "a+b*c-d", "a*b+c*d", "a*(b+c)-d"))
    if shape == "a+b*c":
        expr, steps, answer = f"{n[0]} + {n[1]} \\times {n[2]}", [f"{n[1]} \\times {n[2]} = {n[1] * n[2]}",
                                                                    f"{n[0]} + {n[1] * n[2]} = {n[0] + n[1] * n[2]}"], n[0] + n[1] * n[2]
    elif shape == "a*b+c":
        expr, steps, answer = f"{n[0]} \\times {n[1]} + {n[2]}", [f"{n[0]} \\times {n[1]} = {n[0] * n[1]}",
                                                                    f"{n[0] * n[1]} + {n[2]} = {n[0] * n[1] + n[2]}"], n[0] * n[1] + n[2]
    elif shape == "a+b*c-d":
        product = n[1] * n[2]
        answer = n[0] + product - n[3]
        expr, steps = f"{n[0]} + {n[1]} \\times {n[2]} - {n[3]}", [f"{n[1]} \\times {n[2]} = {product}",
                                                                     f"{n[0]} + {product} - {n[3]} = {answer}"]
    elif shape == "a*b+c*d":
        answer = n[0] * n[1] + n[2] * n[3]
        expr, steps = (f"{n[0]} \\times {n[1]} + {n[2]} \\times {n[3]}",
                       [f"{n[0]} \\times {n[1]} = {n[0] * n[1]}", f"{n[2]} \\times {n[3]} = {n[2] * n[3]}",
                        f"{n[0] * n[1]} + {n[2] * n[3]} = {answer}"])
    else:
        answer = n[0] * (n[1] + n[2]) - n[3]
        expr, steps = (f"{n[0]} \\times ({n[1]} + {n[2]}) - {n[3]}",
                       [f"{n[1]} + {n[2]} = {n[1] + n[2]}", f"{n[0]} \\times {n[1] + n[2]} = {n[0] * (n[1] + n[2])}",
                        f"{n[0] * (n[1] + n[2])} - {n[3]} = {answer}"])
    name = rng.choice(NAMES)
    problem = rng.choice((f"What is ${expr}$, using the usual order of operations?",
                          f"Evaluate ${expr}$. Give your answer as a whole number.",
                          f"{name} evaluates ${expr}$ correctly. What result does {name} get?"))
    solution = ("Parentheses first, then multiplication, then addition and subtraction from left to right: "
                + ", ".join(f"${step}$" for step in steps) + f". The answer is $\\boxed{{{answer}}}$.")
    return problem, solution, str(answer)


PLACE_NAMES = {10: "ten", 100: "hundred", 1000: "thousand"}


def place_value(rng: Rng, level: int) -> Problem:
    """Round to a place, or add / subtract 10, 100 or 1000: the answer copies the question's digits
    except one or two, and a carry (…95 → …100, 4951 → 5000) changes more of them — the systematic
    error of a model that has learned to copy but not to carry."""
    digits = _pick(level, (2, 3, 3, 4, 5))
    n = rng.randint(10 ** (digits - 1), 10 ** digits - 1)
    unit = rng.choice([u for u in (10, 100, 1000) if u <= n])
    if rng.random() < 0.3 and n // (10 * unit):  # a 9 in the changed place: the answer needs a carry
        n += (9 - n // unit % 10) * unit
    kind = rng.choice(("round", "add", "subtract") if n > unit else ("round", "add"))
    name = rng.choice(NAMES)
    if kind == "round":
        answer = (n + unit // 2) // unit * unit
        problem = rng.choice((f"Round {n} to the nearest {PLACE_NAMES[unit]}. Give your answer as a whole number.",
                              f"{name} rounds the number {n} to the nearest {PLACE_NAMES[unit]}. What number does {name} get?"))
        kept = n % unit
        solution = (f"The digits below the {PLACE_NAMES[unit]}s make {kept}, which is "
                    f"{'at least' if kept >= unit // 2 else 'less than'} {unit // 2}, so round "
                    f"{'up' if kept >= unit // 2 else 'down'}: $\\boxed{{{answer}}}$.")
    else:
        answer = n + unit if kind == "add" else n - unit
        op, verb = ("+", "adds") if kind == "add" else ("-", "subtracts")
        problem = rng.choice((f"What is ${n} {op} {unit}$? Give your answer as a whole number.",
                              f"{name} starts with {n} and {verb} {unit}. What number does {name} get?"))
        solution = f"Only the {PLACE_NAMES[unit]}s change, with a carry if needed: ${n} {op} {unit} = \\boxed{{{answer}}}$."
    return problem, solution, str(answer)


# family -> (MATH subject, generator)
FAMILIES: dict[str, tuple[str, Callable[[Rng, int], Problem]]] = {
    "arithmetic": ("Prealgebra", arithmetic),
    "linear_equation": ("Algebra", linear_equation),
    "number_theory": ("Number Theory", number_theory),
    "counting": ("Counting & Probability", counting),
    "fractions": ("Prealgebra", fractions),
    "sequences": ("Algebra", sequences),
    "percentages": ("Prealgebra", percentages),
    "column_arithmetic": ("Prealgebra", column_arithmetic),
    "precedence": ("Prealgebra", precedence),
    "place_value": ("Prealgebra", place_value),
}
# What `families=None` draws: the seven MATH-style families the experiments were measured on; the
# skill families (column_arithmetic, precedence, place_value) are asked for by name (data=skills, the base corpus).
DEFAULT_FAMILIES = ("arithmetic", "linear_equation", "number_theory", "counting", "fractions", "sequences",
                    "percentages")
LEVELS = (1, 2, 3, 4, 5)
_MAX_TRIES = 1000


def generate_math(
    n_train: int,
    n_test: int,
    seed: int = 0,
    families: Sequence[str] | None = None,
    levels: Sequence[int] = LEVELS,
    exclude: Iterable[str] = (),
) -> tuple[list[MathRecord], list[MathRecord]]:
    """Train and test records, balanced over families x levels, disjoint by problem text.

    The test split is drawn first from its own stream, so it depends only on (seed, n_test,
    families, levels), not on n_train; train draws reject every text already drawn.
    """
    families = DEFAULT_FAMILIES if families is None else tuple(families)
    unknown = [f for f in families if f not in FAMILIES]
    if unknown or not families:
        raise ValueError(f"unknown families {unknown}; accepted: {', '.join(FAMILIES)}")
    if not levels or any(level not in LEVELS for level in levels):
        raise ValueError(f"levels must be a non-empty subset of {LEVELS}, got {tuple(levels)}")
    if n_train < 0 or n_test < 0:
        raise ValueError(f"n_train and n_test must be >= 0, got {n_train}, {n_test}")
    seen = {normalize_problem(text) for text in exclude}  # texts drawn so far (or excluded), in either split
    next_index: Counter[str] = Counter()  # per family, for unique ids
    levels = tuple(levels)
    test = _generate_split(n_test, f"synthetic/{seed}/test", families, levels, seen, next_index)
    train = _generate_split(n_train, f"synthetic/{seed}/train", families, levels, seen, next_index)
    return train, test


def _generate_split(n, rng_seed, families, levels, seen, next_index) -> list[MathRecord]:
    rng = random.Random(rng_seed)
    records = []
    for i in range(n):
        family, level = families[i % len(families)], levels[(i // len(families)) % len(levels)]
        subject, generate = FAMILIES[family]
        for _ in range(_MAX_TRIES):
            problem, solution, answer = generate(rng, level)
            if normalize_problem(problem) not in seen:
                break
        else:
            raise ValueError(f"{family} level {level}: no new distinct problem in {_MAX_TRIES} tries; "
                             f"ask for fewer records")
        seen.add(normalize_problem(problem))
        unique_id = f"synthetic/{family}/{next_index[family]}"
        records.append(MathRecord(problem, solution, answer, subject, level, unique_id))
        next_index[family] += 1
    rng.shuffle(records)
    return records


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n-train", type=int, default=5)
    parser.add_argument("--n-test", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--families", nargs="+", default=None, choices=list(FAMILIES))
    parser.add_argument("--out", type=Path, help="write train.jsonl and test.jsonl here instead of printing")
    args = parser.parse_args(argv)
    train, test = generate_math(args.n_train, args.n_test, seed=args.seed, families=args.families)
    if args.out:
        for name, split in (("train", train), ("test", test)):
            print(write_jsonl(args.out / f"{name}.jsonl", split))
        return
    for name, split in (("train", train), ("test", test)):
        for record in split:
            print(f"[{name}] {record.unique_id}  level {record.level}  {record.subject}\n"
                  f"  problem:  {record.problem}\n  solution: {record.solution}\n  answer:   {record.answer}\n")


if __name__ == "__main__":
    main()
