"""`manage.py backup` and `manage.py restore` (make backup / make restore): the database and the uploaded
media into one archive and back, on PostgreSQL and on the embedded SQLite default; refusals."""

import io
import json
import os
import re
import sqlite3
import subprocess
import sys
import tarfile
import uuid
from contextlib import contextmanager
from io import StringIO
from pathlib import Path

import psycopg
import pytest
from django.conf import settings
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.core.management.base import CommandError

from events.media.uploads import store_upload
from events.models import Event, MediaItem, Story
from events.services.media import MediaRow, write_media
from tests import factories
from tests.media_files import photo


def command_env(**changes: str | None) -> dict[str, str]:
    """The environment of a `manage.py` run with the project's own settings; None removes a variable."""
    env = {k: v for k, v in os.environ.items() if k not in ("DJANGO_SETTINGS_MODULE", "DEBUG")}
    env.update(SECRET_KEY="backup-tests", MAIL_DIR=str(settings.MAIL_DIR), REDIS_URL=settings.REDIS_URL)
    for name, value in changes.items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    return env


def manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def server_url(database: str) -> str:
    db = settings.DATABASES["default"]
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return f"postgres://{db['USER']}{password}@{db['HOST']}:{db['PORT']}/{database}"


@contextmanager
def empty_postgresql_database():
    """A new, empty database beside the test database, dropped afterwards."""
    name = f"tracker_restore_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(server_url("postgres"), autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield name
    finally:
        with psycopg.connect(server_url("postgres"), autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def story_with_a_photo() -> tuple[Story, list[Event], MediaItem, bytes]:
    story = factories.StoryFactory(slug="ukraine", title="Ukraine crisis diplomacy")
    events = [
        factories.EventFactory(story=story, title="Macron and Putin meet in Moscow"),
        factories.EventFactory(story=story, title="Macron meets Zelenskyy in Kyiv"),
    ]
    upload = store_upload(photo(), "image")
    write_media(
        events[0], [MediaRow(kind="image", upload=upload, credit="Kremlin pool", alt_text="Two men at a long table")]
    )
    item = MediaItem.objects.get(event=events[0])
    with default_storage.open(item.image.name) as stored:
        return story, events, item, stored.read()


def archive_of(path: Path, members: dict[str, bytes]) -> Path:
    with tarfile.open(path, "w:gz") as archive:
        for name, content in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(content)
            archive.addfile(info, io.BytesIO(content))
    return path


def manifest(vendor: str = "postgresql", *, media: bool = True) -> bytes:
    database = {"vendor": vendor, "file": "database.dump" if vendor == "postgresql" else "database.sqlite3"}
    return json.dumps(
        {"format": "story-tracker-backup", "version": 1, "database": database, "media": {"included": media}}
    ).encode()


# --- PostgreSQL ------------------------------------------------------------------------------------


def test_a_postgresql_backup_restores_into_an_empty_database_with_its_media(transactional_db, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    _story, events, item, photo_bytes = story_with_a_photo()
    archive = tmp_path / "tracker.tar.gz"
    out, err = StringIO(), StringIO()

    call_command("backup", "--output", str(archive), stdout=out, stderr=err)

    assert out.getvalue().strip() == str(archive)
    assert "Dumping the PostgreSQL database" in err.getvalue()
    restored_media = tmp_path / "restored-media"
    with empty_postgresql_database() as database:
        env = command_env(DATABASE_URL=server_url(database), MEDIA_ROOT=str(restored_media))
        restore = manage("restore", str(archive), env=env)
        assert restore.returncode == 0, restore.stderr
        with psycopg.connect(server_url(database)) as restored:
            titles = restored.execute(
                f"SELECT e.title FROM {Event._meta.db_table} e JOIN {Story._meta.db_table} s ON s.id = e.story_id "
                "WHERE s.slug = 'ukraine' ORDER BY e.title"
            ).fetchall()
            image = restored.execute(
                f"SELECT image FROM {MediaItem._meta.db_table} WHERE id = %s", [item.pk]
            ).fetchone()
        # The schema came back whole, migrations table included: nothing is left to migrate.
        check = manage("migrate", "--check", env=env)
    assert [title for (title,) in titles] == sorted(event.title for event in events)
    assert image == (item.image.name,)
    assert check.returncode == 0, check.stdout + check.stderr
    assert (restored_media / item.image.name).read_bytes() == photo_bytes


def test_a_restore_refuses_a_database_that_holds_data_and_changes_nothing(db, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    factories.StoryFactory(slug="ukraine")
    archive = archive_of(tmp_path / "other.tar.gz", {"manifest.json": manifest(), "database.dump": b"not a dump"})

    with pytest.raises(CommandError, match=r"holds data \(.*events_story.*--force"):
        call_command("restore", str(archive), stderr=StringIO())

    assert Story.objects.filter(slug="ukraine").exists()
    assert not settings.MEDIA_ROOT.exists()


def test_a_dump_that_pg_restore_refuses_is_reported_and_changes_nothing(db, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    factories.StoryFactory(slug="ukraine")
    archive = archive_of(tmp_path / "bad.tar.gz", {"manifest.json": manifest(), "database.dump": b"not a dump"})

    with pytest.raises(CommandError, match="pg_restore failed: "):
        call_command("restore", str(archive), "--force", stderr=StringIO())

    assert Story.objects.filter(slug="ukraine").exists()
    assert list(settings.MEDIA_ROOT.iterdir()) == []


def test_a_backup_without_pg_dump_says_so_and_leaves_no_file(db, settings, tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path / "no-tools"))
    folder = tmp_path / "backups"
    folder.mkdir()

    with pytest.raises(CommandError, match="pg_dump was not found on PATH: install PostgreSQL's client tools"):
        call_command("backup", "--output", str(folder), stderr=StringIO())

    assert list(folder.iterdir()) == []


# --- SQLite, the embedded default ------------------------------------------------------------------


@pytest.mark.django_db
def test_a_sqlite_backup_restores_into_a_new_site_with_its_media(tmp_path):
    site, new_site = tmp_path / "site", tmp_path / "new-site"
    site.mkdir()
    sqlite_env = command_env(DATABASE_URL=None, REDIS_URL=None, MEDIA_ROOT=None, VAR_DIR=str(site))
    assert manage("migrate", "--verbosity=0", env=sqlite_env).returncode == 0
    made = manage(
        "shell",
        "--command",
        "from tests.test_backups import story_with_a_photo; "
        "_story, _events, item, _bytes = story_with_a_photo(); print(item.image.name)",
        env=sqlite_env,
    )
    assert made.returncode == 0, made.stderr
    image_name = made.stdout.strip().splitlines()[-1]

    backup = manage("backup", env=sqlite_env)

    assert backup.returncode == 0, backup.stderr
    archive = Path(backup.stdout.strip())
    assert archive.parent == site / "backups"
    assert re.fullmatch(r"tracker-\d{8}-\d{6}Z\.tar\.gz", archive.name)
    assert "Dumping the SQLite database" in backup.stderr
    new_env = sqlite_env | {"VAR_DIR": str(new_site)}
    restore = manage("restore", str(archive), env=new_env)
    assert restore.returncode == 0, restore.stderr
    with sqlite3.connect(new_site / "tracker.sqlite3") as restored:
        titles = restored.execute(f"SELECT title FROM {Event._meta.db_table} ORDER BY title").fetchall()
        images = restored.execute(f"SELECT image FROM {MediaItem._meta.db_table}").fetchall()
    assert titles == [("Macron and Putin meet in Moscow",), ("Macron meets Zelenskyy in Kyiv",)]
    assert images == [(image_name,)]
    assert (new_site / "media" / image_name).read_bytes() == (site / "media" / image_name).read_bytes()

    again = manage("restore", str(archive), env=new_env)

    assert again.returncode == 1
    assert again.stderr.strip().splitlines()[-1].startswith("error: the database ")
    assert "run again with --force" in again.stderr


def test_a_sqlite_archive_is_refused_by_a_postgresql_site(db, tmp_path):
    archive = archive_of(tmp_path / "s.tar.gz", {"manifest.json": manifest("sqlite"), "database.sqlite3": b""})

    with pytest.raises(CommandError, match="holds a SQLite database; the configured one is PostgreSQL"):
        call_command("restore", str(archive), stderr=StringIO())


# --- Files that are not our archives ---------------------------------------------------------------


def test_restoring_a_missing_file_says_so(db, tmp_path):
    with pytest.raises(CommandError, match=r"nope\.tar\.gz does not exist"):
        call_command("restore", str(tmp_path / "nope.tar.gz"))


def test_restoring_a_file_that_is_not_an_archive_says_so(db, tmp_path):
    text = tmp_path / "notes.txt"
    text.write_text("not an archive")

    with pytest.raises(
        CommandError, match=r"notes.txt is not a backup archive \(a .tar.gz written by manage.py backup\)"
    ):
        call_command("restore", str(text))


def test_restoring_an_archive_without_our_manifest_says_so(db, tmp_path):
    archive = archive_of(tmp_path / "photos.tar.gz", {"photo.jpg": b"\xff\xd8"})

    with pytest.raises(CommandError, match=r"is not a backup archive written by manage\.py backup"):
        call_command("restore", str(archive))


def test_an_archive_with_a_path_outside_its_folders_is_refused_before_anything_changes(db, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    members = {"manifest.json": manifest(), "database.dump": b"x", "media/../../outside.txt": b"x"}
    archive = archive_of(tmp_path / "evil.tar.gz", members)

    with pytest.raises(CommandError, match=r"unsafe path: media/\.\./\.\./outside\.txt"):
        call_command("restore", str(archive), stderr=StringIO())

    assert not (tmp_path / "outside.txt").exists()
    assert list(settings.MEDIA_ROOT.iterdir()) == []


def test_make_restore_without_file_says_how_to_call_it():
    result = subprocess.run(
        ["make", "--no-print-directory", "restore"],
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode != 0
    assert "make restore needs FILE=" in result.stderr
