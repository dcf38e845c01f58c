"""The kernels' cache is dropped when any kernel module's source changes
(``simulator/kernels/cache_stamp.py``): numba checks a cached kernel against its own file
only, so a caller's cached code would keep an edited callee of another module."""

from __future__ import annotations

from pathlib import Path

from simulator.kernels import cache_stamp
from simulator.kernels.cache_stamp import STAMP_NAME, drop_stale_cache, sources_digest


def _tree(tmp_path: Path) -> tuple[list[Path], Path]:
    sources = []
    for name in ("channel", "publishing"):
        path = tmp_path / f"{name}.py"
        path.write_text(f"# {name}\n")
        sources.append(path)
    cache = tmp_path / "__pycache__"
    cache.mkdir()
    for name in (
        "channel.publish_channel-180.py311.nbi",
        "channel.publish_channel-180.py311.1.nbc",
        "publishing.publish_days-125.py311.nbi",
        "other_package.kernel-3.py311.nbi",  # not ours: kept
        "channel.cpython-311.pyc",  # not numba's: kept
    ):
        (cache / name).write_text("x")
    return sources, cache


def test_a_changed_source_drops_every_kernel_of_the_package_and_only_those(
    tmp_path: Path,
) -> None:
    sources, cache = _tree(tmp_path)
    # No stamp yet (a cache of unknown sources): our three cache files go.
    assert drop_stale_cache(sources, cache) == 3
    assert sorted(p.name for p in cache.iterdir()) == sorted(
        ["channel.cpython-311.pyc", STAMP_NAME, "other_package.kernel-3.py311.nbi"]
    )
    assert (cache / STAMP_NAME).read_text() == sources_digest(sources)
    # Compiled again; the sources unchanged: nothing dropped.
    (cache / "publishing.publish_days-125.py311.nbi").write_text("x")
    assert drop_stale_cache(sources, cache) == 0
    assert (cache / "publishing.publish_days-125.py311.nbi").exists()
    # A callee edited (another module than the caller's): the caller's cache goes too.
    sources[0].write_text("# channel, edited\n")
    assert drop_stale_cache(sources, cache) == 1
    assert not (cache / "publishing.publish_days-125.py311.nbi").exists()
    assert drop_stale_cache(sources, cache) == 0


def test_no_cache_folder_no_work(tmp_path: Path) -> None:
    sources, _ = _tree(tmp_path)
    assert drop_stale_cache(sources, tmp_path / "missing") == 0


def test_the_package_cache_is_stamped_with_its_sources() -> None:
    """Importing the kernels leaves numba's cache folder for them stamped with the
    digest of the package's kernel modules (so a later edit is seen)."""
    here = Path(cache_stamp.__file__).resolve().parent
    sources = sorted(here.glob("*.py"))
    folder = cache_stamp.kernel_cache_folder(sources[0])
    assert folder is not None
    cache_stamp.drop_if_sources_changed()
    assert (folder / STAMP_NAME).read_text() == sources_digest(sources)
