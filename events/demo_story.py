"""The demo story, as data: the diplomacy around Ukraine in early February 2022.

Built from the facts of the source article (Macron's talks with Putin in Moscow, the points they
discussed, the expected visit to Kyiv, the diplomacy expected of the US, the EU and the OSCE), placed in
the real chronology of those weeks. The texts are our own; no quotation is attributed to anyone.

The media are the project's own: a map and a chart drawn by events/demo_media.py (never pictures
from news sites), and a link to an official page the article's story names.

Dates carry their precision. An exact time is given only for the Moscow talks; everything else is
known to the day, the month or roughly, and says so. `load_demo_story` turns this module into rows,
keyed on slugs, so loading it twice changes nothing.
"""

import datetime
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from zoneinfo import ZoneInfo

from . import demo_media
from .models import ActorKind, DatePrecision, EventKind, EventStatus, MediaKind, ParticipationRole

EXACT, DAY, MONTH, APPROXIMATE = (
    DatePrecision.EXACT,
    DatePrecision.DAY,
    DatePrecision.MONTH,
    DatePrecision.APPROXIMATE,
)
HOST, GUEST, PARTICIPANT = ParticipationRole.HOST, ParticipationRole.GUEST, ParticipationRole.PARTICIPANT
MOSCOW_TIME = ZoneInfo("Europe/Moscow")


@dataclass(frozen=True)
class ActorData:
    slug: str
    kind: str
    name: str
    description: str
    affiliation: str | None = None
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True)
class PlaceData:
    slug: str
    name: str
    country: str
    latitude: Decimal
    longitude: Decimal
    time_zone: str


@dataclass(frozen=True)
class TopicData:
    slug: str
    name: str
    description: str


@dataclass(frozen=True)
class ForumData:
    slug: str
    name: str
    description: str
    members: tuple[str, ...] = ()


@dataclass(frozen=True)
class SourceData:
    outlet: str
    url: str
    title: str
    published_on: datetime.date


@dataclass(frozen=True)
class MediaData:
    """An image the project draws (`draw` gives its PNG), or a link (`url`). `title` keys it: an item
    of that title on the event is this one, so a second load uploads nothing."""

    kind: str
    title: str
    caption: str
    credit: str = ""
    alt_text: str = ""
    draw: Callable[[], bytes] | None = None
    url: str = ""
    outlet: str = ""


@dataclass(frozen=True)
class PositionData:
    actor: str
    stance: str


@dataclass(frozen=True)
class DiscussionPointData:
    title: str
    topic: str
    summary: str
    positions: tuple[PositionData, ...]


@dataclass(frozen=True)
class EventData:
    """`start` is an aware datetime for an exact time, else a date read at `precision`."""

    slug: str
    kind: str
    title: str
    summary: str
    start: datetime.datetime | datetime.date
    precision: str
    participants: tuple[tuple[str, str], ...]
    topics: tuple[str, ...]
    sources: tuple[SourceData, ...]
    place: str | None = None
    forum: str | None = None
    status: str = EventStatus.HAPPENED
    discussion_points: tuple[DiscussionPointData, ...] = ()
    media: tuple[MediaData, ...] = ()
    # How long after the event the newsroom published it.
    published_after: datetime.timedelta = datetime.timedelta(hours=2)


@dataclass(frozen=True)
class ExpectationData:
    """`outcome` is None (still open), ("fulfilled_by", event slug) or ("cancelled", None)."""

    slug: str
    title: str
    description: str
    raised_by: str | None
    expected_actors: tuple[str, ...]
    topics: tuple[str, ...]
    due_on: datetime.date | None
    due_precision: str = DAY
    place: str | None = None
    outcome: tuple[str, str | None] | None = None
    sources: tuple[SourceData, ...] = field(default=())


STORY = {
    "slug": "ukraine-crisis-diplomacy",
    "title": "Ukraine crisis diplomacy",
    "summary": (
        "With Russian forces massed along Ukraine's border, European leaders try to talk Moscow down. "
        "Emmanuel Macron flies to Moscow to see Vladimir Putin, then on to Kyiv and Berlin, while the "
        "United States, the European Union and the OSCE look for a diplomatic way out."
    ),
    "status": "developing",
}

# --- Who ------------------------------------------------------------------------------------------

ACTORS = (
    ActorData("france", ActorKind.COUNTRY, "France", "Republic in western Europe; a Normandy-format member."),
    ActorData("russia", ActorKind.COUNTRY, "Russia", "Russian Federation.", aliases=("Russian Federation",)),
    ActorData("ukraine", ActorKind.COUNTRY, "Ukraine", "Eastern European state at the centre of the crisis."),
    ActorData(
        "united-states", ActorKind.COUNTRY, "United States", "Ukraine's main military backer.", aliases=("US", "USA")
    ),
    ActorData("germany", ActorKind.COUNTRY, "Germany", "Federal Republic; a Normandy-format member."),
    ActorData("poland", ActorKind.COUNTRY, "Poland", "NATO member bordering Ukraine."),
    ActorData(
        "nato",
        ActorKind.ORGANISATION,
        "NATO",
        "The North Atlantic Treaty Organization, the Western defence alliance.",
        aliases=("North Atlantic Treaty Organization", "the Alliance"),
    ),
    ActorData(
        "european-union", ActorKind.ORGANISATION, "European Union", "The EU and its institutions.", aliases=("EU",)
    ),
    ActorData(
        "osce",
        ActorKind.ORGANISATION,
        "OSCE",
        "Organization for Security and Co-operation in Europe, based in Vienna.",
        aliases=("Organization for Security and Co-operation in Europe",),
    ),
    ActorData(
        "emmanuel-macron",
        ActorKind.PERSON,
        "Emmanuel Macron",
        "President of France.",
        affiliation="france",
        aliases=("Macron", "President Macron"),
    ),
    ActorData(
        "vladimir-putin",
        ActorKind.PERSON,
        "Vladimir Putin",
        "President of Russia.",
        affiliation="russia",
        aliases=("Putin", "President Putin"),
    ),
    ActorData(
        "volodymyr-zelenskyy",
        ActorKind.PERSON,
        "Volodymyr Zelenskyy",
        "President of Ukraine.",
        affiliation="ukraine",
        aliases=("Zelenskyy", "Volodymyr Zelensky", "Zelensky", "Zelenskiy"),
    ),
    ActorData(
        "joe-biden",
        ActorKind.PERSON,
        "Joe Biden",
        "President of the United States.",
        affiliation="united-states",
        aliases=("Biden", "Joseph Biden", "President Biden"),
    ),
    ActorData(
        "olaf-scholz",
        ActorKind.PERSON,
        "Olaf Scholz",
        "Chancellor of Germany.",
        affiliation="germany",
        aliases=("Scholz", "Chancellor Scholz"),
    ),
    ActorData(
        "andrzej-duda",
        ActorKind.PERSON,
        "Andrzej Duda",
        "President of Poland.",
        affiliation="poland",
        aliases=("Duda",),
    ),
    ActorData(
        "antony-blinken",
        ActorKind.PERSON,
        "Antony Blinken",
        "US Secretary of State.",
        affiliation="united-states",
        aliases=("Blinken",),
    ),
    ActorData(
        "sergei-lavrov",
        ActorKind.PERSON,
        "Sergei Lavrov",
        "Foreign Minister of Russia.",
        affiliation="russia",
        aliases=("Lavrov", "Sergey Lavrov"),
    ),
)

# --- Where ----------------------------------------------------------------------------------------

PLACES = (
    PlaceData("moscow", "Moscow", "Russia", Decimal("55.75583"), Decimal("37.61730"), "Europe/Moscow"),
    PlaceData("kyiv", "Kyiv", "Ukraine", Decimal("50.45010"), Decimal("30.52340"), "Europe/Kyiv"),
    PlaceData("berlin", "Berlin", "Germany", Decimal("52.52000"), Decimal("13.40500"), "Europe/Berlin"),
    PlaceData("vienna", "Vienna", "Austria", Decimal("48.20820"), Decimal("16.37380"), "Europe/Vienna"),
    PlaceData("brussels", "Brussels", "Belgium", Decimal("50.85030"), Decimal("4.35170"), "Europe/Brussels"),
    PlaceData(
        "washington", "Washington", "United States", Decimal("38.90720"), Decimal("-77.03690"), "America/New_York"
    ),
)

# --- What about -----------------------------------------------------------------------------------

TOPICS = (
    TopicData(
        "minsk-agreements",
        "Minsk agreements",
        "The 2014 and 2015 accords meant to end the war in eastern Ukraine: ceasefire, withdrawal of heavy "
        "weapons, and political reforms. Kyiv and Moscow read them differently.",
    ),
    TopicData(
        "nato-expansion",
        "NATO expansion",
        "The alliance's growth eastwards since the 1990s, and whether Ukraine may one day join.",
    ),
    TopicData("sanctions", "Sanctions", "Economic and financial penalties threatened or imposed on Russia."),
    TopicData("de-escalation", "De-escalation", "Efforts to reduce the Russian military build-up near Ukraine."),
    TopicData(
        "european-security-architecture",
        "European security architecture",
        "The treaties, institutions and rules that keep the peace in Europe, and Moscow's call to redraw them.",
    ),
    TopicData(
        "arms-control",
        "Arms control",
        "Limits on weapons and deployments, transparency and confidence-building measures.",
    ),
    TopicData(
        "donbas",
        "Donbas",
        "The Donetsk and Luhansk regions of eastern Ukraine, partly held by Russian-backed separatists since 2014.",
    ),
)

FORUMS = (
    ForumData(
        "normandy-format",
        "Normandy format",
        "France, Germany, Russia and Ukraine, meeting since 2014 to settle the conflict in eastern Ukraine, "
        "at the level of leaders, ministers or political advisers.",
        members=("france", "germany", "russia", "ukraine"),
    ),
    ForumData(
        "osce-permanent-council",
        "OSCE Permanent Council",
        "The OSCE's regular body for political dialogue, meeting weekly in Vienna.",
        members=("osce",),
    ),
    ForumData(
        "nato-russia-council",
        "NATO-Russia Council",
        "The forum for consultation between the allies and Russia, set up in 2002.",
        members=("nato", "russia"),
    ),
    ForumData(
        "trilateral-contact-group",
        "Trilateral Contact Group",
        "Ukraine, Russia and the OSCE, working on the practical side of the Minsk agreements.",
        members=("ukraine", "russia", "osce"),
    ),
)

# --- What happened --------------------------------------------------------------------------------

KREMLIN_TALKS_POINTS = (
    DiscussionPointData(
        "De-escalation at Ukraine's border",
        "de-escalation",
        "Russia has massed a large force along Ukraine's border; the talks sought a way to lower the tension.",
        (
            PositionData(
                "emmanuel-macron",
                "Pressed for a commitment to de-escalate along the border, insisted on Ukraine's sovereignty "
                "and territorial integrity, and warned that further aggression would carry serious consequences.",
            ),
            PositionData(
                "vladimir-putin",
                "Set the build-up against Russia's own security concerns and tied any easing to them being addressed.",
            ),
        ),
    ),
    DiscussionPointData(
        "NATO expansion",
        "nato-expansion",
        "Moscow's objection to the alliance's eastward growth and to allied forces near its borders.",
        (
            PositionData(
                "emmanuel-macron",
                "Sought to answer Russia's concerns through dialogue without calling Ukraine's sovereign "
                "choices into question.",
            ),
            PositionData(
                "vladimir-putin",
                "Reiterated his opposition to NATO's eastward expansion, sought assurances that Ukraine would "
                "not join, and asked the alliance to scale back its activity in Eastern Europe.",
            ),
        ),
    ),
    DiscussionPointData(
        "The Minsk agreements",
        "minsk-agreements",
        "How to revive the peace process for eastern Ukraine: a new ceasefire, heavy weapons pulled back "
        "from the front line, and the political steps the accords foresee.",
        (
            PositionData(
                "emmanuel-macron",
                "Urged progress on implementing the agreements as the path to settling the conflict in the east.",
            ),
            PositionData(
                "vladimir-putin",
                "Described the agreements as the only basis for a settlement and blamed Kyiv for the slow "
                "implementation.",
            ),
        ),
    ),
    DiscussionPointData(
        "Autonomy for Donbas",
        "donbas",
        "The political reforms under the Minsk process that would give the Donbas region more autonomy, on "
        "which the sides' readings differ widely.",
        (
            PositionData(
                "emmanuel-macron",
                "Treated the region's status as a matter for the Minsk process, within Ukraine's borders.",
            ),
            PositionData(
                "vladimir-putin",
                "Pressed for the broad self-rule for Donbas that Moscow reads into the agreements.",
            ),
        ),
    ),
    DiscussionPointData(
        "European security architecture",
        "european-security-architecture",
        "Beyond Ukraine: the rules and institutions of security on the continent.",
        (
            PositionData(
                "emmanuel-macron",
                "Argued for a dialogue with Russia on new security arrangements for Europe, with Europeans at "
                "the table.",
            ),
            PositionData(
                "vladimir-putin",
                "Renewed his long-standing call for a new framework that would meet Russia's security demands.",
            ),
        ),
    ),
    DiscussionPointData(
        "Arms control",
        "arms-control",
        "New agreements, rules of the road for military activity, and ways to prevent incidents.",
        (
            PositionData(
                "emmanuel-macron",
                "Raised confidence-building and transparency measures on military activity as possible first steps.",
            ),
            PositionData(
                "vladimir-putin",
                "Linked any arms-control deal to limits on NATO forces and weapons near Russia's borders.",
            ),
        ),
    ),
)

EVENTS = (
    EventData(
        slug="nato-allies-reinforce-eastern-flank",
        kind=EventKind.MILITARY_MOVE,
        title="NATO allies send more ships and jets to Eastern Europe",
        summary=(
            "Allies put forces on standby and send **additional ships and fighter jets** to NATO's eastern "
            "members, in answer to the Russian build-up near Ukraine."
        ),
        start=datetime.date(2022, 1, 24),
        precision=DAY,
        place="brussels",
        participants=(("nato", HOST),),
        topics=("nato-expansion", "de-escalation"),
        sources=(
            SourceData(
                "NATO",
                "https://nato.example.org/news/2022-01-24-allies-reinforce-deterrence",
                "Allies send additional ships and jets to NATO deterrence",
                datetime.date(2022, 1, 24),
            ),
        ),
    ),
    EventData(
        # The article mentions the sanctions without a date; Western warnings ran through the whole
        # month, so the month is all we claim.
        slug="us-and-eu-warn-of-sanctions",
        kind=EventKind.STATEMENT,
        title="US and EU warn Russia of sweeping sanctions",
        summary=(
            "Washington and Brussels say an attack on Ukraine would be met with economic and financial "
            "sanctions well beyond those imposed since 2014."
        ),
        start=datetime.date(2022, 2, 1),
        precision=MONTH,
        participants=(("united-states", PARTICIPANT), ("european-union", PARTICIPANT)),
        topics=("sanctions",),
        sources=(
            SourceData(
                "Reuters",
                "https://reuters.example.com/world/europe/west-readies-sanctions-russia-2022-02",
                "West readies sanctions package should Russia attack Ukraine",
                datetime.date(2022, 2, 2),
            ),
        ),
    ),
    EventData(
        slug="us-to-send-troops-to-poland-germany-romania",
        kind=EventKind.MILITARY_MOVE,
        title="US to send about 3,000 troops to Poland, Germany and Romania",
        summary=(
            "The Pentagon announces that some 2,000 soldiers will deploy from the United States to Poland "
            "and Germany, and about 1,000 already in Germany will move to Romania."
        ),
        start=datetime.date(2022, 2, 2),
        precision=DAY,
        place="washington",
        participants=(("united-states", HOST), ("joe-biden", PARTICIPANT)),
        topics=("nato-expansion",),
        sources=(
            SourceData(
                "Associated Press",
                "https://apnews.example.com/article/2022-02-02-us-troops-eastern-europe",
                "US to send troops to Poland, Germany and Romania",
                datetime.date(2022, 2, 2),
            ),
        ),
    ),
    EventData(
        # The talks began in the Kremlin in the early evening and ran a little over five hours. We
        # assume 18:30 Moscow time from live reports of that day; the minute is our assumption.
        slug="macron-putin-talks-in-moscow",
        kind=EventKind.MEETING,
        title="Macron and Putin hold talks in Moscow",
        summary=(
            "Emmanuel Macron meets Vladimir Putin in the Kremlin to look for a way to **de-escalate** the "
            "crisis over Ukraine. The talks, a little over five hours, cover the troops at Ukraine's border, "
            "NATO's expansion, the Minsk agreements, autonomy for Donbas, Europe's security architecture "
            "and arms control."
        ),
        start=datetime.datetime(2022, 2, 7, 18, 30, tzinfo=MOSCOW_TIME),
        precision=EXACT,
        place="moscow",
        participants=(("vladimir-putin", HOST), ("emmanuel-macron", GUEST)),
        topics=(
            "de-escalation",
            "nato-expansion",
            "minsk-agreements",
            "donbas",
            "european-security-architecture",
            "arms-control",
        ),
        discussion_points=KREMLIN_TALKS_POINTS,
        media=(
            MediaData(
                MediaKind.IMAGE,
                title="Map: Macron's shuttle diplomacy, 7-8 February 2022",
                caption=(
                    "From Moscow, Macron went on to Kyiv and then to Berlin, where the leaders of the Weimar "
                    "Triangle met. A schematic map: the cities are placed by their coordinates."
                ),
                credit=demo_media.CREDIT,
                alt_text=demo_media.SHUTTLE_MAP_ALT,
                draw=demo_media.shuttle_map,
            ),
        ),
        sources=(
            SourceData(
                "Reuters",
                "https://reuters.example.com/world/europe/2022-02-07-macron-putin-kremlin-talks",
                "Macron and Putin hold marathon talks on Ukraine",
                datetime.date(2022, 2, 7),
            ),
            SourceData(
                "Le Monde",
                "https://lemonde.example.fr/international/2022-02-07-macron-poutine-moscou",
                "A Moscou, Emmanuel Macron et Vladimir Poutine discutent de l'Ukraine",
                datetime.date(2022, 2, 7),
            ),
        ),
    ),
    EventData(
        # It began around midnight, Moscow time, right after the talks. Shown to the day only; stored
        # late on the 7th (20:30 UTC, still the 7th in UTC) so it follows the talks on the timeline.
        slug="macron-putin-joint-press-conference",
        kind=EventKind.STATEMENT,
        title="Macron and Putin brief the press after the Kremlin talks",
        summary=(
            "At a joint press conference, both presidents describe the talks as substantial. Putin says some "
            "of Macron's proposals could serve as a basis for further steps; Macron says he will go on to "
            "Kyiv."
        ),
        start=datetime.datetime(2022, 2, 7, 23, 30, tzinfo=MOSCOW_TIME),
        precision=DAY,
        place="moscow",
        participants=(("vladimir-putin", HOST), ("emmanuel-macron", GUEST)),
        topics=("de-escalation", "minsk-agreements"),
        sources=(
            SourceData(
                "France 24",
                "https://france24.example.com/en/europe/20220207-macron-putin-press-conference",
                "Putin and Macron speak to the press after Moscow talks",
                datetime.date(2022, 2, 7),
            ),
        ),
    ),
    EventData(
        slug="macron-meets-zelenskyy-in-kyiv",
        kind=EventKind.VISIT,
        title="Macron meets Zelenskyy in Kyiv",
        summary=(
            "A day after Moscow, Macron briefs Volodymyr Zelenskyy on his talks with Putin, reaffirms France's "
            "support for Ukraine's sovereignty and territorial integrity, and discusses the next steps of the "
            "Normandy format."
        ),
        start=datetime.date(2022, 2, 8),
        precision=DAY,
        place="kyiv",
        participants=(("volodymyr-zelenskyy", HOST), ("emmanuel-macron", GUEST)),
        topics=("de-escalation", "minsk-agreements", "donbas"),
        sources=(
            SourceData(
                "BBC News",
                "https://bbc.example.co.uk/news/world-europe-2022-02-08-macron-kyiv",
                "Macron in Kyiv after talks with Putin",
                datetime.date(2022, 2, 8),
            ),
        ),
    ),
    EventData(
        slug="weimar-triangle-leaders-meet-in-berlin",
        kind=EventKind.MEETING,
        title="Macron, Scholz and Duda meet in Berlin",
        summary=(
            "Back from Kyiv, Macron joins Olaf Scholz and Andrzej Duda for a Weimar Triangle meeting in the "
            "evening. The three leaders say their aim is to prevent a war in Europe."
        ),
        start=datetime.date(2022, 2, 8),
        precision=DAY,
        place="berlin",
        participants=(("olaf-scholz", HOST), ("emmanuel-macron", GUEST), ("andrzej-duda", GUEST)),
        topics=("de-escalation", "european-security-architecture"),
        sources=(
            SourceData(
                "Deutsche Welle",
                "https://dw.example.com/en/2022-02-08-weimar-triangle-berlin",
                "Weimar Triangle leaders meet in Berlin over Ukraine",
                datetime.date(2022, 2, 8),
            ),
        ),
    ),
    EventData(
        slug="normandy-format-advisers-meet-in-berlin",
        kind=EventKind.MULTILATERAL,
        title="Normandy-format advisers hold talks in Berlin",
        summary=(
            "Political advisers from France, Germany, Russia and Ukraine talk for about nine hours in Berlin "
            "on the Minsk agreements. They part without a joint statement."
        ),
        start=datetime.date(2022, 2, 10),
        precision=DAY,
        place="berlin",
        forum="normandy-format",
        participants=(
            ("germany", HOST),
            ("france", PARTICIPANT),
            ("russia", PARTICIPANT),
            ("ukraine", PARTICIPANT),
        ),
        topics=("minsk-agreements", "donbas"),
        media=(
            MediaData(
                MediaKind.IMAGE,
                title="Chart: how long the talks lasted",
                caption=(
                    "The advisers' nine hours in Berlin set against the Kremlin talks and the Biden-Putin call, "
                    "with the lengths as reported."
                ),
                credit=demo_media.CREDIT,
                alt_text=demo_media.TALKS_CHART_ALT,
                draw=demo_media.talks_chart,
            ),
        ),
        sources=(
            SourceData(
                "Reuters",
                "https://reuters.example.com/world/europe/2022-02-10-normandy-format-berlin",
                "Normandy-format talks in Berlin end without breakthrough",
                datetime.date(2022, 2, 10),
            ),
        ),
    ),
    EventData(
        # The Permanent Council meets weekly; we do not claim which session took up the crisis first,
        # so the date is approximate.
        slug="osce-permanent-council-discusses-ukraine",
        kind=EventKind.MULTILATERAL,
        title="OSCE Permanent Council takes up the crisis",
        summary=(
            "In Vienna, the OSCE's participating states discuss the Russian build-up around Ukraine and "
            "the organisation's role in keeping channels open."
        ),
        start=datetime.date(2022, 2, 10),
        precision=APPROXIMATE,
        place="vienna",
        forum="osce-permanent-council",
        participants=(
            ("osce", HOST),
            ("united-states", PARTICIPANT),
            ("russia", PARTICIPANT),
            ("ukraine", PARTICIPANT),
        ),
        topics=("de-escalation", "european-security-architecture"),
        media=(
            MediaData(
                MediaKind.PAGE,
                title="Permanent Council",
                caption="The OSCE's page on the Permanent Council, its weekly body for political dialogue.",
                url="https://www.osce.org/permanent-council",
                outlet="OSCE",
            ),
        ),
        sources=(
            SourceData(
                "OSCE",
                "https://osce.example.org/permanent-council/2022-02",
                "Permanent Council: statements on the situation around Ukraine",
                datetime.date(2022, 2, 10),
            ),
        ),
    ),
    EventData(
        # Biden spoke from Camp David; a call has no single place, so none is set.
        slug="biden-putin-phone-call",
        kind=EventKind.CALL,
        title="Biden and Putin speak by phone",
        summary=(
            "Joe Biden tells Vladimir Putin that an invasion of Ukraine would bring swift and severe costs "
            "for Russia. The call, about an hour long, ends without a breakthrough."
        ),
        start=datetime.date(2022, 2, 12),
        precision=DAY,
        participants=(("joe-biden", PARTICIPANT), ("vladimir-putin", PARTICIPANT)),
        topics=("de-escalation", "sanctions"),
        sources=(
            SourceData(
                "The White House",
                "https://whitehouse.example.gov/briefing-room/2022-02-12-readout-call-putin",
                "Readout of President Biden's call with President Putin",
                datetime.date(2022, 2, 12),
            ),
        ),
    ),
)

# --- What is expected next ------------------------------------------------------------------------
# Their states hold whatever the date: the Kyiv visit is fulfilled, the open-ended one has no due date
# (so it is never overdue), the summit was due in Feb 2022 (so it reads as overdue), and the
# Blinken-Lavrov meeting was called off.

EXPECTATIONS = (
    ExpectationData(
        slug="macron-expected-to-travel-to-kyiv",
        title="Macron is expected to travel to Kyiv to meet Zelenskyy",
        description="After Moscow, Macron is to brief Zelenskyy on the talks and reaffirm France's support.",
        raised_by="macron-putin-talks-in-moscow",
        expected_actors=("emmanuel-macron", "volodymyr-zelenskyy"),
        topics=("de-escalation",),
        due_on=datetime.date(2022, 2, 8),
        due_precision=DAY,
        place="kyiv",
        outcome=("fulfilled_by", "macron-meets-zelenskyy-in-kyiv"),
    ),
    ExpectationData(
        slug="us-eu-osce-step-up-diplomacy",
        title="The US, the EU and the OSCE step up diplomacy in the coming weeks",
        description=(
            "A flurry of diplomatic activity is expected: further meetings between Western leaders and Putin, "
            "and possibly talks between Russia and Ukraine. No date was given."
        ),
        raised_by="macron-putin-talks-in-moscow",
        expected_actors=("united-states", "european-union", "osce"),
        topics=("de-escalation", "european-security-architecture"),
        due_on=None,
    ),
    ExpectationData(
        slug="normandy-format-leaders-summit",
        title="A Normandy-format summit of leaders",
        description=(
            "After the Kyiv visit, a meeting of the French, German, Russian and Ukrainian leaders was hoped "
            "for within weeks, to build on the advisers' talks."
        ),
        raised_by="macron-meets-zelenskyy-in-kyiv",
        expected_actors=("emmanuel-macron", "olaf-scholz", "vladimir-putin", "volodymyr-zelenskyy"),
        topics=("minsk-agreements",),
        due_on=datetime.date(2022, 2, 28),
        due_precision=APPROXIMATE,
    ),
    ExpectationData(
        slug="blinken-lavrov-meeting",
        title="Blinken and Lavrov meet in Europe",
        description=(
            "The US Secretary of State agreed to meet the Russian Foreign Minister in Europe in the last "
            "week of February, provided Russia did not invade. Washington called the meeting off."
        ),
        raised_by=None,
        expected_actors=("antony-blinken", "sergei-lavrov"),
        topics=("de-escalation",),
        due_on=datetime.date(2022, 2, 24),
        due_precision=APPROXIMATE,
        outcome=("cancelled", None),
        sources=(
            SourceData(
                "Associated Press",
                "https://apnews.example.com/article/2022-02-22-blinken-cancels-lavrov-meeting",
                "Blinken calls off meeting with Lavrov",
                datetime.date(2022, 2, 22),
            ),
        ),
    ),
)
