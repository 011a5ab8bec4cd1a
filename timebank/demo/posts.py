"""Demo market: offers and requests in every category, in Dutch and English, spread over the demo
months, some paused, closed or expired, as in a real neighbourhood. Bulk-inserted: 20,000 posts
take seconds."""

from datetime import timedelta

import sqlalchemy as sa
from flask import current_app

from timebank.extensions import db
from timebank.market.models import DAY_PARTS, DAYS, Post
from timebank.members.models import Member, member_skills

POSTS_PER_MEMBER = 4

# category key: {(kind, language): [(title, description), ...]}
TEXTS = {
    "cooking": {
        ("offer", "en"): [
            ("Home-cooked soup for two evenings", "Lentil or chicken soup, made fresh. I bring it to your door."),
            ("I cook for your party", "Moroccan dishes for up to 20 people. I shop and cook, you enjoy."),
        ],
        ("offer", "nl"): [
            ("Verse soep voor twee avonden", "Linzensoep of kippensoep, vers gemaakt. Ik breng het langs."),
            ("Ik kook voor jouw feestje", "Surinaamse hapjes voor een verjaardag of buurtfeest."),
        ],
        ("request", "en"): [
            (
                "Meals for my father after his operation",
                "He lives alone and cannot stand long in the kitchen for a few weeks.",
            ),
            ("Someone to teach me to bake bread", "I would love to learn baking bread with sourdough."),
        ],
        ("request", "nl"): [
            ("Maaltijden voor mijn moeder", "Ze is herstellende en kan een paar weken niet zelf koken."),
            ("Hulp bij koken voor het buurtfeest", "We zoeken twee mensen die mee willen koken voor 40 buren."),
        ],
    },
    "cleaning": {
        ("offer", "en"): [
            ("Cleaning help, two hours a week", "Kitchen, bathroom, vacuuming. I bring my own cloths."),
            ("Spring cleaning together", "Windows, cupboards, the lot. Many hands make light work."),
        ],
        ("offer", "nl"): [
            ("Hulp bij schoonmaken", "Keuken, badkamer en stofzuigen. Twee uur per week."),
            ("Ramen lappen", "Binnen en buiten, tot de eerste verdieping."),
        ],
        ("request", "en"): [
            ("Help cleaning after moving out", "The flat must be clean before the key goes back on Friday."),
            ("Someone to clean my windows", "I cannot climb the ladder any more."),
        ],
        ("request", "nl"): [
            ("Schoonmaakhulp na verhuizing", "De oude woning moet schoon worden opgeleverd."),
            ("Wie helpt met de grote schoonmaak?", "Kasten en keuken, ik doe zelf mee."),
        ],
    },
    "garden": {
        ("offer", "en"): [
            ("Mowing lawns and trimming hedges", "I have my own mower and shears."),
            ("Help in your garden", "Weeding, planting, tidying up before winter."),
        ],
        ("offer", "nl"): [
            ("Gras maaien en heg knippen", "Eigen grasmaaier en heggenschaar."),
            ("Tuinhulp voor het voorjaar", "Onkruid wieden, planten zetten, de tuin winterklaar maken."),
        ],
        ("request", "en"): [
            ("Help with my overgrown garden", "The hedge is taller than me. Tools are here."),
            ("Someone to water my plants", "Two weeks in August while I visit family."),
        ],
        ("request", "nl"): [
            ("Hulp bij mijn tuin", "De tuin is verwilderd; gereedschap is er."),
            ("Planten water geven in de vakantie", "Twee weken in juli, het zijn er veel."),
        ],
    },
    "bikes": {
        ("offer", "en"): [
            ("Bike repair: flat tyres, brakes, lights", "Bring your bike on Saturday morning; I fix most things."),
            ("I check your bike before winter", "Lights, brakes, chain and tyres."),
        ],
        ("offer", "nl"): [
            ("Fietsen maken: lekke band, remmen, licht", "Kom zaterdagochtend langs met je fiets."),
            ("Fietsenmaker in de buurt", "Ik repareer fietsen en kinderfietsen."),
        ],
        ("request", "en"): [
            ("My bike has a flat tyre", "Back tyre, and the chain makes a noise."),
            ("Help fixing my children's bikes", "Two small bikes with broken brakes."),
        ],
        ("request", "nl"): [
            ("Lekke band op mijn fiets", "Achterband, ik heb zelf geen gereedschap."),
            ("Wie kan mijn fietsen nakijken?", "Remmen en verlichting van twee fietsen."),
        ],
    },
    "sewing": {
        ("offer", "en"): [
            ("Sewing and mending clothes", "Hems, zips and small repairs."),
            ("Sewing lessons for beginners", "Learn to use a sewing machine in three evenings."),
        ],
        ("offer", "nl"): [
            ("Kleding herstellen en vermaken", "Zomen, ritsen en kleine reparaties."),
            ("Naailes voor beginners", "In drie avonden leer je werken met de naaimachine."),
        ],
        ("request", "en"): [
            ("Curtains need shortening", "Four curtains for the living room."),
            ("Someone to repair my coat", "The zip is broken and a pocket is torn."),
        ],
        ("request", "nl"): [
            ("Gordijnen korter maken", "Vier gordijnen voor de woonkamer."),
            ("Rits in mijn jas vervangen", "De rits is kapot."),
        ],
    },
    "hair": {
        ("offer", "en"): [
            ("Haircuts at home", "For women, men and children. I come to you."),
            ("Braiding and hair styling", "Braids for parties and school."),
        ],
        ("offer", "nl"): [
            ("Haar knippen aan huis", "Voor dames, heren en kinderen."),
            ("Vlechten en kapsels", "Mooie vlechten voor een feest of school."),
        ],
        ("request", "en"): [
            ("Haircut for my mother at home", "She cannot go out easily."),
            ("Someone to cut my boys' hair", "Three boys, short and simple."),
        ],
        ("request", "nl"): [
            ("Kapper aan huis voor oma", "Ze komt moeilijk de deur uit."),
            ("Haar knippen voor de kinderen", "Drie jongens, gewoon kort."),
        ],
    },
    "car-washing": {
        ("offer", "en"): [
            ("I wash your car", "Inside and outside, with my own buckets and soap."),
            ("Car cleaning on Sundays", "Vacuuming and washing."),
        ],
        ("offer", "nl"): [
            ("Ik was je auto", "Binnen en buiten, met eigen emmers en spons."),
            ("Auto poetsen op zondag", "Stofzuigen en wassen."),
        ],
        ("request", "en"): [
            ("Car wash before a wedding", "It must shine on Saturday!"),
            ("Someone to clean my van", "After a move it is full of sand."),
        ],
        ("request", "nl"): [
            ("Auto wassen voor een bruiloft", "Zaterdag moet hij glimmen!"),
            ("Bus schoonmaken", "Na de verhuizing ligt er veel zand in."),
        ],
    },
    "repairs": {
        ("offer", "en"): [
            ("Odd jobs: shelves, lamps, small repairs", "I have a drill and most tools."),
            ("Repair café helper", "I fix toasters, lamps and radios."),
        ],
        ("offer", "nl"): [
            ("Klussen: planken, lampen, kleine reparaties", "Ik heb een boormachine en gereedschap."),
            ("Reparaties in huis", "Lekkende kraan, klemmende deur: ik kijk ernaar."),
        ],
        ("request", "en"): [
            ("Help putting up shelves", "Three shelves in the kitchen; I have the shelves."),
            ("Dripping tap in the kitchen", "It drips day and night."),
        ],
        ("request", "nl"): [
            ("Hulp bij planken ophangen", "Drie planken in de keuken."),
            ("Lekkende kraan maken", "De kraan in de keuken druppelt."),
        ],
    },
    "childcare": {
        ("offer", "en"): [
            ("Babysitting in the evening", "Experienced mother of three."),
            ("Picking up children from school", "Monday to Thursday, I walk there anyway."),
        ],
        ("offer", "nl"): [
            ("Oppassen in de avond", "Ervaren moeder van drie kinderen."),
            ("Kinderen ophalen van school", "Maandag tot en met donderdag."),
        ],
        ("request", "en"): [
            ("Babysitter for Friday evenings", "Two children, 4 and 7 years old."),
            ("Someone to bring my son to football", "Wednesday afternoon, 15 minutes walk."),
        ],
        ("request", "nl"): [
            ("Oppas gezocht voor vrijdagavond", "Twee kinderen van 4 en 7 jaar."),
            ("Wie brengt mijn zoon naar voetbal?", "Woensdagmiddag, kwartier lopen."),
        ],
    },
    "elderly": {
        ("offer", "en"): [
            ("Company and a cup of tea", "I visit older neighbours for a chat or a walk."),
            ("Shopping for older neighbours", "I do your groceries once a week."),
        ],
        ("offer", "nl"): [
            ("Gezelschap en een kopje koffie", "Ik kom langs voor een praatje of een wandeling."),
            ("Boodschappen doen voor ouderen", "Eén keer per week doe ik je boodschappen."),
        ],
        ("request", "en"): [
            ("Company for my grandmother", "She would love someone to talk to on Tuesdays."),
            ("Someone to go to the doctor with my father", "He needs help with the Dutch."),
        ],
        ("request", "nl"): [
            ("Gezelschap voor mijn oma", "Ze zou graag op dinsdag iemand spreken."),
            ("Mee naar de huisarts", "Mijn vader heeft hulp nodig met de taal."),
        ],
    },
    "homework": {
        ("offer", "en"): [
            ("Homework help: maths and English", "For primary and secondary school."),
            ("Help preparing for exams", "I was a teacher for twenty years."),
        ],
        ("offer", "nl"): [
            ("Huiswerkhulp rekenen en wiskunde", "Voor basisschool en middelbare school."),
            ("Bijles voor de eindexamens", "Ik was twintig jaar docent."),
        ],
        ("request", "en"): [
            ("Maths help for my daughter", "Second year of secondary school."),
            ("Homework help after school", "Two afternoons a week."),
        ],
        ("request", "nl"): [
            ("Hulp bij wiskunde voor mijn dochter", "Tweede klas van de middelbare school."),
            ("Huiswerkbegeleiding na school", "Twee middagen per week."),
        ],
    },
    "language": {
        ("offer", "en"): [
            ("Practise Dutch with me", "Speaking and reading, at your own pace."),
            ("Arabic lessons for children", "Reading and writing, on Saturdays."),
        ],
        ("offer", "nl"): [
            ("Nederlands oefenen", "Praten en lezen, in je eigen tempo."),
            ("Hulp bij brieven van de gemeente", "Ik lees mee en leg uit wat er staat."),
        ],
        ("request", "en"): [
            ("Someone to practise Dutch with", "I have my exam in three months."),
            ("Help with a letter from the council", "I do not understand what they want."),
        ],
        ("request", "nl"): [
            ("Wie oefent Nederlands met mij?", "Over drie maanden heb ik mijn examen."),
            ("Hulp bij het lezen van brieven", "Ik begrijp de brieven van de gemeente niet goed."),
        ],
    },
    "computers": {
        ("offer", "en"): [
            ("Computer and phone help", "Email, apps, online banking, video calls."),
            ("I set up your new laptop", "Installing, backups, printer."),
        ],
        ("offer", "nl"): [
            ("Hulp met computer en telefoon", "E-mail, apps, DigiD, beeldbellen."),
            ("Nieuwe laptop instellen", "Installeren, back-ups en de printer."),
        ],
        ("request", "en"): [
            ("Help with my new phone", "I want to make video calls with my family."),
            ("My printer does not work", "The computer cannot find the printer."),
        ],
        ("request", "nl"): [
            ("Hulp met mijn nieuwe telefoon", "Ik wil beeldbellen met mijn familie."),
            ("Printer doet het niet", "De computer vindt de printer niet."),
        ],
    },
    "design": {
        ("offer", "en"): [
            ("Flyers and posters for your event", "I design them and print a few."),
            ("Filming and editing short videos", "For a birthday or your small business."),
        ],
        ("offer", "nl"): [
            ("Flyers en posters ontwerpen", "Voor je feest of activiteit."),
            ("Filmpjes maken en monteren", "Voor een verjaardag of je bedrijfje."),
        ],
        ("request", "en"): [
            ("A logo for our cooking club", "Something simple and cheerful."),
            ("Someone to film our neighbourhood party", "Saturday afternoon in the park."),
        ],
        ("request", "nl"): [
            ("Logo voor onze kookclub", "Iets eenvoudigs en vrolijks."),
            ("Wie filmt ons buurtfeest?", "Zaterdagmiddag in het park."),
        ],
    },
    "lending": {
        ("offer", "en"): [
            ("Lending my drill and ladder", "Bring them back within a week."),
            ("Children's books to borrow", "A full box, Dutch and English."),
        ],
        ("offer", "nl"): [
            ("Boormachine en ladder te leen", "Graag binnen een week terug."),
            ("Kinderboeken lenen", "Een volle doos, Nederlands en Engels."),
        ],
        ("request", "en"): [
            ("Can I borrow a sewing machine?", "For one weekend."),
            ("Looking for a tent to borrow", "For a camping weekend with the kids."),
        ],
        ("request", "nl"): [
            ("Naaimachine lenen", "Voor één weekend."),
            ("Tent te leen gezocht", "Voor een kampeerweekend met de kinderen."),
        ],
    },
}

# Things given away for free (the give-away shop), by category key.
GIFTS = {
    "en": [
        ("lending", "Free: baby stroller", "Still in good shape; our youngest walks now."),
        ("lending", "Box of children's books to give away", "Picture books and first readers."),
        ("garden", "Tomato plants to give away", "I grew too many. Take a few!"),
        ("sewing", "Fabric and wool, free", "Left over from my sewing projects."),
        ("childcare", "Baby clothes, size 56-68", "A big bag, washed and folded."),
        ("repairs", "Old tools to give away", "Hammers, screwdrivers and a saw."),
    ],
    "nl": [
        ("lending", "Kinderwagen te geef", "Nog goed; onze jongste loopt nu zelf."),
        ("lending", "Doos kinderboeken weg te geven", "Prentenboeken en eerste leesboekjes."),
        ("garden", "Tomatenplantjes te geef", "Ik heb er te veel gezaaid. Neem er een paar!"),
        ("sewing", "Stof en wol gratis", "Over van mijn naaiprojecten."),
        ("childcare", "Babykleertjes maat 56-68", "Een grote tas, gewassen en gevouwen."),
        ("repairs", "Oud gereedschap te geef", "Hamers, schroevendraaiers en een zaag."),
    ],
}

EXTRA = {
    "en": [
        "",
        "Just ask if you have questions.",
        "I have done this for years.",
        "No rush.",
        "It would help me a lot.",
        "I speak Dutch, English and Turkish.",
    ],
    "nl": [
        "",
        "Vraag gerust als je vragen hebt.",
        "Ik doe dit al jaren.",
        "Geen haast.",
        "Het zou me erg helpen.",
        "Ik spreek Nederlands, Arabisch en Engels.",
    ],
}
NOTES = {
    "en": ["", "", "after 3 pm", "weekends only", "not in August"],
    "nl": ["", "", "na 15.00 uur", "alleen in het weekend", "niet in augustus"],
}
# What a note allows of the chosen days and parts of the day: "weekends only" beside "Monday" reads
# as a mistake.
NOTE_ALLOWS = {2: (DAYS, ("afternoon", "evening")), 3: (("sat", "sun"), DAY_PARTS)}
MINUTES = [None, 30, 45, 60, 60, 90, 120, 120, 180, 240]
MODERATION_REASONS = [
    "Selling for money is not allowed in the time bank.",
    "Verkopen voor geld past niet in de tijdbank.",
]


def _one_of_each_on_the_market(rows: list[dict]) -> None:
    """The texts are few: of posts that read the same, only the newest stays on the market; the
    older ones were closed by their owners (helped already), as old posts are."""
    seen = set()
    for row in reversed(rows):
        if row["status"] in ("active", "paused"):
            if row["title"] in seen:
                row.update(status="closed", closed_by_id=row["owner_id"])
            seen.add(row["title"])


def seed_posts(ctx, per_member: int = POSTS_PER_MEMBER) -> None:
    """About `per_member` posts for every member, by active members, over the demo period."""
    rng, now = ctx.rng, ctx.now
    weeks = timedelta(weeks=ctx.community.post_expiry_weeks)
    categories = {c.key: c.id for c in ctx.community.categories}
    owners = db.session.execute(
        sa.select(Member.id, Member.area_id, Member.locale, Member.created_at)
        .where(Member.community_id == ctx.community.id, Member.status == "active")
        .order_by(Member.id)
    ).all()
    skills = {}
    # In a fixed order: PostgreSQL returns an unordered query's rows as they lie on disk, which
    # differs after rows were deleted, and the random choices below must not depend on that.
    pairs = sa.select(member_skills.c.member_id, member_skills.c.category_id).order_by(
        member_skills.c.member_id, member_skills.c.category_id
    )
    for member_id, category_id in db.session.execute(pairs):
        skills.setdefault(member_id, []).append(category_id)
    by_category = {
        (key, kind, language): texts for key, table in TEXTS.items() for (kind, language), texts in table.items()
    }
    keys = list(TEXTS)
    default_language = current_app.config["BABEL_DEFAULT_LOCALE"]

    rows = []
    for _ in range(per_member * len(ctx.member_ids)):
        owner = rng.choice(owners)
        language = owner.locale or default_language  # everyone writes in their own language
        kind = "offer" if rng.random() < 0.55 else "request"
        is_gift = kind == "offer" and rng.random() < 0.08
        if is_gift:
            key, title, description = rng.choice(GIFTS[language])
            category_id = categories[key]
        else:
            key = rng.choice(keys)
            category_id = categories[key]
            if kind == "offer" and owner.id in skills and rng.random() < 0.6:
                category_id = rng.choice(skills[owner.id])
                key = next(k for k, v in categories.items() if v == category_id)
            title, description = rng.choice(by_category[(key, kind, language)])
        description = f"{description} {rng.choice(EXTRA[language])}".strip()
        created = max(ctx.moment_in_range(), owner.created_at)
        days = sorted(rng.sample(DAYS, rng.randint(0, 3)), key=DAYS.index)
        parts = sorted(rng.sample(DAY_PARTS, rng.randint(0, 2)), key=DAY_PARTS.index)
        note = rng.randrange(len(NOTES[language]))
        allowed_days, allowed_parts = NOTE_ALLOWS.get(note, (DAYS, DAY_PARTS))
        row = dict(
            community_id=ctx.community.id,
            owner_id=owner.id,
            kind=kind,
            title=title,
            description=description,
            category_id=category_id,
            minutes=0 if is_gift else rng.choice(MINUTES),
            is_gift=is_gift,
            available_days=[day for day in days if day in allowed_days],
            available_parts=[part for part in parts if part in allowed_parts],
            available_note=NOTES[language][note],
            area_id=owner.area_id if rng.random() < 0.8 else None,
            image_id=None,
            status="active",
            closed_reason="",
            closed_by_id=None,
            created_at=created,
            updated_at=created,
            expires_at=created + weeks,
            reminded_at=None,
        )
        fate = rng.random()
        if fate < 0.003 and ctx.coordinator_ids:
            row.update(
                status="closed",
                closed_by_id=rng.choice(ctx.coordinator_ids),
                closed_reason=rng.choice(MODERATION_REASONS),
            )
        elif fate < 0.10:
            row.update(status="closed", closed_by_id=owner.id)
        elif fate < 0.14:
            row.update(status="paused")
        if row["status"] != "closed" and row["expires_at"] <= now:
            if rng.random() < 0.15:
                row["expires_at"] = now + timedelta(days=rng.randint(1, 55))
            else:
                row["status"] = "expired"
        if row["status"] != "closed" and now < row["expires_at"] <= now + timedelta(days=7):
            row["reminded_at"] = row["expires_at"] - timedelta(days=7)
        rows.append(row)
    rows.sort(key=lambda r: r["created_at"])
    _one_of_each_on_the_market(rows)
    db.session.execute(sa.insert(Post.__table__), rows)  # Core: one executemany, not one per row shape
