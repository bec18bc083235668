"""Partial indexes for the scheduled jobs (issue 16, figures 4 and 5), as plain SQL that PostgreSQL and
SQLite both take.

- expectation_pending_deadline_idx: the overdue check's "pending and past its latest date". The open
  index (pending or overdue) makes it read every expectation ever flagged; this one holds only pending.
- expectation_unannounced_idx: flagged overdue and not yet told to the editors, a handful of rows.

Not declared in Meta.indexes (events/models.py): RunSQL keeps them out of the migration state, so
`makemigrations --check` stays clean; declaring them there later needs a SeparateDatabaseAndState.
"""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("events", "0010_search_vector_and_page_indexes")]

    operations = [
        migrations.RunSQL(
            "CREATE INDEX IF NOT EXISTS expectation_pending_deadline_idx ON events_expectation (latest_on) "
            "WHERE status = 'pending'",
            "DROP INDEX IF EXISTS expectation_pending_deadline_idx",
        ),
        migrations.RunSQL(
            "CREATE INDEX IF NOT EXISTS expectation_unannounced_idx ON events_expectation (latest_on, id) "
            "WHERE status = 'overdue' AND overdue_announced_at IS NULL",
            "DROP INDEX IF EXISTS expectation_unannounced_idx",
        ),
    ]
