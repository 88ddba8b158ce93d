"""Output is written atomically and OS failures are one line: read-only folders, full disks, missing folders.

Root ignores permission bits and a tmpfs needs root, so the tests inject the operating system's errors at the
system-call boundary: ``os.open``/``os.mkdir`` raise EROFS under a chosen folder, ``os.fsync`` raises ENOSPC (where
a full disk shows up for buffered writes).
"""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from simulator.cli import main
from simulator.files import OutputError, replacing, write_text

FULL = os.strerror(errno.ENOSPC)
READ_ONLY = os.strerror(errno.EROFS)


@pytest.fixture
def full_disk(monkeypatch):
    def fsync(descriptor):
        raise OSError(errno.ENOSPC, FULL)

    monkeypatch.setattr(os, "fsync", fsync)


@pytest.fixture
def read_only(monkeypatch):
    """Make a folder behave like a read-only mount: nothing can be created under it."""
    folders = []

    def refuse(original):
        def call(path, *args, **kwargs):
            if any(Path(os.fsdecode(path)).is_relative_to(folder) for folder in folders):
                raise OSError(errno.EROFS, READ_ONLY, os.fsdecode(path))
            return original(path, *args, **kwargs)
        return call

    monkeypatch.setattr(os, "open", refuse(os.open))
    monkeypatch.setattr(os, "mkdir", refuse(os.mkdir))
    return folders.append


def test_a_successful_write_replaces_the_target_and_leaves_no_temporary(tmp_path):
    target = tmp_path / "a.txt"
    target.write_text("old")
    write_text(target, "new")
    assert target.read_text() == "new"
    assert [path.name for path in tmp_path.iterdir()] == ["a.txt"]
    assert target.stat().st_mode & 0o777 == 0o666 & ~_umask()


def _umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask


def test_a_failed_write_leaves_the_target_untouched(tmp_path):
    target = tmp_path / "a.txt"
    target.write_text("precious")
    with pytest.raises(ZeroDivisionError):
        _write_then_fail(target)
    assert target.read_text() == "precious"
    assert [path.name for path in tmp_path.iterdir()] == ["a.txt"]


def _write_then_fail(target):
    with replacing(target) as temporary:
        temporary.write_text("half")
        raise ZeroDivisionError


def test_a_full_disk_is_one_error_naming_the_target(tmp_path, full_disk):
    target = tmp_path / "a.txt"
    target.write_text("precious")
    with pytest.raises(OutputError, match=rf"^{target}: cannot write: {FULL}$"):
        write_text(target, "new")
    assert target.read_text() == "precious"
    assert [path.name for path in tmp_path.iterdir()] == ["a.txt"]


def _one_line_error(result, path, reason):
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1, result.output
    assert lines[0].startswith(f"mecsim: error: {path}")
    assert lines[0].endswith(reason)


SIMULATE = ["simulate", "mm1", "--set", "run.duration=20s", "--set", "run.warmup=0s", "--quiet"]


@pytest.mark.parametrize("fault", ["full_disk", "read_only"])
def test_simulate_out_on_a_failing_disk_is_one_line(tmp_path, request, fault):
    reason = FULL if fault == "full_disk" else READ_ONLY
    if fault == "full_disk":
        request.getfixturevalue("full_disk")
    else:
        request.getfixturevalue("read_only")(tmp_path)
    out = tmp_path / "run"
    _one_line_error(CliRunner().invoke(main, [*SIMULATE, "--out", str(out)]), out, reason)


def test_sweep_on_a_full_disk_is_one_line(tmp_path, full_disk):
    out = tmp_path / "sweep"
    result = CliRunner().invoke(main, ["sweep", "mm1", "--set", "run.duration=20s", "--set", "run.warmup=0s",
                                       "--replications", "1", "--workers", "1", "--out", str(out), "--quiet"])
    _one_line_error(result, out, FULL)


def test_sweep_into_a_read_only_folder_is_one_line(tmp_path, read_only):
    read_only(tmp_path)
    out = tmp_path / "sweep"
    result = CliRunner().invoke(main, ["sweep", "mm1", "--replications", "1", "--out", str(out), "--quiet"])
    _one_line_error(result, out, READ_ONLY)


DECIDE = ["decide", "--device-time", "13s", "--edge-time", "9ms"]


def _tasks(tmp_path):
    path = tmp_path / "tasks.csv"
    path.write_text("data,uplink,rtt\n300kB,5Mbps,20ms\n")
    return path


def test_decide_out_into_a_missing_folder_is_one_line(tmp_path):
    out = tmp_path / "missing" / "decisions.csv"
    result = CliRunner().invoke(main, [*DECIDE, "--batch", str(_tasks(tmp_path)), "--out", str(out)])
    _one_line_error(result, out, os.strerror(errno.ENOENT))


def test_decide_out_on_a_full_disk_keeps_the_old_file(tmp_path, full_disk):
    out = tmp_path / "decisions.csv"
    out.write_text("precious")
    result = CliRunner().invoke(main, [*DECIDE, "--batch", str(_tasks(tmp_path)), "--out", str(out), "--force"])
    _one_line_error(result, out, FULL)
    assert out.read_text() == "precious"


def test_plot_on_a_full_disk_keeps_the_old_figures(tmp_path, request):
    out = tmp_path / "run"
    assert CliRunner().invoke(main, [*SIMULATE, "--out", str(out)]).exit_code == 0
    figures = sorted((out / "figures").iterdir())
    before = [path.read_bytes() for path in figures]
    request.getfixturevalue("full_disk")
    result = CliRunner().invoke(main, ["plot", str(out), "--force"])
    _one_line_error(result, figures[0].parent, FULL)
    assert sorted((out / "figures").iterdir()) == figures  # no temporary left behind
    assert [path.read_bytes() for path in figures] == before


def _snapshot(folder):
    return {path.relative_to(folder).as_posix(): path.read_bytes() for path in sorted(folder.rglob("*"))
            if path.is_file()}


@pytest.fixture
def previous_run(tmp_path):
    """A simulate output folder holding a user's own files beside (and inside figures/ of) the run's."""
    out = tmp_path / "run"
    assert CliRunner().invoke(main, [*SIMULATE, "--out", str(out)]).exit_code == 0
    (out / "notes.txt").write_text("mine")
    (out / "figures" / "my-plot.png").write_bytes(b"my figure")
    return out


def test_force_replaces_the_runs_files_and_keeps_the_users(previous_run, tmp_path):
    before = _snapshot(previous_run)
    assert "timeseries.parquet" in before or "timeseries.csv" in before
    result = CliRunner().invoke(main, [*SIMULATE, "--out", str(previous_run), "--force", "--seed", "99",
                                       "--set", "outputs.timeseries=false"])
    assert result.exit_code == 0, result.output
    after = _snapshot(previous_run)
    assert after["notes.txt"] == b"mine"
    assert after["figures/my-plot.png"] == b"my figure"
    assert after["summary.json"] != before["summary.json"]  # the new run's (another seed)
    stale = {"timeseries.parquet", "timeseries.csv", "figures/utilisation.png"}
    assert not stale & set(after)  # what this run did not write is not left over from the previous one
    assert set(after) == set(before) - stale
    assert sorted(path.name for path in tmp_path.iterdir()) == ["run"]  # no temporary folder left


def test_force_refused_without_it_names_what_force_does(previous_run):
    result = CliRunner().invoke(main, [*SIMULATE, "--out", str(previous_run)])
    assert result.exit_code == 2
    assert "use --force to replace the files a previous run wrote there (other files are kept)" in result.output


def test_a_full_disk_during_force_keeps_the_previous_run(previous_run, tmp_path, request):
    before = _snapshot(previous_run)
    request.getfixturevalue("full_disk")
    result = CliRunner().invoke(main, [*SIMULATE, "--out", str(previous_run), "--force", "--seed", "99"])
    assert result.exit_code == 2
    assert result.output.startswith(f"mecsim: error: {previous_run}/")  # the path meant, not the temporary one
    assert _snapshot(previous_run) == before
    assert sorted(path.name for path in tmp_path.iterdir()) == ["run"]


def test_an_interrupt_while_writing_keeps_the_previous_run(previous_run, tmp_path, monkeypatch):
    before = _snapshot(previous_run)
    import simulator.cli.simulate as simulate_cli

    def write_then_interrupt(folder, **kwargs):
        (folder / "summary.json").write_text("half")
        raise KeyboardInterrupt

    monkeypatch.setattr(simulate_cli, "write_run", write_then_interrupt)
    result = CliRunner().invoke(main, [*SIMULATE, "--out", str(previous_run), "--force", "--seed", "99"])
    assert isinstance(result.exception, KeyboardInterrupt) or result.exit_code != 0
    assert _snapshot(previous_run) == before
    assert sorted(path.name for path in tmp_path.iterdir()) == ["run"]


def test_a_failing_run_never_touches_the_previous_run(previous_run, tmp_path):
    before = _snapshot(previous_run)
    result = CliRunner().invoke(main, [*SIMULATE, "--out", str(previous_run), "--force", "--duration", "1s",
                                       "--set", "run.warmup=5s"])
    assert result.exit_code == 2
    assert _snapshot(previous_run) == before
    assert sorted(path.name for path in tmp_path.iterdir()) == ["run"]
