"""The one atomic writer: every file the toolkit rewrites (.env, shell rc files,
service units, config.yaml, models-seen) goes through write_atomic, so a crash or a
full disk leaves either the old content or the new, never half of each."""
import os
import shutil
import tempfile
from pathlib import Path
from typing import Callable, Optional, Union

from scripts.core.errors import ToolkitError

PRIVATE = 0o600


def write_atomic(path: Path, content: Union[str, bytes], mode: Optional[int] = None,
                 backup: Optional[Path] = None, check: Optional[Callable[[Path], None]] = None) -> None:
    """Replace path's content: a temp file in the same directory, fsync, rename.

    path is followed when it is a symlink (dotfile managers), so the link stays a link.
    mode: the new file's mode; None keeps an existing file's mode (0600 for a new one).
    backup: where to copy the old content first (when there is one).
    check: called with the temp file before the rename; its ToolkitError aborts the
    write and mentions path instead of the temp name. The temp file never survives.
    """
    target = Path(path).resolve()
    data = content.encode("utf-8") if isinstance(content, str) else content
    if mode is None:
        mode = target.stat().st_mode & 0o7777 if target.exists() else PRIVATE
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".new", dir=target.parent)
    except OSError as exc:
        raise ToolkitError(f"cannot write beside {path} ({exc.strerror}): make its directory writable; "
                           f"{path} is unchanged") from None
    tmp = Path(tmp_name)
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        if check is not None:
            try:
                check(tmp)
            except ToolkitError as exc:
                raise ToolkitError(f"{str(exc).replace(str(tmp), str(path))}; {path} is unchanged",
                                   exc.exit_code) from None
        if backup is not None and target.exists():
            backup.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            shutil.copy2(target, backup)
        os.replace(tmp, target)
    except OSError as exc:
        raise ToolkitError(f"cannot replace {path} ({exc.strerror or exc}): check its permissions; "
                           f"{path} is unchanged") from None
    finally:
        tmp.unlink(missing_ok=True)
