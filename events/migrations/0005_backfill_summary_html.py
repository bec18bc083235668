"""Fill Event.summary_html for the events saved before it existed.

It renders with events.text.render_markdown, the function Event.save() uses, so a backfilled row holds
exactly what saving it again would store. Historical rows (historicalevent) keep a blank summary_html:
the history records what editors wrote, and a restore renders the summary again when it saves.
"""

from django.db import migrations

from events.text import render_markdown

BATCH_SIZE = 500


def fill_summary_html(apps, schema_editor):
    events = apps.get_model("events", "Event").objects.using(schema_editor.connection.alias)
    batch = []
    for event in events.exclude(summary="").only("pk", "summary").order_by("pk").iterator(chunk_size=BATCH_SIZE):
        event.summary_html = render_markdown(event.summary)
        batch.append(event)
        if len(batch) == BATCH_SIZE:
            events.bulk_update(batch, ["summary_html"])
            batch = []
    if batch:
        events.bulk_update(batch, ["summary_html"])


class Migration(migrations.Migration):
    dependencies = [
        ("events", "0004_year_precision_summary_html_status_reason"),
    ]

    operations = [
        migrations.RunPython(fill_summary_html, migrations.RunPython.noop, elidable=True),
    ]
