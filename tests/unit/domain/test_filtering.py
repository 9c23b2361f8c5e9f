import pytest

from server.domain.errors import FieldViolation, InvalidArgument
from server.domain.filtering import (
    And,
    Compare,
    Expr,
    FieldKind,
    Has,
    Not,
    Or,
    Value,
    check_fields,
    parse_filter,
    parse_timestamp,
)

VM_FIELDS = {
    "name": FieldKind.string(),
    "state": FieldKind.enum(("STOPPED", "RUNNING", "PAUSED")),
    "spec.run_strategy": FieldKind.enum(("ALWAYS", "HALTED")),
    "create_time": FieldKind.timestamp(),
    "labels": FieldKind.label_map(),
}

FIELDS = "filter on one of create_time, labels, name, spec.run_strategy, state"
TIMESTAMP = 'create_time must be compared with a quoted RFC 3339 timestamp, e.g. "2024-01-31T12:00:00Z"'
OPERATOR = "expected an operator (=, !=, <, >, <=, >= or :)"
QUOTE = 'quote names with other characters, e.g. labels."example.com/tier"'
ONE_LABEL = 'compare one label at a time, e.g. labels.team = "db", or test a key with labels:team'


def eq(*path: str, value: str, quoted: bool = False) -> Compare:
    return Compare(path, "=", Value(value, quoted))


def error_of(text: str) -> str:
    with pytest.raises(InvalidArgument) as caught:
        parse_filter(text)
    return only_violation(caught.value)


def check_error(text: str) -> str:
    expr = parse_filter(text)
    assert expr is not None
    with pytest.raises(InvalidArgument) as caught:
        check_fields(expr, VM_FIELDS)
    return only_violation(caught.value)


def only_violation(error: InvalidArgument) -> str:
    [violation] = error.violations
    assert violation.field == "filter"
    assert error.message == f"filter: {violation.description}"
    return violation.description


@pytest.mark.parametrize("text", ["", " ", "\t\n "])
def test_empty_filter_is_none(text: str) -> None:
    assert parse_filter(text) is None


@pytest.mark.parametrize(
    ("text", "expr"),
    [
        ("state = RUNNING", eq("state", value="RUNNING")),
        ('state = "RUNNING"', eq("state", value="RUNNING", quoted=True)),
        ("state=RUNNING", eq("state", value="RUNNING")),
        ("spec.run_strategy != HALTED", Compare(("spec", "run_strategy"), "!=", Value("HALTED"))),
        ("labels.team = 'db'", eq("labels", "team", value="db", quoted=True)),
        ('labels."example.com/tier" = gold', eq("labels", "example.com/tier", value="gold")),
        ("labels.app-name = web", eq("labels", "app-name", value="web")),
        (
            'create_time >= "2024-01-31T12:00:00Z"',
            Compare(("create_time",), ">=", Value("2024-01-31T12:00:00Z", True)),
        ),
        ("n < 10", Compare(("n",), "<", Value("10"))),
        ("n > 1.5", Compare(("n",), ">", Value("1.5"))),
        ("n <= -3", Compare(("n",), "<=", Value("-3"))),
        ("flag = true", eq("flag", value="true")),
        ("labels:team", Has(("labels",), Value("team"))),
        ("labels.team:*", Has(("labels", "team"), Value("*"))),
        ('labels:"example.com/tier"', Has(("labels",), Value("example.com/tier", True))),
        (r'name = "a \"b\" \\ c\n"', eq("name", value='a "b" \\ c\n', quoted=True)),
        (r"name = 'it\'s'", eq("name", value="it's", quoted=True)),
        ('name = "état"', eq("name", value="état", quoted=True)),
    ],
)
def test_parses_restrictions(text: str, expr: Expr) -> None:
    assert parse_filter(text) == expr


def test_or_binds_tighter_than_and() -> None:
    a, b, c = (eq(x, value="1") for x in "abc")
    assert parse_filter("a = 1 AND b = 1 OR c = 1") == And(a, Or(b, c))
    assert parse_filter("a = 1 OR b = 1 AND c = 1") == And(Or(a, b), c)
    assert parse_filter("(a = 1 AND b = 1) OR c = 1") == Or(And(a, b), c)


def test_chains_associate_left() -> None:
    a, b, c = (eq(x, value="1") for x in "abc")
    assert parse_filter("a = 1 AND b = 1 AND c = 1") == And(And(a, b), c)
    assert parse_filter("a = 1 OR b = 1 OR c = 1") == Or(Or(a, b), c)


def test_negation() -> None:
    a, b = eq("a", value="1"), eq("b", value="1")
    assert parse_filter("NOT a = 1") == Not(a)
    assert parse_filter("-a = 1") == Not(a)
    assert parse_filter("NOT (a = 1 OR b = 1)") == Not(Or(a, b))
    assert parse_filter("NOT NOT a = 1 AND -b = 1") == And(Not(Not(a)), Not(b))


def test_nodes_record_positions() -> None:
    expr = parse_filter('x = 1 AND NOT labels.team != "db"')
    assert isinstance(expr, And)
    negation = expr.right
    assert isinstance(negation, Not)
    assert negation.position == 11
    compare = negation.operand
    assert isinstance(compare, Compare)
    assert (compare.position, compare.op_position, compare.value.position) == (15, 27, 30)


@pytest.mark.parametrize(
    ("text", "description"),
    [
        ("labels.team=", 'position 12: expected a value after "=", found the end of the filter'),
        ("state = AND x = 1", 'position 9: expected a value after "=", found "AND"'),
        ("state = )", 'position 9: expected a value after "=", found ")"'),
        (
            "state",
            f'position 1: {OPERATOR} after "state", found the end of the filter',
        ),
        (
            "state RUNNING",
            'position 7: expected an operator (=, !=, <, >, <=, >= or :) after "state", found "RUNNING"',
        ),
        ("a = 1 b = 2", 'position 7: expected AND or OR before "b"; terms are not joined implicitly'),
        (
            'a = 1 "b"',
            "position 7: expected AND or OR before a quoted string; terms are not joined implicitly",
        ),
        ("a = 1 (b = 2)", 'position 7: expected AND or OR before "("; terms are not joined implicitly'),
        ("(a = 1 b = 2)", 'position 8: expected AND or OR before "b"; terms are not joined implicitly'),
        ("a = 1 = 2", 'position 7: unexpected "=" after a complete comparison'),
        ("AND a = 1", 'position 1: expected a field name, found "AND"'),
        ("a = 1 AND", "position 7: expected a field name, found the end of the filter"),
        ("a = 1 OR OR b = 1", 'position 10: expected a field name, found "OR"'),
        ("NOT", "position 1: expected a field name, found the end of the filter"),
        ("= 1", 'position 1: expected a field name, found "="'),
        ('"a" = 1', "position 1: expected a field name, found a quoted string"),
        ("(a = 1", 'position 1: this "(" is never closed'),
        ("x = 1 AND ((a = 1)", 'position 11: this "(" is never closed'),
        ("a = 1)", 'position 6: unexpected ")" with no matching "("'),
        ("()", 'position 2: expected a field name, found ")"'),
        ("- a = 1", 'position 1: put "-" directly before the term it negates, e.g. -state = RUNNING'),
        ("a = - 1", 'position 5: expected a value after "=", found "-"'),
        ("a ! b", 'position 3: unexpected "!"; use != or NOT'),
        ('name = "abc', 'position 8: unterminated string; close it with "'),
        ("name = 'abc\"", "position 8: unterminated string; close it with '"),
        (r'name = "a\qb"', r'position 10: unknown escape "\q" in string; use \\, \", \n, \t or \r'),
        ("name = 'a\\", r"position 10: unknown escape at the end in string; use \\, \', \n, \t or \r"),
        (
            "create_time > 2024-01-31T12:00:00Z",
            'position 15: quote values that contain ":", e.g. "2024-01-31T12:..."',
        ),
        ("labels. = 1", 'position 1: expected a name after "labels."'),
        ('labels."a"b = 1', 'position 11: expected "." between the parts of "labels.a"'),
        (
            "labels..a = 1",
            f'position 1: invalid field name "labels..a"; {QUOTE}',
        ),
        (
            "x = 1 AND labels.example.com/tier = gold",
            'position 11: invalid field name "labels.example.com/tier"; '
            'quote names with other characters, e.g. labels."example.com/tier"',
        ),
        ("(" * 33 + "a = 1" + ")" * 33, "position 33: nested more than 32 levels deep"),
        ("NOT " * 33 + "a = 1", "position 129: nested more than 32 levels deep"),
    ],
)
def test_syntax_errors_name_the_position(text: str, description: str) -> None:
    assert error_of(text) == description


def test_nesting_up_to_the_limit_is_fine() -> None:
    assert parse_filter("(" * 32 + "a = 1" + ")" * 32) == eq("a", value="1")
    assert parse_filter("-" * 32 + "a = 1") is not None


def test_length_limit() -> None:
    at_limit = "name = " + '"' + "x" * 1991 + '"'
    assert len(at_limit) == 2000
    assert parse_filter(at_limit) == eq("name", value="x" * 1991, quoted=True)
    assert error_of(at_limit + " ") == "must be at most 2000 characters (got 2001)"


def test_long_chains_do_not_count_as_nesting() -> None:
    text = " AND ".join(f"a = {i}" for i in range(150))
    assert len(text) < 2000
    assert parse_filter(text) is not None


@pytest.mark.parametrize(
    "text",
    [
        'state = RUNNING AND labels.team = "db"',
        'state = "PAUSED" OR state != STOPPED',
        "spec.run_strategy = ALWAYS",
        'name = "web-1" AND NOT name != web',
        'create_time > "2024-01-31T12:00:00Z" AND create_time <= "2024-02-01T00:00:00.123+02:00"',
        'labels:team AND labels:"example.com/tier" AND labels.team:* AND labels.team:db',
        "labels.team != db",
    ],
)
def test_check_fields_accepts_what_the_resource_offers(text: str) -> None:
    expr = parse_filter(text)
    assert expr is not None
    check_fields(expr, VM_FIELDS)


@pytest.mark.parametrize(
    ("text", "description"),
    [
        (
            "foo = 1",
            f'position 1: unknown field "foo"; {FIELDS}',
        ),
        (
            "name = x OR NOT spec.foo = 1",
            f'position 17: unknown field "spec.foo"; {FIELDS}',
        ),
        (
            "state.x = 1",
            f'position 1: unknown field "state.x"; {FIELDS}',
        ),
        (
            "labels.a.b = 1",
            f'position 1: unknown field "labels.a.b"; {FIELDS}',
        ),
        ("state = RUNING", "position 9: unknown state RUNING; use one of STOPPED, RUNNING, PAUSED"),
        ('state = "running"', 'position 9: unknown state "running"; use one of STOPPED, RUNNING, PAUSED'),
        (
            "spec.run_strategy = MANUAL",
            "position 21: unknown spec.run_strategy MANUAL; use one of ALWAYS, HALTED",
        ),
        ("state < RUNNING", 'position 7: operator "<" does not apply to state; use = or !='),
        ("name >= a", 'position 6: operator ">=" does not apply to name; use = or !='),
        ("state:RUNNING", 'position 6: ":" applies only to label maps, not to state; use = or !='),
        (
            "create_time > 2024",
            f"position 15: {TIMESTAMP} (got 2024)",
        ),
        (
            'create_time > "2024-01-31"',
            f'position 15: {TIMESTAMP} (got "2024-01-31")',
        ),
        (
            'create_time > "2024-02-30T00:00:00Z"',
            f'position 15: {TIMESTAMP} (got "2024-02-30T00:00:00Z")',
        ),
        (
            "labels = x",
            f"position 1: {ONE_LABEL}",
        ),
        ("labels.team > a", 'position 13: operator ">" does not apply to labels; use = or !='),
    ],
)
def test_check_fields_errors_name_the_position(text: str, description: str) -> None:
    assert check_error(text) == description


def test_check_fields_reports_the_first_problem_left_to_right() -> None:
    assert check_error("a = 1 AND b = 2").startswith('position 1: unknown field "a"')


@pytest.mark.parametrize(
    ("text", "iso"),
    [
        ("2024-01-31T12:00:00Z", "2024-01-31T12:00:00+00:00"),
        ("2024-01-31t12:00:00z", "2024-01-31T12:00:00+00:00"),
        ("2024-01-31T12:00:00.5-05:30", "2024-01-31T12:00:00.500000-05:30"),
        ("2024-01-31T12:00:00.123456789Z", "2024-01-31T12:00:00.123456+00:00"),
    ],
)
def test_parse_timestamp(text: str, iso: str) -> None:
    parsed = parse_timestamp(text)
    assert parsed is not None
    assert parsed.isoformat() == iso


@pytest.mark.parametrize(
    "text", ["2024-01-31", "2024-01-31T12:00:00", "2024-01-31 12:00:00Z", "2024-13-01T00:00:00Z", "yesterday"]
)
def test_parse_timestamp_refuses_anything_else(text: str) -> None:
    assert parse_timestamp(text) is None


def test_violation_is_on_the_filter_field() -> None:
    with pytest.raises(InvalidArgument) as caught:
        parse_filter("a =")
    assert caught.value.violations == [
        FieldViolation("filter", 'position 3: expected a value after "=", found the end of the filter')
    ]
