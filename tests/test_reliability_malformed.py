"""Malformed and hostile scenario files: each refused clearly, in bounded time and memory.

Also: ``extends`` cannot reach outside the shipped scenarios and the file's own folder.
See docs/reliability.md for the guarantees these tests hold.
"""

from __future__ import annotations

import json
import os
import random
import resource
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

import simulator
from simulator.cli.main import main
from simulator.model.scenario import MAX_EXTENDS_DEPTH, MAX_FILE_BYTES, MAX_KEY_DOTS, shipped_dir

CENSIM = str(Path(sys.executable).with_name("censim"))
#: Address-space limit for the refusing process (bytes): generous for Python with numpy,
#: pandas and scipy imported (about 300 MB), far below what parsing a hostile file
#: without limits could take.
ADDRESS_SPACE = 768 * 2**20
GOOD = 'name = "tiny"\nhorizon_days = 2\n[population]\nusers = 20\n'


def invoke(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args))
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise AssertionError(f"censim {args[0]} raised {result.exception!r}")
    return result.exit_code, result.output + (result.stderr if result.stderr_bytes else "")


def malformed_files(folder: Path) -> dict[str, tuple[Path, str]]:
    """Every kind of malformed file: name -> (path, phrase the message must contain)."""
    rng = random.Random(7)
    files: dict[str, tuple[bytes | None, str]] = {
        "truncated": (GOOD.encode()[:-12] + b"\n[platforms\n", "is not valid TOML"),
        "binary": (bytes(rng.randrange(256) for _ in range(4096)), "is not UTF-8"),
        "latin1": ('name = "caf\xe9"\n'.encode("latin-1"), "is not UTF-8"),
        "utf16": (GOOD.encode("utf-16"), "is not UTF-8"),
        "nul": (GOOD.encode() + b"\x00\n", "NUL"),
        "float_overflow": (GOOD.encode() + b"private_share = 1e400\n", "finite number"),
        "int_huge": (GOOD.replace("20", str(10**30)).encode(), "less than or equal"),
        "int_digits": (GOOD.replace("20", "9" * 5000).encode(), "integer too long"),
        "nan": (GOOD.encode() + b"private_share = nan\n", "finite number"),
        "inf": (GOOD.encode() + b"private_share = -inf\n", "finite number"),
        "nan_int": (GOOD.replace("20", "nan").encode(), "valid integer"),
        "deep_arrays": (
            b"description = " + b"[" * 10_000 + b"]" * 10_000 + b"\n",
            "nested too deeply",
        ),
        "deep_inline_tables": (
            b"x = " + b"{a = " * 10_000 + b"1" + b"}" * 10_000 + b"\n",
            "nested too deeply",
        ),
        "deep_dotted_keys": (b".".join([b"a"] * 10_000) + b" = 1\n", "dotted more than"),
        "deep_table_header": (b"[" + b".".join([b"t"] * 10_000) + b"]\n", "dotted more than"),
        "deep_spaced_keys": (b" . ".join([b"1"] * 5_000) + b" = 1\n", "dotted more than"),
        "too_big": (b"# padding\n" * (MAX_FILE_BYTES // 10 * 10 + 10), "at most"),
        "ten_megabytes": (b"x" * (10 * 2**20), "at most"),
        "many_problems": (
            b'name = "x"\n' + b"[[platforms]]\nzz = 1\n" * 10_000,
            "more problems",
        ),
        "long_string": (
            b'name = "x"\ndescription = "' + b"y" * 200_000 + b'"\n',
            "at most 2000 characters",
        ),
        "empty": (b"", "is empty"),
        "comments_only": (b"# just a comment\n\n   \n", "is empty"),
        "directory": (None, "is a directory"),
    }
    out: dict[str, tuple[Path, str]] = {}
    for name, (content, phrase) in files.items():
        path = folder / f"{name}.toml"
        if content is None:
            path.mkdir()
        else:
            path.write_bytes(content)
        out[name] = (path, phrase)
    out["missing"] = (folder / "missing.toml", "no such file")
    return out


def _fill(line: str, cap: int = MAX_FILE_BYTES - 100) -> str:
    """``line`` (formatted with its index) repeated up to ``cap`` bytes."""
    out, size, i = [], 0, 0
    while size + len(line.format(i=i)) <= cap:
        out.append(line.format(i=i))
        size += len(out[-1])
        i += 1
    return "".join(out)


def slow_to_parse_files(folder: Path) -> dict[str, Path]:
    """Files just under the size limit in the shapes tomllib is slowest on."""
    dots = ".a" * MAX_KEY_DOTS
    shapes = {
        "dotted_keys": _fill("k{i}" + dots + " = 1\n"),
        "dotted_headers": _fill("[k{i}" + dots + "]\n"),
        "tables": _fill("[t{i}]\n"),
        "table_arrays": _fill("[[platforms]]\nzz = 1\n"),
        "floats": "x = [" + _fill("0.5, ") + "]\n",
        "inline_tables": _fill("t{i} = {{a = {{b = {{c = 1}}}}}}\n"),
        "escapes": 'description = """' + _fill("\\\\.") + '"""\n',
    }
    out = {}
    for name, text in shapes.items():
        assert len(text.encode()) <= MAX_FILE_BYTES, name
        out[name] = folder / f"slow_{name}.toml"
        out[name].write_text(text, encoding="utf-8")
    return out


def test_each_malformed_file_is_refused_with_a_clear_message(tmp_path: Path) -> None:
    for name, (path, phrase) in malformed_files(tmp_path).items():
        for command in ("validate", "run"):
            args = [command, str(path)] + (
                ["--out", str(tmp_path / "out")] if command == "run" else []
            )
            code, output = invoke(*args)
            assert code == 2, (name, command, output)
            assert phrase in output, (name, command, output[:500])
            assert str(path) in output, (name, output[:500])
            assert "Traceback" not in output and "internal error" not in output, (name, output)
            assert len(output) < 20_000, (name, len(output))  # bounded, readable
    assert not (tmp_path / "out").exists()


def _limit_address_space() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (ADDRESS_SPACE, ADDRESS_SPACE))


def _censim(*args: str, timeout: float) -> tuple[int, str, float]:
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1")
    started = time.perf_counter()
    done = subprocess.run(
        [CENSIM, *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        preexec_fn=_limit_address_space,
        env=env,
    )
    return done.returncode, done.stdout + done.stderr, time.perf_counter() - started


#: Run in a fresh, memory-limited process: time the refusal of each file given on the
#: command line, apart from the cost of starting Python and importing censim. CPU time
#: of the process, not wall time: a parser made slow by a file's shape spends CPU, while
#: a machine busy with other work (CI, two workers) only stretches the wall clock (the
#: wall-clock bound failed at 5.97 s on a machine with load average 8).
TIMING_SCRIPT = """
import json, sys, time
import simulator
out = {}
for path in sys.argv[1:]:
    started = time.process_time()
    try:
        simulator.load_scenario(path)
        message = "valid"
    except simulator.ScenarioError as error:
        message = str(error)
    out[path] = [time.process_time() - started, message[:2000]]
print(json.dumps(out))
"""
#: CPU seconds the refusal of one file may take (the slowest shapes take about 1 s).
PER_FILE_SECONDS = 5.0


def test_malformed_files_are_refused_in_bounded_time_and_memory(tmp_path: Path) -> None:
    """A fresh process under a 768 MB address-space limit refuses every malformed file
    in seconds each."""
    _refuse_in_time({name: path for name, (path, _) in malformed_files(tmp_path).items()})


@pytest.mark.slow
def test_files_the_parser_is_slowest_on_are_refused_in_bounded_time(tmp_path: Path) -> None:
    """Files just under the size limit, shaped to make tomllib slowest (dotted keys at the
    allowed depth, thousands of tables, long arrays...): each refused within seconds."""
    _refuse_in_time(slow_to_parse_files(tmp_path))


def _refuse_in_time(files: dict[str, Path]) -> None:
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1")
    done = subprocess.run(
        [sys.executable, "-c", TIMING_SCRIPT, *map(str, files.values())],
        capture_output=True,
        text=True,
        timeout=300,
        preexec_fn=_limit_address_space,
        env=env,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    timings = json.loads(done.stdout)
    for name, path in files.items():
        seconds, message = timings[str(path)]
        assert message.startswith(f"{path}: invalid scenario"), (name, message[:300])
        assert seconds < PER_FILE_SECONDS, (name, seconds)


def test_the_command_refuses_them_in_a_limited_process(tmp_path: Path) -> None:
    """The installed `censim validate` itself, memory-limited, refuses a batch of them
    with exit code 2 and one message per file, without a traceback."""
    files = malformed_files(tmp_path)
    code, output, _ = _censim("validate", *(str(path) for path, _ in files.values()), timeout=120)
    assert code == 2, output[-2000:]
    assert "Traceback" not in output and "out of memory" not in output, output[-2000:]
    for name, (path, phrase) in files.items():
        assert f"{path}: invalid scenario" in output, name
        assert phrase in output, name
    assert output.count("invalid scenario") == len(files)


def test_devices_and_pipes_are_not_read(tmp_path: Path) -> None:
    """A FIFO would block and /dev/zero never end: only regular files are opened."""
    fifo = tmp_path / "pipe.toml"
    os.mkfifo(fifo)
    for path in (str(fifo), "/dev/zero", "/dev/urandom"):
        if not os.path.exists(path):
            continue
        started = time.perf_counter()
        code, output = invoke("validate", path)
        assert code == 2 and "not a regular file" in output, output
        assert time.perf_counter() - started < 5.0


def test_every_truncation_of_a_shipped_file_is_refused_or_valid(tmp_path: Path) -> None:
    """Cut a real scenario file at many points: each prefix either validates or is refused
    with a ScenarioError; nothing else escapes."""
    text = (shipped_dir() / "china_csl_2016.toml").read_bytes()
    refused = valid = 0
    for cut in range(0, len(text), 23):
        path = tmp_path / "cut.toml"
        path.write_bytes(text[:cut])
        try:
            simulator.load_scenario(path)
        except simulator.ScenarioError as error:
            assert str(path) in str(error)
            refused += 1
        else:
            valid += 1
    # A prefix that ends between settings is a valid, smaller scenario; most are not.
    assert refused > 0 and valid > 0, (refused, valid)


def test_a_byte_order_mark_is_not_an_error(tmp_path: Path) -> None:
    path = tmp_path / "bom.toml"
    path.write_bytes(b"\xef\xbb\xbf" + GOOD.encode())
    assert simulator.load_scenario(path).population.users == 20


def test_arguments_the_file_system_refuses(tmp_path: Path) -> None:
    for name in ("x" * 5000 + ".toml", str(tmp_path / ("y" * 300)) + ".toml"):
        code, output = invoke("validate", name)
        assert code == 2 and "no such file" in output, output


# ---------------------------------------------------------------------------------------
# extends: only shipped scenarios and files in the same folder


def _write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("extends", "phrase"),
    [
        ("../outside", "no paths"),
        ("sub/inner", "no paths"),
        ("/etc/passwd", "no paths"),
        ("..\\\\outside", "no paths"),
        (".hidden", "no paths"),
        ("~/outside", "no paths"),
        ("a\\u0000b", "no paths"),
        ("x" * 5000, "no paths"),
        ("no_such_parent", "no such scenario"),
        ("", "must be a shipped scenario name"),
    ],
)
def test_extends_cannot_leave_the_folder(tmp_path: Path, extends: str, phrase: str) -> None:
    inner = tmp_path / "here"
    (inner / "sub").mkdir(parents=True)
    _write(tmp_path, "outside.toml", GOOD)
    _write(inner / "sub", "inner.toml", GOOD)
    _write(inner, ".hidden.toml", GOOD)
    path = _write(inner, "child.toml", f'extends = "{extends}"\nname = "child"\n')
    code, output = invoke("validate", str(path))
    assert code == 2 and "`extends`" in output and phrase in output, output


def test_extends_with_a_number_or_a_table_is_refused(tmp_path: Path) -> None:
    for value in ("7", "[1]", "{ a = 1 }", "true"):
        path = _write(tmp_path, "child.toml", f'extends = {value}\nname = "child"\n')
        code, output = invoke("validate", str(path))
        assert code == 2 and "`extends`" in output, output


def test_extends_absolute_path_to_a_real_scenario_is_refused(tmp_path: Path) -> None:
    parent = _write(tmp_path / "..", f"{tmp_path.name}_parent.toml", GOOD)
    try:
        path = _write(tmp_path, "child.toml", f'extends = "{parent.resolve()}"\n')
        code, output = invoke("validate", str(path))
        assert code == 2 and "no paths" in output, output
    finally:
        parent.unlink()


def test_extends_symlinks_must_stay_in_the_folder(tmp_path: Path) -> None:
    outside = _write(tmp_path, "secret.toml", GOOD)
    folder = tmp_path / "class"
    folder.mkdir()
    _write(folder, "base.toml", GOOD)
    (folder / "escape.toml").symlink_to(outside)
    (folder / "alias.toml").symlink_to(folder / "base.toml")
    (folder / "loop.toml").symlink_to(folder / "loop.toml")
    child = _write(folder, "child.toml", 'extends = "escape"\nname = "child"\n')
    code, output = invoke("validate", str(child))
    assert code == 2 and "symlink to a file outside" in output, output
    # A symlink to a file in the same folder is just another name for it.
    child.write_text('extends = "alias"\nname = "child"\n')
    assert simulator.load_scenario(child).population.users == 20
    # A symlink loop is not a file.
    child.write_text('extends = "loop"\nname = "child"\n')
    code, output = invoke("validate", str(child))
    assert code == 2 and "no such scenario" in output, output


def test_extends_cycles_and_self_reference_are_refused(tmp_path: Path) -> None:
    _write(tmp_path, "a.toml", 'extends = "b"\nname = "a"\n')
    _write(tmp_path, "b.toml", 'extends = "a.toml"\nname = "b"\n')
    code, output = invoke("validate", str(tmp_path / "a.toml"))
    assert code == 2 and "forms a cycle" in output, output
    _write(tmp_path, "me.toml", 'extends = "me"\nname = "me"\n')
    code, output = invoke("validate", str(tmp_path / "me.toml"))
    assert code == 2 and "cannot extend itself" in output, output
    # The file under another name: a symlink alias of itself (was "no such scenario").
    (tmp_path / "alias.toml").symlink_to("self.toml")
    _write(tmp_path, "self.toml", 'extends = "alias"\nname = "self"\n')
    code, output = invoke("validate", str(tmp_path / "self.toml"))
    assert code == 2 and "cannot extend itself" in output and "alias.toml" in output, output
    assert "no such scenario" not in output
    # ... and reached through the alias, extending its own real name.
    _write(tmp_path, "real.toml", 'extends = "real"\nname = "real"\n')
    (tmp_path / "link.toml").symlink_to("real.toml")
    code, output = invoke("validate", str(tmp_path / "link.toml"))
    assert code == 2 and "cannot extend itself" in output, output


def test_extends_chains_are_limited(tmp_path: Path) -> None:
    """A chain may hold MAX_EXTENDS_DEPTH files (the file and its ancestors), not more."""

    def chain(length: int) -> Path:
        folder = tmp_path / f"chain{length}"
        folder.mkdir()
        _write(folder, "f0.toml", GOOD)
        for i in range(1, length):
            _write(folder, f"f{i}.toml", f'extends = "f{i - 1}"\nhorizon_days = {i + 1}\n')
        return folder / f"f{length - 1}.toml"

    longest = simulator.load_scenario(chain(MAX_EXTENDS_DEPTH))
    assert longest.horizon_days == MAX_EXTENDS_DEPTH and longest.population.users == 20
    code, output = invoke("validate", str(chain(MAX_EXTENDS_DEPTH + 1)))
    assert code == 2 and f"at most {MAX_EXTENDS_DEPTH} long" in output, output


def test_extends_reaches_shipped_scenarios_and_local_files(tmp_path: Path) -> None:
    local = _write(
        tmp_path, "mine.toml", 'extends = "classroom"\nname = "mine"\nhorizon_days = 3\n'
    )
    scenario = simulator.load_scenario(local)
    assert scenario.horizon_days == 3
    assert scenario.rules.takedown.enabled  # inherited through classroom from china_csl_2016
    # A local file named like a shipped one wins over it, and may extend the shipped one.
    _write(tmp_path, "classroom.toml", 'extends = "classroom"\nname = "classroom"\nseed = 99\n')
    assert simulator.load_scenario(local).seed == 99


def test_sweep_design_files_get_the_same_protection(tmp_path: Path) -> None:
    """`censim sweep --design FILE` and `--vary` read TOML too: the same refusals apply."""
    from simulator.experiments.designs import load_design, parse_literal

    for name, (path, phrase) in malformed_files(tmp_path).items():
        if name in ("directory", "missing"):
            phrase = "no such design file"
        with pytest.raises(simulator.ScenarioError) as caught:
            load_design(path)
        assert phrase in str(caught.value) or "unknown section" in str(caught.value), name
    for text in ("9" * 5000, "[" * 5000 + "]" * 5000):
        with pytest.raises(simulator.ScenarioError, match="cannot read"):
            parse_literal(text, "--vary", "population.users")
