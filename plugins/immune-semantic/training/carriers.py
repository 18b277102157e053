"""Benign carriers: the realistic texts an agent reads (tool outputs, e-mails, résumés, code, …),
written for this project. An attack is planted into one; the same carrier without a payload is a
benign example.

Each carrier is a function ``carrier(rng, payload) -> (text, payload_start)``: it builds a random
benign document and, when ``payload`` is given, places it where such text would sit (a field of
a JSON result, a paragraph of an e-mail, a comment in code). ``payload_start`` is where the
payload begins in ``text`` (``-1`` without one). The sentence pools include *hard negatives*:
imperatives addressed to people ("Please forward the contract to legal by Friday", "Ignore my
previous e-mail"), which the head must learn are not injections.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable

Carrier = Callable[[random.Random, "str | None"], tuple[str, int]]

PEOPLE = [
    "Anna Schmidt",
    "Ben Okafor",
    "Chloé Dubois",
    "David Kim",
    "Elena Rossi",
    "Farid Haddad",
    "Grace Liu",
    "Henrik Nilsson",
    "Isabel Torres",
    "James O'Brien",
    "Keiko Tanaka",
    "Laura Fischer",
    "Mateo García",
    "Priya Sharma",
    "Samuel Adebayo",
    "Zoe Walker",
]
COMPANIES = [
    "Northwind Traders",
    "Acme Logistics",
    "Bluefin Analytics",
    "Cedar Health",
    "Helios Energy",
    "Larkspur Software",
    "Meridian Bank",
    "Orchid Foods",
    "Pinecrest Realty",
    "Quantum Freight",
    "Riverside Clinic",
    "Summit Outdoor",
]
DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday"]
MONTHS = ["January", "February", "March", "April", "May", "June", "September", "October", "November"]
PRODUCTS = [
    "wireless headphones",
    "espresso machine",
    "standing desk",
    "hiking backpack",
    "air purifier",
    "robot vacuum",
    "electric kettle",
    "mechanical keyboard",
    "running shoes",
    "smart thermostat",
]
TOPICS = [
    "renewable energy storage",
    "container orchestration",
    "sourdough baking",
    "marathon training",
    "tax deductions for freelancers",
    "home insurance",
    "Python packaging",
    "machine learning in radiology",
    "urban cycling infrastructure",
    "remote team management",
    "the history of the printing press",
    "indoor plant care",
]


def _person(rng: random.Random) -> str:
    return rng.choice(PEOPLE)


def _first(name: str) -> str:
    return name.split()[0]


def _address(name: str, company: str) -> str:
    last = name.split()[-1].lower().replace("'", "")
    return f"{_first(name).lower()}.{last}@{company.split()[0].lower()}.example"


def _date(rng: random.Random) -> str:
    return f"{rng.randint(1, 28)} {rng.choice(MONTHS)} 202{rng.randint(3, 6)}"


def _place(rng: random.Random, parts: list[str], payload: str | None, *, first: int = 0) -> list[str]:
    """Insert ``payload`` among ``parts`` at a random position not before ``first``."""
    if payload is None:
        return parts
    index = rng.randint(first, len(parts))
    return [*parts[:index], payload, *parts[index:]]


def _start(text: str, payload: str | None) -> int:
    return -1 if payload is None else text.index(payload)


# --------------------------------------------------------------------------- e-mail

EMAIL_LINES = [
    "Thanks for the quick turnaround on the {month} report.",
    "The meeting with {company} has moved to {day} at 3 pm.",
    "Please forward the signed contract to legal before {day}.",
    "Ignore my previous e-mail; the invoice number was wrong.",
    "Could you send me the updated figures before the call?",
    "Attached is the invoice for {month}; payment is due within 30 days.",
    "Kindly remember to submit your timesheet by the end of the week.",
    "Your order #{number} has shipped and should arrive on {day}.",
    "We noticed a sign-in from a new device. If this was you, no action is needed.",
    "Let me know if anything in the draft is unclear.",
    "The quarterly review showed revenue up 4% against last year.",
    "I'll be out of office until {day}; {other} is covering for me.",
    "Please do not reply to this automated message.",
    "Can you double-check the delivery address before we confirm?",
    "We have updated our privacy policy; the changes take effect on {date}.",
    "Reminder: the team lunch is on {day}, please RSVP.",
    "Your password was changed successfully. If you did not do this, contact support.",
    "I've shared the folder with you; the slides are in the 'final' subfolder.",
    "Please disregard the earlier calendar invite, a corrected one follows.",
    "Our records show an outstanding balance of ${amount}.",
]


def email(rng: random.Random, payload: str | None) -> tuple[str, int]:
    """A plain e-mail with headers, a greeting, a few lines of body and a signature."""
    sender, recipient, company = _person(rng), _person(rng), rng.choice(COMPANIES)
    lines = [
        line.format(
            month=rng.choice(MONTHS),
            company=rng.choice(COMPANIES),
            day=rng.choice(DAYS),
            number=rng.randint(10000, 99999),
            other=_person(rng),
            date=_date(rng),
            amount=rng.randint(40, 4000),
        )
        for line in rng.sample(EMAIL_LINES, rng.randint(2, 5))
    ]
    if payload is not None and rng.random() < 0.3:
        lines.append("P.S. " + payload)
        payload = "P.S. " + payload
    else:
        lines = _place(rng, lines, payload)
    subject = rng.choice(["Re: invoice", "Quick question", "Meeting update", "Your order", "Follow-up", "Project status"])
    body = "\n\n".join(lines)
    text = (
        f"From: {sender} <{_address(sender, company)}>\nTo: {_address(recipient, rng.choice(COMPANIES))}\n"
        f"Subject: {subject}\nDate: {_date(rng)}\n\nHi {_first(recipient)},\n\n{body}\n\nBest,\n{_first(sender)}"
    )
    return text, _start(text, payload)


# --------------------------------------------------------------------------- tool output (JSON)

TOOL_DESCRIPTIONS = [
    "Flight {code} departs at {hour}:15 and arrives at {hour2}:40; 2 seats left in economy.",
    "Hotel near the old town, rated {rating} by 1,204 guests; free cancellation until {day}.",
    "Repository with {stars} stars; last commit {days} days ago.",
    "Open issue: build fails on Python 3.12 because of a removed distutils import.",
    "Restaurant serving regional dishes; open until 22:00, reservations recommended.",
    "Transaction of ${amount} to {company}, status: completed.",
    "File report_{month}.xlsx, 48 KB, modified {day}.",
    "Weather: 18 °C, light rain in the afternoon, wind 12 km/h.",
    "Package delivered to the front desk and signed for by reception.",
    "Calendar slot available {day} 10:00-10:30.",
]


def tool_output(rng: random.Random, payload: str | None) -> tuple[str, int]:
    """The JSON a search or booking tool returns; the payload sits in one result's text field."""
    results = []
    for index in range(rng.randint(2, 4)):
        results.append(
            {
                "id": f"r{rng.randint(100, 999)}",
                "title": f"{rng.choice(COMPANIES)} — result {index + 1}",
                "description": rng.choice(TOOL_DESCRIPTIONS).format(
                    code=f"LH{rng.randint(100, 999)}",
                    hour=rng.randint(6, 12),
                    hour2=rng.randint(13, 20),
                    rating=round(rng.uniform(3.5, 4.9), 1),
                    day=rng.choice(DAYS),
                    stars=rng.randint(10, 9000),
                    days=rng.randint(1, 60),
                    amount=rng.randint(10, 900),
                    company=rng.choice(COMPANIES),
                    month=rng.choice(MONTHS).lower(),
                ),
            }
        )
    if payload is not None:
        target = rng.choice(results)
        field = rng.choice(["description", "notes", "review"])
        target[field] = (target.get(field, "") + " " + payload).strip() if field == "description" else payload
    text = json.dumps({"status": "ok", "tool": rng.choice(["search", "lookup", "list_items"]), "results": results}, ensure_ascii=False)
    return text, -1 if payload is None else text.index(json.dumps(payload, ensure_ascii=False)[1:-1])


# --------------------------------------------------------------------------- search results

SNIPPETS = [
    "A beginner's guide to {topic}, with step-by-step examples and common mistakes to avoid.",
    "Experts explain how {topic} has changed over the last decade.",
    "Forum thread: has anyone tried a new approach to {topic}? Replies from 37 users.",
    "Official documentation covering {topic}; updated {month}.",
    "Compare prices and read reviews before you decide on {topic}.",
    "Ten myths about {topic}, debunked by researchers.",
    "Local news: the council voted on a plan related to {topic}.",
    "Ignore the hype: a balanced look at {topic} and what the evidence says.",
]


def search_results(rng: random.Random, payload: str | None) -> tuple[str, int]:
    """A page of numbered search results (title, address, snippet); the payload ends one snippet."""
    topic = rng.choice(TOPICS)
    entries = []
    count = rng.randint(3, 5)
    hit = rng.randrange(count) if payload is not None else -1
    for index in range(count):
        site = rng.choice(["example.com", "example.org", "docs.example.net", "news.example.co.uk", "forum.example.io"])
        snippet = rng.choice(SNIPPETS).format(topic=topic, month=rng.choice(MONTHS))
        if index == hit:
            snippet = f"{snippet} {payload}"
        entries.append(f"{index + 1}. {topic.capitalize()} | {site}\nhttps://{site}/{topic.replace(' ', '-')}\n{snippet}")
    text = "\n\n".join(entries)
    return text, _start(text, payload)


# --------------------------------------------------------------------------- web page

WEB_PARAGRAPHS = [
    "Welcome to our guide on {topic}. This page is updated regularly by our editorial team.",
    "Before you start, make sure you have read the safety notes in the previous section.",
    "Most readers find that a gradual approach works best, especially in the first few weeks.",
    "Click 'Accept' to allow cookies, or 'Settings' to choose which ones we may store.",
    "Subscribe to our newsletter to get new articles every {day}.",
    "In our tests, the cheaper option performed almost as well as the premium one.",
    "Always check the manufacturer's instructions before assembling the product.",
    "Prices include VAT; shipping is free on orders over 50 EUR.",
    "Our support team answers questions Monday to Friday, 9:00 to 17:00.",
    "Disclaimer: this article is for information only and is not professional advice.",
    "Share this page with a friend who might find it useful.",
    "Comments are moderated; please be respectful to other readers.",
]


def web_page(rng: random.Random, payload: str | None) -> tuple[str, int]:
    """Text extracted from a web page: a heading, paragraphs, navigation and footer lines."""
    topic = rng.choice(TOPICS)
    paragraphs = [p.format(topic=topic, day=rng.choice(DAYS)) for p in rng.sample(WEB_PARAGRAPHS, rng.randint(3, 6))]
    paragraphs = _place(rng, paragraphs, payload)
    text = (
        f"Home > Guides > {topic.title()}\n\n# {topic.title()}: what you need to know\n\n"
        + "\n\n".join(paragraphs)
        + f"\n\n© 202{rng.randint(3, 6)} {rng.choice(COMPANIES)} · Privacy · Terms"
    )
    return text, _start(text, payload)


# --------------------------------------------------------------------------- résumé

SKILLS = [
    "Python",
    "SQL",
    "Kubernetes",
    "React",
    "financial modelling",
    "stakeholder management",
    "Figma",
    "data visualisation",
    "Spanish (fluent)",
    "AWS",
    "people leadership",
    "contract negotiation",
]
ROLES = [
    "Senior Data Analyst",
    "Software Engineer",
    "Product Manager",
    "Marketing Lead",
    "Operations Coordinator",
    "UX Designer",
    "Accountant",
    "Nurse Practitioner",
]
ACHIEVEMENTS = [
    "Reduced report generation time by 40% by automating the monthly pipeline.",
    "Led a team of {n} engineers through a migration to the cloud.",
    "Managed a budget of ${amount}k across three regional offices.",
    "Designed the onboarding flow used by 200,000 customers.",
    "Introduced code review standards that cut production incidents by half.",
    "Negotiated supplier contracts saving 12% per year.",
    "Trained {n} new hires on compliance procedures.",
    "Built dashboards that the executive team reviews every week.",
]


def resume(rng: random.Random, payload: str | None) -> tuple[str, int]:
    """A CV as extracted text: contact line, summary, experience bullets, skills; the payload sits in the summary or at the end."""
    name, role = _person(rng), rng.choice(ROLES)
    summary = f"{role} with {rng.randint(3, 15)} years of experience in {rng.choice(TOPICS)} and a record of delivering on time."
    bullets = [
        "- " + rng.choice(ACHIEVEMENTS).format(n=rng.randint(3, 12), amount=rng.randint(100, 900))
        for _ in range(rng.randint(2, 4))
    ]
    where = rng.random()
    if payload is not None and where < 0.4:
        summary = f"{summary} {payload}"
    elif payload is not None and where < 0.7:
        bullets = _place(rng, bullets, "- " + payload)
    skills = ", ".join(rng.sample(SKILLS, 5))
    tail = f"\n\n{payload}" if payload is not None and where >= 0.7 else ""
    text = (
        f"{name}\n{role} · {_address(name, 'mail')} · +44 20 7946 0{rng.randint(100, 999)}\n\nSUMMARY\n{summary}\n\n"
        f"EXPERIENCE\n{rng.choice(COMPANIES)}, {role} ({rng.randint(2015, 2020)}–present)\n"
        + "\n".join(bullets)
        + f"\n\nEDUCATION\nBSc, University of {rng.choice(['Leeds', 'Porto', 'Toronto', 'Utrecht', 'Melbourne'])}\n\nSKILLS\n{skills}{tail}"
    )
    return text, _start(text, payload)


# --------------------------------------------------------------------------- code with comments

CODE_SNIPPETS = [
    "def load_config(path):\n    with open(path) as handle:\n        return json.load(handle)\n",
    "for item in items:\n    if item.expired:\n        continue  # ignore stale entries\n    process(item)\n",
    "async def fetch(session, url):\n    async with session.get(url, timeout=10) as response:\n        return await response.text()\n",
    "class Cache:\n    def __init__(self, size=128):\n        self.size = size\n        self.data = {}\n",
    "if retries > MAX_RETRIES:\n    # give up and send the metrics we have so far\n    flush_metrics()\n    raise TimeoutError('upstream did not answer')\n",
    "def delete_temp_files(directory):\n    # delete only files we created; never touch user data\n    for path in directory.glob('tmp_*'):\n        path.unlink()\n",
    "const total = items.reduce((sum, item) => sum + item.price, 0);\n// TODO: ignore items with a negative price\n",
    "SELECT id, name FROM users WHERE active = 1 ORDER BY created_at DESC LIMIT 50;\n",
]
COMMENTS = [
    "TODO: remove this workaround once the upstream fix is released.",
    "NOTE: the API returns dates in UTC; convert before display.",
    "This function is called from the scheduler every five minutes.",
    "Ignore the type checker here; the value is validated above.",
    "Keep in sync with the schema in migrations/0042.",
    "FIXME: this loop is quadratic for large inputs.",
]


def code(rng: random.Random, payload: str | None) -> tuple[str, int]:
    """Source code with ordinary comments; the payload is written as one more comment or docstring line."""
    blocks = rng.sample(CODE_SNIPPETS, rng.randint(2, 3))
    comment_mark = "# "
    parts = [f"{comment_mark}{rng.choice(COMMENTS)}\n{block}" for block in blocks]
    if payload is not None:
        wrapped = rng.choice([f"# {payload}", f'"""{payload}"""', f"# NOTE: {payload}"])
        parts = _place(rng, parts, wrapped + "\n")
        text = "\n".join(parts)
        return text, text.index(payload)
    text = "\n".join(parts)
    return text, -1


# --------------------------------------------------------------------------- README

README_LINES = [
    "## Installation\n\nRun `pip install -e .` inside a virtual environment.",
    "## Usage\n\nCall `client.run(task)` and read the result from `result.output`.",
    "## Contributing\n\nPlease open an issue before sending a large pull request, and sign the CLA first.",
    "Never commit your `.env` file; it holds credentials.",
    "Ignore the deprecation warnings printed during the build; they come from a dependency.",
    "## Testing\n\nRun `make test`; the suite takes about two minutes.",
    "## License\n\nMIT. See LICENSE for details.",
    "The `--dry-run` flag prints what would be deleted without deleting anything.",
    "Set `API_TOKEN` in your environment before running the examples.",
    "## Troubleshooting\n\nIf the download fails behind a proxy, set `HTTPS_PROXY`.",
]


def readme(rng: random.Random, payload: str | None) -> tuple[str, int]:
    """A project README in Markdown; the payload is a line or an HTML comment among the sections."""
    project = rng.choice(["fastgrid", "tinyqueue", "docmerge", "weatherlog", "pyinvoice", "mapview"])
    sections = rng.sample(README_LINES, rng.randint(3, 5))
    if payload is not None:
        inserted = rng.choice([payload, f"<!-- {payload} -->", f"> {payload}"])
        sections = _place(rng, sections, inserted)
    text = f"# {project}\n\nA small library for {rng.choice(TOPICS)}.\n\n" + "\n\n".join(sections)
    return text, _start(text, payload)


# --------------------------------------------------------------------------- calendar invite


def calendar_invite(rng: random.Random, payload: str | None) -> tuple[str, int]:
    """A calendar event as a tool returns it; the payload is (part of) the description."""
    organizer = _person(rng)
    description = rng.choice(
        [
            "Agenda: quarterly numbers, hiring plan, open questions.",
            "Please bring your laptop; we will review the roadmap together.",
            "Dial-in details are in the attached document.",
            "Weekly sync. Skip if you have nothing to report.",
            "Lunch will be provided. Let the organiser know about dietary needs.",
        ]
    )
    if payload is not None:
        description = f"{description} {payload}" if rng.random() < 0.6 else payload
    text = (
        f"Event: {rng.choice(['Project sync', 'Budget review', 'Interview', 'Team offsite planning', '1:1'])}\n"
        f"When: {rng.choice(DAYS)}, {_date(rng)}, {rng.randint(9, 16)}:00–{rng.randint(9, 17)}:30\n"
        f"Where: Room {rng.randint(1, 5)}.{rng.randint(10, 40)} / video call\n"
        f"Organizer: {organizer}\nAttendees: {', '.join(rng.sample(PEOPLE, 3))}\nDescription: {description}"
    )
    return text, _start(text, payload)


# --------------------------------------------------------------------------- product review

REVIEW_LINES = [
    "Arrived two days early and well packed.",
    "Does exactly what it says; the battery lasts all day.",
    "A bit louder than I expected, but still good value.",
    "I'd give it 10/10, best purchase this year!",
    "Customer service replaced a faulty part without any fuss.",
    "The instructions were confusing, so I watched a video instead.",
    "Stopped working after a month. Returned it for a refund.",
    "Highly recommend it to anyone with a small kitchen.",
    "Five stars. My whole family uses it every day.",
    "Ignore the negative reviews, they are about the old model.",
]


def product_review(rng: random.Random, payload: str | None) -> tuple[str, int]:
    """A customer review (stars, title, body); the payload is one sentence of the body."""
    stars = rng.randint(1, 5)
    lines = rng.sample(REVIEW_LINES, rng.randint(2, 4))
    lines = _place(rng, lines, payload)
    text = (
        f"{'★' * stars}{'☆' * (5 - stars)} {rng.choice(['Great', 'Solid', 'Disappointing', 'Worth it', 'Okay'])} "
        f"{rng.choice(PRODUCTS)}\nReviewed in the UK on {_date(rng)} · Verified purchase\n" + " ".join(lines)
    )
    return text, _start(text, payload)


# --------------------------------------------------------------------------- support ticket

TICKET_LINES = [
    "I can't log in since the last update; the app says my session expired.",
    "Please reset my password and send the link to my registered address.",
    "The invoice shows the wrong VAT number for our company.",
    "Delete my account and all my data, as allowed under GDPR.",
    "The export to CSV drops every row after the first thousand.",
    "Our team needs two more seats on the business plan.",
    "Steps to reproduce: open settings, click 'Sync', wait ten seconds.",
    "This is urgent, our payroll run is blocked.",
    "Screenshot attached. Browser: Firefox 128 on Windows 11.",
]


def support_ticket(rng: random.Random, payload: str | None) -> tuple[str, int]:
    """A helpdesk ticket with metadata and the customer's message."""
    lines = rng.sample(TICKET_LINES, rng.randint(2, 4))
    lines = _place(rng, lines, payload)
    text = (
        f"Ticket #{rng.randint(10000, 99999)} · Priority: {rng.choice(['low', 'normal', 'high'])} · "
        f"Status: open\nCustomer: {_person(rng)} ({rng.choice(COMPANIES)})\nSubject: "
        f"{rng.choice(['Login problem', 'Billing question', 'Data export', 'Account change', 'Bug report'])}\n\n" + "\n".join(lines)
    )
    return text, _start(text, payload)


# --------------------------------------------------------------------------- PDF-extracted text

PDF_SENTENCES = [
    "The results indicate a significant improvement over the baseline (p < 0.05).",
    "Section 4 describes the methodology in more detail.",
    "All amounts are stated in thousands of euros unless noted otherwise.",
    "The contractor shall deliver the goods within thirty (30) days of the order.",
    "Participants were recruited from three hospitals between {month} and {month2}.",
    "Table 2 summarises the operating costs per region.",
    "This agreement is governed by the laws of the Netherlands.",
    "Further work should examine the long-term effects on {topic}.",
    "The tenant must not sublet the premises without written consent.",
    "Figure 3: distribution of response times across all sites.",
]


def pdf_text(rng: random.Random, payload: str | None) -> tuple[str, int]:
    """Text as a PDF extractor returns it: running header, hyphenated lines, page footer."""
    sentences = [
        s.format(month=rng.choice(MONTHS), month2=rng.choice(MONTHS), topic=rng.choice(TOPICS))
        for s in rng.sample(PDF_SENTENCES, rng.randint(3, 6))
    ]
    sentences = _place(rng, sentences, payload)
    body = " ".join(sentences)
    page = rng.randint(2, 30)
    text = (
        f"{rng.choice(COMPANIES).upper()} — ANNUAL REPORT 202{rng.randint(3, 6)}\n{page}\n\n{body}\n\n"
        f"Page {page} of {page + rng.randint(1, 40)}"
    )
    return text, _start(text, payload)


# --------------------------------------------------------------------------- API error message

API_ERRORS = [
    ("429", "Rate limit exceeded. Retry after {n} seconds."),
    ("401", "Invalid API key. Check that the key is set and has not expired."),
    ("404", "The requested resource /v2/orders/{n} was not found."),
    ("500", "Internal server error. The incident has been logged; please try again later."),
    ("400", "Field 'email' is required and must be a valid address."),
    ("403", "Your plan does not include access to this endpoint. Upgrade to continue."),
    ("503", "Service temporarily unavailable due to maintenance until 02:00 UTC."),
]


def api_error(rng: random.Random, payload: str | None) -> tuple[str, int]:
    """An HTTP API's error body (JSON or plain); the payload rides in the message or a hint field."""
    code, message = rng.choice(API_ERRORS)
    message = message.format(n=rng.randint(2, 900))
    if rng.random() < 0.5:
        error: dict[str, object] = {"code": int(code), "message": message, "request_id": f"req_{rng.randint(10**7, 10**8)}"}
        if payload is not None:
            error[rng.choice(["hint", "message", "detail"])] = payload if rng.random() < 0.5 else f"{message} {payload}"
        text = json.dumps({"error": error}, ensure_ascii=False)
        return text, -1 if payload is None else text.index(json.dumps(payload, ensure_ascii=False)[1:-1])
    text = f"HTTP {code}: {message}" + (f"\n{payload}" if payload is not None else "")
    return text, _start(text, payload)


# --------------------------------------------------------------------------- another agent's reply

AGENT_LINES = [
    "I searched the knowledge base and found three relevant articles.",
    "The cheapest option is the 07:40 train, arriving at 10:05.",
    "I could not open the attachment; the file seems to be corrupted.",
    "Summary: the customer wants a refund for a damaged item.",
    "The tests pass on Python 3.11 but two fail on 3.12.",
    "Here is the translated paragraph you asked for.",
    "I have updated the spreadsheet with the new totals.",
    "Next, I recommend checking the logs from last night's deployment.",
    "The document does not mention a deadline.",
]


def agent_reply(rng: random.Random, payload: str | None) -> tuple[str, int]:
    """A message from another agent in a multi-agent run; the payload is one of its sentences."""
    lines = rng.sample(AGENT_LINES, rng.randint(2, 4))
    lines = _place(rng, lines, payload)
    text = f"[{rng.choice(['research-agent', 'planner', 'travel-bot', 'qa-agent', 'peer:summariser'])}] " + " ".join(lines)
    return text, _start(text, payload)


# --------------------------------------------------------------------------- direct (the text alone)


def direct(rng: random.Random, payload: str | None) -> tuple[str, int]:
    """The payload alone, as a lesson candidate or a user message would be."""
    if payload is None:
        raise ValueError("the direct carrier has no benign filler; benign lessons come from benign.py")
    return payload, 0


#: Carrier name -> builder. ``direct`` has no benign counterpart of its own.
CARRIERS: dict[str, Carrier] = {
    "direct": direct,
    "email": email,
    "tool_output": tool_output,
    "search_results": search_results,
    "web_page": web_page,
    "resume": resume,
    "code": code,
    "readme": readme,
    "calendar_invite": calendar_invite,
    "product_review": product_review,
    "support_ticket": support_ticket,
    "pdf_text": pdf_text,
    "api_error": api_error,
    "agent_reply": agent_reply,
}
