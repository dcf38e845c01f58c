"""Hypothesis strategies for scenario files: valid ones, and invalid ones made by mutation.

Scenarios are generated as plain data (what ``tomllib`` would return) and written as TOML
text with :func:`to_toml`, so the tests exercise the whole path a user's file takes. Valid
scenarios stay small (at most 300 users, 10 days, a few posts per user per day) so each
runs in a fraction of a second; within that, values range over the whole allowed domain,
edges included (probabilities 0 and 1, zero reviewers, deadlines of 0 hours...).

Each invalid mutation comes with the field path the error message must name.
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass
from typing import Any

from hypothesis import strategies as st

from simulator import load_scenario

KINDS = ("benign", "critical", "collective_action", "unlawful")
SENSITIVE = ("critical", "collective_action", "unlawful")
SHIPPED_PARENTS = ("open_baseline", "classroom", "china_csl_2016")
#: Platform names of the shipped parents (a child's [[platforms]] merge with them by name).
PARENT_PLATFORMS = {
    name: tuple(p.name for p in load_scenario(name).platforms) for name in SHIPPED_PARENTS
}
#: Text that would do something if a scenario file were ever evaluated as code.
HOSTILE_STRINGS = (
    "__import__('os').system('touch PWNED')",
    "{{ __import__('os').system('touch PWNED') }}",
    "${PWNED}",
    "$(touch PWNED)",
    "`touch PWNED`",
    "!!python/object/apply:os.system ['touch PWNED']",
    "cos\nsystem\n(S'touch PWNED'\ntR.",
    "'; DROP TABLE runs; --",
    "\x1b[2J\x1b[31mred\x1b[0m",
    "\u202eevil\u202c",
)

# ---------------------------------------------------------------------------------------
# TOML text


def _toml_string(text: str) -> str:
    out = ['"']
    for char in text:
        code = ord(char)
        if char == '"':
            out.append('\\"')
        elif char == "\\":
            out.append("\\\\")
        elif code < 0x20 or code == 0x7F:
            out.append(f"\\u{code:04x}")
        else:
            out.append(char)
    out.append('"')
    return "".join(out)


def toml_value(value: Any) -> str:
    """One TOML value (inline tables and arrays for nested data)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, str):
        return _toml_string(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{_key(k)} = {toml_value(v)}" for k, v in value.items()) + " }"
    raise TypeError(f"no TOML for {type(value).__name__}")


def _key(key: str) -> str:
    bare = key and all(c.isascii() and (c.isalnum() or c in "_-") for c in key)
    return key if bare else _toml_string(key)


def to_toml(data: dict[str, Any]) -> str:
    """TOML text for plain data: scalars first, then ``[tables]`` and ``[[platforms]]``."""
    return _section(data, prefix="").lstrip("\n") + "\n"


def _section(data: dict[str, Any], prefix: str) -> str:
    lines: list[str] = []
    tables: list[tuple[str, Any]] = []
    for key, value in data.items():
        is_table = isinstance(value, dict)
        is_table_array = (
            isinstance(value, list) and value and all(isinstance(v, dict) for v in value)
        )
        if is_table or is_table_array:
            tables.append((key, value))
        else:
            lines.append(f"{_key(key)} = {toml_value(value)}")
    out = "\n".join(lines)
    for key, value in tables:
        name = f"{prefix}{_key(key)}"
        if isinstance(value, list):
            for item in value:
                out += f"\n\n[[{name}]]\n" + _section(item, prefix=f"{name}.").lstrip("\n")
        else:
            out += f"\n\n[{name}]\n" + _section(value, prefix=f"{name}.").lstrip("\n")
    return out


# ---------------------------------------------------------------------------------------
# Valid scenarios


def probability() -> st.SearchStrategy[float]:
    return st.one_of(st.sampled_from([0.0, 1.0]), st.floats(0.0, 1.0))


def non_negative(high: float) -> st.SearchStrategy[float]:
    return st.one_of(st.just(0.0), st.floats(0.0, high))


def positive(low: float, high: float) -> st.SearchStrategy[float]:
    return st.floats(low, high)


def per_kind(values: st.SearchStrategy[float]) -> st.SearchStrategy[dict[str, float]]:
    return st.fixed_dictionaries({}, optional={k: values for k in KINDS})


def beta() -> st.SearchStrategy[dict[str, float]]:
    return st.fixed_dictionaries(
        {}, optional={"alpha": positive(0.05, 50.0), "beta": positive(0.05, 50.0)}
    )


@st.composite
def population(draw: st.DrawFn, users: int) -> dict[str, Any]:
    data: dict[str, Any] = {"users": users}
    stance = draw(beta())
    if stance:
        data["stance"] = stance
    mean_stance = stance.get("alpha", 2.0) / (stance.get("alpha", 2.0) + stance.get("beta", 2.0))
    # The sensitive shares must add up to at most the mean stance (schema rule).
    budget = draw(st.floats(0.0, 1.0)) * mean_stance
    weights = draw(st.lists(st.floats(0.0, 1.0), min_size=3, max_size=3))
    total = sum(weights) or 1.0
    # Always given: a parent's (or the default) mix may not fit this stance.
    data["sensitive_mix"] = {
        k: min(1.0, budget * w / total) * (1 - 1e-9)
        for k, w in zip(SENSITIVE, weights, strict=True)
    }
    optional = {
        "posts_per_day": non_negative(4.0),
        "posting_dispersion": non_negative(3.0),
        "private_share": probability(),
        "boldness": beta(),
        "mean_degree": non_negative(30.0),
        "attention_hours": positive(0.01, 100.0),
        "perception": st.fixed_dictionaries(
            {},
            optional={
                "half_life_days": positive(0.01, 1000.0),
                "prior_trials": positive(0.01, 100.0),
                "prior_removal": probability(),
                "prior_report": probability(),
                "initial_trials": non_negative(50.0),
                "initial_removal": probability(),
                "initial_detention": probability(),
                "friend_evidence_weight": non_negative(5.0),
                "friend_detention_weight": non_negative(5.0),
                "news_case_weight": non_negative(5.0),
                "visibility": probability(),
                "climate_weight": non_negative(5.0),
                "kind_closeness": per_kind(probability()),
            },
        ),
        "speech": st.fixed_dictionaries(
            {},
            optional={
                "choice_noise": non_negative(3.0),
                "removal_cost": non_negative(10.0),
                "account_value": non_negative(10.0),
                "detention_cost": non_negative(100.0),
                "detention_scale_days": positive(0.01, 100.0),
                "desire_stance_exponent": non_negative(3.0),
            },
        ),
        "exits": st.fixed_dictionaries(
            {},
            optional={
                "leave_probability_on_sanction": probability(),
                "circumvent_probability_on_sanction": probability(),
                "circumvention_friction": probability(),
            },
        ),
        "notices": st.fixed_dictionaries(
            {},
            optional={
                "probability": per_kind(probability()),
            },
        ),
    }
    for key, strategy in optional.items():
        if draw(st.booleans()):
            data[key] = draw(strategy)
    return data


@st.composite
def platform(draw: st.DrawFn, name: str, share: float) -> dict[str, Any]:
    data: dict[str, Any] = {"name": name, "market_share": share}
    low, middle, high = sorted(draw(st.lists(probability(), min_size=3, max_size=3)))
    flag, hold = sorted(draw(st.lists(st.floats(-10.0, 10.0), min_size=2, max_size=2)))
    optional: dict[str, st.SearchStrategy[Any]] = {
        "reviewers_per_100k_users": st.one_of(st.just(0.0), st.floats(0.0, 20_000.0)),
        "review_minutes": positive(0.01, 120.0),
        "classifier_mean": per_kind(st.floats(-10.0, 10.0)),
        "reviewer_mean": per_kind(st.floats(-10.0, 10.0)),
        "prepublication_filter": st.booleans(),
        "adaptation_rate": probability(),
        "real_name_enforcement": probability(),
        "report_probability": probability(),
        "strikes_to_close": st.integers(1, 10),
        "revenue_per_user_day": non_negative(1.0),
        "reviewer_cost_per_day": non_negative(1000.0),
        "initial_cash": non_negative(1e9),
        "value": non_negative(1e12),
        "wrongful_removal_daily_cost": non_negative(1e7),
        "audit_belief_days": positive(0.01, 1000.0),
        "believed_audits_per_year": non_negative(1000.0),
        "sweep_interval_hours": st.one_of(st.just(0.0), st.floats(1.0 / 60.0, 48.0)),
    }
    for key, strategy in optional.items():
        if draw(st.booleans()):
            data[key] = draw(strategy)
    if draw(st.booleans()):
        data.update(min_strictness=low, initial_strictness=middle, max_strictness=high)
    if draw(st.booleans()):
        data.update(flag_margin=flag, hold_margin=hold)
    if data.get("reviewers_per_100k_users") == 0.0:
        # No reviewers: valid with fixed staff only (a platform choosing its staff from
        # none could never hire: refused, tests/test_scenario_input.py).
        data["staffing"] = "fixed"
    return data


def penalty_step() -> st.SearchStrategy[dict[str, Any]]:
    return st.one_of(
        st.just({"action": "warning"}),
        st.fixed_dictionaries(
            {"action": st.just("fine")},
            optional={"amount": non_negative(1e15), "turnover_share": probability()},
        ),
        st.fixed_dictionaries(
            {"action": st.just("suspension")}, optional={"days": non_negative(30.0)}
        ),
        st.just({"action": "revocation"}),
    )


@st.composite
def rules(draw: st.DrawFn) -> dict[str, Any]:
    takedown_on = draw(st.booleans())
    data: dict[str, Any] = {
        "takedown": {
            "enabled": takedown_on,
            "prohibited": draw(st.lists(st.sampled_from(SENSITIVE), unique=True, max_size=3)),
        }
    }
    takedown_optional = {
        "deadline_hours": non_negative(72.0),
        "notice_deadline_hours": non_negative(72.0),
        "private_messages": st.booleans(),
        "vagueness": probability(),
        "liability": st.sampled_from(["strict", "notice"]),
    }
    for key, strategy in takedown_optional.items():
        if draw(st.booleans()):
            data["takedown"][key] = draw(strategy)
    if draw(st.booleans()):
        data["real_name"] = draw(
            st.fixed_dictionaries(
                {"enabled": st.booleans()},
                optional={
                    "start_day": st.integers(0, 12),
                    "refusal_probability": probability(),
                    "circumvent_probability": probability(),
                },
            )
        )
    if draw(st.booleans()):
        data["reporting"] = {"mode": draw(st.sampled_from(["none", "on_request", "proactive"]))}
    if draw(st.booleans()):
        data["appeals"] = draw(
            st.fixed_dictionaries(
                {"enabled": st.booleans()},
                optional={"probability": probability(), "mean_delay_hours": positive(0.01, 100.0)},
            )
        )
    penalties = draw(
        st.fixed_dictionaries(
            {"ladder": st.lists(penalty_step(), min_size=1, max_size=5)},
            optional={
                "tolerance": st.integers(0, 5),
                "deescalate_after_clean_audits": st.integers(1, 5),
                "warning_cost": non_negative(1e9),
            },
        )
    )
    data["penalties"] = penalties
    return data


@st.composite
def valid_scenarios(draw: st.DrawFn) -> dict[str, Any]:
    """Plain data of a small valid scenario (at most 300 users and 10 days)."""
    users = draw(st.one_of(st.sampled_from([1, 2]), st.integers(1, 300)))
    data: dict[str, Any] = {
        "name": draw(st.from_regex(r"[A-Za-z0-9_][A-Za-z0-9_\-.]{0,19}", fullmatch=True)),
        "horizon_days": draw(st.integers(1, 10)),
    }
    if draw(st.booleans()):
        data["extends"] = draw(st.sampled_from(SHIPPED_PARENTS))
    if draw(st.booleans()):
        data["description"] = draw(
            st.one_of(st.sampled_from(HOSTILE_STRINGS), st.text(max_size=200))
        )
    if draw(st.booleans()):
        data["seed"] = draw(st.integers(0, 2**63 - 1))
    if draw(st.booleans()):
        data["currency"] = draw(st.text(max_size=8))
    data["population"] = draw(population(users))
    inherits_platforms = "extends" in data and draw(st.booleans())
    if "extends" in data and not inherits_platforms:
        # Platforms merge with the parent's by name: override each of them.
        names = list(PARENT_PLATFORMS[data["extends"]])
        n = len(names)
        weights = draw(st.lists(st.integers(0, 10), min_size=n, max_size=n))
        weights[0] = weights[0] or 1
        shares = [w / sum(weights) for w in weights]
        data["platforms"] = [
            draw(platform(name, share)) for name, share in zip(names, shares, strict=True)
        ]
    elif not inherits_platforms:
        n = draw(st.integers(1, 4))
        weights = draw(st.lists(st.integers(0, 10), min_size=n, max_size=n))
        weights[0] = weights[0] or 1  # shares of 0 are fine, all of them are not
        total = sum(weights)
        shares = [w / total for w in weights]
        names = draw(
            st.lists(
                st.from_regex(r"[A-Za-z0-9_\-]{1,12}", fullmatch=True).filter(
                    lambda s: s != "circumvention"
                ),
                min_size=n,
                max_size=n,
                unique=True,
            )
        )
        data["platforms"] = [
            draw(platform(name, share)) for name, share in zip(names, shares, strict=True)
        ]
    data["rules"] = draw(rules())
    if draw(st.booleans()):
        data["regulator"] = draw(
            st.fixed_dictionaries(
                {},
                optional={
                    "audits_per_year": non_negative(2000.0),
                    "audit_window_days": positive(0.01, 30.0),
                    "audit_sample_size": st.integers(0, 100_000),
                    "monitoring_probability": probability(),
                },
            )
        )
    if draw(st.booleans()):
        data["police"] = draw(
            st.fixed_dictionaries(
                {},
                optional={
                    "investigators_per_100k_users": non_negative(200.0),
                    "investigation_days": positive(0.01, 30.0),
                    "detention_probability": per_kind(probability()),
                    "detention_days": non_negative(30.0),
                    "identify_anonymous_probability": probability(),
                    "report_lapse_days": non_negative(60.0),
                },
            )
        )
    return data


# ---------------------------------------------------------------------------------------
# Invalid scenarios: a valid one with one thing broken


@dataclass(frozen=True)
class Broken:
    """A mutated scenario and the field path its error message must name."""

    data: dict[str, Any]
    field: str
    what: str

    def __repr__(self) -> str:  # shown by hypothesis on failure
        return f"Broken({self.what}, field={self.field!r})"


def _tables(data: dict[str, Any], prefix: str = "") -> list[tuple[str, dict[str, Any]]]:
    """Every table in the data with its dotted path (``platforms[1]`` for list items)."""
    found = [(prefix, data)]
    for key, value in data.items():
        path = f"{prefix}.{key}" if prefix else key
        if isinstance(value, dict):
            found += _tables(value, path)
        elif isinstance(value, list):
            for i, item in enumerate(value):
                if isinstance(item, dict):
                    found += _tables(item, f"{path}[{i}]")
    return found


def _set(data: dict[str, Any], dotted: str, value: Any) -> None:
    node = data
    parts = dotted.split(".")
    for part in parts[:-1]:
        node = node.setdefault(part, {})
    node[parts[-1]] = value


#: (dotted field, wrong-type values, out-of-range values) for scalar fields of a scenario.
SCALARS: list[tuple[str, list[Any], list[Any]]] = [
    ("horizon_days", ["ten", 2.5, True, [1]], [0, -3, 36_501, 10**30, 2**70]),
    ("seed", ["1", 1.5, False], [-1, 2**63, 10**30]),
    ("name", [1, True, ["x"], {"a": 1}], ["", "has space", "a/b", "x" * 81]),
    ("population.users", ["many", 10.0, True, {"n": 1}], [0, -1, 50_000_001, 10**30]),
    ("population.posts_per_day", ["1", [1.0], {"x": 1}], [-0.5, math.nan, math.inf, -math.inf]),
    ("population.private_share", ["0.3", [0.3]], [-0.01, 1.01, math.nan, math.inf, 1e400]),
    ("population.mean_degree", ["10"], [-1.0, 200.5, math.nan]),
    ("population.perception.half_life_days", ["30"], [0.0, -1.0, math.inf]),
    ("rules.takedown.deadline_hours", ["24h", [24]], [-1.0, 100_001.0, math.nan, -math.inf]),
    ("rules.takedown.vagueness", ["vague"], [1.5, -0.5]),
    ("rules.takedown.enabled", ["yes", 1, 0.0], []),
    ("rules.takedown.prohibited", ["unlawful", 3], []),
    ("rules.reporting.mode", [1, True], ["always", "", "NONE"]),
    ("rules.penalties.tolerance", ["0", 0.5], [-1, 1_000_001]),
    ("regulator.audits_per_year", ["12"], [-1.0, 100_001.0, math.nan]),
    ("regulator.audit_window_days", ["7"], [0.0, -2.0, 3651.0]),
    ("police.investigators_per_100k_users", ["ten"], [-1.0, 100_001.0, math.nan]),
    ("police.detention_days", ["15"], [-1.0, 36_501.0, math.inf]),
    ("police.report_lapse_days", ["30"], [-1.0, 36_501.0, math.nan]),
]
PLATFORM_SCALARS: list[tuple[str, list[Any], list[Any]]] = [
    ("reviewers_per_100k_users", ["20", True], [-1.0, 100_001.0, math.inf, math.nan]),
    ("review_minutes", ["2"], [0.0, -1.0, 10_001.0, math.nan]),
    ("market_share", ["1"], [-0.1, 1.5, math.nan]),
    ("strikes_to_close", ["5", 5.0], [-1, 1001]),  # 0 is valid: never close
    ("prepublication_filter", ["true", 1], []),
    ("hold_margin", ["1"], [10.5, -11.0, math.inf]),
    ("initial_cash", ["lots"], [-1.0, math.nan, math.inf]),
]


@st.composite
def broken_scenarios(draw: st.DrawFn) -> Broken:
    """A valid scenario with one mutation that the schema must refuse."""
    data = copy.deepcopy(draw(valid_scenarios()))
    data.pop("extends", None)  # keep every mutation visible (no parent to hide it)
    if "platforms" not in data:
        data["platforms"] = [{"name": "p", "market_share": 1.0}]
    platforms = data["platforms"]
    kind = draw(
        st.sampled_from(
            [
                "unknown_key",
                "wrong_type",
                "out_of_range",
                "platform_wrong_type",
                "platform_out_of_range",
                "shares",
                "strictness",
                "margins",
                "duplicate_names",
                "reserved_name",
                "no_platforms",
                "unknown_kind",
                "benign_prohibited",
                "repeated_kind",
                "empty_ladder",
                "bad_action",
                "mix_too_large",
                "extends_path",
            ]
        )
    )
    if kind == "unknown_key":
        path, table = draw(st.sampled_from(_tables(data)))
        key = draw(
            st.from_regex(r"[a-z][a-z_]{2,12}", fullmatch=True).filter(lambda k: k not in table)
        )
        key = "zz_" + key  # never a real field name
        table[key] = draw(st.one_of(st.integers(), st.text(max_size=5), st.booleans()))
        return Broken(data, f"{path}.{key}" if path else key, kind)
    if kind in ("wrong_type", "out_of_range"):
        choices = [(f, w if kind == "wrong_type" else r) for f, w, r in SCALARS]
        field, values = draw(st.sampled_from([c for c in choices if c[1]]))
        _set(data, field, draw(st.sampled_from(values)))
        return Broken(data, field, kind)
    if kind in ("platform_wrong_type", "platform_out_of_range"):
        i = draw(st.integers(0, len(platforms) - 1))
        choices = [(f, w if kind == "platform_wrong_type" else r) for f, w, r in PLATFORM_SCALARS]
        field, values = draw(st.sampled_from([c for c in choices if c[1]]))
        platforms[i][field] = draw(st.sampled_from(values))
        if field == "hold_margin":
            platforms[i].pop("flag_margin", None)
        # An out-of-range share breaks the sum too; either message names the platforms.
        return Broken(
            data, f"platforms[{i}].{field}" if field != "market_share" else "platforms", kind
        )
    if kind == "shares":
        factor = draw(st.sampled_from([0.5, 0.9, 1.1, 2.0]))
        for p in platforms:
            p["market_share"] = p.get("market_share", 1.0) * factor
        if all(p["market_share"] == 0 for p in platforms):
            platforms[0]["market_share"] = 0.5
        return Broken(data, "platforms", kind)
    if kind == "strictness":
        i = draw(st.integers(0, len(platforms) - 1))
        low = draw(st.floats(0.51, 1.0))
        platforms[i].update(min_strictness=low, initial_strictness=low, max_strictness=low - 0.5)
        return Broken(data, f"platforms[{i}]", kind)
    if kind == "margins":
        i = draw(st.integers(0, len(platforms) - 1))
        hold = draw(st.floats(-10.0, 9.0))
        # Only a platform that holds posts needs its flag margin below the hold margin.
        platforms[i].update(
            prepublication_filter=True,
            hold_margin=hold,
            flag_margin=draw(st.floats(hold + 0.5, 10.0)),
        )
        return Broken(data, f"platforms[{i}]", kind)
    if kind == "duplicate_names":
        platforms.append(dict(platforms[0], market_share=0.0))
        return Broken(data, "platforms", kind)
    if kind == "reserved_name":
        platforms[0]["name"] = "circumvention"
        return Broken(data, "platforms", kind)
    if kind == "no_platforms":
        data["platforms"] = []
        return Broken(data, "platforms", kind)
    takedown = data["rules"].setdefault("takedown", {})
    if kind == "unknown_kind":
        bad = draw(st.sampled_from(["jokes", "Unlawful", "", "critical ", "collective-action"]))
        takedown["prohibited"] = [*takedown.get("prohibited", [])[:1], bad]
        return Broken(data, "rules.takedown.prohibited", kind)
    if kind == "benign_prohibited":
        takedown["prohibited"] = ["benign"]
        return Broken(data, "rules.takedown.prohibited", kind)
    if kind == "repeated_kind":
        takedown["prohibited"] = ["unlawful", "unlawful"]
        return Broken(data, "rules.takedown.prohibited", kind)
    if kind == "empty_ladder":
        takedown["enabled"] = True
        data["rules"]["penalties"] = {"ladder": []}
        return Broken(data, "rules.penalties.ladder", kind)
    if kind == "bad_action":
        data["rules"]["penalties"] = {
            "ladder": [{"action": draw(st.sampled_from(["jail", "Fine", ""]))}]
        }
        return Broken(data, "rules.penalties.ladder[0].action", kind)
    if kind == "mix_too_large":
        data["population"]["stance"] = {"alpha": 1.0, "beta": 1.0}  # mean stance 0.5
        data["population"]["sensitive_mix"] = {
            "critical": 0.3,
            "collective_action": 0.2,
            "unlawful": 0.1,
        }
        return Broken(data, "population.sensitive_mix", kind)
    assert kind == "extends_path"
    data["extends"] = draw(
        st.sampled_from(
            ["../classroom", "/etc/passwd", "sub/x", ".hidden", "no_such_parent", "", 7]
        )
    )
    return Broken(data, "extends", kind)
