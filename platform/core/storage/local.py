"""The local folder object store (embedded/dev mode): one file per object under a root folder.

Implements :class:`~jixiao.platform.core.storage.ObjectStore` with the semantics described
there; see :class:`LocalStore` for the on-disk layout (temp files, sidecars, renames).
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from . import (
    _RESERVED_PREFIX,
    CHUNK_SIZE,
    DEFAULT_CONTENT_TYPE,
    InvalidKey,
    ObjectNotFound,
    ObjectStore,
    Readable,
    StoredObject,
    StoreUnavailable,
    _HashingReader,
    _key_problem,
    _validate_prefix,
    validate_key,
)


class LocalStore(ObjectStore):
    """Objects as files under ``root``: key ``a/b/c.pdf`` is ``root/a/b/c.pdf``.

    Writes go to ``.~tmp.*`` in the target folder, are fsynced, then ``os.replace``d into
    place. The content type and SHA-256 live in a sidecar ``.~meta.<name>.json`` next to the
    file; it records the data file's inode and size and is ignored when they no longer
    match (e.g. a crash between the two renames). ``list_keys`` skips every ``.~`` entry.

    Unlike S3, a key cannot be both an object and a prefix (``a`` and ``a/b``): the second
    write raises :class:`InvalidKey`.
    """

    name = "local"

    def __init__(self, root: Path | str) -> None:
        self.root = Path(root).absolute()

    def __repr__(self) -> str:
        return f"LocalStore({str(self.root)!r})"

    # paths
    def _path(self, key: str) -> Path:
        return self.root.joinpath(*validate_key(key).split("/"))

    @staticmethod
    def _meta_path(path: Path) -> Path:
        return path.with_name(f"{_RESERVED_PREFIX}meta.{path.name}.json")

    def _unavailable(self, exc: OSError, what: str) -> StoreUnavailable:
        return StoreUnavailable(f"local object store at {self.root}: cannot {what}: {exc.strerror or exc}")

    # writing
    def _make_temp(self, parent: Path, key: str) -> tuple[int, str]:
        for _ in range(5):
            try:
                parent.mkdir(parents=True, exist_ok=True)
            except (FileExistsError, NotADirectoryError) as exc:
                raise InvalidKey(f"key {key!r} collides with an existing object on its path") from exc
            except OSError as exc:
                raise self._unavailable(exc, f"create folder {parent}") from exc
            try:
                return tempfile.mkstemp(prefix=f"{_RESERVED_PREFIX}tmp.", dir=parent)
            except FileNotFoundError:
                continue  # a concurrent delete pruned the empty folder; recreate it
            except OSError as exc:
                raise self._unavailable(exc, f"write in {parent}") from exc
        raise StoreUnavailable(f"local object store at {self.root}: folder {parent} keeps disappearing")

    def put_stream(
        self, key: str, stream: Readable, *, content_type: str, length: int | None = None
    ) -> StoredObject:
        path = self._path(key)
        reader = _HashingReader(stream, length)
        content_type = content_type or DEFAULT_CONTENT_TYPE
        fd, tmp_name = self._make_temp(path.parent, key)
        meta_tmp: str | None = None
        try:
            with os.fdopen(fd, "wb") as out:
                while chunk := reader.read(CHUNK_SIZE):
                    out.write(chunk)
                out.flush()
                os.fsync(out.fileno())
                inode = os.fstat(out.fileno()).st_ino
            stored = StoredObject(key, reader.size, reader.hexdigest(), content_type)
            meta_fd, meta_tmp = tempfile.mkstemp(prefix=f"{_RESERVED_PREFIX}tmp.", dir=path.parent)
            with os.fdopen(meta_fd, "w", encoding="utf-8") as meta_out:
                json.dump(
                    {
                        "size": stored.size,
                        "sha256": stored.sha256,
                        "content_type": content_type,
                        "inode": inode,
                    },
                    meta_out,
                )
            try:
                os.replace(tmp_name, path)
            except IsADirectoryError as exc:
                raise InvalidKey(f"key {key!r} is a prefix of existing objects") from exc
            tmp_name = ""
            os.replace(meta_tmp, self._meta_path(path))
            meta_tmp = None
            self._fsync_dir(path.parent)
            return stored
        except OSError as exc:
            if reader.source_error is exc:
                raise
            raise self._unavailable(exc, f"write {key!r}") from exc
        finally:
            for leftover in (tmp_name, meta_tmp):
                if leftover:
                    with suppress(OSError):
                        os.unlink(leftover)

    @staticmethod
    def _fsync_dir(folder: Path) -> None:
        with suppress(OSError):
            dir_fd = os.open(folder, os.O_RDONLY)
            try:
                os.fsync(dir_fd)
            finally:
                os.close(dir_fd)

    # reading
    @contextmanager
    def open_stream(self, key: str) -> Iterator[Iterator[bytes]]:
        path = self._path(key)
        try:
            handle = open(path, "rb")  # noqa: SIM115 - closed in finally
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError) as exc:
            raise ObjectNotFound(key) from exc
        except OSError as exc:
            raise self._unavailable(exc, f"read {key!r}") from exc
        try:
            yield self._chunks(handle)
        finally:
            handle.close()

    @staticmethod
    def _chunks(handle: Any) -> Iterator[bytes]:
        while chunk := handle.read(CHUNK_SIZE):
            yield chunk

    def stat(self, key: str) -> StoredObject | None:
        path = self._path(key)
        try:
            st = path.stat()
        except (FileNotFoundError, NotADirectoryError):
            return None
        except OSError as exc:
            raise self._unavailable(exc, f"stat {key!r}") from exc
        if not path.is_file():
            return None
        sha256: str | None = None
        content_type = DEFAULT_CONTENT_TYPE
        try:
            meta = json.loads(self._meta_path(path).read_text(encoding="utf-8"))
            if meta.get("inode") == st.st_ino and meta.get("size") == st.st_size:
                sha256 = meta.get("sha256")
                content_type = meta.get("content_type") or DEFAULT_CONTENT_TYPE
        except (OSError, ValueError):
            pass  # no/stale sidecar: the bytes are still the truth
        return StoredObject(key, st.st_size, sha256, content_type, datetime.fromtimestamp(st.st_mtime, UTC))

    def delete(self, key: str) -> None:
        path = self._path(key)
        try:
            path.unlink()
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
            pass
        except OSError as exc:
            raise self._unavailable(exc, f"delete {key!r}") from exc
        with suppress(OSError):
            self._meta_path(path).unlink()
        parent = path.parent
        while parent != self.root and self.root in parent.parents:
            try:
                parent.rmdir()  # only succeeds when empty
            except OSError:
                break
            parent = parent.parent

    def list_keys(self, prefix: str = "") -> Iterator[str]:
        _validate_prefix(prefix)
        folder, _, partial = prefix.rpartition("/")
        start = self.root.joinpath(*folder.split("/")) if folder else self.root
        return self._walk(start, f"{folder}/" if folder else "", partial)

    def _walk(self, folder: Path, base: str, partial: str) -> Iterator[str]:
        try:
            with os.scandir(folder) as it:
                entries = [entry for entry in it if entry.name.startswith(partial)]
        except (FileNotFoundError, NotADirectoryError):
            return
        except OSError as exc:
            raise self._unavailable(exc, f"list {folder}") from exc
        items: list[tuple[str, os.DirEntry[str], bool]] = []
        for entry in entries:
            if _key_problem(entry.name) is not None:  # .~ files, undecodable names, ...
                continue
            is_dir = entry.is_dir(follow_symlinks=False)
            # dirs sort as "name/" so the walk yields keys in S3 (UTF-8 byte) order
            items.append((entry.name + "/" if is_dir else entry.name, entry, is_dir))
        items.sort(key=lambda item: item[0])
        for _, entry, is_dir in items:
            if is_dir:
                yield from self._walk(Path(entry.path), f"{base}{entry.name}/", "")
            elif entry.is_file(follow_symlinks=False):
                yield base + entry.name

    # URLs: the app streams local objects itself
    def presigned_get_url(
        self, key: str, expires: timedelta, *, download_name: str | None = None
    ) -> str | None:
        validate_key(key)
        return None

    def presigned_put_url(self, key: str, expires: timedelta) -> str | None:
        validate_key(key)
        return None

    def check(self) -> None:
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            fd, probe = tempfile.mkstemp(prefix=f"{_RESERVED_PREFIX}check.", dir=self.root)
            os.close(fd)
            os.unlink(probe)
        except OSError as exc:
            raise self._unavailable(exc, "write its root folder") from exc
