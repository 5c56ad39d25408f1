"""Tests for the search grammar: every example of the reference's §12 tables."""

from __future__ import annotations

import math
import re
import string
from functools import cache

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gitrun.core.index.grammar import (
    Clause,
    OrderKey,
    like_to_regex,
    parse_experiment_filter,
    parse_experiment_order_by,
    parse_filter,
    parse_order_by,
)
from gitrun.errors import INVALID_PARAMETER_VALUE, InvalidParameterValue

RUN_ID = "0123456789abcdef0123456789abcdef"
OTHER_ID = "fedcba9876543210fedcba9876543210"

# §12.1: (filter, expected clauses).
VALID_FILTERS = [
    ("metric.acc >= 0.94", [Clause("metric", "acc", ">=", 0.94)]),
    ("metric.acc>=100", [Clause("metric", "acc", ">=", 100.0)]),
    ("metrics.acc > 0.8", [Clause("metric", "acc", ">", 0.8)]),
    ("metrics.acc != 0.9", [Clause("metric", "acc", "!=", 0.9)]),
    ("metrics.loss != 0", [Clause("metric", "loss", "!=", 0.0)]),
    ("metrics.acc > 1e-3", [Clause("metric", "acc", ">", 0.001)]),
    ("metrics.m > .5", [Clause("metric", "m", ">", 0.5)]),
    ("metrics.a = -1.5e-3", [Clause("metric", "a", "=", -0.0015)]),
    ("metrics.XYZ = 3", [Clause("metric", "XYZ", "=", 3.0)]),
    ('metrics."X-Y-Z" = 3', [Clause("metric", "X-Y-Z", "=", 3.0)]),
    ('metrics."X//Y#$$@&Z" = 3', [Clause("metric", "X//Y#$$@&Z", "=", 3.0)]),
    ("metrics.`spacey name` > 5", [Clause("metric", "spacey name", ">", 5.0)]),
    ("metrics.'acc' > 1", [Clause("metric", "acc", ">", 1.0)]),
    ("`metric`.a >= 0.1", [Clause("metric", "a", ">=", 0.1)]),
    (
        "params.model = 'LinearRegression'",
        [Clause("param", "model", "=", "LinearRegression")],
    ),
    ('params.m = "LR"', [Clause("param", "m", "=", "LR")]),
    ('params.m = "L\'Hosp"', [Clause("param", "m", "=", "L'Hosp")]),
    ('params."cat dog" = "pets"', [Clause("param", "cat dog", "=", "pets")]),
    ("params.model != 'LR'", [Clause("param", "model", "!=", "LR")]),
    ("params.model LIKE 'L%'", [Clause("param", "model", "LIKE", "L%")]),
    ("params.model ILIKE 'l%'", [Clause("param", "model", "ILIKE", "l%")]),
    ("params.model LIKE '_F'", [Clause("param", "model", "LIKE", "_F")]),
    ("param.lr = '0.01'", [Clause("param", "lr", "=", "0.01")]),
    ("parameters.lr = '0.1'", [Clause("param", "lr", "=", "0.1")]),
    ("params.p.a = 'x'", [Clause("param", "p.a", "=", "x")]),
    ('params."p.a.r.a.m" != "a"', [Clause("param", "p.a.r.a.m", "!=", "a")]),
    ("params.lr IS NULL", [Clause("param", "lr", "IS NULL", None)]),
    ("params.lr is not null", [Clause("param", "lr", "IS NOT NULL", None)]),
    ("params.x != ''", [Clause("param", "x", "!=", "")]),
    ("tags.version = 'commit-hash'", [Clause("tag", "version", "=", "commit-hash")]),
    ("tags.mlflow.runName = 'A'", [Clause("tag", "mlflow.runName", "=", "A")]),
    ("tags.`mlflow.user` = 'alice'", [Clause("tag", "mlflow.user", "=", "alice")]),
    ("tags.\"t-1\" = 'v'", [Clause("tag", "t-1", "=", "v")]),
    ("tag.team != 'red'", [Clause("tag", "team", "!=", "red")]),
    ("tags.version IS NOT NULL", [Clause("tag", "version", "IS NOT NULL", None)]),
    (
        "tags.a IS NULL AND params.b = 'val'",
        [Clause("tag", "a", "IS NULL", None), Clause("param", "b", "=", "val")],
    ),
    (
        "attributes.status = 'FINISHED'",
        [Clause("attribute", "status", "=", "FINISHED")],
    ),
    ("run.status = 'RUNNING'", [Clause("attribute", "status", "=", "RUNNING")]),
    ("status = 'FAILED'", [Clause("attribute", "status", "=", "FAILED")]),
    ("attr.status = 'X'", [Clause("attribute", "status", "=", "X")]),
    ("attributes.run_name = 'A'", [Clause("attribute", "run_name", "=", "A")]),
    ("run_name LIKE 'A%'", [Clause("attribute", "run_name", "LIKE", "A%")]),
    ("`Run name` = 'B'", [Clause("attribute", "run_name", "=", "B")]),
    (f"attributes.run_id = '{RUN_ID}'", [Clause("attribute", "run_id", "=", RUN_ID)]),
    (
        f"attributes.run_id IN ('{RUN_ID}', '{OTHER_ID}')",
        [Clause("attribute", "run_id", "IN", (RUN_ID, OTHER_ID))],
    ),
    (f"run_id NOT IN ('{RUN_ID}')", [Clause("attribute", "run_id", "NOT IN", (RUN_ID,))]),
    (
        "attribute.artifact_uri = '1/23/4'",
        [Clause("attribute", "artifact_uri", "=", "1/23/4")],
    ),
    ("attribute.start_time >= 1234", [Clause("attribute", "start_time", ">=", 1234.0)]),
    ("created > 0", [Clause("attribute", "start_time", ">", 0.0)]),
    ("start_time > 1.5", [Clause("attribute", "start_time", ">", 1.5)]),
    ("attributes.end_time > 0", [Clause("attribute", "end_time", ">", 0.0)]),
    ("attributes.user_id = 'root'", [Clause("attribute", "user_id", "=", "root")]),
    (
        "metrics.rmse < 1 and params.model_class = 'LR'",
        [Clause("metric", "rmse", "<", 1.0), Clause("param", "model_class", "=", "LR")],
    ),
    (
        "metrics.m > 1 and  params.p = 'x'  AND tags.t = 'y'",
        [
            Clause("metric", "m", ">", 1.0),
            Clause("param", "p", "=", "x"),
            Clause("tag", "t", "=", "y"),
        ],
    ),
    ("dataset.name = 'my_dataset'", [Clause("dataset", "name", "=", "my_dataset")]),
    ("datasets.digest IN ('a','b')", [Clause("dataset", "digest", "IN", ("a", "b"))]),
    (
        "dataset.context IN ('train','eval')",
        [Clause("dataset", "context", "IN", ("train", "eval"))],
    ),
    (
        "datasets.name = 'name1' AND datasets.context = 'train'",
        [Clause("dataset", "name", "=", "name1"), Clause("dataset", "context", "=", "train")],
    ),
    (
        "metrics.acc = 1 AND metrics.acc = 2",
        [Clause("metric", "acc", "=", 1.0), Clause("metric", "acc", "=", 2.0)],
    ),
    ("", []),
    ("metrics.acc > 0.8 AND", [Clause("metric", "acc", ">", 0.8)]),
]

# §12.2: (filter, start of MLflow's message, position we report).
REJECTED_FILTERS = [
    (
        "metric.acc >= 0.94; metrics.rmse < 1",
        "Search filter contained multiple expression",
        18,
    ),
    ("metrics.A > 0.1 OR params.B = 'LR'", "Invalid clause(s) in filter string: 'OR'", 16),
    ("metrics.A > 0.1 AND (params.B = 'LR')", "Invalid clause(s)", 20),
    ("NOT metrics.acc > 0.8", "Invalid clause(s) in filter string: 'NOT'", 0),
    ("metrics.acc BETWEEN 0 AND 1", "Invalid clause(s)", 12),
    ("metrics.acc > 0.8;", "Invalid clause(s) in filter string: ';'", 17),
    ("m.acc >= 0.94", "Invalid entity type 'm'", 0),
    ("trace.x = 'a'", "Invalid entity type 'trace'", 0),
    ("acc >= 0.94", "Invalid attribute key 'acc'", 0),
    ("attribute.experiment_id != 1", "Invalid attribute key 'experiment_id'", 10),
    ("attribute.lifecycle_stage = 'ACTIVE'", "Invalid attribute key", 10),
    ("dataset.profile = 'num_rows: 10'", "Invalid dataset key 'profile'", 8),
    ("metric.model = 'LR'", "Expected numeric value type for metric", 15),
    ("metrics.acc = '0.9'", "Expected numeric value type for metric", 14),
    ("metrics.acc != metrics.acc", "Expected numeric value type for metric", 15),
    ("params.acc = 5", "Expected a quoted string value for parameter", 13),
    (
        "tags.acc = LR",
        "Parameter value is either not quoted or unidentified quote types",
        11,
    ),
    (
        "params.acc = `LR`",
        "Parameter value is either not quoted or unidentified quote types",
        13,
    ),
    ("params.acc = 'LR", "Invalid clause(s)", 13),
    ("tags.acc = = 'LR'", "Invalid clause(s)", 11),
    (
        "1.0 > metrics.acc",
        "Invalid comparison clause. Expected 'Identifier' found '1.0'",
        0,
    ),
    ("attribute.status = 1", "Expected a quoted string value for attributes", 19),
    (
        "attributes.start_time = '123'",
        "Expected numeric value type for numeric attribute: start_time",
        24,
    ),
    (
        "metrics.acc IS NULL",
        "IS NULL / IS NOT NULL is only supported for tags and params",
        12,
    ),
    ("end_time IS NULL", "IS NULL / IS NOT NULL is only supported for tags and params", 9),
    ("attribute.status IS 'RUNNING'", "Invalid clause(s)", 20),
    ("params.model > 'A'", "Invalid comparator '>' not one of", 13),
    ("tags.team >= 'a'", "Invalid comparator '>=' not one of", 10),
    ("metrics.acc LIKE 1", "Invalid comparator 'LIKE'", 12),
    ("attributes.start_time LIKE 1", "Invalid comparator 'LIKE'", 22),
    ("datasets.name > 'a'", "Invalid comparator '>'", 14),
    ("metrics.acc == 0.9", "Invalid comparator '=='", 12),
    ("metrics.acc <> 0.9", "Invalid comparator '<>'", 12),
    ("params.model RLIKE 'L.*'", "Invalid comparator 'RLIKE'", 13),
    ("params.model IN ('LR')", "Expected a quoted string value for parameter", 16),
    (
        "attributes.status IN ('FINISHED')",
        "Only ['run_id'] attributes support comparison with a list of quoted string values",
        21,
    ),
    (
        "run_id IN ()",
        "While parsing a list in the query, expected a non-empty list",
        10,
    ),
    (
        "run_id IN ('a', 1)",
        "While parsing a list in the query, expected string value, punctuation, or"
        " whitespace, but got different type in list",
        16,
    ),
    ("metric.x >= +1", "Invalid clause(s)", 12),
    ("`params`.model >= 'LR'", "Invalid comparator '>='", 15),
]

# §12.3, accepted entries.
VALID_ORDER_BY = [
    ("metrics.m", OrderKey("metric", "m", True)),
    ("metrics.m DESC", OrderKey("metric", "m", False)),
    ("metrics.m  DESC", OrderKey("metric", "m", False)),
    ("metrics.`Mean Square Error` ASC", OrderKey("metric", "Mean Square Error", True)),
    ("params.`a b` desc", OrderKey("param", "a b", False)),
    ('tags."x.y" ASC', OrderKey("tag", "x.y", True)),
    ("params.my_param aSc", OrderKey("param", "my_param", True)),
    ("created", OrderKey("attribute", "start_time", True)),
    ("Created DESC", OrderKey("attribute", "start_time", False)),
    ("attr.end_time desc", OrderKey("attribute", "end_time", False)),
    ("attributes.run_id", OrderKey("attribute", "run_id", True)),
    ("tags.noSuchTag", OrderKey("tag", "noSuchTag", True)),
]

# §12.3, rejected entries: (entry, start of message).
REJECTED_ORDER_BY = [
    ("m.acc", "Invalid entity type"),
    ("attri.x", "Invalid entity type"),
    ("acc", "Invalid attribute key"),
    ("attribute.start", "Invalid attribute key"),
    ("attribute.experiment_id", "Invalid attribute key"),
    ("timestamp", "Invalid attribute key"),
    ("`Run name`", "Invalid attribute key"),
    ("`metrics.A", "Invalid order_by clause"),
    ("metrics.A != 1", "Invalid order_by clause 'metrics.A != 1'. Could not be parsed"),
    ("params.my_param ", "Invalid order_by clause 'params.my_param '. Could not be parsed"),
    ("metrics.a asc desc", "Invalid order_by clause 'metrics.a asc desc'. Could not be"),
    ("attribute.run_id ACS", "Invalid ordering key"),
    ("attribute.run_id decs", "Invalid ordering key"),
    ("run name", "Invalid ordering key"),
]

_POSITION = re.compile(r"\(at position (\d+)\)$")


def _position(error: InvalidParameterValue) -> int:
    match = _POSITION.search(error.message)
    assert match, f"no position in {error.message!r}"
    return int(match.group(1))


@pytest.mark.parametrize(("filter_string", "expected"), VALID_FILTERS)
def test_valid_filter(filter_string: str, expected: list[Clause]) -> None:
    assert parse_filter(filter_string) == tuple(expected)


@pytest.mark.parametrize(("filter_string", "prefix", "position"), REJECTED_FILTERS)
def test_rejected_filter(filter_string: str, prefix: str, position: int) -> None:
    with pytest.raises(InvalidParameterValue) as excinfo:
        parse_filter(filter_string)
    assert excinfo.value.message.startswith(prefix)
    assert excinfo.value.error_code == INVALID_PARAMETER_VALUE
    assert _position(excinfo.value) == position


@pytest.mark.parametrize(("entry", "expected"), VALID_ORDER_BY)
def test_valid_order_by(entry: str, expected: OrderKey) -> None:
    assert parse_order_by([entry]) == (expected,)


@pytest.mark.parametrize(("entry", "prefix"), REJECTED_ORDER_BY)
def test_rejected_order_by(entry: str, prefix: str) -> None:
    with pytest.raises(InvalidParameterValue) as excinfo:
        parse_order_by([entry])
    assert excinfo.value.message.startswith(prefix)
    _position(excinfo.value)


@pytest.mark.parametrize("filter_string", [None, "", "   ", "\n\t"])
def test_empty_filter_means_all_runs(filter_string: str | None) -> None:
    assert parse_filter(filter_string) == ()


@pytest.mark.parametrize(
    ("filter_string", "expected"),
    [
        ("METRICS.a > 1", "Invalid entity type 'METRICS'"),  # entity words keep case
        ("STATUS = 'x'", "Invalid attribute key 'STATUS'"),
        ("AND metrics.a > 1", "Invalid clause(s) in filter string: 'AND'"),
        ("metrics.a > 1 AND AND metrics.b > 1", "Invalid clause(s)"),
        ("metrics.a > 1 ANDmetrics.b > 1", "Invalid clause(s)"),
        ("metrics.a > 1AND metrics.b > 1", "Expected numeric value type for metric"),
        ("metrics.a >", "Invalid clause(s) in filter string: end of filter"),
        ("metrics.a", "Invalid clause(s) in filter string: end of filter"),
        ("metrics. > 1", "Invalid clause(s) in filter string: '.'"),
        ('tags."a".b = "x"', "Invalid clause(s) in filter string: '.b'"),
        ('"metrics".a > 1', "Invalid entity type '\"metrics\"'"),
        ("params.a NOT LIKE 'x'", "Invalid clause(s)"),
        ("run_id IN 'a'", "Invalid clause(s)"),
        ("run_id = ('a')", "Invalid clause(s)"),
        ("run_id IN ('a',)", "While parsing a list in the query, expected a non-empty"),
        ("run_id IN ('a' 'b')", "While parsing a list in the query, expected a non-empty"),
        ("run_id IN ('a'", "While parsing a list in the query, expected a non-empty"),
        ("metrics.a = 1.2.3", "Expected numeric value type for metric"),
        ("metrics.a = - 1", "Invalid clause(s)"),
        ("metrics.a ~ 1", "Invalid comparator '~'"),
        ("metrics.a IN (1)", "While parsing a list in the query, expected string"),
        ("metrics.a IN ('1')", "Expected numeric value type for metric"),
        ("start_time IN ('1')", "Expected numeric value type for numeric attribute"),
        ("params.start_time > 1", "Expected a quoted string value for parameter"),
        ("dataset.name = 1", "Expected a quoted string value for dataset attributes"),
        ("dataset.name IS NULL", "IS NULL / IS NOT NULL is only supported"),
        ("run_name IN ('a')", "Only ['run_id'] attributes support comparison"),
        ("params.a = 'x'; ", "Invalid clause(s) in filter string: ';'"),
    ],
)
def test_other_rejections(filter_string: str, expected: str) -> None:
    with pytest.raises(InvalidParameterValue) as excinfo:
        parse_filter(filter_string)
    assert excinfo.value.message.startswith(expected)
    _position(excinfo.value)


@pytest.mark.parametrize(
    ("filter_string", "expected"),
    [
        ("metrics.x > 1e309", Clause("metric", "x", ">", math.inf)),
        ("metrics.x > -1E+3", Clause("metric", "x", ">", -1000.0)),
        ("params.a = 'L''R'", Clause("param", "a", "=", "L''R")),  # no unescaping
        ("params.a = 'a\\'b'", Clause("param", "a", "=", "a\\'b")),
        ('params.a = "x;y AND z"', Clause("param", "a", "=", "x;y AND z")),
        ("run_id in ( \"a\" ,'b' )", Clause("attribute", "run_id", "IN", ("a", "b"))),
        ("run_id not   in ('a')", Clause("attribute", "run_id", "NOT IN", ("a",))),
        ("params.a is  not  null", Clause("param", "a", "IS NOT NULL", None)),
        ("params.a like'x%'", Clause("param", "a", "LIKE", "x%")),
        ("\"status\" = 'x'", Clause("attribute", "status", "=", "x")),
        ("`run name` = 'x'", Clause("attribute", "run_name", "=", "x")),
        ("Created <= 5", Clause("attribute", "start_time", "<=", 5.0)),
        ("params.`` = 'x'", Clause("param", "", "=", "x")),
        ("metrics.ümlaut > 1", Clause("metric", "ümlaut", ">", 1.0)),
    ],
)
def test_other_accepted(filter_string: str, expected: Clause) -> None:
    assert parse_filter(filter_string) == (expected,)


def test_rejects_non_string_filter() -> None:
    with pytest.raises(InvalidParameterValue, match="must be a string"):
        parse_filter(42)  # type: ignore[arg-type]


def test_order_by_empty_and_none() -> None:
    assert parse_order_by(None) == ()
    assert parse_order_by([]) == ()


def test_order_by_keeps_first_of_repeated_keys() -> None:
    assert parse_order_by(["metrics.a", "params.b DESC", "metrics.a DESC"]) == (
        OrderKey("metric", "a", True),
        OrderKey("param", "b", False),
    )
    assert parse_order_by(["created DESC", "start_time"]) == (OrderKey("attribute", "start_time", False),)


@pytest.mark.parametrize(
    ("items", "expected"),
    [
        ("metrics.a", "order_by must be a list of strings"),
        (5, "order_by must be a list of strings"),
        ([1], "Invalid order_by clause 1"),
        (["dataset.name"], "Invalid entity type 'dataset' for order_by"),
        ([" metrics.a"], "Invalid order_by clause"),
        ([""], "Invalid order_by clause"),
        (["metrics.a\tDESC "], "Invalid order_by clause"),
    ],
)
def test_order_by_other_rejections(items: object, expected: str) -> None:
    with pytest.raises(InvalidParameterValue) as excinfo:
        parse_order_by(items)  # type: ignore[arg-type]
    assert excinfo.value.message.startswith(expected)


@pytest.mark.parametrize(
    ("filter_string", "expected"),
    [
        ("name = 'exp'", [Clause("attribute", "name", "=", "exp")]),
        ("attribute.name LIKE 'e%'", [Clause("attribute", "name", "LIKE", "e%")]),
        ("attributes.name ILIKE '%X'", [Clause("attribute", "name", "ILIKE", "%X")]),
        (
            "experiment_id IN ('1', '2')",
            [Clause("attribute", "experiment_id", "IN", ("1", "2"))],
        ),
        ("experiment_id != '0'", [Clause("attribute", "experiment_id", "!=", "0")]),
        ("creation_time > 100", [Clause("attribute", "creation_time", ">", 100.0)]),
        (
            "attributes.last_update_time <= 5",
            [Clause("attribute", "last_update_time", "<=", 5.0)],
        ),
        ("tags.team = 'red'", [Clause("tag", "team", "=", "red")]),
        ("tag.`a b` IS NOT NULL", [Clause("tag", "a b", "IS NOT NULL", None)]),
        (
            "name = 'x' and tags.k = 'v' AND",
            [Clause("attribute", "name", "=", "x"), Clause("tag", "k", "=", "v")],
        ),
        ("", []),
    ],
)
def test_experiment_filter(filter_string: str, expected: list[Clause]) -> None:
    assert parse_experiment_filter(filter_string) == tuple(expected)


@pytest.mark.parametrize(
    ("filter_string", "expected"),
    [
        (
            "params.x = 'a'",
            "Invalid entity type 'params'. Valid entity types are ('attribute', 'attributes', 'tag', 'tags')",
        ),
        ("metrics.a > 1", "Invalid entity type 'metrics'"),
        ("`tag`.a = 'x'", "Invalid entity type '`tag`'"),
        ("run_id = 'x'", "Invalid attribute key 'run_id'"),
        ("lifecycle_stage = 'active'", "Invalid attribute key 'lifecycle_stage'"),
        ("name IN ('a')", "Only ['experiment_id'] attributes support comparison"),
        ("name IS NULL", "IS NULL / IS NOT NULL is only supported for tags"),
        ("creation_time LIKE 1", "Invalid comparator 'LIKE'"),
        ("creation_time = '1'", "Expected numeric value type for numeric attribute"),
        ("name > 'a'", "Invalid comparator '>'"),
        ("tags.k IN ('a')", "Expected a quoted string value for tag"),
        ("experiment_id = 1", "Expected a quoted string value for attributes"),
        ("name = 'a' OR name = 'b'", "Invalid clause(s)"),
    ],
)
def test_experiment_filter_rejected(filter_string: str, expected: str) -> None:
    with pytest.raises(InvalidParameterValue) as excinfo:
        parse_experiment_filter(filter_string)
    assert excinfo.value.message.startswith(expected)
    _position(excinfo.value)


def test_experiment_order_by() -> None:
    assert parse_experiment_order_by(
        ["name", "experiment_id DESC", "attribute.creation_time asc", "last_update_time"]
    ) == (
        OrderKey("attribute", "name", True),
        OrderKey("attribute", "experiment_id", False),
        OrderKey("attribute", "creation_time", True),
        OrderKey("attribute", "last_update_time", True),
    )


@pytest.mark.parametrize(
    ("entry", "expected"),
    [
        ("tags.a", "Invalid order_by entity: tag"),
        ("params.a", "Invalid entity type 'params'"),
        ("start_time", "Invalid attribute key 'start_time'"),
        ("name ASC DESC", "Invalid order_by clause"),
        ("name up", "Invalid ordering key"),
    ],
)
def test_experiment_order_by_rejected(entry: str, expected: str) -> None:
    with pytest.raises(InvalidParameterValue) as excinfo:
        parse_experiment_order_by([entry])
    assert excinfo.value.message.startswith(expected)


@pytest.mark.parametrize(
    ("pattern", "case_insensitive", "matches", "misses"),
    [
        ("L%", False, ["L", "LR", "L\nx"], ["lr", "xL"]),
        ("l%", True, ["LR", "lr"], ["RL"]),
        ("_F", False, ["RF", "_F"], ["F", "RRF", "rf"]),
        ("a.b", False, ["a.b"], ["axb"]),  # regex metacharacters are literal
        ("%a%b%", False, ["ab", "xaybz"], ["ba"]),
        ("a%%b", False, ["ab", "axxb"], ["ba"]),
        ("%", False, ["", "anything"], []),
        ("", False, [""], ["x"]),
        ("a\\_", False, ["a\\x"], ["a_"]),  # no escape character
    ],
)
def test_like_to_regex(pattern: str, case_insensitive: bool, matches: list[str], misses: list[str]) -> None:
    regex = like_to_regex(pattern, case_insensitive)
    assert all(regex.match(s) for s in matches)
    assert not any(regex.match(s) for s in misses)


def test_like_to_regex_stays_linear_on_adversarial_input() -> None:
    # Nested ".*" would need ~n**5 steps here; the atomic groups keep it linear.
    assert not like_to_regex("%a%a%a%a%a%b", False).match("a" * 5000)


def _like_reference(pattern: str, text: str) -> bool:
    """Plain dynamic-programming LIKE, to check the regex against."""

    @cache
    def match(i: int, j: int) -> bool:
        if i == len(pattern):
            return j == len(text)
        if pattern[i] == "%":
            return match(i + 1, j) or (j < len(text) and match(i, j + 1))
        if j < len(text) and pattern[i] in ("_", text[j]):
            return match(i + 1, j + 1)
        return False

    return match(0, 0)


_LIKE_ALPHABET = st.text(alphabet="ab%_.\n", max_size=8)


@given(pattern=_LIKE_ALPHABET, text=st.text(alphabet="ab.\n", max_size=10))
def test_like_to_regex_agrees_with_reference(pattern: str, text: str) -> None:
    assert bool(like_to_regex(pattern, False).match(text)) == _like_reference(pattern, text)


def _parses_or_refuses(filter_string: str) -> None:
    for parse in (parse_filter, parse_experiment_filter):
        try:
            parse(filter_string)
        except InvalidParameterValue as error:
            _position(error)
    for parse_order in (parse_order_by, parse_experiment_order_by):
        try:
            parse_order([filter_string])
        except InvalidParameterValue as error:
            _position(error)


@given(st.text(alphabet=string.printable))
def test_random_printable_text_parses_or_is_refused(filter_string: str) -> None:
    _parses_or_refuses(filter_string)


# fmt: off
_TOKENS = st.sampled_from([
    "metrics.a", "params.`b c`", 'tags."d"', "tags.'e'", "run_id", "created",
    "dataset.name", "name", "`metric`", ".", "=", "!=", ">=", "<", "==",
    "LIKE", "ilike", "IN", "NOT", "IS", "NULL", "AND", "and", "OR", "1",
    "-2.5e3", ".5", "+1", "'x'", '"y"', "`z`", "'", '"', "`", "(", ")", ",",
    ";", " ", "  ", "\t", "ASC", "desc", "\\",
])
# fmt: on


@given(st.lists(_TOKENS, max_size=12).map("".join))
def test_random_token_soup_parses_or_is_refused(filter_string: str) -> None:
    _parses_or_refuses(filter_string)


_KEYS = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="`"),
    max_size=12,
)
_STRINGS = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="'"),
    max_size=12,
)


@given(key=_KEYS, value=_STRINGS, entity=st.sampled_from(["params", "tags"]))
def test_quoted_key_and_value_round_trip(key: str, value: str, entity: str) -> None:
    clause = parse_filter(f"{entity}.`{key}` = '{value}'")
    assert clause == (Clause(entity[:-1], key, "=", value),)  # type: ignore[arg-type]


@given(number=st.floats(allow_nan=False, allow_infinity=False))
def test_metric_numbers_round_trip(number: float) -> None:
    assert parse_filter(f"metrics.m >= {number!r}") == (Clause("metric", "m", ">=", number),)
