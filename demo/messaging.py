"""Messaging-platform rows: every text and e-mail the clinic sends and the replies it gets.

Per appointment: intake link on booking, confirmation request 48 h ahead (and the patient's
reply), a reminder the day before, a post-care check-in the day after treatment (some click,
some reply, staff answer), a review request after checkout. Plus lead follow-ups, weekly
reactivation texts to lapsed patients, and a monthly marketing e-mail. Contacts are written the
platform's way (E.164 phones, lower-case e-mails, mostly); bodies are PHI and stay raw.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pandas as pd

from demo import lifecycle
from demo.crm import lead_ids
from demo.demand import SERVICE_IS_CONSULT
from demo.frames import frame
from demo.people import format_email, format_phone, people
from demo.pms import appointment_ids, loc_ids, patient_ids
from demo.rand import Stream, keyed_choice, keyed_uniform
from demo.records import SimResult
from demo.timeutil import DAY, HOUR, MINUTE, NA

BODIES = {
    "intake_link": "please complete your forms before your visit: https://forms.example.com/f/",
    "confirmation_request": "please reply C to confirm, R to reschedule or X to cancel your "
    "appointment.",
    "reminder": "a reminder of your appointment tomorrow. See you soon!",
    "post_care_checkin": "how are you feeling after your treatment? Aftercare tips: "
    "https://care.example.com/a/",
    "review_request": "thank you for visiting! Would you share a quick review? "
    "https://review.example.com/r/",
    "reactivation": "we miss you! Enjoy 15% off your next treatment: https://book.example.com/",
    "lead_followup": "thanks for reaching out to Glow Aesthetics! When would you like to come in?",
    "marketing": "this month at Glow Aesthetics: new treatments and member offers.",
    "reply": "thanks for letting us know, we are here if you need anything.",
}
INBOUND_BODIES = np.array(
    [
        "C",
        "Confirmed, thanks",
        "R",
        "Can we move it to next week?",
        "X",
        "Feeling great, thank you!",
        "A little swelling, is that normal?",
    ],
    dtype=object,
)


#: Message id kinds in the order their letters sort (`MSG-A...` < `MSG-L...` < ...) and the
#: zero-padded width of each kind's number: `MSG-<kind><number>-<suffix>`.
_KINDS = "ALMR"
_WIDTHS = {"A": 8, "L": 7, "M": 7, "R": 7}


def _msg_key(kind: str, number: np.ndarray, suffix: np.ndarray | int) -> dict[str, np.ndarray]:
    """A message id as three numbers that sort exactly as the id text does.

    Within a kind the number is zero-padded to one width and the suffix (a code 1-8, a day
    number, or YYYYMM) has one length, so (kind, number, suffix) in numeric order is the
    text order. The text is made only when a chunk is finished (`_with_ids`): millions of
    id strings waiting to be sorted were the largest object of a chain's generation.
    """
    number = np.asarray(number, dtype=np.int64)
    return {
        "_kind": np.full(len(number), _KINDS.index(kind), dtype=np.int8),
        "_num": number,
        "_sfx": np.broadcast_to(np.asarray(suffix, dtype=np.int64), number.shape).copy(),
    }


def _with_ids(df: pd.DataFrame) -> pd.DataFrame:
    """`message_id` text from the numeric key, as the first column (the chunk's rows only)."""
    kinds = df["_kind"].to_numpy()
    ids = np.empty(len(df), dtype=object)
    for code, kind in enumerate(_KINDS):
        sel = kinds == code
        if sel.any():
            num = pd.Series(df["_num"].to_numpy()[sel]).astype(str).str.zfill(_WIDTHS[kind])
            sfx = pd.Series(df["_sfx"].to_numpy()[sel]).astype(str)
            ids[sel] = (f"MSG-{kind}" + num + "-" + sfx).to_numpy(dtype=object)
    df = df.drop(columns=["_kind", "_num", "_sfx"])
    df.insert(0, "message_id", ids)
    return df


def _part(
    msg_key: dict[str, np.ndarray],
    loc: np.ndarray,
    person: np.ndarray,
    sent: np.ndarray,
    purpose: str | None,
    *,
    sms: np.ndarray,
    apt: np.ndarray | None = None,
    patient: np.ndarray | None = None,
    lead: np.ndarray | None = None,
    clicked: np.ndarray | None = None,
    inbound_body: np.ndarray | None = None,
    deliverable: bool = True,
) -> pd.DataFrame:
    n = len(msg_key["_num"])
    none = np.full(n, -1, dtype=np.int64)
    # Ids stay numbers (-1 = none) until `_finish`: as text they would be most of the
    # memory of a chain's millions of messages waiting to be sorted.
    return frame(
        dict(
            **msg_key,
            _loc=loc,
            _sms=sms,
            _person=person,
            sent_at=sent.astype(np.int64),
            purpose=np.full(n, purpose, dtype=object),
            _apt=np.asarray(apt, dtype=np.int64) if apt is not None else none,
            _patient=np.asarray(patient, dtype=np.int64) if patient is not None else none,
            _lead=np.asarray(lead, dtype=np.int64) if lead is not None else none,
            link_clicked_at=(clicked if clicked is not None else np.full(n, NA)).astype(np.int64),
            _inbound=np.full(n, inbound_body is not None),
            _body=inbound_body
            if inbound_body is not None
            else np.full(n, BODIES.get(purpose or "", ""), object),
            _deliverable=np.full(n, deliverable),
        ),
        n,
    )


def _apt_messages(sim: SimResult, rows: np.ndarray) -> list[pd.DataFrame]:
    """The messages of the appointments at positions `rows` (each depends on its own row)."""
    a, seed = sim.appointments, sim.cfg.seed
    g = {k: a[k].to_numpy()[rows] for k in a.columns}
    person = sim.patients["person"].to_numpy()[g["patient"]]

    def mid(sel: np.ndarray, code: int) -> dict[str, np.ndarray]:
        return _msg_key("A", g["apt_no"][sel] + 1, code)

    def u(code: int) -> np.ndarray:
        return keyed_uniform(seed, Stream.MESSAGES, g["apt_no"], code)

    def part(
        sel: np.ndarray,
        code: int,
        sent: np.ndarray,
        purpose: str | None,
        sms_share: float,
        **kw: np.ndarray,
    ) -> pd.DataFrame:
        return _part(
            mid(sel, code),
            g["loc"][sel],
            person[sel],
            sent[sel],
            purpose,
            sms=u(code + 50)[sel] < sms_share,
            apt=g["apt_no"][sel],
            patient=g["patient"][sel],
            **{k: v[sel] for k, v in kw.items()},
        )

    cancelled = g["cancelled"]
    alive_at = lambda t: (cancelled == NA) | (cancelled > t)  # noqa: E731
    done = g["outcome"] == lifecycle.COMPLETED
    treat = done & ~SERVICE_IS_CONSULT[g["service"]]
    intake = (g["n_done"] == 0) | ~SERVICE_IS_CONSULT[g["service"]]
    click_intake = np.where(u(1) < 0.8, g["booked"] + (u(2) * 3 * DAY).astype(np.int64), NA)
    click_intake = np.where(click_intake < g["start"] - HOUR, click_intake, NA)
    reminder = g["start"] - 24 * HOUR
    post = (g["start"] // DAY + 1) * DAY + 10 * HOUR + (u(3) * 2 * HOUR).astype(np.int64)
    post_click = np.where(u(4) < 0.4, post + (u(5) * 20 * HOUR).astype(np.int64), NA)
    reply_t = post + np.exp(np.log(3 * HOUR) + 1.1 * (u(6) - 0.5) * 3).astype(np.int64)
    replied = treat & (u(7) < 0.28)
    staff = replied & (u(8) < 0.6)
    review = done & (u(9) < 0.55)
    resp = g["response"]
    answered = (resp >= 0) & (resp < 3)
    body_reply = np.array(INBOUND_BODIES)[
        np.where(resp == 0, (u(10) < 0.5).astype(int), np.where(resp == 1, 2 + (u(10) < 0.5), 4))
    ]
    care_body = INBOUND_BODIES[5 + (u(11) < 0.3)]
    return [
        part(intake, 1, g["booked"] + 2 * MINUTE, "intake_link", 0.7, clicked=click_intake),
        part(g["conf_requested"] != NA, 2, g["conf_requested"], "confirmation_request", 1.0),
        part(answered, 3, g["responded"], None, 1.0, inbound_body=body_reply),
        part((reminder > g["booked"] + HOUR) & alive_at(reminder), 4, reminder, "reminder", 0.6),
        part(treat, 5, post, "post_care_checkin", 0.85, clicked=post_click),
        part(replied, 6, reply_t, None, 0.85, inbound_body=care_body),
        part(staff, 7, reply_t + 25 * MINUTE, "reply", 0.85),
        part(review, 8, g["checked_out"] + 2 * HOUR, "review_request", 0.9),
    ]


#: Messages finished (contacts, bodies) at a time when streamed: the bodies are the bulk of
#: the table, so only this many exist as text at once (250 k rows cost ~340 MB of peak on a
#: 4-location large-density chain, 100 k ~230 MB, in the same time).
CHUNK_ROWS = 100_000


def messages(sim: SimResult) -> pd.DataFrame:
    """The whole table (tests, small chains); `message_chunks` streams the same rows."""
    chunks = list(message_chunks(sim))
    return pd.concat(chunks, ignore_index=True) if len(chunks) > 1 else chunks[0]


#: Appointments whose messages are made at a time (about five messages each).
APT_GROUP = 50_000


def message_chunks(sim: SimResult, rows: int = CHUNK_ROWS) -> Iterator[pd.DataFrame]:
    """The messages in `message_id` order, finished `rows` at a time.

    Everything `_finish` adds is a function of the row alone (keyed by message id and
    person), so finishing slices of the id-sorted rows gives exactly the rows of finishing
    the whole table and then sorting it (ids are unique: the order is the same). The rows
    themselves are made group by group (`_unfinished_groups`), each group's ids after the
    previous group's, so the whole chain's messages never exist at once.
    """
    carry: pd.DataFrame | None = None
    yielded = False
    for group in _unfinished_groups(sim):
        group = group[group["sent_at"].to_numpy() != NA]
        keys = (group["_sfx"].to_numpy(), group["_num"].to_numpy(), group["_kind"].to_numpy())
        group = group.iloc[np.lexsort(keys)]
        if carry is not None and len(carry):
            group = pd.concat([carry, group], ignore_index=True)
        full = len(group) // rows * rows
        for i in range(0, full, rows):
            yield _finish(_with_ids(group.iloc[i : i + rows]), sim.cfg.seed)
            yielded = True
        carry = group.iloc[full:]
    if carry is not None and (len(carry) or not yielded):
        yield _finish(_with_ids(carry), sim.cfg.seed)


def _unfinished_groups(sim: SimResult) -> Iterator[pd.DataFrame]:
    """Every message's ids, times, purpose and person, before contacts and bodies.

    In groups whose ids sort after every earlier group's: appointment messages
    (`MSG-A<appointment>-<code>`) `APT_GROUP` appointment numbers at a time, then lead
    (`MSG-L`), marketing (`MSG-M`) and reactivation (`MSG-R`) messages.
    """
    apt_no = sim.appointments["apt_no"].to_numpy()
    for low in range(0, int(apt_no.max()) + 1 if len(apt_no) else 0, APT_GROUP):
        rows = np.flatnonzero((apt_no >= low) & (apt_no < low + APT_GROUP))
        yield from _concat(_apt_messages(sim, rows))
    yield from _concat(_lead_messages(sim))
    yield from _concat(_marketing(sim))
    yield from _concat(_reactivation(sim))


def _concat(parts: list[pd.DataFrame]) -> Iterator[pd.DataFrame]:
    """The parts as one frame; nothing when all are empty."""
    parts = [p for p in parts if len(p)]
    if parts:
        yield pd.concat(parts, ignore_index=True)


def _lead_messages(sim: SimResult) -> list[pd.DataFrame]:
    ld = sim.leads
    parts: list[pd.DataFrame] = []
    if len(ld):
        s = (ld["method"].to_numpy() == 1) & (ld["response"].to_numpy() != NA)
        for code, tcol, purpose in ((1, "response", "lead_followup"), (2, "reply", None)):
            sel = s & (ld[tcol].to_numpy() != NA)
            parts.append(
                _part(
                    _msg_key("L", ld["lead_no"].to_numpy()[sel] + 1, code),
                    ld["loc"].to_numpy()[sel],
                    ld["person"].to_numpy()[sel],
                    ld[tcol].to_numpy()[sel],
                    purpose,
                    sms=np.ones(int(sel.sum()), bool),
                    lead=ld["lead_no"].to_numpy()[sel],
                    inbound_body=None
                    if purpose
                    else np.full(int(sel.sum()), "Yes, tomorrow?", dtype=object),
                )
            )
    return parts


def _reactivation(sim: SimResult) -> list[pd.DataFrame]:
    r = sim.reactivations
    if not len(r):
        return []
    pat = r["patient"].to_numpy()
    day = r["sent"].to_numpy() // DAY
    mid = _msg_key("R", pat + 1, day)
    u = keyed_uniform(sim.cfg.seed, Stream.MESSAGES, pat, day)
    clicked = np.where(
        r["returned"].to_numpy() | (u < 0.1),
        r["sent"].to_numpy() + (u * 6 * HOUR).astype(np.int64),
        NA,
    )
    return [
        _part(
            mid,
            r["loc"].to_numpy(),
            sim.patients["person"].to_numpy()[pat],
            r["sent"].to_numpy(),
            "reactivation",
            sms=u < 0.7,
            patient=pat,
            clicked=clicked,
        )
    ]


def _marketing(sim: SimResult) -> list[pd.DataFrame]:
    """A monthly e-mail on the first Tuesday, to a rotating 8 % of each location's patients."""
    pat = sim.patients
    created = pat["created"].to_numpy()
    out = []
    months = np.arange(
        np.datetime64(int(sim.cfg.start_day), "D").astype("datetime64[M]"),
        np.datetime64(int(sim.horizon), "D").astype("datetime64[M]") + 1,
    )
    for m in months:
        first = m.astype("datetime64[D]").astype(np.int64)
        day = first + (1 - (first + 3)) % 7  # first Tuesday (ISO weekday 2)
        if day < sim.cfg.start_day or day > sim.horizon:
            continue
        sent = day * DAY + 11 * HOUR
        idx = np.flatnonzero(
            (created < sent)
            & (keyed_uniform(sim.cfg.seed, Stream.MARKETING, np.arange(len(pat)), day) < 0.08)
        )
        mid = _msg_key("M", idx + 1, int(str(m).replace("-", "")))
        out.append(
            _part(
                mid,
                pat["loc"].to_numpy()[idx],
                pat["person"].to_numpy()[idx],
                np.full(len(idx), sent),
                "marketing",
                sms=np.zeros(len(idx), bool),
                patient=idx,
            )
        )
    return out


def _finish(df: pd.DataFrame, seed: int) -> pd.DataFrame:
    """Contacts, delivery, bodies; undelivered messages get no clicks (and no replies)."""
    n = len(df)
    key = pd.util.hash_array(df["message_id"].to_numpy(dtype=object)).astype(np.int64)
    u1 = keyed_uniform(seed, Stream.MESSAGES, key, 1)
    u2 = keyed_uniform(seed, Stream.MESSAGES, key, 2)
    who = people(seed, df["_person"].to_numpy())
    sms = df["_sms"].to_numpy()
    phone = format_phone(who["digits"], np.where(u1 < 0.82, 3, 2))
    email = format_email(who["email"], np.where(u1 < 0.85, 0, 1))
    inbound = df["_inbound"].to_numpy()
    status = np.where(sms, keyed_choice(u2, [96, 2.5, 1.5]), keyed_choice(u2, [94, 1.5, 4.5]))
    status[inbound] = 0
    df["channel"] = np.where(sms, "sms", "email").astype(object)
    df["direction"] = np.where(inbound, "inbound", "outbound").astype(object)
    df["contact_address"] = np.where(sms, phone, email)
    df["delivery_status"] = np.array(["delivered", "failed", "undelivered"], dtype=object)[status]
    df["link_clicked_at"] = np.where(status == 0, df["link_clicked_at"], NA).astype(np.int64)
    first = who["first_name"].to_numpy(dtype=object)
    df["body"] = np.where(
        inbound,
        df["_body"],
        ("Hi " + pd.Series(first) + ", " + df["_body"].reset_index(drop=True)).to_numpy(
            dtype=object
        ),
    )
    df["location_id"] = loc_ids(df["_loc"].to_numpy())
    for column, number, to_ids in (
        ("appointment_id", "_apt", appointment_ids),
        ("patient_id", "_patient", patient_ids),
        ("lead_id", "_lead", lead_ids),
    ):
        values = df[number].to_numpy()
        df[column] = np.where(values >= 0, to_ids(np.maximum(values, 0)), None)
    df["updated_at"] = df["sent_at"]
    df["_created"] = df["sent_at"]
    df = df[df["sent_at"].to_numpy() != NA]
    del n
    return df.sort_values("message_id", ignore_index=True)
