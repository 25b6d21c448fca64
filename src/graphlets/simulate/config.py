"""Fleet profiles: every knob of the simulator, read from a TOML file.

A profile is a TOML document whose tables map one to one onto the frozen dataclasses below (unknown
keys are errors, so a typo never silently falls back to a default). The profiles shipped with
graphlets live beside this module in ``profiles/`` and are named by their file stem (``small``,
``google-2021-tenth``, ``google-2021``); any other ``.toml`` path works too. Which numbers come from
the paper and which are our assumptions is written in ``docs/concepts/simulator.md`` and in the
comments of each profile.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import sys
import typing
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar

from graphlets.errors import InvalidArgumentError, NotFoundError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib  # type: ignore[import-not-found,unused-ignore]

T = TypeVar("T")
V = TypeVar("V")
# The components of a TFX pipeline, in run order (the simulator's short names).
COMPONENTS = (
    "ExampleGen",
    "StatisticsGen",
    "SchemaGen",
    "ExampleValidator",
    "Transform",
    "Trainer",
    "Evaluator",
    "InfraValidator",
    "Pusher",
)


class FrozenMap(Mapping[str, V]):
    """A read-only mapping that pickles (profiles travel to generator processes)."""

    def __init__(self, data: Mapping[str, V] | None = None) -> None:
        self._data = dict(data or {})

    def __getitem__(self, key: str) -> V:
        return self._data[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __repr__(self) -> str:
        return f"FrozenMap({self._data!r})"

    def __hash__(self) -> int:
        return hash(tuple(sorted(self._data.items())))


@dataclass(frozen=True)
class Frequency:
    """One run-frequency class: how often pipelines of the class run, and how they train.

    Attributes:
        name: label in reports (``hourly``, ``daily``...).
        hours: time between scheduled runs (one data span arrives per run).
        share: fraction of the fleet's pipelines in this class.
        windows: training window sizes in spans; each pipeline draws one.
    """

    name: str
    hours: float
    share: float
    windows: tuple[int, ...]


@dataclass(frozen=True)
class Lifespan:
    """Pipeline lifetimes: lognormal in days; births uniform so the window sees a steady fleet."""

    median_days: float
    sigma: float
    max_days: float


@dataclass(frozen=True)
class Topology:
    """Which optional components a pipeline has, and how many trainers."""

    p_transform: float
    p_validator: float
    p_infra_validator: float
    p_warm_start: float
    trainers: tuple[float, ...]  # P(1 trainer), P(2), ...
    example_gens: Mapping[str, float] = field(default_factory=FrozenMap)


@dataclass(frozen=True)
class Data:
    """Span arrival: gaps (single missing spans and outages) and runs without new data."""

    p_missing_span: float
    outages_per_month: float
    outage_mean_days: float
    p_run_without_data: float


@dataclass(frozen=True)
class Changes:
    """Rates (per pipeline per 30 days) of changes, and the failure boost after code changes."""

    code_per_month: float
    config_per_month: float
    schema_per_month: float
    topology_per_month: float
    failure_boost: float
    boost_runs: int


@dataclass(frozen=True)
class Drift:
    """Drift episodes: Poisson arrivals, exponential durations, uniform magnitudes."""

    episodes_per_month: float
    mean_days: float
    magnitude: tuple[float, float]


@dataclass(frozen=True)
class Causal:
    """Weights of the blessing model (``docs/concepts/simulator.md``, "Causal model")."""

    base_mean: float
    base_sd: float
    new_data_weight: float
    new_data_center: float
    drift_hurt: float
    drift_adapt: float
    code_mean: float
    code_sd: float
    config_mean: float
    config_sd: float
    structure_penalty: float
    noise_sd: float


@dataclass(frozen=True)
class Push:
    """What keeps a blessed model from production (it is then *blocked*).

    Attributes:
        p_infra_reject: chance that the InfraValidator rejects a model.
        p_rate_limited: share of pipelines that push at most once per ``rate_limit_hours`` (only
            pipelines that run more often than that are affected).
        rate_limit_hours: the deployment rate limit of those pipelines.
        freezes: fleet-wide deployment freezes, as ``[first_day, end_day)`` since the start.
    """

    p_infra_reject: float
    p_rate_limited: float = 0.0
    rate_limit_hours: float = 24.0
    freezes: tuple[tuple[float, float], ...] = ()


@dataclass(frozen=True)
class Costs:
    """CPU seconds per run of each component for one unit of data, and how they vary.

    A span holds ``data_scale * hours ** 0.8`` units (``data_scale`` is lognormal per pipeline);
    ingest and validation scale with one span, Transform and Trainer with the window, and a warm
    start multiplies the trainer's cost by ``warm_start_factor``.
    """

    seconds: Mapping[str, float]
    parallelism: Mapping[str, float]
    data_sigma: float
    noise_sigma: float
    warm_start_factor: float
    cached_seconds: float


@dataclass(frozen=True)
class StoreOptions:
    """What is written besides the TFX shape, and how big it gets."""

    time_properties: bool = False
    index_steps: bool = True
    bytes_per_model: int = 12_000


@dataclass(frozen=True)
class Expect:
    """Documented targets a generated fleet must land within (checked by the tests)."""

    models: int
    models_tolerance: float
    unpushed_share: tuple[float, float]


@dataclass(frozen=True)
class FleetConfig:
    """A whole simulated fleet; ``load_profile`` builds it from TOML."""

    name: str
    description: str
    pipelines: int
    days: float
    start: dt.datetime
    seed: int
    frequencies: tuple[Frequency, ...]
    lifespan: Lifespan
    topology: Topology
    data: Data
    changes: Changes
    drift: Drift
    causal: Causal
    push: Push
    failures: Mapping[str, float]
    costs: Costs
    expect: Expect
    store: StoreOptions = field(default_factory=StoreOptions)

    def __post_init__(self) -> None:
        _check_config(self)

    @property
    def start_ms(self) -> int:
        """Start of the simulated window, in MLMD milliseconds since the epoch."""
        return int(self.start.timestamp() * 1000)

    @property
    def end_ms(self) -> int:
        """End of the simulated window (exclusive)."""
        return self.start_ms + int(self.days * 86_400_000)

    def with_(self, **changes: Any) -> FleetConfig:
        """A copy with some fields changed (``cfg.with_(pipelines=30, seed=1)``)."""
        return dataclasses.replace(self, **changes)


def profile_names() -> list[str]:
    """Names of the profiles shipped with graphlets."""
    folder = resources.files("graphlets.simulate") / "profiles"
    return sorted(p.name[:-5] for p in folder.iterdir() if p.name.endswith(".toml"))


def load_profile(name_or_path: str | Path) -> FleetConfig:
    """Read a shipped profile by name, or any profile by path."""
    text, where = _profile_text(name_or_path)
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InvalidArgumentError(f"profile {where} is not valid TOML ({exc}): fix it") from exc
    return build(FleetConfig, doc, where)


def _profile_text(name_or_path: str | Path) -> tuple[str, str]:
    path = Path(name_or_path)
    if path.suffix == ".toml" or path.exists():
        if not path.is_file():
            raise NotFoundError(f"profile file {path} does not exist: pass an existing .toml file")
        return path.read_text(), str(path)
    res = resources.files("graphlets.simulate") / "profiles" / f"{name_or_path}.toml"
    if not res.is_file():
        raise NotFoundError(
            f"profile {name_or_path!r} is unknown: use one of {', '.join(profile_names())} "
            "or a path to a .toml file"
        )
    return res.read_text(), f"{name_or_path!r}"


def build(cls: type[T], doc: Mapping[str, Any], where: str) -> T:
    """Build dataclass ``cls`` from a TOML table, checking keys and value types."""
    if not isinstance(doc, Mapping):
        raise InvalidArgumentError(f"profile {where}: expected a table, got {doc!r}")
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    unknown = sorted(set(doc) - set(fields))
    if unknown:
        raise InvalidArgumentError(f"profile {where}: unknown keys {unknown}: use {sorted(fields)}")
    values: dict[str, Any] = {}
    for name, f in fields.items():
        if name in doc:
            values[name] = _convert(hints[name], doc[name], f"{where}.{name}")
        elif f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
            raise InvalidArgumentError(f"profile {where}: missing key {name!r}: add it")
    return cls(**values)


def _convert(hint: Any, value: Any, where: str) -> Any:
    """One TOML value as the annotated type (tuples from arrays, floats from ints)."""
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if dataclasses.is_dataclass(hint):
        return build(hint, value, where)  # type: ignore[arg-type]
    if origin is tuple:
        if not isinstance(value, list):
            raise InvalidArgumentError(f"profile {where}: expected an array, got {value!r}")
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_convert(args[0], v, f"{where}[{i}]") for i, v in enumerate(value))
        if len(value) != len(args):
            raise InvalidArgumentError(f"profile {where}: expected {len(args)} values: {value!r}")
        return tuple(
            _convert(a, v, f"{where}[{i}]")
            for i, (a, v) in enumerate(zip(args, value, strict=True))
        )
    if origin in (Mapping, dict) or (origin is not None and origin is typing.Mapping):
        if not isinstance(value, Mapping):
            raise InvalidArgumentError(f"profile {where}: expected a table, got {value!r}")
        return FrozenMap({str(k): _convert(args[1], v, where) for k, v in value.items()})
    return _scalar(hint, value, where)


def _scalar(hint: Any, value: Any, where: str) -> Any:
    if hint is float and isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if hint is dt.datetime and isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=dt.timezone.utc)
    if (
        isinstance(hint, type)
        and isinstance(value, hint)
        and not (hint is int and isinstance(value, bool))
    ):
        return value
    raise InvalidArgumentError(
        f"profile {where}: expected {getattr(hint, '__name__', hint)}, got {value!r}"
    )


def _check_config(cfg: FleetConfig) -> None:
    """Reject profiles that cannot describe a fleet, naming the key to fix."""
    problems: list[str] = []
    if cfg.pipelines < 1 or cfg.days <= 0:
        problems.append("pipelines and days must be positive")
    shares = sum(f.share for f in cfg.frequencies)
    if not cfg.frequencies or abs(shares - 1.0) > 1e-6:
        problems.append(f"frequency shares sum to {shares:.3f}, not 1")
    if any(not f.windows or min(f.windows) < 1 or f.hours <= 0 for f in cfg.frequencies):
        problems.append("every frequency needs hours > 0 and windows >= 1")
    if not cfg.topology.trainers or abs(sum(cfg.topology.trainers) - 1.0) > 1e-6:
        problems.append("topology.trainers must be probabilities summing to 1")
    if cfg.topology.example_gens and abs(sum(cfg.topology.example_gens.values()) - 1.0) > 1e-6:
        problems.append("topology.example_gens shares must sum to 1")
    unknown = sorted(set(cfg.failures) - set(COMPONENTS))
    unknown += sorted(set(cfg.costs.seconds) - set(COMPONENTS))
    if unknown:
        problems.append(f"unknown components {unknown} (use {', '.join(COMPONENTS)})")
    missing = sorted(set(COMPONENTS) - set(cfg.costs.seconds))
    if missing:
        problems.append(f"costs.seconds misses {missing}")
    if problems:
        raise InvalidArgumentError(f"profile {cfg.name!r}: {'; '.join(problems)}: fix the profile")
