"""The layers of the ``simulator`` package, lowest first, as data (docs/architecture.md).

A module may import modules of its own layer and of the layers below it, never of a
layer above; and the package has no import cycles. ``tests/test_architecture.py`` reads
every module's imports (those inside functions and under ``TYPE_CHECKING`` too) and holds
the package to this. A new module is placed here, in the lowest layer that can hold what
it imports.
"""

from __future__ import annotations

#: (layer, what belongs there, its modules), lowest first.
LAYERS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    (
        "foundation",
        "shared enumerations, errors, random streams, signal handling: standard library "
        "and numpy only",
        (
            "simulator.errors",
            "simulator.files",
            "simulator.interrupts",
            "simulator.kinds",
            "simulator.layers",
            "simulator.lazy",
            "simulator.orphans",
            "simulator.streams",
            "simulator.version",
        ),
    ),
    (
        "kernels",
        "the compiled passes: foundation, numpy and numba only, never the model",
        (
            "simulator.kernels",
            "simulator.kernels.arrivals",
            "simulator.kernels.benign",
            "simulator.kernels.buffers",
            "simulator.kernels.cache_stamp",
            "simulator.kernels.channel",
            "simulator.kernels.deadline_miss",
            "simulator.kernels.choice",
            "simulator.kernels.draws",
            "simulator.kernels.handles",
            "simulator.kernels.learning",
            "simulator.kernels.moderation",
            "simulator.kernels.network",
            "simulator.kernels.numeric",
            "simulator.kernels.plan",
            "simulator.kernels.police",
            "simulator.kernels.prefetch",
            "simulator.kernels.publishing",
            "simulator.kernels.queue",
            "simulator.kernels.review",
            "simulator.kernels.routes",
            "simulator.kernels.sanctions",
            "simulator.kernels.speech",
        ),
    ),
    (
        "model",
        "the scenario and the mechanisms, one module each: speech, platforms, review "
        "queue, regulator, police, population",
        (
            "simulator.model",
            "simulator.model.access",
            "simulator.model.arrivals",
            "simulator.model.created_arrivals",
            "simulator.model.exposure",
            "simulator.model.held_touches",
            "simulator.model.groups",
            "simulator.model.notices",
            "simulator.model.orders",
            "simulator.model.believed_line",
            "simulator.model.ladder_ahead",
            "simulator.model.moderation_statement",
            "simulator.model.platform_policy",
            "simulator.model.deadline_miss",
            "simulator.model.slice_scale",
            "simulator.model.staff_ahead",
            "simulator.model.staff_count",
            "simulator.model.staffing",
            "simulator.model.platforms",
            "simulator.model.police",
            "simulator.model.population",
            "simulator.model.real_name",
            "simulator.model.regulator",
            "simulator.model.reporting",
            "simulator.model.review_arrays",
            "simulator.model.review_queue",
            "simulator.model.sanctions",
            "simulator.model.strikes",
            "simulator.model.scenario",
            "simulator.model.scenario.access",
            "simulator.model.scenario.checks",
            "simulator.model.scenario.origins",
            "simulator.model.scenario.reading",
            "simulator.model.scenario.removed",
            "simulator.model.scenario.sections",
            "simulator.model.scenario.days",
            "simulator.model.scenario.groups",
            "simulator.model.scenario.timeline",
            "simulator.model.speech",
            "simulator.model.speech_state",
            "simulator.model.vague_offence",
            "simulator.model.views",
        ),
    ),
    (
        "output",
        "counting a run and writing it: recorder, metrics, results, output folders",
        (
            "simulator.output",
            "simulator.output.folder_checks",
            "simulator.output.folders",
            "simulator.output.groups",
            "simulator.output.metrics",
            "simulator.output.phases",
            "simulator.output.recorder",
            "simulator.output.results",
            "simulator.output.staging",
            "simulator.output.transparency",
        ),
    ),
    (
        "reference",
        "the per-agent SimPy statement of the model the engine is checked against",
        (
            "simulator.reference",
            "simulator.reference.accounts",
            "simulator.reference.agent",
            "simulator.reference.minds",
            "simulator.reference.moderation",
            "simulator.reference.platform_policy",
            "simulator.reference.police",
            "simulator.reference.regulator",
            "simulator.reference.review_line",
            "simulator.reference.speech",
            "simulator.reference.staffing",
            "simulator.reference.world",
        ),
    ),
    (
        "engine",
        "the day loop, the post store, pairing with the counterfactual",
        (
            "simulator.engine",
            "simulator.engine.audit_reads",
            "simulator.engine.caches",
            "simulator.engine.day_end",
            "simulator.engine.group_counts",
            "simulator.engine.held_follow_ons",
            "simulator.engine.pairing",
            "simulator.engine.post_store",
            "simulator.engine.progress",
            "simulator.engine.review",
            "simulator.engine.simulation",
            "simulator.engine.speech",
            "simulator.engine.timeline",
            "simulator.engine.warmup",
        ),
    ),
    (
        "studies",
        "what is built on runs: experiments (designs, executors, store, tables, sweeps, "
        "sensitivity, resource estimates, facts), plots, teaching",
        (
            "simulator.experiments",
            "simulator.experiments.attribution",
            "simulator.experiments.designs",
            "simulator.experiments.event_study",
            "simulator.experiments.executors",
            "simulator.experiments.facts",
            "simulator.experiments.fitting",
            "simulator.experiments.frontier",
            "simulator.experiments.groups",
            "simulator.experiments.intervals",
            "simulator.experiments.phases",
            "simulator.experiments.resources",
            "simulator.experiments.sensitivity",
            "simulator.experiments.store",
            "simulator.experiments.sweeps",
            "simulator.experiments.tables",
            "simulator.plots",
            "simulator.plots.attribution",
            "simulator.plots.compare",
            "simulator.plots.event_study",
            "simulator.plots.frontier",
            "simulator.plots.labels",
            "simulator.plots.phase",
            "simulator.plots.runs",
            "simulator.plots.style",
            "simulator.plots.sweeps",
            "simulator.plots.transparency",
            "simulator.plots.writing",
            "simulator.teaching",
        ),
    ),
    (
        "api",
        "the package's public names (``import simulator``)",
        ("simulator",),
    ),
    (
        "cli",
        "the ``censim`` program; nothing else imports it",
        (
            "simulator.cli",
            "simulator.cli.attribution",
            "simulator.cli.console",
            "simulator.cli.experiments",
            "simulator.cli.facts",
            "simulator.cli.frontier",
            "simulator.cli.main",
            "simulator.cli.phases",
            "simulator.cli.plots",
            "simulator.cli.warmup",
        ),
    ),
)

#: Pairs of layers (importer, imported) that may not import each other although the
#: order would allow it: the engine never uses the reference it is checked against.
FORBIDDEN: tuple[tuple[str, str], ...] = (("engine", "reference"),)

#: Layers whose modules may import, besides the standard library and lower layers, only
#: these third-party packages.
THIRD_PARTY_ALLOWED: dict[str, tuple[str, ...]] = {
    "foundation": ("numpy",),
    # llvmlite: numba's code generator, for the cache hint (kernels.prefetch) only.
    "kernels": ("numpy", "numba", "llvmlite"),
}

#: Imports that break the rules today, each with the reason it is allowed for now
#: ((importer, imported) -> why). Keep this short; issue 15 removes what is left.
KNOWN_EXCEPTIONS: dict[tuple[str, str], str] = {}


def layer_of(module: str) -> str:
    """The layer ``module`` belongs to (KeyError if it is placed in none)."""
    for name, _, modules in LAYERS:
        if module in modules:
            return name
    raise KeyError(module)
