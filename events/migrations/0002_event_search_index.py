"""A GIN index for the readers' full-text search, on PostgreSQL only.

The index is on the expression `events.selectors.event_search_vector()` builds (title weighted A,
summary weighted B, English configuration); the selector's query must use the same expression for
PostgreSQL to use it.

It lives only in the database, not in Django's model state: on the embedded SQLite default there is no
GIN, and a later migration that makes SQLite rebuild the events table would otherwise try to recreate
it there. So `makemigrations` never sees it (nothing to add or remove), and on any database but
PostgreSQL this migration does nothing.
"""

from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVector
from django.db import migrations


class AddIndexOnPostgreSQL(migrations.AddIndex):
    """AddIndex that runs on PostgreSQL only and leaves the model state alone."""

    def state_forwards(self, app_label, state):
        pass

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            model = to_state.apps.get_model(app_label, self.model_name)
            if self.allow_migrate_model(schema_editor.connection.alias, model):
                schema_editor.add_index(model, self.index)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            model = from_state.apps.get_model(app_label, self.model_name)
            if self.allow_migrate_model(schema_editor.connection.alias, model):
                schema_editor.remove_index(model, self.index)

    def describe(self):
        return f"{super().describe()} (PostgreSQL only)"

    def reduce(self, operation, app_label):
        # Never merge with the autodetector's state-changing index operations.
        return False


class Migration(migrations.Migration):
    dependencies = [
        ("events", "0001_initial"),
    ]

    operations = [
        AddIndexOnPostgreSQL(
            model_name="event",
            index=GinIndex(
                SearchVector("title", config="english", weight="A")
                + SearchVector("summary", config="english", weight="B"),
                name="event_search_idx",
            ),
        ),
    ]
