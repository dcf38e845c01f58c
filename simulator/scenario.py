"""Scenario files: the schema, reading TOML, validation and overrides.

Reading is separate from validating: :func:`read_scenario_dict` turns a file into plain
data (resolving ``extends``), :func:`validate_scenario` turns plain data into a frozen
:class:`Scenario`, and every problem is reported as a :class:`ScenarioError` naming the
file, the dotted field path, the value and what is allowed. Nothing in a file is ever
evaluated, imported or unpickled: TOML is data only.
"""

from __future__ import annotations

import atexit
import copy
import difflib
import functools
import hashlib
import json
import re
import shutil
import stat
import tempfile
import tomllib
import typing
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from simulator.errors import MAX_PROBLEMS_SHOWN, MISSING, ScenarioError
from simulator.kinds import KIND_LABELS, SENSITIVE_KINDS, ContentKind

#: The shipped scenarios are package data: ``scenarios/*.toml`` inside the ``simulator``
#: package, found through :mod:`importlib.resources` (:func:`shipped_dir`), so a wheel,
#: an editable install and a source checkout all have them, whatever the working folder.
SHIPPED_PACKAGE = "simulator"
SHIPPED_FOLDER = "scenarios"
#: Scenario files larger than this are refused before parsing (bytes). Shipped files are
#: about 5 kB; tomllib needs seconds for a hostile file of this size, so it stays small.
MAX_FILE_BYTES = 256_000
#: How many ``extends`` links a chain may have.
MAX_EXTENDS_DEPTH = 8
#: Dots a line's keys may have (outside strings and comments) before it is refused unparsed.
MAX_KEY_DOTS = 6
#: Most users a scenario may have (and ``--users`` may set).
MAX_USERS = 50_000_000
#: Longest mean delay (hours) a scenario may give: 100 years. Beyond it times overflow.
MAX_DELAY_HOURS = 876_000.0
#: Shortest mean review (minutes) a platform may give: 0.06 s.
MIN_REVIEW_MINUTES = 0.001

Probability = Annotated[float, Field(ge=0.0, le=1.0, allow_inf_nan=False)]
NonNegative = Annotated[float, Field(ge=0.0, allow_inf_nan=False)]
Positive = Annotated[float, Field(gt=0.0, allow_inf_nan=False)]
SignalWeight = Annotated[float, Field(ge=0.0, le=1000.0)]


# ---------------------------------------------------------------------------------------
# Cross-field checks
#
# Each check takes a model, or the values a file gives for it (:class:`_Known`), and
# returns (field, message) problems. A value that did not validate is MISSING there and
# the checks that need it are skipped (its own error says what is wrong), so a file's
# field errors and cross-field problems are reported together, not one stage at a time.


def _known(*values: Any) -> bool:
    return all(value is not MISSING for value in values)


def _attribute(node: Any, dotted: str) -> Any:
    """``node.a.b`` for ``"a.b"``, or MISSING if any step is unknown."""
    for name in dotted.split("."):
        if node is MISSING:
            return MISSING
        node = getattr(node, name)
    return node


def _population_problems(population: Any) -> list[tuple[str, str]]:
    # A user's sensitive shares are the average mix times stance / mean stance; the user
    # of stance 1 must still have a non-negative benign share.
    shares = [_attribute(population, f"sensitive_mix.{k.label}") for k in SENSITIVE_KINDS]
    alpha, beta = (_attribute(population, f"stance.{name}") for name in ("alpha", "beta"))
    if not _known(*shares, alpha, beta):
        return []
    total, limit = sum(shares), alpha / (alpha + beta)
    if total > limit + 1e-12:
        return [
            (
                "sensitive_mix",
                "the sensitive shares must add up to at most the mean stance "
                f"({limit:g}), since a user of stance 1 posts 1/mean-stance times the average "
                f"share; they add up to {total:g}",
            )
        ]
    return []


def _platform_problems(platform: Any) -> list[tuple[str, str]]:
    problems = []
    low, initial, high = (
        _attribute(platform, f"{name}_strictness") for name in ("min", "initial", "max")
    )
    if _known(low, initial, high) and not low <= initial <= high:
        problems.append(
            (
                "initial_strictness",
                "need min_strictness <= initial_strictness <= max_strictness, "
                f"got {low} <= {initial} <= {high}",
            )
        )
    filtering, flag, hold = (
        _attribute(platform, name)
        for name in ("prepublication_filter", "flag_margin", "hold_margin")
    )
    if _known(filtering, flag, hold) and filtering and flag > hold:
        problems.append(("flag_margin", f"must not exceed hold_margin ({hold}), got {flag}"))
    return problems


def _scenario_problems(scenario: Any) -> list[tuple[str, str]]:
    problems = []
    platforms = _attribute(scenario, "platforms")
    if _known(platforms) and not platforms:
        problems.append(("platforms", "at least one platform is needed"))
    elif _known(platforms):
        names = [_attribute(p, "name") for p in platforms]
        known_names = [name for name in names if name is not MISSING]
        if len(set(known_names)) != len(known_names):
            problems.append(("platforms", f"names must be unique, got {known_names}"))
        if "circumvention" in known_names:
            problems.append(
                ("platforms", "the name 'circumvention' is reserved for offshore posting")
            )
        shares = [_attribute(p, "market_share") for p in platforms]
        if _known(*shares) and abs(sum(shares) - 1.0) > 1e-6:
            problems.append(("platforms", f"market_share must add up to 1, got {sum(shares):g}"))
    takedown = _attribute(scenario, "rules.takedown.enabled")
    ladder = _attribute(scenario, "rules.penalties.ladder")
    if _known(takedown, ladder) and takedown and not ladder:
        problems.append(
            ("rules.penalties.ladder", "a takedown rule needs at least one penalty step")
        )
    return problems


def _raise_cross_field(problems: list[tuple[str, str]]) -> None:
    """Raise a model's cross-field problems as one error of type ``cross_field``
    (:func:`validate_scenario` recomputes them from the file with every other error)."""
    if problems:
        text = "\n".join(f"{field}: {message}" for field, message in problems)
        raise PydanticCustomError("cross_field", "{problems}", {"problems": text})


class _Known:
    """The values a file gives for a model, defaults filled in, MISSING where a value did
    not validate; read by attribute like the model itself."""

    def __init__(self, values: Mapping[str, Any]) -> None:
        self.__dict__.update(values)


def _nested_model(annotation: Any) -> tuple[type[BaseModel] | None, bool]:
    """The model a field holds (or holds a tuple of), and whether it is a tuple."""
    args = typing.get_args(annotation)
    model = next(
        (a for a in (annotation, *args) if isinstance(a, type) and issubclass(a, BaseModel)),
        None,
    )
    return model, typing.get_origin(annotation) is tuple


def _known_values(
    model: type[BaseModel],
    raw: Any,
    loc: tuple[int | str, ...],
    bad: set[tuple[int | str, ...]],
    bad_below: set[tuple[int | str, ...]],
) -> Any:
    """``raw`` as a :class:`_Known` of ``model`` at ``loc``. ``bad``: the locations of the
    validation errors; ``bad_below``: they and every location above them."""
    if isinstance(raw, model):
        return raw
    if not isinstance(raw, Mapping) or loc in bad:
        return MISSING
    values: dict[str, Any] = {}
    for name, info in model.model_fields.items():
        here = (*loc, name)
        nested, many = _nested_model(info.annotation)
        if name not in raw:
            # An absent field takes its default; "missing" when it has none (an error).
            values[name] = MISSING if here in bad else info.get_default(call_default_factory=True)
        elif nested is None:
            values[name] = MISSING if here in bad_below else raw[name]
        elif many:
            items = raw[name]
            values[name] = (
                [
                    _known_values(nested, item, (*here, i), bad, bad_below)
                    for i, item in enumerate(items)
                ]
                if isinstance(items, list | tuple) and here not in bad
                else MISSING
            )
        else:
            values[name] = _known_values(nested, raw[name], here, bad, bad_below)
    return _Known(values)


def _cross_field_problems(scenario: Any) -> list[tuple[tuple[int | str, ...], str]]:
    """Every cross-field problem of a scenario (or its :class:`_Known` values), located."""

    def located(prefix: tuple[int | str, ...], found: list[tuple[str, str]]) -> list[Any]:
        return [((*prefix, *field.split(".")), message) for field, message in found]

    if scenario is MISSING:
        return []
    problems = []
    population = _attribute(scenario, "population")
    if population is not MISSING:
        problems += located(("population",), _population_problems(population))
    platforms = _attribute(scenario, "platforms")
    for i, platform in enumerate([] if platforms is MISSING else platforms):
        if platform is not MISSING:
            problems += located(("platforms", i), _platform_problems(platform))
    return problems + located((), _scenario_problems(scenario))


class _Frozen(BaseModel):
    # strict: a string is never silently turned into a number, nor a bool into an int.
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class BetaDistribution(_Frozen):
    """A Beta(alpha, beta) distribution on [0, 1]."""

    alpha: Positive = 2.0
    beta: Positive = 2.0

    @property
    def mean(self) -> float:
        return self.alpha / (self.alpha + self.beta)


class PerKind(_Frozen):
    """One number per content kind."""

    benign: NonNegative = 0.0
    critical: NonNegative = 0.0
    collective_action: NonNegative = 0.0
    unlawful: NonNegative = 0.0

    def as_tuple(self) -> tuple[float, float, float, float]:
        """Values in :class:`ContentKind` order."""
        return (self.benign, self.critical, self.collective_action, self.unlawful)


Score = Annotated[float, Field(ge=-10.0, le=10.0, allow_inf_nan=False)]


class PerKindScore(PerKind):
    """Mean apparent-severity score per kind, on the scale of a standard normal."""

    benign: Score = 0.0
    critical: Score = 0.0
    collective_action: Score = 0.0
    unlawful: Score = 0.0


class PerKindProbability(PerKind):
    benign: Probability = 0.0
    critical: Probability = 0.0
    collective_action: Probability = 0.0
    unlawful: Probability = 0.0


class SensitiveMix(_Frozen):
    """Share of an average user's intended posts of each sensitive kind; the rest is benign."""

    critical: Probability = 0.05
    collective_action: Probability = 0.01
    unlawful: Probability = 0.01


class Perception(_Frozen):
    """How users perceive risk and learn from the enforcement they see
    (docs/model.md, S16 "Perceived risk")."""

    initial_risk: Probability = 0.0
    half_life_days: Positive = 30.0
    # Signal weights: a signal of 50 already makes risk 1 - exp(-50) = 1; bounded so that
    # float32 signals never overflow to inf (and inf * 0 to NaN).
    own_sanction_weight: SignalWeight = 1.0
    neighbour_removal_weight: SignalWeight = 0.05
    neighbour_detention_weight: SignalWeight = 0.5
    news_weight: SignalWeight = 0.2
    """Risk signal from one detention in the news per 100,000 users."""
    visibility: Probability = 1.0
    """Share of the enforcement around them that users get to see."""
    real_name_risk: Probability = 0.1
    """Perceived risk added for users who are traceable (registered under their real name)."""
    kind_closeness: PerKindProbability = PerKindProbability(
        benign=0.0, critical=0.5, collective_action=0.8, unlawful=1.0
    )
    """How close each lawful kind seems to the prohibited line when the rules are vague."""


class Exits(_Frozen):
    """What users do when a sanction or rule bites."""

    leave_probability_on_sanction: Probability = 0.02
    circumvent_probability_on_sanction: Probability = 0.02
    circumvention_friction: Probability = 0.5
    """Share of a circumventing user's posts lost to the friction of the tools (C6)."""


class Notices(_Frozen):
    """Complaints (notices) that users file about public posts they see."""

    probability: PerKindProbability = PerKindProbability(
        benign=0.0002, critical=0.005, collective_action=0.01, unlawful=0.05
    )
    mean_delay_hours: Annotated[float, Field(gt=0.0, le=MAX_DELAY_HOURS)] = 6.0


class Population(_Frozen):
    users: int = Field(1000, le=MAX_USERS)
    """Number of users: at least 1 (a run of nobody measures nothing)."""
    posts_per_day: Annotated[float, Field(ge=0.0, le=10_000.0)] = 1.0
    """Mean intended posts per user per day, public and private together."""
    posting_dispersion: Annotated[float, Field(ge=0.0, le=3.0)] = 0.8
    """Sigma of the lognormal spread of posting rates across users (mean kept fixed)."""
    private_share: Probability = 0.3
    sensitive_mix: SensitiveMix = SensitiveMix()
    stance: BetaDistribution = BetaDistribution(alpha=2.0, beta=2.0)
    boldness: BetaDistribution = BetaDistribution(alpha=2.0, beta=5.0)
    mean_degree: Annotated[float, Field(ge=0.0, le=200.0)] = 10.0
    perception: Perception = Perception()
    exits: Exits = Exits()
    notices: Notices = Notices()

    @field_validator("users")
    @classmethod
    def _someone(cls, value: int) -> int:
        # Zero users used to run to tables of zeros: an empty world is always a mistake.
        if value < 1:
            raise ValueError(f"a run needs at least 1 user; allowed: 1 to {MAX_USERS:,}")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> Population:
        _raise_cross_field(_population_problems(self))
        return self


class Platform(_Frozen):
    """A platform: its staff, classifier, policy and finances."""

    name: Annotated[str, Field(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9_\-]+$")]
    market_share: Probability = 1.0
    reviewers: int = Field(20, ge=0, le=1_000_000)
    # At least 0.001 min (0.06 s): smaller values divided into hours underflow to 0
    # (5e-324 / 60 == 0.0), which no queue can serve at.
    review_minutes: Annotated[float, Field(ge=MIN_REVIEW_MINUTES, le=10_000.0)] = 2.0
    classifier_mean: PerKindScore = PerKindScore(
        benign=-3.0, critical=-0.5, collective_action=0.5, unlawful=1.5
    )
    """Mean apparent-severity score the automatic filter gives each kind (sd 1)."""
    reviewer_mean: PerKindScore = PerKindScore(
        benign=-4.0, critical=-1.0, collective_action=1.0, unlawful=2.5
    )
    """Mean apparent-severity score a human reviewer gives each kind (sd 1)."""
    prepublication_filter: bool = True
    hold_margin: Annotated[float, Field(ge=-10.0, le=10.0)] = 1.0
    """The filter holds a post for review before publication when its score exceeds the
    removal threshold by this much."""
    held_review_margin: Annotated[float, Field(ge=-10.0, le=10.0)] = 0.0
    """A held post is blocked when its reviewer score exceeds the threshold plus this
    (negative: a stricter bar before publication than after, "when in doubt, hold")."""
    flag_margin: Annotated[float, Field(ge=-10.0, le=10.0)] = 0.0
    """The filter queues a published post for review when its score exceeds the removal
    threshold by this much (should be below ``hold_margin``)."""
    flag_mean_delay_hours: Annotated[float, Field(ge=0.0, le=10_000.0)] = 0.0
    """Mean time (exponential) from publication until the filter's flag reaches the review
    queue: keyword sweeps and reach-triggered review (L4: 5,000 views or 500 reposts make
    a rumour "serious"). 0: flags arrive at publication."""
    initial_strictness: Probability = 0.02
    min_strictness: Probability = 0.0001
    max_strictness: Probability = 0.5
    adaptation_rate: Probability = 0.2
    """Share of the gap to the cost-minimising strictness closed each day."""
    real_name_enforcement: Probability = 1.0
    report_probability: Probability = 0.5
    """Chance a removal of prohibited content is reported to the police, when reporting is
    proactive."""
    strikes_to_close: int = Field(5, ge=1, le=1000)
    revenue_per_user_day: NonNegative = 0.02
    reviewer_cost_per_day: NonNegative = 300.0
    initial_cash: NonNegative = 1.0e8
    value: NonNegative = 1.0e9
    """What the platform loses if its licence is revoked (currency)."""
    wrongful_removal_cost: NonNegative = 0.5
    """What removing one lawful post costs the platform in goodwill (currency)."""
    penalty_memory_half_life_days: Positive = 90.0

    @model_validator(mode="after")
    def _consistent(self) -> Platform:
        _raise_cross_field(_platform_problems(self))
        return self


class RealName(_Frozen):
    """Real-name registration (CSL Art. 24)."""

    enabled: bool = False
    start_day: int = Field(0, ge=0, le=100_000)
    refusal_probability: Probability = 0.05
    circumvent_probability: Probability = 0.3
    """Share of refusers who turn to circumvention tools instead of losing access."""


class Takedown(_Frozen):
    """Duties to delete prohibited content (CSL Art. 47; NetzDG s.3)."""

    enabled: bool = False
    prohibited: Annotated[tuple[str, ...], Field(strict=False)] = ("unlawful",)
    deadline_hours: Annotated[float, Field(ge=0.0, le=100_000.0)] = 24.0
    notice_deadline_hours: Annotated[float, Field(ge=0.0, le=100_000.0)] | None = None
    """Deadline for acting on a user's notice about prohibited content (NetzDG s.3: 24 h for
    manifestly unlawful content); ``None``: notices carry no legal deadline."""
    private_messages: bool = False
    vagueness: Probability = 0.0
    """How unclear the prohibited line is: 0 a bright line, 1 anything sensitive may be."""

    @field_validator("prohibited", mode="before")
    @classmethod
    def _known_kinds(cls, value: Any) -> Any:
        if isinstance(value, list):
            value = tuple(value)
        if isinstance(value, tuple):
            if "benign" in value:
                raise ValueError("'benign' content cannot be prohibited; prohibit another kind")
            unknown = [v for v in value if v not in KIND_LABELS]
            if unknown:
                raise ValueError(
                    f"unknown content kind {unknown[0]!r}; allowed: {list(KIND_LABELS)}"
                )
            if len(set(value)) != len(value):
                raise ValueError("kinds must not repeat")
        return value

    def prohibited_mask(self) -> tuple[bool, bool, bool, bool]:
        """Whether each kind (in :class:`ContentKind` order) is prohibited and rules are on."""
        return tuple(self.enabled and k.label in self.prohibited for k in ContentKind)  # type: ignore[return-value]


class Appeals(_Frozen):
    """Users' right to contest a removal (DSA Art. 20): a second review may reinstate it."""

    enabled: bool = False
    probability: Probability = 0.2
    """Share of removals whose author appeals."""
    mean_delay_hours: Positive = 24.0


class Reporting(_Frozen):
    """Duties to report users to the authorities (CSL Art. 47)."""

    mode: Literal["none", "on_request", "proactive"] = "none"


class PenaltyStep(_Frozen):
    action: Literal["warning", "fine", "suspension", "revocation"]
    amount: NonNegative = 0.0
    """Fine in the scenario's currency (for ``fine``)."""
    turnover_share: Probability = 0.0
    """Fine as a share of the platform's annual revenue (DSA Art. 74: up to 6%); the larger
    of this and ``amount`` applies."""
    days: Annotated[float, Field(ge=0.0, le=36_500.0)] = 0.0
    """Duration (for ``suspension``)."""


class Penalties(_Frozen):
    ladder: Annotated[tuple[PenaltyStep, ...], Field(strict=False)] = (
        PenaltyStep(action="warning"),
        PenaltyStep(action="fine", amount=500_000.0),
    )
    tolerance: int = Field(0, ge=0, le=1_000_000)
    """Prohibited posts an audit may find still up without it counting as a violation."""
    deescalate_after_clean_audits: int = Field(3, ge=1, le=1000)
    warning_cost: NonNegative = 100_000.0
    """What a warning costs the platform in standing (currency)."""


class Rules(_Frozen):
    real_name: RealName = RealName()
    takedown: Takedown = Takedown()
    reporting: Reporting = Reporting()
    appeals: Appeals = Appeals()
    penalties: Penalties = Penalties()

    @property
    def any_enabled(self) -> bool:
        return self.real_name.enabled or self.takedown.enabled or self.reporting.mode != "none"


class Regulator(_Frozen):
    audits_per_year: Annotated[float, Field(ge=0.0, le=100_000.0)] = 12.0
    audit_window_days: Annotated[float, Field(gt=0.0, le=3650.0)] = 7.0
    audit_sample_share: Probability = 0.01
    """Share of the window's published posts an audit inspects."""
    monitoring_probability: Probability = 0.02
    """Chance the regulator spots a given published prohibited post and orders it down."""
    monitoring_mean_delay_hours: Annotated[float, Field(gt=0.0, le=MAX_DELAY_HOURS)] = 12.0


class Police(_Frozen):
    investigators: int = Field(10, ge=0, le=1_000_000)
    investigation_days: Annotated[float, Field(gt=0.0, le=36_500.0)] = 3.0
    detention_probability: PerKindProbability = PerKindProbability(
        benign=0.0, critical=0.02, collective_action=0.1, unlawful=0.3
    )
    detention_days: Annotated[float, Field(ge=0.0, le=36_500.0)] = 15.0
    identify_anonymous_probability: Probability = 0.2


class Scenario(_Frozen):
    """A validated, immutable scenario. Build it with :func:`load_scenario` or
    :func:`validate_scenario`."""

    # The name becomes a folder (runs/NAME-seedN, compare's runs/NAME/): no "." first, so
    # never "..", "." or a hidden folder.
    name: Annotated[
        str, Field(min_length=1, max_length=80, pattern=r"^[A-Za-z0-9_\-][A-Za-z0-9_\-.]*$")
    ]
    description: Annotated[str, Field(max_length=2000)] = ""
    horizon_days: int = Field(365, ge=1, le=36_500)
    seed: int = Field(0, ge=0, le=2**63 - 1)
    currency: Annotated[str, Field(max_length=8)] = "USD"
    population: Population = Population()
    platforms: Annotated[tuple[Platform, ...], Field(strict=False)] = (Platform(name="platform"),)
    rules: Rules = Rules()
    regulator: Regulator = Regulator()
    police: Police = Police()

    @field_validator("platforms", mode="before")
    @classmethod
    def _list_to_tuple(cls, value: Any) -> Any:
        return tuple(value) if isinstance(value, list) else value

    @model_validator(mode="after")
    def _consistent(self) -> Scenario:
        _raise_cross_field(_scenario_problems(self))
        return self

    # -- conveniences ---------------------------------------------------------------
    def without_rules(self) -> Scenario:
        """The counterfactual: the same world with every rule switched off."""
        rules = self.rules.model_copy(
            update={
                "real_name": self.rules.real_name.model_copy(update={"enabled": False}),
                "takedown": self.rules.takedown.model_copy(update={"enabled": False}),
                "reporting": Reporting(mode="none"),
                "appeals": self.rules.appeals.model_copy(update={"enabled": False}),
            }
        )
        return self.model_copy(update={"rules": rules})

    def to_dict(self) -> dict[str, Any]:
        """Plain data (lists, dicts, numbers, strings), as a TOML file would hold."""
        return json.loads(self.model_dump_json())

    def sha256(self) -> str:
        """Hash of the resolved scenario's canonical JSON: same scenario, same hash."""
        canonical = json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()


# ---------------------------------------------------------------------------------------
# Reading files


@functools.cache
def shipped_dir() -> Path:
    """The folder of the shipped scenario files, as a real path on disk.

    Installed packages are plain folders, and the folder is used in place. A package
    imported from a zip archive has no such folder: its files are copied once per process
    into a private temporary folder (removed at exit), since ``extends`` and the checks
    on files opened (:func:`_read_toml`) work on real paths.
    """
    folder = resources.files(SHIPPED_PACKAGE).joinpath(SHIPPED_FOLDER)
    if isinstance(folder, Path):
        return folder
    copy_dir = Path(tempfile.mkdtemp(prefix="censim-scenarios-"))
    atexit.register(shutil.rmtree, copy_dir, ignore_errors=True)
    if folder.is_dir():
        for item in folder.iterdir():
            if item.is_file() and item.name.endswith(".toml"):
                (copy_dir / item.name).write_bytes(item.read_bytes())
    return copy_dir


def __getattr__(name: str) -> Path:
    # SHIPPED_DIR, the name older code and tests use, found when first asked for.
    if name == "SHIPPED_DIR":
        return shipped_dir()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def shipped_scenarios() -> dict[str, Path]:
    """Names and paths of the scenarios that ship with censim."""
    folder = shipped_dir()
    if not folder.is_dir():
        return {}
    return {p.stem: p for p in sorted(folder.glob("*.toml"))}


def resolve_scenario_path(name_or_path: str | Path) -> Path:
    """A shipped scenario's name (``china_csl_2016``) or a file path, as a path."""
    text = str(name_or_path)
    shipped = shipped_scenarios()
    if text in shipped:
        return shipped[text]
    path = Path(text)
    try:
        exists = path.exists()
    except (OSError, ValueError):  # a name too long for the file system, a NUL byte...
        exists = False
    if not exists:
        known = ", ".join(shipped) or "none"
        raise ScenarioError(
            text, [("", MISSING, f"no such file, and not a shipped scenario (shipped: {known})")]
        )
    return path


def _read_toml(path: Path) -> dict[str, Any]:
    """A scenario file as plain data, or a :class:`ScenarioError` saying why not.

    Bounded in time and memory whatever the file holds: only regular files are opened
    (never a FIFO or a device that could block or never end), at most
    ``MAX_FILE_BYTES + 1`` bytes are read, and every way the parser can fail (bad syntax,
    nesting too deep for the recursion limit, integers too long to convert) becomes a
    message instead of a traceback.
    """
    source = str(path)
    try:
        info = path.stat()
    except (OSError, ValueError) as error:
        reason = getattr(error, "strerror", None) or str(error)
        raise ScenarioError(source, [("", MISSING, f"cannot be read: {reason}")]) from None
    if stat.S_ISDIR(info.st_mode):
        raise ScenarioError(source, [("", MISSING, "is a directory, not a scenario file")])
    if not stat.S_ISREG(info.st_mode):
        raise ScenarioError(
            source, [("", MISSING, "is not a regular file (a device, pipe or socket?)")]
        )
    too_big = f"scenario files may be at most {MAX_FILE_BYTES:,} bytes"
    if info.st_size > MAX_FILE_BYTES:
        raise ScenarioError(source, [("", MISSING, f"is {info.st_size:,} bytes; {too_big}")])
    try:
        with path.open("rb") as handle:
            # The size can change between stat and read: never read more than the limit.
            raw = handle.read(MAX_FILE_BYTES + 1)
    except OSError as error:
        raise ScenarioError(source, [("", MISSING, f"cannot be read: {error.strerror}")]) from None
    if len(raw) > MAX_FILE_BYTES:
        raise ScenarioError(source, [("", MISSING, f"grew while being read; {too_big}")])
    try:
        # utf-8-sig: a byte-order mark (Windows editors write one) is not part of the TOML.
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise ScenarioError(
            source, [("", MISSING, f"is not UTF-8 text (byte {error.start}); save it as UTF-8")]
        ) from None
    if "\x00" in text:
        raise ScenarioError(source, [("", MISSING, "contains NUL bytes: not a text file")])
    deep_line = _deeply_dotted_line(text)
    if deep_line:
        raise ScenarioError(
            source,
            [
                (
                    "",
                    MISSING,
                    f"line {deep_line}: keys are dotted more than {MAX_KEY_DOTS} levels deep; "
                    "no scenario setting is",
                )
            ],
        )
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ScenarioError(source, [("", MISSING, f"is not valid TOML: {error}")]) from None
    except RecursionError:
        raise ScenarioError(
            source, [("", MISSING, "is nested too deeply to be a scenario")]
        ) from None
    except ValueError:
        # tomllib lets int() errors through: integers of more than 4,300 digits.
        raise ScenarioError(
            source, [("", MISSING, "holds an integer too long to read (thousands of digits)")]
        ) from None
    if not data:
        # An empty file is far more likely a failed save or a wrong path than a wish for
        # every default; `name = "..."` alone is enough to ask for the defaults.
        raise ScenarioError(
            source, [("", MISSING, 'is empty (no settings); write at least `name = "..."`')]
        )
    return data


# Strings and comments, whose dots are not key syntax (multi-line strings first).
_STRINGS_AND_COMMENTS = re.compile(
    r'"""(?:[^"\\]|\\.|"(?!""))*"""'
    r"|'''(?:[^']|'(?!''))*'''"
    r'|"(?:[^"\\\n]|\\.)*"'
    r"|'[^'\n]*'"
    r"|#[^\n]*",
    re.DOTALL,
)
_TOKEN_SEPARATORS = re.compile(r"[\s,\[\]{}=]+")


def _deeply_dotted_line(text: str) -> int:
    """The number of the first line whose keys are dotted more than ``MAX_KEY_DOTS`` deep
    (``a.a.a...`` or ``[a.a.a...]``), or 0.

    tomllib takes time quadratic in the parts of one dotted key (10,000 parts: seconds;
    a 1 MB file of them: hours), so such lines are refused before parsing. Dots inside
    strings and comments do not count, nor the single dot of a number (``0.5``).
    """
    if all(line.count(".") <= MAX_KEY_DOTS for line in text.split("\n")):
        return 0  # the usual case, decided without a closer look
    stripped = _STRINGS_AND_COMMENTS.sub(lambda m: "\n" * m.group().count("\n"), text)
    for number, line in enumerate(stripped.split("\n"), start=1):
        if line.count(".") <= MAX_KEY_DOTS:
            continue
        dots = 0
        for token in _TOKEN_SEPARATORS.split(line):
            is_number = token[:1] in "0123456789+-" and token.count(".") == 1
            dots += 0 if is_number else token.count(".")
        if dots > MAX_KEY_DOTS:
            return number
    return 0


def deep_merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """``override`` on top of ``base``: tables merge key by key; arrays of named tables
    (``[[platforms]]``) merge item by item by ``name``, new names appended; anything else
    replaces."""
    merged = copy.deepcopy(dict(base))
    for key, value in override.items():
        current = merged.get(key)
        if isinstance(value, Mapping) and isinstance(current, Mapping):
            merged[key] = deep_merge(current, value)
        elif isinstance(current, list) and _named_tables(value) and _named_tables(current):
            by_name = {item["name"]: item for item in current}
            for item in value:
                by_name[item["name"]] = deep_merge(by_name.get(item["name"], {}), item)
            merged[key] = list(by_name.values())
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def _named_tables(value: Any) -> bool:
    return (
        isinstance(value, list)
        and bool(value)
        and all(isinstance(item, Mapping) and isinstance(item.get("name"), str) for item in value)
    )


def _resolve_extends(
    path: Path,
    data: dict[str, Any],
    chain: list[Path],
    added: list[_AddedPlatform] | None = None,
) -> dict[str, Any]:
    """``data`` merged onto the scenario it extends (recursively). Platforms a file adds
    to its parent's (a name the parent does not have) are listed in ``added``."""
    parent_name = data.pop("extends", None)
    if parent_name is None:
        return data
    source = str(path)
    if not isinstance(parent_name, str) or not parent_name:
        raise ScenarioError(
            source, [("extends", parent_name, "must be a shipped scenario name or a file name")]
        )
    if len(chain) >= MAX_EXTENDS_DEPTH:
        raise ScenarioError(
            source, [("extends", parent_name, f"chains may be at most {MAX_EXTENDS_DEPTH} long")]
        )
    # Only shipped names, or files in the same folder as this one: a scenario handed to a
    # student cannot make censim read files elsewhere on the machine. Names are plain
    # file names: no folders, no hidden files, no control characters, and a symlink in
    # the folder counts only if it points to a file in that same folder.
    shipped = shipped_scenarios()
    if (
        "/" in parent_name
        or "\\" in parent_name
        or parent_name.startswith(".")
        or len(parent_name) > 200
        or any(ord(c) < 32 or ord(c) == 127 for c in parent_name)
    ):
        raise ScenarioError(
            source,
            [
                (
                    "extends",
                    parent_name,
                    "must name a shipped scenario or a file in the same folder (no paths)",
                )
            ],
        )
    stem = parent_name.removesuffix(".toml")
    candidate = path.parent / (stem + ".toml")
    try:
        folder = path.parent.resolve()
        # The file itself under another name (a symlink to it, or it seen through one).
        alias = candidate.is_file() and candidate.resolve() == path.resolve()
        local = candidate.is_file() and not alias
        escapes = local and candidate.resolve().parent != folder
    except (OSError, RuntimeError):  # a symlink loop, a name the file system refuses
        alias = local = escapes = False
    if escapes:
        raise ScenarioError(
            source,
            [("extends", parent_name, "is a symlink to a file outside this scenario's folder")],
        )
    if local:
        parent_path = candidate
    elif stem in shipped:
        parent_path = shipped[stem]
    elif candidate.name == path.name:
        raise ScenarioError(source, [("extends", parent_name, "a scenario cannot extend itself")])
    elif alias:
        raise ScenarioError(
            source,
            [
                (
                    "extends",
                    parent_name,
                    f"a scenario cannot extend itself ({candidate.name} is this file "
                    "under another name, through a symlink)",
                )
            ],
        )
    else:
        raise ScenarioError(
            source,
            [
                (
                    "extends",
                    parent_name,
                    f"no such scenario in {path.parent}; shipped: {', '.join(shipped) or 'none'}",
                )
            ],
        )
    if parent_path.resolve() in [p.resolve() for p in chain]:
        raise ScenarioError(source, [("extends", parent_name, "forms a cycle")])
    parent = _resolve_extends(parent_path, _read_toml(parent_path), [*chain, parent_path], added)
    if added is not None and _named_tables(parent.get("platforms")):
        known = [item["name"] for item in parent["platforms"]]
        if _named_tables(data.get("platforms")):
            added += [
                _AddedPlatform(path.name, item["name"], parent_path.stem, tuple(known))
                for item in data["platforms"]
                if item["name"] not in known
            ]
    return deep_merge(parent, data)


@dataclass(frozen=True)
class _AddedPlatform:
    """A platform an extending file adds, by naming one its parent does not have."""

    file: str
    name: str
    parent: str
    parent_platforms: tuple[str, ...]

    def hint(self, data: Mapping[str, Any]) -> tuple[str, object, str]:
        """A problem naming the platform: most often a misspelt name of the parent's."""
        names = [item.get("name") for item in data.get("platforms", [])]
        index = names.index(self.name) if self.name in names else 0
        close = difflib.get_close_matches(self.name, self.parent_platforms, n=1)
        return (
            f"platforms[{index}].name",
            MISSING,
            f"`{self.name}` is not a platform of {self.parent} "
            f"({', '.join(self.parent_platforms)}), so {self.file} adds it as a new platform"
            + (f"; did you mean `{close[0]}`?" if close else ""),
        )


def read_scenario_dict(name_or_path: str | Path) -> tuple[Path, dict[str, Any]]:
    """Read a scenario file into plain data, with ``extends`` resolved. Does not validate."""
    path, data, _ = _read_resolved(name_or_path)
    return path, data


def _read_resolved(name_or_path: str | Path) -> tuple[Path, dict[str, Any], list[_AddedPlatform]]:
    """:func:`read_scenario_dict`, and the platforms files of the chain add to their parents'."""
    path = resolve_scenario_path(name_or_path)
    data = _read_toml(path)
    added: list[_AddedPlatform] = []
    data = _resolve_extends(path, data, [path], added)
    data.setdefault("name", path.stem)
    return path, data, added


def _field_path(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


def _lookup(data: Any, loc: tuple[int | str, ...]) -> object:
    for part in loc:
        try:
            data = data[part]
        except (KeyError, IndexError, TypeError):
            return MISSING
    return data


def validate_scenario(data: Mapping[str, Any], source: str = "<scenario>") -> Scenario:
    """Turn plain data into a :class:`Scenario`, or raise :class:`ScenarioError` listing
    every problem at once: the fields that do not validate, and the checks across fields
    (market shares, strictness bounds...) on the values that do."""
    try:
        return Scenario.model_validate(dict(data))
    except ValidationError as error:
        problems, more = _describe(error, data)
    except RecursionError:
        problems, more = [("", MISSING, "is nested too deeply to be a scenario")], 0
    raise ScenarioError(source, problems, more=more)


def _describe(error: ValidationError, data: Mapping[str, Any]) -> tuple[list[Any], int]:
    """The problems of a failed validation, and how many more were not described."""
    items = error.errors(include_url=False)
    field_items = []
    for item in items:
        if item["type"] == "cross_field":
            continue  # recomputed below with the values that validated, all at once
        loc = tuple(
            p for p in item["loc"] if not (isinstance(p, str) and p.startswith("function-"))
        )
        field_items.append((loc, item))
    bad = {loc for loc, _ in field_items}
    bad_below = {loc[:n] for loc in bad for n in range(1, len(loc) + 1)}
    cross = _cross_field_problems(_known_values(Scenario, data, (), bad, bad_below))
    problems: list[tuple[str, object, str]] = []
    # Only the problems the message will show are worth describing (errors.py).
    for loc, item in field_items[:MAX_PROBLEMS_SHOWN]:
        if item["type"] == "extra_forbidden":
            message = f"unknown field; allowed here: {_allowed_fields(loc[:-1])}"
            problems.append((_field_path(loc), MISSING, message))
            continue
        value: object = _lookup(data, loc) if loc else MISSING
        if item["type"] == "value_error" and isinstance(value, dict | list):
            value = MISSING
        problems.append((_field_path(loc), value, item["msg"].removeprefix("Value error, ")))
    for loc, message in cross:
        value = _lookup(data, loc)
        problems.append(
            (_field_path(loc), MISSING if isinstance(value, dict | list) else value, message)
        )
    return problems, max(0, len(field_items) - MAX_PROBLEMS_SHOWN)


def _allowed_fields(loc: tuple[int | str, ...]) -> str:
    model: Any = Scenario
    for part in loc:
        if isinstance(part, int):
            continue
        info = model.model_fields.get(part)
        if info is None:
            return "?"
        model, _ = _nested_model(info.annotation)
        if model is None:
            return "?"
    return ", ".join(model.model_fields)


def load_scenario(name_or_path: str | Path) -> Scenario:
    """Read and validate a scenario: a shipped name (``china_csl_2016``) or a TOML path."""
    path, data, added = _read_resolved(name_or_path)
    try:
        return validate_scenario(data, source=str(path))
    except ScenarioError as error:
        # A platform name the parent does not have adds a platform, and its default
        # market share of 1 breaks the parent's shares: name it, it is most often a typo.
        if not added or not any(field.startswith("platforms") for field, _, _ in error.problems):
            raise
        hints = [platform.hint(data) for platform in added]
        raise ScenarioError(error.source, [*hints, *error.problems], more=error.more) from None


def override(
    scenario: Scenario, changes: Mapping[str, Any], source: str = "<override>"
) -> Scenario:
    """A copy of ``scenario`` with dotted fields replaced, validated like a file.

    Fields are dotted paths (``"rules.takedown.deadline_hours"``). List items are given
    by index (``platforms.0.reviewers``) or, in a list of named tables, by name
    (``platforms.weibo.reviewers``): the way a TOML file merges platforms. Every bad path
    and every invalid value is reported at once.
    """
    data = scenario.to_dict()
    problems: list[tuple[str, object, str]] = []
    for dotted, value in changes.items():
        try:
            node, key = _locate(data, dotted)
        except LookupError as error:
            problems.append((dotted, value, str(error.args[0])))
        else:
            node[key] = value
    if problems:
        raise ScenarioError(source, problems)
    return validate_scenario(data, source=source)


def get_dotted(data: Any, dotted: str) -> Any:
    """The value at a dotted path of plain scenario data (as :func:`override` reads paths),
    or MISSING if there is none."""
    try:
        node, key = _locate(data, dotted)
    except LookupError:
        return MISSING
    return node[key]


def _locate(data: Any, dotted: str) -> tuple[Any, int | str]:
    """The container holding a dotted path's value, and its key; LookupError(message)
    naming what is allowed where the path goes wrong."""
    parts = dotted.split(".")
    node = data
    for i, part in enumerate(parts):
        key = _child_key(node, part, parts[i - 1] if i else "")
        if i == len(parts) - 1:
            return node, key
        node = node[key]
    raise AssertionError("unreachable: str.split gives at least one part")


def _child_key(node: Any, part: str, parent: str) -> int | str:
    """The key of ``part`` in ``node``: a field of a table; an index of a list, or the
    position of the item named ``part`` in a list of named tables (``platforms``)."""
    if isinstance(node, dict):
        if part not in node:
            allowed = ", ".join(node) if node else "none"
            raise LookupError(f"unknown field `{part}`; allowed: {allowed}")
        return part
    if not isinstance(node, list):
        raise LookupError(f"`{parent}` has no fields")
    names = [item["name"] for item in node] if _named_tables(node) else []
    indices = f"an index below {len(node)}" if node else f"nothing: `{parent}` is empty"
    if part.isdigit():
        index = int(part)
        if part in names and names.index(part) != index:
            raise LookupError(
                f"`{part}` is ambiguous: the name of {parent}[{names.index(part)}] and an "
                f"index; give the other item's name ({', '.join(names)})"
            )
        if index < len(node):
            return index
        if part in names:
            return names.index(part)
        raise LookupError(f"`{part}` is not {indices}")
    if part in names:
        return names.index(part)
    if names:
        raise LookupError(f"`{part}` is not one of the {parent}: {', '.join(names)} (or {indices})")
    raise LookupError(f"`{part}` is not {indices}")
