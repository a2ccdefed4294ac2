"""The demo chain's fixed catalogue: services, products, plans, names and places.

Prices follow what US med spas charge (neurotoxin about $12–14 a unit, filler $650–800 a
syringe); unit costs are set so the chain's gross margin lands in the 70–80 % band.
Everything personal is synthetic: example.* e-mail domains and 555 phone numbers.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Service:
    service_id: str
    name: str
    category: str
    duration_min: int
    list_price: float  # per unit for neurotoxin and filler, per session otherwise
    device_type: str | None
    units: tuple[int, int]  # quantity range on the invoice line
    unit_cost: float  # consumable cost per unit
    gap_days: int  # typical days until the patient's next visit of this kind


SERVICES: tuple[Service, ...] = (
    Service("SVC-CONS", "Aesthetic consultation", "consultation", 30, 0.0, None, (1, 1), 0.0, 14),
    Service(
        "SVC-CONSB", "Body contouring consultation", "consultation", 30, 50.0, None, (1, 1), 0.0, 14
    ),
    Service("SVC-BTX", "Neurotoxin (Botox)", "neurotoxin", 30, 13.5, None, (20, 60), 4.2, 100),
    Service("SVC-XEO", "Neurotoxin (Xeomin)", "neurotoxin", 30, 12.0, None, (20, 50), 3.8, 100),
    Service("SVC-FILL", "Dermal filler, lips", "filler", 60, 725.0, None, (1, 2), 210.0, 200),
    Service("SVC-FILC", "Dermal filler, cheeks", "filler", 60, 795.0, None, (1, 3), 230.0, 220),
    Service("SVC-LHR", "Laser hair removal", "laser", 45, 250.0, "laser", (1, 1), 18.0, 35),
    Service("SVC-LRS", "Laser resurfacing", "laser", 60, 950.0, "laser", (1, 1), 60.0, 60),
    Service("SVC-IPL", "IPL photofacial", "laser", 45, 375.0, "ipl", (1, 1), 25.0, 40),
    Service(
        "SVC-BOD",
        "Body contouring session",
        "body_contouring",
        60,
        750.0,
        "body_contouring",
        (1, 1),
        90.0,
        30,
    ),
    Service(
        "SVC-RFM",
        "RF microneedling",
        "skin_treatment",
        60,
        650.0,
        "rf_microneedling",
        (1, 1),
        55.0,
        35,
    ),
    Service("SVC-PEEL", "Chemical peel", "skin_treatment", 45, 195.0, None, (1, 1), 22.0, 40),
    Service("SVC-HYD", "HydraFacial", "facial", 60, 199.0, None, (1, 1), 28.0, 35),
    Service("SVC-FAC", "Signature facial", "facial", 60, 150.0, None, (1, 1), 18.0, 40),
)

#: Weight of each service as a first visit of a new patient (consultations lead the way).
FIRST_VISIT_WEIGHTS = (24, 6, 18, 6, 6, 3, 6, 2, 4, 5, 3, 4, 7, 6)
#: Weight of each service for a returning patient choosing something new.
RETURN_WEIGHTS = (2, 1, 26, 9, 8, 5, 9, 3, 5, 6, 4, 5, 9, 8)

#: product_id, sku, name, type, category, unit_cost, retail_price
PRODUCTS: tuple[tuple[str, str, str, str, str, float, float], ...] = (
    ("PRD-SPF", "SKN-1001", "Mineral SPF 46", "retail", "sunscreen", 17.0, 42.0),
    ("PRD-SER", "SKN-1002", "Vitamin C serum", "retail", "serum", 38.0, 98.0),
    ("PRD-RET", "SKN-1003", "Retinol night cream", "retail", "moisturizer", 31.0, 84.0),
    ("PRD-HYA", "SKN-1004", "Hyaluronic hydrating gel", "retail", "moisturizer", 24.0, 64.0),
    ("PRD-CLN", "SKN-1005", "Gentle cleanser", "retail", "cleanser", 12.0, 34.0),
    ("PRD-LSH", "SKN-1006", "Lash growth serum", "retail", "serum", 55.0, 145.0),
    ("PRD-BTXU", "CON-2001", "Botulinum toxin, 1 unit", "consumable", "neurotoxin", 4.2, 0.0),
    ("PRD-XEOU", "CON-2002", "Incobotulinum toxin, 1 unit", "consumable", "neurotoxin", 3.8, 0.0),
    ("PRD-HASY", "CON-2003", "Hyaluronic filler syringe", "consumable", "filler", 220.0, 0.0),
    ("PRD-TIPS", "CON-2004", "Laser tips and gel", "consumable", "laser", 22.0, 0.0),
    ("PRD-APPL", "CON-2005", "Contouring applicator", "consumable", "body_contouring", 90.0, 0.0),
)
RETAIL_PRODUCTS = tuple(i for i, p in enumerate(PRODUCTS) if p[3] == "retail")
RETAIL_WEIGHTS = (30, 18, 15, 17, 14, 6)

#: plan_id, name, price, billing_period_months, share of joiners
PLANS: tuple[tuple[str, str, float, int, float], ...] = (
    ("PLN-GLOW-M", "Glow Club monthly", 129.0, 1, 0.62),
    ("PLN-GLOW-Q", "Glow Club quarterly", 359.0, 3, 0.24),
    ("PLN-GLOW-A", "Glow Club annual", 1290.0, 12, 0.14),
)

LEAD_CHANNELS = ("web_form", "instagram", "phone", "google_business_profile", "referral", "walk_in")
LEAD_CHANNEL_WEIGHTS = (35, 24, 15, 13, 8, 5)
#: Appointment booking channel a lead's first booking uses, per lead channel.
LEAD_BOOKING_CHANNEL = ("online", "instagram", "phone", "online", "phone", "in_person")
BOOKING_CHANNELS = ("phone", "online", "in_person", "sms", "instagram", "other")
DIRECT_ACQUISITION = ("web_form", "referral", "walk_in", "other", None)
DIRECT_ACQUISITION_WEIGHTS = (38, 30, 10, 12, 10)
#: spend channel, campaign, mean daily amount per location, first month, last month active
CAMPAIGNS: tuple[tuple[str, str, float, int, int], ...] = (
    ("web_form", "google_search_brand", 95.0, 1, 12),
    ("web_form", "google_search_injectables", 160.0, 1, 12),
    ("instagram", "ig_always_on", 120.0, 1, 12),
    ("instagram", "ig_summer_body", 150.0, 4, 7),
    ("instagram", "ig_holiday_glow", 140.0, 11, 12),
    ("google_business_profile", "gbp_local_ads", 45.0, 1, 12),
    ("referral", "refer_a_friend", 20.0, 1, 12),
)

TIMEZONES = (
    "America/Los_Angeles",
    "America/New_York",
    "America/Chicago",
    "America/Denver",
    "America/Phoenix",
)
CITIES = (
    "San Francisco",
    "Brooklyn",
    "Chicago",
    "Denver",
    "Scottsdale",
    "Los Angeles",
    "Boston",
    "Austin",
    "Boulder",
    "Tucson",
    "San Diego",
    "Miami",
    "Dallas",
    "Salt Lake City",
    "Tempe",
    "Oakland",
    "Philadelphia",
    "Houston",
    "Fort Collins",
    "Mesa",
)
#: Area codes for the synthetic 555 numbers (no real subscriber uses 555-01xx… style lines).
AREA_CODES = (
    "415",
    "212",
    "312",
    "303",
    "480",
    "310",
    "617",
    "512",
    "720",
    "520",
    "619",
    "305",
    "214",
    "801",
    "602",
    "510",
    "215",
    "713",
    "970",
    "623",
    "408",
    "718",
    "773",
    "719",
    "928",
    "323",
    "781",
    "737",
    "303",
    "909",
    "858",
    "786",
    "469",
    "385",
    "623",
    "650",
    "347",
    "630",
    "541",
    "702",
    "206",
    "425",
    "253",
    "360",
    "503",
    "971",
    "916",
    "707",
    "925",
    "831",
    "559",
    "661",
    "805",
    "760",
    "951",
    "949",
    "714",
    "562",
    "626",
    "818",
)
ZIP3 = ("941", "112", "606", "802", "852", "900", "021", "787", "803", "857")

FIRST_NAMES_F = (
    "Emma",
    "Olivia",
    "Ava",
    "Sophia",
    "Mia",
    "Isabella",
    "Harper",
    "Amelia",
    "Ella",
    "Grace",
    "Chloe",
    "Zoe",
    "Nora",
    "Lily",
    "Hannah",
    "Layla",
    "Aria",
    "Riley",
    "Maya",
    "Elena",
    "Sofia",
    "Camila",
    "Leah",
    "Priya",
    "Aisha",
    "Mei",
    "Yuki",
    "Jasmine",
    "Rachel",
    "Megan",
    "Lauren",
    "Natalie",
    "Brooke",
    "Julia",
    "Dana",
)
FIRST_NAMES_M = (
    "James",
    "Liam",
    "Noah",
    "Ethan",
    "Lucas",
    "Mason",
    "Daniel",
    "Matthew",
    "David",
    "Ryan",
    "Carlos",
    "Raj",
    "Kenji",
    "Omar",
    "Marcus",
)
LAST_NAMES = (
    "Smith",
    "Johnson",
    "Williams",
    "Brown",
    "Jones",
    "Garcia",
    "Miller",
    "Davis",
    "Rodriguez",
    "Martinez",
    "Hernandez",
    "Lopez",
    "Gonzalez",
    "Wilson",
    "Anderson",
    "Thomas",
    "Taylor",
    "Moore",
    "Jackson",
    "Martin",
    "Lee",
    "Perez",
    "Thompson",
    "White",
    "Harris",
    "Sanchez",
    "Clark",
    "Ramirez",
    "Lewis",
    "Robinson",
    "Walker",
    "Young",
    "Allen",
    "King",
    "Wright",
    "Scott",
    "Torres",
    "Nguyen",
    "Hill",
    "Flores",
    "Green",
    "Adams",
    "Nelson",
    "Baker",
    "Hall",
    "Rivera",
    "Campbell",
    "Mitchell",
    "Carter",
    "Roberts",
    "Patel",
    "Kim",
    "Chen",
    "Singh",
    "Cohen",
    "Murphy",
    "Reyes",
    "Shah",
)
EMAIL_DOMAINS = ("example.com", "example.org", "example.net")
