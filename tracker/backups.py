"""Backups: one archive holding the database and the uploaded media, and putting one back.

An archive is a gzipped tar, `manifest.json` first (what it holds: the database's vendor, whether the
media are inside), then the database, then the media:

- PostgreSQL: `database.dump`, written by `pg_dump --format=custom`, put back by `pg_restore
  --single-transaction --clean --if-exists`, so a restore that fails changes nothing.
- SQLite (the embedded default): `database.sqlite3`, a copy made with SQLite's online backup API while
  the web and the worker go on writing; put back through the same API in one step, which SQLite
  applies all at once or not at all, and which processes still running see (replacing the file would
  leave them on the old one).
- `media/...`: MEDIA_ROOT's files with local storage. With MEDIA_STORAGE=s3 they live in the bucket,
  which the archive does not include: the store's own versioning or replication keeps those.

A restore refuses a database (or MEDIA_ROOT) that already holds data unless forced. It checks the
whole archive in a staging folder before it touches anything, and swaps the media folder in only once
the database is back.
"""

import datetime
import io
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from collections.abc import Callable
from pathlib import Path, PurePosixPath
from typing import Any

from django.conf import settings
from django.db import connection
from django.utils import timezone

FORMAT = "story-tracker-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
DUMP_NAMES = {"postgresql": "database.dump", "sqlite": "database.sqlite3"}
VENDOR_NAMES = {"postgresql": "PostgreSQL", "sqlite": "SQLite"}
# Tables that `migrate` fills by itself: rows there do not make a database "hold data".
MIGRATE_TABLES = {"django_migrations", "django_content_type", "auth_permission"}
# A restore's folders inside MEDIA_ROOT while it runs (left behind only by a crash): never media.
STAGING_PREFIXES = (".restore-", ".replaced-")

Note = Callable[[str], None]
Progress = Callable[[str, int, int], None]


class BackupError(Exception):
    """A backup or restore refused or failed, with a message for the person running it."""


def _quiet(*args: Any) -> None:
    pass


def default_archive_path(now: datetime.datetime | None = None) -> Path:
    stamp = (now or timezone.now()).astimezone(datetime.UTC).strftime("%Y%m%d-%H%M%SZ")
    return Path(settings.VAR_DIR) / "backups" / f"tracker-{stamp}.tar.gz"


def _vendor() -> str:
    if connection.vendor not in DUMP_NAMES:
        raise BackupError(f"backups cover PostgreSQL and SQLite, not {connection.vendor}")
    return connection.vendor


def _media_is_local() -> bool:
    return settings.MEDIA_STORAGE == "local"


def _media_files() -> list[Path]:
    root = Path(settings.MEDIA_ROOT)
    if not root.is_dir():
        return []
    return sorted(
        path
        for path in root.rglob("*")
        if path.is_file() and not path.is_symlink() and not path.relative_to(root).parts[0].startswith(STAGING_PREFIXES)
    )


# --- PostgreSQL's client tools ---------------------------------------------------------------------


def _pg_tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise BackupError(
            f"{name} was not found on PATH: install PostgreSQL's client tools (Debian: apt-get install "
            "postgresql-client), of the server's major version or newer"
        )
    return path


def _libpq_environment() -> dict[str, str]:
    """The connection settings as libpq's variables: the password never appears in a process list."""
    db = settings.DATABASES["default"]
    environment = dict(os.environ)
    for key, variable in (("HOST", "PGHOST"), ("PORT", "PGPORT"), ("USER", "PGUSER"), ("PASSWORD", "PGPASSWORD")):
        if db.get(key):
            environment[variable] = str(db[key])
    for option in ("sslmode", "sslrootcert", "sslcert", "sslkey"):
        if value := db.get("OPTIONS", {}).get(option):
            environment[f"PG{option.upper()}"] = str(value)
    return environment


def _run_pg_tool(arguments: list[str]) -> None:
    # The arguments are ours (paths and the configured database's name), never a shell line.
    result = subprocess.run(arguments, env=_libpq_environment(), capture_output=True, text=True, check=False)  # noqa: S603
    if result.returncode != 0:
        lines = [line for line in result.stderr.strip().splitlines() if line.strip()]
        detail = "; ".join(lines[-3:]) or f"exit status {result.returncode}"
        raise BackupError(f"{Path(arguments[0]).name} failed: {detail}")


# --- Backing up ------------------------------------------------------------------------------------


def _dump_database(vendor: str, target: Path, progress: Progress) -> None:
    if vendor == "postgresql":
        name = settings.DATABASES["default"]["NAME"]
        _run_pg_tool([_pg_tool("pg_dump"), "--format=custom", f"--file={target}", f"--dbname={name}"])
        return
    source_path = Path(settings.DATABASES["default"]["NAME"])
    if not source_path.is_file():
        raise BackupError(f"the database {source_path} does not exist: nothing to back up")
    # mode=rw: never create an empty database where the configured one is missing.
    source = sqlite3.connect(f"{source_path.resolve().as_uri()}?mode=rw", uri=True, timeout=20)
    copy = sqlite3.connect(target)
    try:
        # Steps of 1,024 pages let writers in between; a step that sees a change starts over.
        source.backup(
            copy, pages=1024, progress=lambda _status, left, total: progress("database pages", total - left, total)
        )
    except sqlite3.Error as exc:
        raise BackupError(f"SQLite could not copy {source_path}: {exc}") from exc
    finally:
        copy.close()
        source.close()


def _add_json(archive: tarfile.TarFile, name: str, data: dict) -> None:
    content = json.dumps(data, indent=2).encode()
    info = tarfile.TarInfo(name)
    info.size, info.mtime, info.mode = len(content), int(timezone.now().timestamp()), 0o644
    archive.addfile(info, fileobj=io.BytesIO(content))


def create_backup(*, destination: Path | None = None, note: Note = _quiet, progress: Progress = _quiet) -> Path:
    """Write an archive of the database and the local media; return its path.

    `destination` is the archive's path, or a folder for a timestamped one (default: var/backups/).
    The archive appears only once complete: it is written beside, as `.partial`, and renamed.
    """
    vendor = _vendor()
    path = default_archive_path() if destination is None else Path(destination)
    if path.is_dir():
        path = path / default_archive_path().name
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise BackupError(f"cannot create {path.parent}: {exc.strerror or exc}") from exc
    partial = path.with_name(path.name + ".partial")
    media_root = Path(settings.MEDIA_ROOT)
    try:
        with tempfile.TemporaryDirectory(dir=path.parent, prefix=".backup-") as staging:
            dump = Path(staging) / DUMP_NAMES[vendor]
            note(f"Dumping the {VENDOR_NAMES[vendor]} database {settings.DATABASES['default']['NAME']}...")
            _dump_database(vendor, dump, progress)
            note(f"Database: {dump.stat().st_size:,} bytes.")
            # The media are listed after the dump: every file the dump refers to was stored before it.
            files = _media_files() if _media_is_local() else []
            if not _media_is_local():
                note(
                    f"Media are in the S3 bucket {settings.STORAGES['default']['OPTIONS']['bucket_name']}, "
                    "which this archive does not include: back the bucket up with the store's own tools."
                )
            manifest = {
                "format": FORMAT,
                "version": FORMAT_VERSION,
                "created_at": timezone.now().isoformat(),
                "release": settings.RELEASE,
                "database": {"vendor": vendor, "file": dump.name},
                "media": {"included": _media_is_local(), "storage": settings.MEDIA_STORAGE, "files": len(files)},
            }
            with tarfile.open(partial, "w:gz") as archive:
                _add_json(archive, MANIFEST, manifest)
                archive.add(dump, arcname=dump.name)
                progress("media files", 0, len(files))
                for done, file in enumerate(files, start=1):
                    archive.add(file, arcname=f"media/{file.relative_to(media_root).as_posix()}", recursive=False)
                    progress("media files", done, len(files))
        os.replace(partial, path)
    except OSError as exc:
        partial.unlink(missing_ok=True)
        raise BackupError(f"cannot write {path}: {exc.strerror or exc}") from exc
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    note(f"Wrote {path} ({path.stat().st_size:,} bytes; media files: {len(files):,}).")
    return path


# --- Restoring -------------------------------------------------------------------------------------


def _open_archive(path: Path) -> tarfile.TarFile:
    if not path.is_file():
        raise BackupError(f"{path} does not exist" if not path.exists() else f"{path} is not a file")
    try:
        # A stream: the archive is read once, front to back, whatever its size.
        return tarfile.open(path, "r|gz")
    except (tarfile.TarError, OSError) as exc:
        raise BackupError(f"{path} is not a backup archive (a .tar.gz written by manage.py backup): {exc}") from exc


def _read_manifest(archive: tarfile.TarFile, path: Path) -> dict:
    not_ours = f"{path} is not a backup archive written by manage.py backup"
    try:
        first = archive.next()
        reader = archive.extractfile(first) if first is not None and first.name == MANIFEST else None
        manifest = json.loads(reader.read()) if reader is not None else None
    except (tarfile.TarError, OSError, EOFError, ValueError) as exc:
        raise BackupError(f"{not_ours}: {exc}") from exc
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BackupError(f"{not_ours} (it does not begin with its manifest)")
    if manifest.get("version") != FORMAT_VERSION:
        raise BackupError(
            f"{path} is a backup of format {manifest.get('version')}; this release reads {FORMAT_VERSION}"
        )
    database, media = manifest.get("database"), manifest.get("media")
    if not isinstance(database, dict) or database.get("vendor") not in DUMP_NAMES or not isinstance(media, dict):
        raise BackupError(f"{not_ours} (its manifest is incomplete)")
    return manifest


def _tables_holding_data() -> list[str]:
    tables = [name for name in connection.introspection.table_names() if name not in MIGRATE_TABLES]
    holding = []
    with connection.cursor() as cursor:
        for table in tables:
            # The name comes from the database's own catalogue, quoted: no outside input.
            cursor.execute(f"SELECT 1 FROM {connection.ops.quote_name(table)} LIMIT 1")  # noqa: S608
            if cursor.fetchone():
                holding.append(table)
    return holding


def _refuse_existing_data(vendor: str) -> None:
    if vendor == "sqlite" and not Path(settings.DATABASES["default"]["NAME"]).is_file():
        tables = []
    else:
        tables = _tables_holding_data()
    files = _media_files() if _media_is_local() else []
    held = []
    if tables:
        shown = ", ".join(tables[:5]) + (f" and {len(tables) - 5} more" if len(tables) > 5 else "")
        held.append(f"the database {settings.DATABASES['default']['NAME']} holds data ({shown})")
    if files:
        held.append(f"{settings.MEDIA_ROOT} holds {len(files):,} file{'' if len(files) == 1 else 's'}")
    if held:
        raise BackupError(f"{' and '.join(held)}: restoring would replace them; run again with --force to do so")


def _is_dump(member: tarfile.TarInfo, dump_name: str) -> bool:
    """Whether a member is the database; anything else but media files and folders is refused."""
    name = PurePosixPath(member.name)
    if name.is_absolute() or ".." in name.parts:
        raise BackupError(f"the archive holds an unsafe path: {member.name}")
    if member.name == dump_name and member.isfile():
        return True
    if name.parts[0] == "media" and len(name.parts) > 1 and (member.isfile() or member.isdir()):
        return False
    raise BackupError(f"the archive holds an unexpected entry: {member.name}")


def _restore_postgresql(dump: Path) -> None:
    name = settings.DATABASES["default"]["NAME"]
    # No owner or grants from the dump: the restored objects belong to whoever restores them.
    _run_pg_tool(
        [
            _pg_tool("pg_restore"),
            "--single-transaction",
            "--clean",
            "--if-exists",
            "--no-owner",
            "--no-privileges",
            f"--dbname={name}",
            str(dump),
        ]
    )


def _restore_sqlite(copy_path: Path) -> None:
    target = Path(settings.DATABASES["default"]["NAME"])
    copy = sqlite3.connect(copy_path)
    try:
        verdict = copy.execute("PRAGMA integrity_check").fetchone()[0]
        if verdict != "ok":
            raise BackupError(f"the archive's SQLite database is damaged: {verdict}")
        target.parent.mkdir(parents=True, exist_ok=True)
        live = sqlite3.connect(target, timeout=20)
        try:
            # pages=-1: one step, which SQLite applies to the live database all at once or not at all.
            copy.backup(live, pages=-1)
        finally:
            live.close()
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"SQLite could not restore into {target}: {exc}") from exc
    finally:
        copy.close()


def _swap_media(staged: Path) -> None:
    """Put the staged files in place of MEDIA_ROOT's, entry by entry: renames within one file system.

    MEDIA_ROOT itself stays (it is often a mounted volume, which cannot be renamed).
    """
    media_root = Path(settings.MEDIA_ROOT)
    staged.mkdir(exist_ok=True)
    replaced = Path(tempfile.mkdtemp(dir=media_root, prefix=STAGING_PREFIXES[1]))
    for entry in list(media_root.iterdir()):
        if not entry.name.startswith(STAGING_PREFIXES):
            os.replace(entry, replaced / entry.name)
    for entry in list(staged.iterdir()):
        os.replace(entry, media_root / entry.name)
    shutil.rmtree(replaced, ignore_errors=True)


def restore_backup(
    *, archive_path: Path, force: bool = False, note: Note = _quiet, progress: Progress = _quiet
) -> dict:
    """Put an archive's database and media back in place of the configured ones; return its manifest.

    Refused, with nothing changed: a file that is not an archive of ours, an archive of another database
    vendor, media for a local folder while MEDIA_STORAGE is s3, and (without `force`) a database or
    MEDIA_ROOT that holds data.
    """
    archive_path = Path(archive_path)
    vendor = _vendor()
    with _open_archive(archive_path) as archive:
        manifest = _read_manifest(archive, archive_path)
        archived_vendor = manifest["database"]["vendor"]
        if archived_vendor != vendor:
            raise BackupError(
                f"{archive_path} holds a {VENDOR_NAMES[archived_vendor]} database; the configured one is "
                f"{VENDOR_NAMES[vendor]} (set DATABASE_URL to restore it elsewhere)"
            )
        with_media = bool(manifest["media"].get("included"))
        if with_media and not _media_is_local():
            raise BackupError(
                f"{archive_path} holds media files for a local folder, but MEDIA_STORAGE is s3: restore with "
                "MEDIA_STORAGE=local, then copy MEDIA_ROOT's files into the bucket"
            )
        if not force:
            _refuse_existing_data(vendor)
        media_root = Path(settings.MEDIA_ROOT)
        if with_media:
            media_root.mkdir(parents=True, exist_ok=True)
        # The database apart, in a private folder; the media inside MEDIA_ROOT, to go into place with renames.
        with (
            tempfile.TemporaryDirectory(prefix="tracker-restore-") as database_staging,
            tempfile.TemporaryDirectory(
                dir=media_root if with_media else None, prefix=STAGING_PREFIXES[0]
            ) as media_staging,
        ):
            dump_name = DUMP_NAMES[vendor]
            expected, done = int(manifest["media"].get("files", 0)), 0
            note(f"Reading {archive_path}...")
            try:
                for member in archive:
                    if member.name == MANIFEST:  # read already (a stream's iteration starts over)
                        continue
                    is_dump = _is_dump(member, dump_name)
                    if not is_dump and not with_media:
                        raise BackupError(f"the archive holds an unexpected entry: {member.name}")
                    # The "data" filter refuses links, devices and anything outside the staging folder.
                    archive.extract(member, database_staging if is_dump else media_staging, filter="data")
                    if member.isfile() and not is_dump:
                        done += 1
                        progress("media files", done, max(expected, done))
            except (tarfile.TarError, OSError, EOFError) as exc:
                raise BackupError(f"{archive_path} is damaged or cut short: {exc}") from exc
            dump = Path(database_staging) / dump_name
            if not dump.is_file():
                raise BackupError(f"{archive_path} holds no database ({dump_name} is missing)")
            note(f"Restoring the {VENDOR_NAMES[vendor]} database {settings.DATABASES['default']['NAME']}...")
            if vendor == "postgresql":
                _restore_postgresql(dump)
            else:
                _restore_sqlite(dump)
            if with_media:
                note(f"Putting the media files ({done:,}) in {media_root}...")
                _swap_media(Path(media_staging) / "media")
            else:
                storage = manifest["media"].get("storage")
                note(f"The archive holds no media (they were in {storage} storage): {media_root} left as it was.")
    note(f"Restored {archive_path}, made {manifest.get('created_at')}. Run manage.py migrate if this release is newer.")
    return manifest
