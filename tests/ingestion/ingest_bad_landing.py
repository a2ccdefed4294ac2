"""One landing folder holding every kind of bad input the contract names (hand-checked).

Kept apart from the tests so the CLI test can load the very same folder.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
from ingest_fixtures import appointment, csv_text, header, location, write

#: PHI values that appear in rejected rows; no message may ever contain them.
PHI_VALUES = ("Zelda", "Quux", "zelda.quux@example.com", "+1 415 555 0199", "Josè", "Private Pat")

E = "2026-11-20"
TS = "2026-11-01T00:00:00Z"


def build(landing: Path) -> None:
    write(
        landing,
        f"pms/locations/{E}.csv",
        csv_text(
            header("pms.locations"),
            [
                location("L1", "Glow One", TS),
                location("L2", "Glow Two", TS, opened_on="2026-13-45"),
                location(None, "No Key", TS),
                location("L4", "Glow Four", TS, timezone="Mars/Olympus_Mons"),
                location("L5", "Glow Five", TS, timezone="america/new_york"),
            ],
        ),
    )
    write(
        landing,
        f"pms/appointments/{E}.csv",
        csv_text(
            header("pms.appointments"),
            [
                appointment("A1"),
                appointment("A2", booking_channel="fax"),
                appointment("A3"),
                appointment("A3", status="cancelled"),
                appointment("A5", scheduled_start="2026-11-05 15:00"),
            ],
        ),
    )
    write(
        landing,
        f"pos/invoice_lines/{E}.csv",
        (
            "invoice_line_id,invoice_id,line_type,service_id,product_id,plan_id,quantity,"
            "unit_price,discount_amount,net_amount,cost_amount,updated_at\n"
            f"IL1,I1,service,S1,,,1,350.00,0.00,350.00,40.00,{TS}\n"
            f"IL2,I1,retail_product,,PR1,,2,n/a,0.00,90.00,20.00,{TS}\n"
            f"IL3,I2,service,S1,,,1,1.5,0,1.50,0,{TS}\n"
            f"IL4,I2,service,S1,,,1.5,10.00,0,15.00,0,{TS}\n"
        ),
    )
    write(
        landing,
        f"pms/services/{E}.csv",
        (
            "service_id,name,category,is_consultation,default_duration_min,list_price,"
            "device_type_required,updated_at\n"
            f"S1,Botox,neurotoxin,false,30,13.50,,{TS}\n"
            f"S2,Filler,filler,maybe,45,700.00,,{TS}\n"
            "S3,Laser,laser,false,60,400.00,las"  # truncated: the export stopped mid-row
        ),
    )
    write(
        landing,
        f"pms/rooms/{E}.csv",
        (
            "room_id,location_id,name,room_type,active_from,active_to,updated_at\n"
            f'R1,L1,"Room ""One""",treatment,2024-01-01,,{TS}\n'
            f'R2,L1,"Room "Two",treatment,2024-01-01,,{TS}\n'
            f"R3,L1,Room 3,consult,2024-01-01,,{TS}\n"
        ),
    )
    write(
        landing,
        f"pms/providers/{E}.csv",
        (
            "provider_id,first_name,last_name,role,home_location_id,is_revenue_generating,"
            "hired_on,terminated_on,updated_at\n"
            f"PR1,Ana,Smith,rn,L1,true,2024-01-01,,{TS}\n"
            f"PR2,Josè,Lopez,np,L1,true,2024-01-01,,{TS}\n"
        ).encode("latin-1"),
    )
    write(landing, f"pms/devices/{E}.csv", b"")
    write(landing, f"pms/location_closures/{E}.csv", csv_text(header("pms.location_closures"), []))
    write(
        landing,
        f"pos/products/{E}.csv",
        (
            "product_id,sku,name,category,unit_cost,retail_price,updated_at\n"
            f"PD1,SKU1,Serum,skincare,10.00,40.00,{TS}\n"
        ),
    )
    write(
        landing,
        f"pms/membership_plans/{E}.csv",
        (
            "plan_id,name,price,billing_period_months,updated_at,promo_code\n"
            f"MP1,Glow Club,99.00,1,{TS},WINTER\n"
            f"MP2,Glow Year,999.00,2,{TS},\n"
        ),
    )
    write(
        landing,
        f"pms/patients/{E}.csv",
        csv_text(
            header("pms.patients"),
            [
                {
                    "patient_id": "P1",
                    "first_name": "Private",
                    "last_name": "Pat",
                    "email": "private.pat@example.com",
                    "phone": "+1 415 555 0100",
                    "date_of_birth": "1985-01-01",
                    "sex": "F",
                    "postal_code": "94110",
                    "home_location_id": "L1",
                    "created_at": TS,
                    "updated_at": TS,
                },
                {
                    "patient_id": "P2",
                    "first_name": "Zelda",
                    "last_name": "Quux",
                    "email": "zelda.quux@example.com",
                    "phone": "+1 415 555 0199",
                    "date_of_birth": "1990-02-30",
                    "sex": "F",
                    "postal_code": "94110",
                    "home_location_id": "L1",
                    "created_at": TS,
                    "updated_at": TS,
                },
            ],
        ),
    )
    write(
        landing,
        f"reviews/reviews/{E}.jsonl",
        (
            '{"review_id": "RV1", "location_id": "L1", "platform": "google", "posted_at": '
            f'"{TS}", "rating": 5, "reviewer_name": "Private Pat", "patient_id": null, '
            f'"updated_at": "{TS}"}}\n'
            '{"review_id": "RV2", "location_id": \n'
            '{"review_id": "RV3", "location_id": "L1", "platform": "yelp", "posted_at": '
            f'"{TS}", "rating": 6, "reviewer_name": "Zelda Quux", "updated_at": "{TS}"}}\n'
        ),
    )
    invoices = landing / f"pos/invoices/{E}.parquet"
    invoices.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect()
    con.execute(f"""copy (
        select * from (values
            ('I1', 'L1', 'P1', 'A1', 'PR1', timestamptz '2026-11-05 16:00:00+00', 'paid',
             timestamptz '{TS}'),
            ('I2', 'L1', null, null, null, timestamptz '2026-11-05 17:00:00+00', 'lost',
             timestamptz '{TS}')
        ) t(invoice_id, location_id, patient_id, appointment_id, provider_id, issued_at,
            status, updated_at)
    ) to '{invoices}' (format parquet)""")
    con.close()
    write(landing, "pms/unknown_table/2026-11-20.csv", "a,b\n1,2\n")
    write(landing, "pms/locations/2026-11-20.xlsx", "not an extract")
