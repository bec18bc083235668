"""Fewer index writes when an expectation changes status (the overdue job flags thousands at once).

- The story foreign key's own index goes: expectation_deadline_idx and expectation_story_status_idx
  lead with the story and answer everything it did.
- raised_by, fulfilled_by and place are indexed only where set (fulfilled_by is empty on every
  open expectation, place on most). Lookups by an event or a place (its page, and what deleting it
  checks or clears) use the partial index: "= x" implies "is not null".

Each row flagged overdue wrote 12 index entries; now 8, or 9 when an event raised it.
"""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("events", "0014_overdue_announcement_queue"),
    ]

    operations = [
        migrations.AlterField(
            model_name="expectation",
            name="fulfilled_by",
            field=models.ForeignKey(
                blank=True,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.RESTRICT,
                related_name="expectations_fulfilled",
                to="events.event",
            ),
        ),
        migrations.AlterField(
            model_name="expectation",
            name="place",
            field=models.ForeignKey(
                blank=True,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="expectations",
                to="events.place",
            ),
        ),
        migrations.AlterField(
            model_name="expectation",
            name="raised_by",
            field=models.ForeignKey(
                blank=True,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="expectations_raised",
                to="events.event",
            ),
        ),
        migrations.AlterField(
            model_name="expectation",
            name="story",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="expectations",
                to="events.story",
            ),
        ),
        migrations.AddIndex(
            model_name="expectation",
            index=models.Index(
                condition=models.Q(("raised_by__isnull", False)), fields=["raised_by"], name="expectation_raised_by_idx"
            ),
        ),
        migrations.AddIndex(
            model_name="expectation",
            index=models.Index(
                condition=models.Q(("fulfilled_by__isnull", False)),
                fields=["fulfilled_by"],
                name="expectation_fulfilled_by_idx",
            ),
        ),
        migrations.AddIndex(
            model_name="expectation",
            index=models.Index(
                condition=models.Q(("place__isnull", False)), fields=["place"], name="expectation_place_idx"
            ),
        ),
    ]
