import pytest

from server.domain.errors import FieldViolation
from server.domain.labels import annotation_violations, dns1123_label_violation, entry_path, label_violations

NAME_RULE = "letters, digits, '-', '_' and '.', starting and ending with a letter or digit"
SUBDOMAIN_RULE = (
    "a DNS subdomain: lowercase letters, digits, '-' and '.', "
    "each dot-separated part starting and ending with a letter or digit"
)


def test_accepts_valid_labels() -> None:
    labels = {
        "team": "db",
        "app.kubernetes.io/name": "web-1",
        "example.com/Tier_2": "Gold.v1",
        "x": "",
        "a" * 63: "b" * 63,
        "p" * 253 + "/n": "v",
    }
    assert label_violations(labels, "virtual_machine.labels") == []


def test_entry_path_quotes_the_key() -> None:
    assert entry_path("labels", "example.com/tier") == 'labels["example.com/tier"]'
    assert entry_path("labels", 'a"b') == 'labels["a\\"b"]'


@pytest.mark.parametrize(
    ("key", "descriptions"),
    [
        ("", ["key must not be empty"]),
        ("a/b/c", ['key "a/b/c" must contain at most one "/"']),
        ("/name", ['key prefix before "/" must not be empty']),
        ("example.com/", ['key name after "/" must not be empty']),
        ("/", ['key prefix before "/" must not be empty', 'key name after "/" must not be empty']),
        ("p" * 254 + "/n", ["key prefix must be at most 253 characters (got 254)"]),
        ("Example.com/n", [f'key prefix "Example.com" must be {SUBDOMAIN_RULE}']),
        ("example..com/n", [f'key prefix "example..com" must be {SUBDOMAIN_RULE}']),
        ("-example.com/n", [f'key prefix "-example.com" must be {SUBDOMAIN_RULE}']),
        ("n" * 64, ["key name must be at most 63 characters (got 64)"]),
        ("-team", [f'key name "-team" must consist of {NAME_RULE}']),
        ("team_", [f'key name "team_" must consist of {NAME_RULE}']),
        ("te am", [f'key name "te am" must consist of {NAME_RULE}']),
        (
            "Bad.Prefix/-x",
            [
                f'key prefix "Bad.Prefix" must be {SUBDOMAIN_RULE}',
                f'key name "-x" must consist of {NAME_RULE}',
            ],
        ),
    ],
)
def test_reports_each_broken_key_rule(key: str, descriptions: list[str]) -> None:
    path = entry_path("labels", key)
    assert label_violations({key: "v"}, "labels") == [FieldViolation(path, d) for d in descriptions]


@pytest.mark.parametrize(
    ("value", "description"),
    [
        ("v" * 64, "value must be at most 63 characters (got 64)"),
        ("-db", f'value "-db" must be empty or consist of {NAME_RULE}'),
        ("db.", f'value "db." must be empty or consist of {NAME_RULE}'),
        ("a/b", f'value "a/b" must be empty or consist of {NAME_RULE}'),
        ("café", f'value "café" must be empty or consist of {NAME_RULE}'),
    ],
)
def test_reports_a_bad_value(value: str, description: str) -> None:
    assert label_violations({"team": value}, "spec.labels") == [FieldViolation('spec.labels["team"]', description)]


def test_reports_every_bad_entry_in_order() -> None:
    violations = label_violations({"ok": "fine", "-a": "x", "b": "-y"}, "labels")
    assert violations == [
        FieldViolation('labels["-a"]', f'key name "-a" must consist of {NAME_RULE}'),
        FieldViolation('labels["b"]', f'value "-y" must be empty or consist of {NAME_RULE}'),
    ]


def test_annotations_allow_any_value() -> None:
    annotations = {"example.com/config": '{"a": [1, 2]}\nline two', "note": "x" * 10_000}
    assert annotation_violations(annotations, "annotations") == []


def test_annotation_keys_follow_label_rules() -> None:
    assert annotation_violations({"Bad Key": "v"}, "annotations") == [
        FieldViolation('annotations["Bad Key"]', f'key name "Bad Key" must consist of {NAME_RULE}')
    ]


def test_annotations_total_size_is_counted_in_bytes_over_keys_and_values() -> None:
    at_limit = {"k": "x" * (256 * 1024 - 1)}
    assert annotation_violations(at_limit, "annotations") == []
    # "é" is two bytes in UTF-8.
    over = {"k": "x" * (256 * 1024 - 2) + "é"}
    assert annotation_violations(over, "virtual_machine.annotations") == [
        FieldViolation("virtual_machine.annotations", "total size must be at most 262144 bytes (got 262145)")
    ]


@pytest.mark.parametrize("name", ["a", "web-1", "db0", "a" * 63, "x-y-z"])
def test_accepts_vm_names(name: str) -> None:
    assert dns1123_label_violation(name, "virtual_machine_id") is None


@pytest.mark.parametrize(
    ("name", "description"),
    [
        ("", "must not be empty"),
        ("a" * 70, "must be at most 63 characters (got 70)"),
        ("Web", """must contain only lowercase letters, digits and '-' (found "W" at position 1)"""),
        ("web_1", """must contain only lowercase letters, digits and '-' (found "_" at position 4)"""),
        ("web.example", """must contain only lowercase letters, digits and '-' (found "." at position 4)"""),
        ("1web", "must start with a lowercase letter"),
        ("-web", "must start with a lowercase letter"),
        ("web-", "must end with a lowercase letter or digit"),
    ],
)
def test_refuses_vm_names_with_the_rule_broken(name: str, description: str) -> None:
    assert dns1123_label_violation(name, "virtual_machine_id") == FieldViolation("virtual_machine_id", description)
