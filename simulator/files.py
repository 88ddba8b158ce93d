"""Writing output files so that a failure leaves neither a half-written file nor a traceback.

Every writer of mecsim output goes through :func:`replacing`: the data goes to a temporary file beside the target
(the same folder, hence the same file system) and is renamed onto the target only once it is complete and on disk;
on any failure the temporary file is removed and the target is left as it was. OS errors (a read-only or missing
folder, a full disk) become one :class:`OutputError` line naming the path and the system's reason.
"""

from __future__ import annotations

import os
import secrets
import shutil
from collections.abc import Collection, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from offload.errors import MecsimError


class OutputError(MecsimError):
    """Writing ``path`` failed for a reason of the operating system (permissions, space, a missing folder)."""

    def __init__(self, path: str | Path, error: OSError) -> None:
        self.path = Path(path)
        self.error = error
        super().__init__(f"{path}: cannot write: {error.strerror or error}")


@contextmanager
def os_errors(path: str | Path) -> Iterator[None]:
    """Within the block, an :class:`OSError` becomes an :class:`OutputError` naming ``path``."""
    try:
        yield
    except OSError as error:
        raise OutputError(path, error) from None


@contextmanager
def replacing(target: str | Path) -> Iterator[Path]:
    """Yield a fresh temporary path beside ``target``; when the block succeeds it is synced and renamed onto it.

    The folder of ``target`` must exist. The temporary file is created empty with the usual permissions (0666 less
    the umask), so the renamed file looks like one written in place.
    """
    target = Path(target)
    temporary = target.with_name(f".{target.name}.{secrets.token_hex(4)}.tmp")
    try:
        with os_errors(target):
            os.close(os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
            yield temporary
            with temporary.open("rb+") as handle:
                os.fsync(handle.fileno())
            os.replace(temporary, target)
    finally:
        with suppress(OSError):
            temporary.unlink()


@contextmanager
def replacing_folder(target: str | Path, owned: Collection[str]) -> Iterator[Path]:
    """Yield a fresh temporary folder beside ``target``; when the block succeeds its files are moved into ``target``.

    Only the files named in ``owned`` (paths relative to ``target``, e.g. ``"figures/latency_cdf.png"``) belong to
    the writer: on success each one written in the block replaces its namesake (one atomic rename per file) and
    each one not written is removed, so ``target`` never mixes two runs; every other file of ``target`` is kept.
    On failure or interrupt the temporary folder is removed and ``target`` is left exactly as it was. An OS error
    names the path under ``target`` it was meant for, not the temporary one.
    """
    target = Path(target)
    make_folder(target.parent)
    temporary = target.with_name(f".{target.name}.{secrets.token_hex(4)}.tmp")
    try:
        with os_errors(target):
            temporary.mkdir()
        try:
            yield temporary
            written = sorted(path.relative_to(temporary).as_posix() for path in temporary.rglob("*")
                             if not path.is_dir())
            with os_errors(target):
                target.mkdir(exist_ok=True)
            for name in written:
                with os_errors(target / name):
                    (target / name).parent.mkdir(parents=True, exist_ok=True)
                    os.replace(temporary / name, target / name)
            for name in sorted(set(owned) - set(written)):
                with os_errors(target / name):
                    (target / name).unlink(missing_ok=True)
                if (target / name).parent != target:
                    with suppress(OSError):  # a folder of the writer's, left empty; kept when it holds other files
                        (target / name).parent.rmdir()
        except OutputError as error:
            if not error.path.is_relative_to(temporary):
                raise
            raise OutputError(target / error.path.relative_to(temporary), error.error) from None
    finally:
        shutil.rmtree(temporary, ignore_errors=True)


def write_text(target: str | Path, text: str) -> Path:
    """Replace ``target`` by ``text`` (UTF-8) atomically; returns the path."""
    with replacing(target) as temporary:
        temporary.write_text(text, encoding="utf-8")
    return Path(target)


def make_folder(path: str | Path) -> Path:
    """Create the folder ``path`` and its parents if missing; an OS error is one line naming it."""
    with os_errors(path):
        Path(path).mkdir(parents=True, exist_ok=True)
    return Path(path)
