"""Instances on disk: atomic writes (temp file, fsync, rename), the index beside them, deletes.

Layout of a data folder::

    index.sqlite                          the SQLite index (WAL)
    instances/<study>/<series>/<sop>.<watermark>.dcm            the default partition
    instances/p<key>/<study>/<series>/<sop>.<watermark>.dcm     other partitions
    tmp/part-<pid>-….dcm                  parts being received, named by the receiving process

The watermark in the file name keeps a re-stored instance from ever sharing a path with the copy a
concurrent delete is removing.
"""

from __future__ import annotations

import contextlib
import logging
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, BinaryIO

from ..protocol.status import ALREADY_EXISTS, PROCESSING_FAILURE, VALIDATION_FAILED
from . import syncing
from .index import AlreadyExists, Index, InstanceRecord, Staged, StaleReservation
from .ingest import InvalidInstance, ParsedInstance, parse_instance
from .private import make_private_dirs, private_database, restrict_dir
from .reconcile import mark_open, reconcile
from .schema import DEFAULT_PARTITION_KEY

log = logging.getLogger("dicomweb_nb.server")

PREAMBLE = 128


@dataclass
class Outcome:
    """What happened to one received part."""

    stored: bool
    sop_class_uid: str | None = None
    sop_instance_uid: str | None = None
    study_uid: str | None = None
    series_uid: str | None = None
    reason: int | None = None
    message: str = ""
    warnings: list[str] = field(default_factory=list)
    warning_reason: int | None = None
    multi_valued: bool = False


def _reason(exc: BaseException) -> str:
    # In words for the client: an OSError's reason without the file name it carries.
    if isinstance(exc, OSError) and exc.strerror:
        return f"{exc.strerror}."
    text = str(exc).strip()
    return text.splitlines()[0][:200] if text else type(exc).__name__


@dataclass
class Pending:
    """A staged instance: reserved, its file in place, its outcome set once it is committed."""

    outcome: Outcome
    staged: Staged
    path: Path


class _NotDurable(Exception):
    """Some files or folders of a group could not be synced: its index transaction rolls back."""


def _unsynced(
    pending: list[Pending], chains: list[list[Path]], syncs: syncing.Syncs
) -> dict[int, Exception]:
    # Wait for the syncs: which instances (by position) had their file or a folder on their path
    # (``chains``, in the same order) fail. A file renamed into place before its data is synced
    # is safe: until the index commit it is an orphan, which the next start-up removes after a
    # crash.
    dirs, files = syncs.wait()
    failed: dict[int, Exception] = {}
    for n, (item, chain) in enumerate(zip(pending, chains, strict=True)):
        problems = [dirs[f] for f in chain] + [files[item.path]]
        problem = next((p for p in problems if p is not None), None)
        if problem is not None:
            failed[n] = problem
    return failed


def _failed(outcome: Outcome, message: str) -> Outcome:
    outcome.stored = False
    outcome.reason = PROCESSING_FAILURE
    outcome.message = message
    return outcome


def unwritten_message(exc: OSError) -> str:
    """Say why a received part could not be written, without the file's path.

    Parameters
    ----------
    exc : OSError
        The error (``str(exc)`` would name the path).

    Returns
    -------
    str
        E.g. "The part could not be written to disk: No space left on device."
    """
    return f"The part could not be written to disk: {exc.strerror or type(exc).__name__}."


def _zero_preamble(path: Path) -> None:
    # The reference zeroes the 128-byte preamble of what it stores; nothing else changes.
    with open(path, "r+b") as fh:
        if fh.read(PREAMBLE + 4)[PREAMBLE:] == b"DICM":
            fh.seek(0)
            fh.write(bytes(PREAMBLE))


class Archive:
    """A data folder: stored files plus their index. Safe to open from several servers at once.

    Parameters
    ----------
    root : str or Path
        The data folder; created when missing.
    durable : bool
        Fsync each file and its folder before the index commit (the default: an acknowledged
        instance survives power loss). ``False`` is for bulk loading a benchmark archive only.
    """

    def __init__(self, root: str | os.PathLike[str], *, durable: bool = True) -> None:
        self.durable = durable
        self.root = Path(root)
        self.tmp = self.root / "tmp"
        self.instances_dir = self.root / "instances"
        make_private_dirs(self.root)
        restrict_dir(self.tmp)
        restrict_dir(self.instances_dir)
        private_database(self.root / "index.sqlite")
        self.index = Index(self.root / "index.sqlite")
        self.index.on_stale = self._remove_stale_file
        # What a crashed process left: stale reservations, files no row refers to, temp files.
        reconcile(self)
        mark_open(self)

    def temp_file(self) -> tuple[IO[bytes], Path]:
        """Open a new file for a part being received, on the same file system as the archive.

        Returns
        -------
        (file, Path)
            The open binary file and its path.
        """
        # The pid in the name lets a later start-up remove temp files of dead processes only.
        fd, name = tempfile.mkstemp(prefix=f"part-{os.getpid()}-", suffix=".dcm", dir=self.tmp)
        return os.fdopen(fd, "wb"), Path(name)

    def path_of(self, record: InstanceRecord) -> Path:
        """Return the absolute path of a stored instance.

        Parameters
        ----------
        record : InstanceRecord
            The index record.

        Returns
        -------
        Path
            The file.
        """
        return self.root / record.path

    def file_of(self, partition: int, study: str, series: str, sop: str, watermark: int) -> Path:
        """Return where a stored copy lives, relative to the data folder.

        Parameters
        ----------
        partition : int
            The partition's key (1, the default partition, keeps the first release's layout).
        study, series, sop : str
            The instance's UIDs.
        watermark : int
            The copy's watermark: a re-stored instance never shares a path with an older copy.

        Returns
        -------
        Path
            ``instances/[p<partition>/]<study>/<series>/<sop>.<watermark>.dcm``.
        """
        base = Path("instances")
        if partition != DEFAULT_PARTITION_KEY:
            base = base / f"p{partition}"
        return base / study / series / f"{sop}.{watermark}.dcm"

    def _remove_stale_file(self, stale: StaleReservation) -> None:
        # The dead owner may have renamed its file into place before it could commit.
        for partition_dir in [self.instances_dir, *self.instances_dir.glob("p*")]:
            path = partition_dir / stale.study_uid / stale.series_uid
            with contextlib.suppress(FileNotFoundError):
                (path / f"{stale.sop_uid}.{stale.watermark}.dcm").unlink()

    def open_file(self, record: InstanceRecord) -> BinaryIO:
        """Open a stored instance for reading; the open file survives a concurrent delete.

        Parameters
        ----------
        record : InstanceRecord
            The index record.

        Returns
        -------
        BinaryIO
            The file, buffered. Its ``name`` is the descriptor, not the path, so no message built
            from it (pydicom's, say) can show a client where the data folder is.

        Raises
        ------
        FileNotFoundError
            When a delete removed the file after the record was read.
        """
        fd = os.open(self.path_of(record), os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
        return os.fdopen(fd, "rb")

    def ingest(
        self,
        temp: Path | bytes,
        *,
        study_in_path: str | None,
        version: str,
        partition: int = DEFAULT_PARTITION_KEY,
    ) -> Outcome:
        """Validate a received part and store it; the temp file is consumed either way.

        :meth:`stage` then :meth:`commit` for one instance; a STOW of many stages each part as
        it arrives and commits them in groups.

        Parameters
        ----------
        temp : Path or bytes
            The received part: a file in :attr:`tmp`, or its bytes (see :meth:`stage`).
        study_in_path : str or None
            The StudyInstanceUID of the request path (``POST ../studies/{study}``), if any.
        version : str
            The API version of the request.
        partition : int
            The partition's key.

        Returns
        -------
        Outcome
            Stored (possibly with warnings) or failed with a reason code and message.
        """
        staged = self.stage(temp, study_in_path=study_in_path, version=version, partition=partition)
        return staged if isinstance(staged, Outcome) else self.commit([staged])[0]

    def stage(
        self,
        temp: Path | bytes,
        *,
        study_in_path: str | None,
        version: str,
        partition: int = DEFAULT_PARTITION_KEY,
    ) -> Pending | Outcome:
        """Validate a part, reserve its UIDs and put its file in place, not yet in the index.

        Parameters
        ----------
        temp : Path or bytes
            The received part: a file in :attr:`tmp` (consumed either way), or the bytes of a
            part received in memory, written here to a temp file first (a part that cannot be
            written fails with 272, like one that could not be received to disk).
        study_in_path : str or None
            The StudyInstanceUID of the request path, if any.
        version : str
            The API version of the request.
        partition : int
            The partition's key.

        Returns
        -------
        Pending or Outcome
            A pending instance for :meth:`commit`, or the failed outcome.
        """
        try:
            try:
                # A part received in memory is parsed there (large values stay unread).
                parsed = parse_instance(temp, version)
            except InvalidInstance as exc:
                return Outcome(
                    False,
                    exc.sop_class_uid,
                    exc.sop_instance_uid,
                    reason=exc.reason,
                    message=str(exc),
                )
            outcome = Outcome(
                False, parsed.sop_class_uid, parsed.sop_uid, parsed.study_uid, parsed.series_uid
            )
            if study_in_path is not None and parsed.study_uid != study_in_path:
                # The reference sends 43264 here although its documentation says 43265.
                outcome.reason = VALIDATION_FAILED
                outcome.message = (
                    f"StudyInstanceUID {parsed.study_uid} does not match the study "
                    f"{study_in_path} of the request."
                )
                return outcome
            try:
                watermark = self.index.reserve(
                    parsed.study_uid, parsed.series_uid, parsed.sop_uid, partition
                )
            except AlreadyExists as exc:
                outcome.reason = exc.reason
                outcome.message = (
                    "the same study, series and SOP instance UIDs are already stored"
                    if exc.reason == ALREADY_EXISTS
                    else "another request is storing the same UIDs right now"
                )
                return outcome
            except Exception as exc:  # the index cannot take a row: "database or disk is full"
                log.warning("reserving %s failed: %s", parsed.sop_uid, exc)
                return _failed(outcome, f"The instance could not be indexed: {_reason(exc)}")
            received_to_disk = isinstance(temp, Path)
            if isinstance(temp, bytes):
                # Written in this thread: while the write's system calls run (without the
                # GIL) the event loop receives the next part. A writer thread overlapping the
                # parse was tried and lost: it could not start until the parse let go of the
                # GIL.
                try:
                    temp = self._write_temp(temp)  # zeroes the preamble as it writes
                except OSError as exc:
                    self._release(watermark, parsed.sop_uid)
                    return _failed(outcome, unwritten_message(exc))
            try:
                if received_to_disk:
                    _zero_preamble(temp)
                staged = self._place(temp, parsed, watermark, partition)
            except Exception as exc:
                log.warning("storing %s failed: %s", parsed.sop_uid, exc)
                self._release(watermark, parsed.sop_uid)
                return _failed(outcome, f"The instance could not be written: {_reason(exc)}")
            outcome.warnings = parsed.warnings
            outcome.warning_reason = parsed.warning_reason
            outcome.multi_valued = parsed.multi_valued
            return Pending(outcome, staged, self.root / staged.record.path)
        finally:
            if isinstance(temp, Path):
                with contextlib.suppress(FileNotFoundError):
                    temp.unlink()

    def _write_temp(self, data: bytes) -> Path:
        # One write of the whole part, its preamble zeroed as the reference stores it.
        fh, path = self.temp_file()
        try:
            try:
                view = memoryview(data)
                if data[PREAMBLE : PREAMBLE + 4] == b"DICM":
                    fh.write(bytes(PREAMBLE))
                    view = view[PREAMBLE:]
                fh.write(view)
            finally:
                fh.close()  # flushes; the data is synced by commit, with the folder
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
            raise
        return path

    def _release(self, watermark: int, sop_uid: str) -> None:
        try:
            self.index.release(watermark)
        except Exception:  # the same full disk; the reservation stays "being created"
            log.exception("releasing the reservation of %s failed", sop_uid)

    def _place(self, temp: Path, parsed: ParsedInstance, watermark: int, partition: int) -> Staged:
        rel = self.file_of(
            partition, parsed.study_uid, parsed.series_uid, parsed.sop_uid, watermark
        )
        final = self.root / rel
        size = temp.stat().st_size  # its data is synced by commit, with its folder
        for attempt in range(3):
            make_private_dirs(final.parent)
            try:
                os.replace(temp, final)
                break
            except FileNotFoundError:
                # A delete emptied the series and removed its folder between the two calls.
                if attempt == 2 or not temp.exists():
                    raise
        record = InstanceRecord(
            watermark,
            parsed.study_uid,
            parsed.series_uid,
            parsed.sop_uid,
            parsed.sop_class_uid,
            parsed.transfer_syntax,
            rel.as_posix(),
            size,
            parsed.frames,
        )
        return Staged(record, parsed.columns, parsed.metadata_json, partition)

    def commit(self, pending: list[Pending]) -> list[Outcome]:
        """Make staged instances durable and indexed: the group commit of a STOW request.

        Every file's data and every folder on the files' paths are synced (all at once); the
        index transaction that stores them all runs its statements meanwhile and commits (one
        log sync for the group) only when every sync has succeeded. Only then are they
        acknowledged; a crash before leaves reservations and files that the next start-up
        removes, and the client never heard "stored". An instance whose file or folder could
        not be synced fails alone; when the index refuses the group, each instance is tried
        alone, so every one gets its own outcome.

        Parameters
        ----------
        pending : list of Pending
            What :meth:`stage` returned, in request order.

        Returns
        -------
        list of Outcome
            One per pending instance, in the same order.
        """
        if not self.durable:
            committed = self._index(pending)
        else:
            chains = [self._folders_of(p.path) for p in pending]
            syncs = syncing.start(
                sorted({f for chain in chains for f in chain}), [p.path for p in pending]
            )
            unsynced: dict[int, Exception] | None = None

            def wait_for_syncs() -> None:
                nonlocal unsynced
                unsynced = _unsynced(pending, chains, syncs)
                if unsynced:
                    raise _NotDurable  # rolled back; the synced ones are committed below

            try:
                self.index.commit([p.staged for p in pending], before_commit=wait_for_syncs)
                committed = pending
            except Exception as exc:
                refused = not isinstance(exc, _NotDurable)  # by the index, not by a sync
                if refused:
                    log.warning("indexing %d instance(s) together failed: %s", len(pending), exc)
                if unsynced is None:  # the index failed before the syncs were waited for
                    unsynced = _unsynced(pending, chains, syncs)
                # Undone only now: a release is a write, which waits for the transaction.
                for n, problem in unsynced.items():
                    item = pending[n]
                    log.warning("syncing %s failed: %s", item.staged.record.sop_uid, problem)
                    self._undo([item], f"The instance could not be written: {_reason(problem)}")
                synced = [p for n, p in enumerate(pending) if n not in unsynced]
                if refused and len(synced) == len(pending):
                    # The very group was refused: each alone, so every one gets its outcome.
                    committed = self._index_each(synced, exc)
                else:
                    committed = self._index(synced)
        for item in committed:
            item.outcome.stored = True
        return [p.outcome for p in pending]

    def _index(self, items: list[Pending]) -> list[Pending]:
        # Index items whose files are durable: together, and each alone when that is refused.
        if not items:
            return []
        try:
            self.index.commit([p.staged for p in items])
            return items
        except Exception as exc:
            return self._index_each(items, exc)

    def _index_each(self, items: list[Pending], refusal: Exception) -> list[Pending]:
        # After the index refused exactly these together (``refusal``): each alone; a lone one
        # is not tried again.
        if len(items) == 1:
            log.warning("indexing %s failed: %s", items[0].staged.record.sop_uid, refusal)
            self._undo(items, f"The instance could not be indexed: {_reason(refusal)}")
            return []
        return [p for p in items if self._index([p])]

    def _folders_of(self, path: Path) -> list[Path]:
        # The file's folder and every folder above it up to instances/: a folder made for this
        # file (a new study or series) survives power loss only once its parent is synced too,
        # and a folder made by another request may not be synced yet. A folder with nothing new
        # syncs in tens of microseconds, so all are synced rather than tracked.
        chain = []
        for folder in path.parents:
            chain.append(folder)
            if folder == self.instances_dir:
                break
        return chain

    def _undo(self, items: list[Pending], message: str) -> None:
        for item in items:
            with contextlib.suppress(FileNotFoundError):
                item.path.unlink()
            self._release(item.staged.record.watermark, item.staged.record.sop_uid)
            _failed(item.outcome, message)

    def delete(
        self,
        study: str,
        series: str | None = None,
        sop: str | None = None,
        partition: int = DEFAULT_PARTITION_KEY,
    ) -> int:
        """Delete a study, series or instance: index first (one transaction), then the files.

        Parameters
        ----------
        study : str
            StudyInstanceUID.
        series, sop : str, optional
            SeriesInstanceUID and SOPInstanceUID to narrow the scope.
        partition : int
            The partition's key.

        Returns
        -------
        int
            How many instances were deleted (0 means not found).
        """
        records = self.index.delete(study, series, sop, partition)
        for record in records:
            path = self.path_of(record)
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
            for parent in (path.parent, path.parent.parent):
                with contextlib.suppress(OSError):
                    parent.rmdir()  # only succeeds when empty
        return len(records)


def import_files(archive: Archive, paths: list[Path], *, version: str = "2") -> list[Outcome]:
    """Store files from disk straight into an archive (no HTTP), as a STOW of each would.

    Parameters
    ----------
    archive : Archive
        The archive.
    paths : list of Path
        Part-10 files.
    version : str
        The API version whose validation rules apply.

    Returns
    -------
    list of Outcome
        One per file; an instance already stored fails with 45070 and is left as it was.
    """
    import shutil

    outcomes = []
    for path in paths:
        fh, temp = archive.temp_file()
        with fh, open(path, "rb") as src:
            shutil.copyfileobj(src, fh)
        outcomes.append(archive.ingest(temp, study_in_path=None, version=version))
    return outcomes
