"""Write a file so that readers see either the old file or the whole new one.

The data goes to a temporary name in the same folder, is flushed to disk, and
only then renamed over the destination: an interrupted save (Ctrl-C, a full
disk, a killed process) never leaves a half-written file behind.
"""

import contextlib
import os

# mkstemp creates files readable by their owner only; a saved model or plot
# should get the permissions any new file gets (0666 less the umask), which
# can only be read by setting it, so once, at import.
_UMASK = os.umask(0o022)
os.umask(_UMASK)


@contextlib.contextmanager
def atomic_write(filepath, overwrite=True):
    """Yield a binary file object; on success it replaces `filepath` at once."""
    filepath = os.fspath(filepath)
    if not overwrite and os.path.exists(filepath):
        raise FileExistsError(f"{filepath} exists and overwrite=False")
    import tempfile  # here, not at the top: it costs `import fastdnn` a few ms

    folder = os.path.dirname(os.path.abspath(filepath))
    os.makedirs(folder, exist_ok=True)
    fd, temporary = tempfile.mkstemp(dir=folder, prefix="." + os.path.basename(filepath) + ".", suffix=".tmp")
    try:
        try:
            mode = os.stat(filepath).st_mode & 0o7777  # an overwritten file keeps its permissions
        except FileNotFoundError:
            mode = 0o666 & ~_UMASK
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(temporary, filepath)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise
