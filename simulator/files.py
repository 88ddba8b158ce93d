"""Writing output files so that a failure leaves neither a half-written file nor a traceback.

Every writer of mecsim output goes through :func:`replacing`: the data goes to a temporary file beside the target
(the same folder, hence the same file system) and is renamed onto the target only once it is complete and on disk;
on any failure the temporary file is removed and the target is left as it was. OS errors (a read-only or missing
folder, a full disk) become one :class:`OutputError` line naming the path and the system's reason.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from offload.errors import MecsimError


class OutputError(MecsimError):
    """Writing ``path`` failed for a reason of the operating system (permissions, space, a missing folder)."""

    def __init__(self, path: str | Path, error: OSError) -> None:
        self.path = Path(path)
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
