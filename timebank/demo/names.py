"""Names and places for the demo neighbourhood, as mixed as a real one."""

FIRST_NAMES = [
    "Fatima",
    "Mohammed",
    "Anouk",
    "Jan",
    "Ayşe",
    "Mehmet",
    "Priya",
    "Sanne",
    "Daan",
    "Yasmina",
    "Karim",
    "Wilma",
    "Henk",
    "Latifa",
    "Ahmed",
    "Esra",
    "Emre",
    "Lotte",
    "Bram",
    "Naima",
    "Rachid",
    "Ingrid",
    "Gerard",
    "Soraya",
    "Tamara",
    "Kofi",
    "Ama",
    "Marek",
    "Agnieszka",
    "Olena",
    "Dmytro",
    "Samira",
    "Youssef",
    "Hanneke",
    "Kees",
    "Zeynep",
    "Hüseyin",
    "Shanti",
    "Rajesh",
    "Marloes",
    "Ruud",
    "Nadia",
    "Omar",
    "Aisha",
    "Tesfay",
    "Selam",
    "Farah",
    "Bilal",
    "Johanna",
    "Pieter",
    "Chantal",
    "Glenn",
    "Roshni",
    "Ilse",
    "Willem",
    "Hatice",
    "Osman",
    "Meryem",
    "Lina",
    "Sven",
    "Ans",
    "Truus",
    "Dewi",
    "Ravi",
    "Noor",
    "Amir",
    "Sofia",
    "Milan",
    "Elif",
    "Joris",
]

LAST_NAMES = [
    "de Vries",
    "Jansen",
    "El Amrani",
    "Yılmaz",
    "Bakker",
    "Visser",
    "Boukhari",
    "Kaya",
    "Smit",
    "Meijer",
    "Ramdin",
    "Mulder",
    "de Boer",
    "Öztürk",
    "Bouzid",
    "Kowalski",
    "Nowak",
    "Dekker",
    "Haddou",
    "Brouwer",
    "Demir",
    "Mensah",
    "Asante",
    "Kuipers",
    "Hoekstra",
    "Shevchenko",
    "Tesfaye",
    "Ali",
    "Hassan",
    "van Dijk",
    "Çelik",
    "Sewnarain",
    "Vermeulen",
    "Postma",
    "Benali",
]

AREAS = ["Centrum", "Noord", "Oost", "Het Park", "De Akkers", "Rond de kerk", "Bij het station"]

# In each member's own language; the demo logins (None) follow the browser, and write Dutch.
BIOS = {
    "en": [
        "I like to help my neighbours and meet new people.",
        "Mother of three. I love cooking for many people.",
        "Student. Good with computers and phones.",
        "Retired nurse. Happy to keep someone company.",
        "",
    ],
    "nl": [
        "Ik woon hier al twintig jaar en ken iedereen in de straat.",
        "Gepensioneerd, veel tijd en twee handige handen.",
        "Ik spreek Nederlands, Arabisch en een beetje Engels.",
        "Ik fiets overal heen en repareer ook graag fietsen.",
        "",
    ],
}
BIOS[None] = BIOS["nl"]

LANGUAGES = ["nl", "en", "ar", "tr", "pl", "uk", "ti", "so", "pap", "srn"]

DESCRIPTION = "Buren helpen buren: een uur hulp is een uur terug, wat je ook doet."

# The community's texts for newcomers, in both languages of the demo.
TEXTS = {
    "house_rules": {
        "nl": """Iedereen is welkom en ieder uur is even veel waard.
Kom je afspraken na. Kun je niet? Zeg het op tijd.
Geen geld: we ruilen alleen tijd.
Wees vriendelijk en respecteer elkaars privacy.
Gaat er iets mis? Vertel het een coördinator.""",
        "en": """Everyone is welcome and every hour is worth the same.
Keep your appointments. Cannot make it? Say so in time.
No money: we only exchange time.
Be kind and respect each other's privacy.
Something wrong? Tell a coordinator.""",
    },
    "join_question": {
        "nl": "In welk deel van de buurt woon je?",
        "en": "Which part of the neighbourhood do you live in?",
    },
    "contact": {
        "nl": "Bel Karim op 020 123 4567 (doordeweeks 10–16 uur) of kom dinsdagochtend langs in het buurthuis.",
        "en": "Call Karim on 020 123 4567 (weekdays 10–16) or drop in at the community centre on Tuesday mornings.",
    },
}

MOTIVATIONS = {
    "nl": [
        "Ik woon hier sinds kort en wil mijn buren leren kennen. Ik kan goed koken.",
        "Ik ben met pensioen en heb tijd over. Ik klus graag.",
        "Mijn buurvrouw vertelde over de tijdbank. Ik kan oppassen en boodschappen doen.",
    ],
    "en": [
        "I just moved here. I can help with computers and English homework.",
        "A neighbour told me about the time bank. I can look after children and do shopping.",
    ],
}

DEMO_PASSWORD = "timebank-demo"

# The people a newcomer logs in as; the rest of the neighbourhood is generated.
DEMO_PEOPLE = [
    ("admin@example.org", "Annemarie Coördinator", "coordinator", True),
    ("coordinator@example.org", "Karim Coördinator", "coordinator", False),
    ("fatima@example.org", "Fatima El Amrani", "member", False),
    ("jan@example.org", "Jan de Vries", "member", False),
]
