"""Jobs too big for the machine are refused before any work, with the estimate
(simulator.experiments.resources; docs/reliability.md, "Resource limits"); the estimate is within a
factor of 2 of measured runs."""

from __future__ import annotations

import contextlib
import json
import signal
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

import simulator
from simulator.cli.main import main
from simulator.experiments import resources

GB = 10**9


def cli(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.output


@pytest.fixture
def machine(monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    """A machine of known size (16 GB of memory available, 100 GB of free disk), so the
    refusals do not depend on the machine the tests run on; a test may change it."""
    size = {"memory": 16 * GB, "disk": 100 * GB}
    monkeypatch.setattr(resources, "available_memory", lambda: size["memory"])
    monkeypatch.setattr(resources, "free_disk", lambda path: size["disk"])
    return size


@pytest.fixture(autouse=True)
def no_large_run(monkeypatch: pytest.MonkeyPatch) -> None:
    """If a refusal under test failed, the run it should refuse must not start: it
    would take the machine's memory (a 50M-user run was killed by the kernel at 21.5 GB).
    Pilot runs (20,000 users) and the small runs of these tests go through."""
    import simulator.engine.pairing

    real_run = simulator.engine.pairing.run

    def guarded(scenario: simulator.Scenario, *args: object, **kwargs: object) -> object:
        size = scenario.population.users * max(1, len(scenario.platforms))
        assert size <= 2_000_000, "a run the estimate should have refused has started"
        return real_run(scenario, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(simulator.engine.pairing, "run", guarded)


@contextlib.contextmanager
def within(seconds: int) -> Iterator[None]:
    """Fail the test if the body takes longer than ``seconds``: the refusals must come
    before any work (without them these took minutes and gigabytes)."""
    previous = signal.signal(
        signal.SIGALRM, lambda *_: pytest.fail(f"not refused within {seconds} s")
    )
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


# -- refusals -----------------------------------------------------------------------------


def test_fifty_million_users_at_degree_two_hundred_are_refused(
    tmp_path: Path, machine: dict[str, int]
) -> None:
    """Was accepted and would need ~100 GB (the network build alone: 8 B per user and
    unit of degree)."""
    file = tmp_path / "dense.toml"
    file.write_text('extends = "classroom"\nname = "dense"\n[population]\nmean_degree = 200\n')
    with within(30):
        code, output = cli("run", str(file), "--users", "50000000", "--out", str(tmp_path / "r"))
    assert code == 4, output
    assert output.startswith("error: this run needs ~92.8 GB of memory, this machine has 16.0 GB")
    assert "pass --yes" in output and len(output.strip().splitlines()) == 1
    assert not (tmp_path / "r").exists()


def test_five_thousand_platforms_for_a_century_are_refused(
    tmp_path: Path, machine: dict[str, int]
) -> None:
    """A 254 kB file that validates and would write ~198 GB of tables (and hold ~1 TB in
    memory): refused on memory; on a machine with the memory, refused on disk."""
    lines = ['name = "many"', "horizon_days = 36500", "[population]", "users = 1000"]
    for i in range(5000):
        lines += ["[[platforms]]", f'name = "p{i}"', f"market_share = {1 / 5000!r}"]
    file = tmp_path / "many.toml"
    file.write_text("\n".join(lines) + "\n")
    assert cli("validate", str(file))[0] == 0
    scenario = simulator.load_scenario(file)
    assert 180 * GB < resources.run_disk(scenario) < 200 * GB
    with within(60):
        code, output = cli("run", str(file), "--out", str(tmp_path / "r"))
    assert code == 4 and "GB of memory, this machine has 16.0 GB" in output, output
    machine["memory"] = 10**15
    code, output = cli("run", str(file), "--out", str(tmp_path / "r"))
    assert code == 4, output
    assert f"would write ~197.9 GB to {tmp_path / 'r'}, which has 100.0 GB free" in output
    assert not (tmp_path / "r").exists()


def test_a_grid_of_a_billion_points_is_counted_before_it_is_built(tmp_path: Path) -> None:
    """Three --vary lists of 1,000 values: 10**9 points took 3.6 GB and 16 s to build
    before the size check refused them."""
    values = ",".join(str(v) for v in range(1000))
    vary = [
        "--vary", f"population.users={values}",
        "--vary", f"horizon_days={values}",
        "--vary", f"seed={values}",
    ]  # fmt: skip
    with within(20):
        code, output = cli("sweep", "classroom", *vary, "--out", str(tmp_path / "s"))
    assert code == 2, output
    assert "at most 1,000,000 points; this one has 1,000,000,000" in output
    assert not (tmp_path / "s").exists()


@pytest.mark.parametrize(
    ("method", "samples", "phrase"),
    [
        ("morris", "1000000", "1,000,000 morris samples of 2 parameters make 3,000,000 points"),
        ("sobol", "524288", "524,288 sobol samples of 2 parameters make 2,097,152 points"),
    ],
)
def test_a_million_sensitivity_samples_are_counted_before_sampling(
    tmp_path: Path, method: str, samples: str, phrase: str
) -> None:
    """Took 55 s and 1.6 GB to sample before the run count refused them."""
    with within(20):
        code, output = cli(
            "sensitivity", "classroom", "--param", "rules.takedown.vagueness=0:1",
            "--param", "platforms.0.reviewers_per_100k_users=1:10", "--method", method,
            "--samples", samples, "--out", str(tmp_path / "s"),
        )  # fmt: skip
    assert code == 2, output
    assert phrase in output and "at most 1,000,000 are allowed" in output, output
    assert not (tmp_path / "s").exists()


def test_the_sensitivity_formula_is_salibs() -> None:
    from simulator.experiments.sensitivity import sample, sample_points

    ranges = {"a": (0.0, 1.0), "b": (0.0, 1.0), "c": (0.0, 1.0)}
    assert len(sample(ranges, "sobol", 8, 1)) == sample_points("sobol", 8, 3) == 40
    assert len(sample(ranges, "morris", 5, 1)) == sample_points("morris", 5, 3) == 20


def test_yes_runs_what_the_estimate_would_refuse(tmp_path: Path, machine: dict[str, int]) -> None:
    machine["memory"] = 1
    small = ["--days", "2", "--users", "40", "--quiet"]
    code, output = cli("run", "classroom", *small, "--out", str(tmp_path / "r"))
    assert code == 4 and "pass --yes" in output and not (tmp_path / "r").exists()
    assert cli("run", "classroom", *small, "--yes", "--out", str(tmp_path / "r"))[0] == 0
    sweep = ["sweep", "classroom", *small, "--workers", "0", "--out", str(tmp_path / "s")]
    code, output = cli(*sweep)
    assert code == 4 and "this sweep (1 runs, in this process) needs" in output, output
    assert not (tmp_path / "s").exists()
    assert cli(*sweep, "--yes")[0] == 0
    compare = ["compare", "classroom", "--reps", "2", *small, "--out", str(tmp_path / "c")]
    code, output = cli(*compare)
    assert code == 4 and "this comparison (2 runs) needs" in output, output
    assert cli(*compare, "--yes")[0] == 0


def test_a_sweep_counts_its_workers_and_its_largest_point(machine: dict[str, int]) -> None:
    from simulator.experiments import ScenarioModel, grid_design
    from simulator.experiments.sweeps import _check_resources

    scenario = simulator.load_scenario("classroom")
    model = ScenarioModel(scenario)
    design = model.prepare(grid_design({"population.users": [1000, 2_000_000]}))
    largest = simulator.override(scenario, {"population.users": 2_000_000})
    one = resources.run_memory(largest, in_worker=True)
    machine["memory"] = resources.BASE_BYTES + 2 * one - 1
    with pytest.raises(resources.ResourceError, match=r"\(6 runs, 2 at a time\) needs"):
        _check_resources(model, design, 3, 2, None, None, Path("out"))
    _check_resources(model, design, 3, 1, None, None, Path("out"))  # one at a time fits


def test_posts_waiting_for_review_are_counted_with_a_pilot_run(
    tmp_path: Path, machine: dict[str, int]
) -> None:
    """china_csl_2016 with 50 million users and 0.1 reviewers per 100,000 users (50 on
    each platform; the shipped rates keep up at any size): they fall behind by millions
    of posts a day, held in memory to the end (a run like it, when staff was a count, was
    killed by the kernel at 21.5 GB on day 56). The sizes alone would have said ~17 GB."""
    understaffed = {
        "platforms.weibo.reviewers_per_100k_users": 0.1,
        "platforms.tieba.reviewers_per_100k_users": 0.1,
    }
    scenario = simulator.override(
        simulator.load_scenario("china_csl_2016"),
        {"population.users": 50_000_000, **understaffed},
    )
    assert resources.run_needs(scenario).memory < 20 * GB
    machine["memory"] = 20 * GB
    path = tmp_path / "understaffed.toml"
    path.write_text(
        'extends = "china_csl_2016"\nname = "understaffed"\n'
        '[[platforms]]\nname = "weibo"\nreviewers_per_100k_users = 0.1\n'
        '[[platforms]]\nname = "tieba"\nreviewers_per_100k_users = 0.1\n'
    )
    with within(60):
        code, output = cli("run", str(path), "--users", "50000000", "--out", str(tmp_path / "r"))
    assert code == 4, output
    assert "of it for posts waiting for review" in output and "more reviewers" in output
    needs = resources.run_needs(scenario, resources.pilot_rates(scenario))
    # The pilot's queues (20,000 users for the year) fall behind for months: 62 items a
    # user at their peak, measured (93 with the margin): 0.74 TB at 160 B an item (2.8 TB
    # at the 600 B of before session 21). Bounded above by an item a user-day kept all
    # year (11 TB), below by what refuses the run.
    assert 60 * GB < needs.memory < 50_000_000 * 365 * resources.WAITING_ITEM_BYTES


def test_platforms_that_hire_are_not_estimated_as_falling_behind_for_ever(
    machine: dict[str, int],
) -> None:
    """china_csl_2016 at a million users for its year: its platforms start behind and hire
    (model.md S6a); the items waiting peak near day 20 (0.63 a user in the pilot since
    the platforms start experienced, session 21; 1.1 a user at 20,000 to 300,000 users
    before) and are gone by day 30. The estimate once charged the starting staff's
    shortfall every day of the year (23.5 GB: refused on a 16 GB machine); the year's
    measured peak is 566 B a user above start-up (docs/performance.md, session 21; 1,150
    in session 16, before the narrower store and the experienced platforms): estimated
    853 MB against 816 MB measured."""
    scenario = simulator.override(
        simulator.load_scenario("china_csl_2016"), {"population.users": 1_000_000}
    )
    rates = resources.pilot_rates(scenario)
    assert rates.waiting_peak > 0.3 and rates.waiting_end < 0.1 * rates.waiting_peak
    needs = resources.run_needs(scenario, rates)
    measured = resources.BASE_BYTES + 566 * 1_000_000
    assert measured / 2 < needs.memory < 2 * measured, needs
    assert "posts waiting for review" in needs.note
    machine["memory"] = 16 * GB
    resources.check(needs, Path("out"), "this run")  # not refused


def test_a_queue_that_falls_behind_ever_faster_is_foreseen() -> None:
    """china_csl_2016 with 0.2 fixed reviewers per 100,000 users for 120 days: the
    platforms fall behind, flag more as they miss more, and the items waiting grow ever
    faster (review items arriving 0.0035 a user-day over days 0-9, 0.16 over days
    110-119, at 20,000 users). A month's pilot carried on at its last week's growth
    foresaw 1.19 items a user where the run reaches 7.87 (the review of session 17);
    the pilot now runs the scenario's every day. Measured (100,000 users): 8.77 a user at
    the peak (day 119) against 10.4 estimated."""
    scenario = simulator.override(
        simulator.load_scenario("china_csl_2016"),
        {
            "population.users": 100_000,
            "horizon_days": 120,
            "platforms.0.staffing": "fixed",
            "platforms.1.staffing": "fixed",
            "platforms.0.reviewers_per_100k_users": 0.2,
            "platforms.1.reviewers_per_100k_users": 0.2,
        },
    )
    assert resources.pilot_size(scenario) == (10_000, 120)
    estimated = resources.waiting_items(scenario, resources.pilot_rates(scenario))
    waiting = simulator.run(scenario, seed=scenario.seed).platform_daily
    peak = waiting.groupby("day")["queue_waiting"].sum().max()
    assert peak > 5 * 100_000  # the case: a backlog of several items a user
    assert peak < estimated < 2 * peak, (estimated, peak)


def test_the_pilot_meets_every_day_of_the_run_and_its_timeline() -> None:
    """A pilot of a month could not see a timeline entry after day 30 (a late crackdown
    that sends the queues behind: the review of session 17 measured 740 times more items
    waiting than estimated). The short pilot (20,000 users, 30 days) stands only where
    nothing after it may differ: platforms that choose their staff, no change of rules
    after day 30, queues drained at its end; else the whole pilot runs every day up to
    ten years, its users a tenth of the run's, at most 20,000 and a year of 20,000 users
    in all, at least 2,000."""
    csl = simulator.load_scenario("china_csl_2016")
    weibo = simulator.load_scenario("china_weibo_2012_real_name")  # an entry on day 75

    def size(scenario: simulator.Scenario, users: int, days: int) -> tuple[int, int]:
        changes = {"population.users": users, "horizon_days": days}
        return resources.pilot_size(simulator.override(scenario, changes))

    assert 30 < max(entry.day for entry in weibo.timeline) < weibo.horizon_days
    assert resources.last_change_day(weibo) >= 75
    assert size(weibo, 1_000_000, weibo.horizon_days) == (20_000, weibo.horizon_days)
    assert size(csl, 1_000_000, 365) == (20_000, 365)
    assert size(csl, 100_000, 365) == (10_000, 365)
    assert size(csl, 30_000, 365) == (3_000, 365)
    assert size(csl, 1_000_000, 730) == (10_000, 730)
    assert size(csl, 1_000_000, 36_500) == (2_000, resources.PILOT_MAX_DAYS)
    assert size(csl, 1_500, 36_500) == (1_500, resources.PILOT_MAX_DAYS)

    drained = resources.Rates(waiting_peak=1.6, waiting_end=0.004, pilot_days=30)
    behind = resources.Rates(waiting_peak=1.6, waiting_end=1.2, pilot_days=30)
    assert not resources.needs_whole_pilot(csl, drained)  # hires and catches up
    assert resources.needs_whole_pilot(csl, behind)
    assert resources.needs_whole_pilot(weibo, drained)  # its day-75 entry
    fixed = simulator.override(csl, {"platforms.0.staffing": "fixed"})
    assert resources.needs_whole_pilot(fixed, drained)
    short = simulator.override(csl, {"horizon_days": 30})
    assert not resources.needs_whole_pilot(short, behind)  # the short pilot is the run
    # As measured: china_csl_2016 at a million users stands on the short pilot.
    assert (
        resources.pilot_rates(simulator.override(csl, {"population.users": 1_000_000})).pilot_days
        == 30
    )


def test_a_fixed_staff_queue_near_capacity_is_named_with_what_it_could_hold(
    machine: dict[str, int], capsys: pytest.CaptureFixture[str]
) -> None:
    """Whether a fixed-staff queue working at its capacity tips is chance: the pilot is
    one seed, and one that did not tip estimates an empty queue for a run that may hold
    tens of items a user (the review of session 18: 29-110 times under). Such a platform
    is named in a warning with what it would hold if every item waited; the pilot runs
    at the run's seed. china_weibo_2012 with half its reviewers (40 per 100,000) works at
    about their capacity (measured: 0.958 at 120,000 users and seed 7; 30 per 100,000
    tips there). (As shipped it worked at about capacity and tipped in 2 of the 10
    replications of the facts until session 20, when Weibo came to start from its audits
    before day 0 and settled at a lower strictness: 80 per 100,000 keep up.)
    germany_netzdg_2017 at 59%: not named."""
    weibo = simulator.override(
        simulator.load_scenario("china_weibo_2012"),
        {"population.users": 120_000, "platforms.weibo.reviewers_per_100k_users": 40},
    )
    rates = resources.pilot_rates(weibo, seed=7)
    ((name, worked, arrivals),) = rates.near_capacity
    assert (
        name == "weibo" and resources.PILOT_NEAR_CAPACITY <= worked < 1.2 and 0.3 < arrivals < 2.0
    )
    machine["memory"] = 10_000 * GB
    resources.check_run(weibo, Path("out"), seed=7)
    warning = capsys.readouterr().err
    assert "platform weibo's reviewers worked at" in warning and "may fall behind" in warning
    netzdg = simulator.override(
        simulator.load_scenario("germany_netzdg_2017"),
        {"population.users": 40_000, "horizon_days": 250},
    )
    assert resources.pilot_rates(netzdg).near_capacity == ()


def test_the_growth_carried_beyond_the_pilot_is_its_fastest_week() -> None:
    """Beyond the pilot's days (runs over ten years) the items waiting grow at the
    fastest rate a week of the pilot's second half saw: a queue accelerating to the end
    is carried on at its last week's rate, one that grew and stopped at its fastest."""
    accelerating = np.array([0, 1, 3, 6, 10, 15, 21, 28, 36, 45], dtype=float)
    assert resources.fastest_growth(accelerating, span=3) == pytest.approx((45 - 21) / 3)
    stopped = np.array([0, 5, 10, 15, 15, 15, 15, 15], dtype=float)
    assert resources.fastest_growth(stopped, span=2) == pytest.approx(5.0)
    assert resources.fastest_growth(np.array([9.0, 3.0, 1.0]), span=7) == 0.0
    assert resources.fastest_growth(np.array([2.0]), span=7) == 0.0
    scenario = simulator.override(
        simulator.load_scenario("classroom"), {"population.users": 1_000, "horizon_days": 4_000}
    )
    rates = resources.Rates(
        waiting_peak=3.0, waiting_end=2.0, waiting_growth=0.01, pilot_days=3_650
    )
    assert resources.waiting_items(scenario, rates) == pytest.approx(1_000 * (2.0 + 0.01 * 350))


# -- the estimate against measured runs -----------------------------------------------------

MEASURE = textwrap.dedent(
    """
    import json, os, resource, sys
    import simulator

    def rss():
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmRSS"):
                    return int(line.split()[1]) * 1024

    os.environ["CENSIM_PARALLEL"] = "0"
    warm = simulator.override(simulator.load_scenario("classroom"), {"horizon_days": 2})
    simulator.run(warm, seed=1)
    base = rss()
    measured = []
    for name, changes in json.loads(sys.argv[1]):
        pid = os.fork()
        if pid == 0:
            start = rss()
            scenario = simulator.override(simulator.load_scenario(name), changes)
            simulator.run(scenario, seed=1)
            peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
            os.write(1, (json.dumps(peak - start) + "\\n").encode())
            os._exit(0)
        os.waitpid(pid, 0)
    print(json.dumps(base))
    """
)

MEASURED_RUNS = [
    # users and the network; no backlog
    ("china_csl_2016", {"population.users": 300_000, "horizon_days": 40}),
    # posts waiting for review (no reviewers): the pilot's term
    (
        "china_csl_2016",
        {
            "population.users": 300_000,
            "horizon_days": 40,
            "platforms.0.reviewers_per_100k_users": 0,
            "platforms.1.reviewers_per_100k_users": 0,
            # Fixed: choosing staff from a floor of 0 is refused (it could never hire).
            "platforms.0.staffing": "fixed",
            "platforms.1.staffing": "fixed",
        },
    ),
    # a dense network
    ("classroom", {"population.users": 100_000, "population.mean_degree": 120, "horizon_days": 5}),
]


@pytest.mark.slow
def test_memory_estimates_are_within_a_factor_of_two_of_measured_runs() -> None:
    """Peak resident memory above a warm process's, measured in a forked child per run
    (one process at a time: the counterfactual in the same process), against the
    estimate without its fixed part (BASE_BYTES, checked against the warm process).
    A strict xfail until session 17 (china_csl_2016 at 300,000 users x 40 days: 1,120 MB
    estimated against 487 MB measured, the starting staff's shortfall charged every
    day while the platforms hire); measured then, estimate / peak: 374 / 355 MB, no
    reviewers 177 / 159 MB, the dense network 111 / 154 MB."""
    done = subprocess.run(
        [sys.executable, "-c", MEASURE, json.dumps(MEASURED_RUNS)],
        capture_output=True,
        text=True,
        timeout=600,
        check=True,
    )
    *measured, base = (json.loads(line) for line in done.stdout.split())
    assert resources.BASE_BYTES / 2 < base < resources.BASE_BYTES * 2
    for (name, changes), peak in zip(MEASURED_RUNS, measured, strict=True):
        scenario = simulator.override(simulator.load_scenario(name), changes)
        rates = resources.pilot_rates(scenario)
        estimate = resources.run_memory(scenario, rates, in_worker=True) - resources.BASE_BYTES
        assert peak / 2 < estimate < 2 * peak, (name, changes, estimate, peak)


def test_disk_estimate_is_within_a_factor_of_two_of_a_written_run(tmp_path: Path) -> None:
    platforms = [{"name": f"p{i}", "market_share": 0.05} for i in range(20)]
    scenario = simulator.override(
        simulator.load_scenario("classroom"),
        {"platforms": platforms, "population.users": 3000, "horizon_days": 40},
    )
    folder = simulator.run(scenario, seed=1).write(tmp_path / "r")
    written = sum(path.stat().st_size for path in folder.iterdir())
    estimate = resources.run_disk(scenario, resources.pilot_rates(scenario))
    assert written / 2 < estimate < 2 * written, (estimate, written)
    tables = resources.run_disk(scenario) - resources.FOLDER_BYTES
    daily = sum((folder / f).stat().st_size for f in ("daily.csv", "counterfactual_daily.csv"))
    assert daily / 2 < tables < 2 * daily
