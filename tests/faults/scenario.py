"""The newsroom a fault test runs against, written into its database by a separate process:
`python -m tests.faults.scenario SUBSCRIBERS OVERDUE` (settings from the environment).

One published story with three events published three hours ago, SUBSCRIBERS confirmed daily
subscribers following it whose period ended an hour ago (so each is owed exactly one digest, listing
those events), and OVERDUE pending expectations whose latest date has passed, none flagged yet.
Prints the story's and the first event's slugs.
"""

import datetime
import json
import sys

import django


def build(subscribers: int, overdue: int) -> dict[str, str]:
    from django.utils import timezone

    from events.models import Subscriber
    from tests.factories import EventFactory, ExpectationFactory, StoryFactory

    now = timezone.now()
    story = StoryFactory(title="Macron in Moscow", slug="macron-in-moscow", last_development_at=now)
    events = [
        EventFactory(
            story=story,
            title=f"Development {n}",
            slug=f"development-{n}",
            published_at=now.replace(microsecond=0) - datetime.timedelta(hours=3),
        )
        for n in range(3)
    ]
    for n in range(overdue):
        ExpectationFactory(
            story=story,
            title=f"Overdue {n}",
            slug=f"overdue-{n}",
            due_on=timezone.localdate(now) - datetime.timedelta(days=5),
        )
    last = now - datetime.timedelta(days=1, hours=1)
    rows = Subscriber.objects.bulk_create(
        Subscriber(
            email=f"reader{n}@example.org",
            frequency=Subscriber.Frequency.DAILY,
            confirmed_at=now - datetime.timedelta(days=30),
            last_digest_at=last,
        )
        for n in range(subscribers)
    )
    Subscriber.stories.through.objects.bulk_create(
        Subscriber.stories.through(subscriber_id=row.pk, story_id=story.pk) for row in rows
    )
    return {"story": story.slug, "event": events[0].slug}


if __name__ == "__main__":
    django.setup()
    print(json.dumps(build(int(sys.argv[1]), int(sys.argv[2]))))
