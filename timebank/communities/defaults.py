"""What a new community starts with: the services the neighbourhood cooperatives offer."""

DEFAULT_CATEGORIES = [
    ("cooking", "Cooking and catering", "Koken en catering"),
    ("cleaning", "Cleaning", "Schoonmaken"),
    ("garden", "Garden and green", "Tuin en groen"),
    ("bikes", "Bike repair", "Fietsen maken"),
    ("sewing", "Sewing", "Naaien"),
    ("hair", "Hair", "Haar knippen"),
    ("car-washing", "Car washing", "Auto wassen"),
    ("repairs", "Odd jobs and repairs", "Klussen en reparaties"),
    ("childcare", "Childcare", "Kinderopvang"),
    ("elderly", "Company and care for elderly people", "Gezelschap en zorg voor ouderen"),
    ("homework", "Homework help", "Huiswerkhulp"),
    ("language", "Language help", "Taalhulp"),
    ("computers", "Computer help", "Computerhulp"),
    ("design", "Design and video", "Ontwerp en video"),
    ("lending", "Lending things and books", "Spullen en boeken lenen"),
]
