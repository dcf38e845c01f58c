"""Errors raised for bad input. The CLI turns them into a message and an exit code."""

from __future__ import annotations

#: The ``censim`` command's exit codes and what each means (shown by ``censim --help``;
#: README.md and docs/reliability.md list the same).
EXIT_CODES: dict[int, str] = {
    0: "done",
    2: "invalid scenario, design file or option",
    3: "output problem: folder not writable, disk full, damaged results read back",
    4: "not enough memory or disk (refused up front: --yes runs anyway)",
    70: "internal error: a bug in censim (rerun with --debug, report it)",
    130: "interrupted (Ctrl-C); results already written are kept",
    143: "sweep stopped by SIGTERM; finished runs are kept",
}


class CensimError(Exception):
    """Base class of errors a user can cause and fix. ``exit_code`` is the CLI's exit code."""

    exit_code = 1


#: How many problems a :class:`ScenarioError` message lists before counting the rest.
MAX_PROBLEMS_SHOWN = 20


class ScenarioError(CensimError):
    """A scenario file that cannot be read or does not validate.

    The message names the file, the field (a dotted path such as
    ``platforms[0].review_minutes``), the value given and what is allowed.
    """

    exit_code = 2

    def __init__(
        self,
        source: str,
        problems: list[tuple[str, object, str]],
        more: int = 0,
        origins: dict[str, str] | None = None,
        noun: str = "scenario",
    ) -> None:
        self.source = source
        self.problems = problems
        self.more = more
        #: What ``source`` is: a ``scenario``, or a ``design`` (a design file).
        self.noun = noun
        #: Where a field's value was set when not in ``source`` itself (a file it
        #: extends): field -> ``set in parent.toml, extended by child.toml``.
        self.origins = dict(origins or {})
        lines = [f"{source}: invalid {noun}"]
        # A generated file can hold thousands of bad fields: show the first few, count
        # the rest, so the message stays readable and its size bounded.
        for field, value, allowed in problems[:MAX_PROBLEMS_SHOWN]:
            # A message that already quotes the value need not repeat it.
            shown = "" if "got " in allowed else _short_repr(value)
            where = f"field `{field}`" if field else "file"
            if field in self.origins:
                where += f" ({self.origins[field]})"
            lines.append(f"  - {where}: {allowed}" + (f" (got {shown})" if shown else ""))
        hidden = max(0, len(problems) - MAX_PROBLEMS_SHOWN) + more  # more: not described
        if hidden:
            lines.append(f"  ... and {hidden:,} more problems")
        super().__init__("\n".join(lines))


class OutputError(CensimError):
    """An output folder that cannot be written (exists without --force, not writable)."""

    exit_code = 3


def warn(message: str) -> None:
    """Tell the user something went wrong that censim handled (a damaged record run
    again...): one line ``warning: MESSAGE`` on standard error."""
    import sys

    print(f"warning: {message}", file=sys.stderr, flush=True)


def _short_repr(value: object, limit: int = 80) -> str:
    if value is _MISSING:
        return ""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


class _Missing:
    def __repr__(self) -> str:
        return "<missing>"


_MISSING = _Missing()
MISSING: object = _MISSING
