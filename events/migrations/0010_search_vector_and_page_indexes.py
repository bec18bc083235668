"""The readers' full-text search on a stored search document, and indexes for bounded pages.

`events_event.search_vector` is a generated column (PostgreSQL keeps it, under COPY too) with a GIN
index, event_search_idx: the document the readers' and the desk's searches match
(events.selectors.StoredSearchVector; title weighted A, summary weighted B, English configuration).
Stored, it gives the planner statistics on the words and costs nothing to recheck while a
newest-first search walks the date index; the expression index of migration 0002, which it replaces
under the same name, made PostgreSQL parse again every row it looked at. Like that index, it lives
only in PostgreSQL, not in Django's model state: the embedded SQLite default has no full-text search,
and on any other database this part does nothing.

An index on the topics' join table (outside the model state: Django declares no indexes on an
automatic through table) lets the filters probe a topic's first event in a story. The model indexes:
events newest first across stories (actor and topic pages), and a story's expectations by deadline
(the open ones for "what's next", all of them for their list) and the most recently fulfilled.
"""

from django.db import migrations, models

SEARCH_VECTOR = """
    ALTER TABLE events_event ADD COLUMN search_vector tsvector GENERATED ALWAYS AS (
        setweight(to_tsvector('english'::regconfig, coalesce(title, '')), 'A')
        || setweight(to_tsvector('english'::regconfig, coalesce(summary, '')), 'B')
    ) STORED;
    DROP INDEX IF EXISTS event_search_idx;
    CREATE INDEX event_search_idx ON events_event USING gin (search_vector);
"""

NO_SEARCH_VECTOR = """
    DROP INDEX event_search_idx;
    CREATE INDEX event_search_idx ON events_event USING gin (
        (setweight(to_tsvector('english'::regconfig, COALESCE(title, '')), 'A')
        || setweight(to_tsvector('english'::regconfig, COALESCE(summary, '')), 'B'))
    );
    ALTER TABLE events_event DROP COLUMN search_vector;
"""


class RunSQLOnPostgreSQL(migrations.RunSQL):
    """RunSQL that runs on PostgreSQL only."""

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            super().database_forwards(app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            super().database_backwards(app_label, schema_editor, from_state, to_state)

    def describe(self):
        return "The stored search document and its GIN index (PostgreSQL only)"


class Migration(migrations.Migration):
    dependencies = [
        ("events", "0009_media"),
    ]

    operations = [
        RunSQLOnPostgreSQL(SEARCH_VECTOR, NO_SEARCH_VECTOR),
        # A topic's events in id order: the filter's probe for a topic's first event in a story.
        migrations.RunSQL(
            "CREATE INDEX event_topics_topic_event_idx ON events_event_topics (topic_id, event_id)",
            "DROP INDEX event_topics_topic_event_idx",
        ),
        migrations.AddIndex(
            model_name="event",
            index=models.Index(
                fields=["-start", "-id"],
                name="event_published_newest_idx",
                condition=models.Q(publication="published"),
            ),
        ),
        migrations.AddIndex(
            model_name="expectation",
            index=models.Index(
                fields=["story", "latest_on", "id"],
                name="expectation_story_open_idx",
                condition=models.Q(status__in=["pending", "overdue"]),
            ),
        ),
        migrations.AddIndex(
            model_name="expectation",
            index=models.Index(fields=["story", "latest_on", "id"], name="expectation_deadline_idx"),
        ),
        migrations.AddIndex(
            model_name="expectation",
            index=models.Index(
                fields=["story", "-resolved_at", "-id"],
                name="expectation_fulfilled_idx",
                condition=models.Q(status="fulfilled"),
            ),
        ),
    ]
