"""催告函: the urging letter's default text, its placeholders and the PDF (one A4 page per
letter). Pure: the service gathers the data and records what was sent."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from server.pdf import FONT, new_document, to_bytes

PLACEHOLDERS = (
    "owner",
    "unit",
    "project",
    "notice_dates",
    "deadline",
    "contact_name",
    "contact_phone",
    "address",
    "today",
)
_FIELD = re.compile(r"\{(\w+)\}")

DEFAULT_TITLE = "催告函"
DEFAULT_BODY = """尊敬的{owner}业主：

您好！您购买的{project}{unit}已具备交付条件。我司已通知您于{notice_dates}办理交房手续，但截至目前您尚未办理。

请您于{deadline}前，携带本人身份证、购房合同及交房通知书，至{address}办理交房手续。逾期未办理的，视为我司已按合同约定交付，房屋毁损、灭失的风险自交付期限届满之日起由您承担，物业服务费自交付期限届满之日起计收。

如有疑问，请联系{contact_name}，电话：{contact_phone}。

特此函告。

{project}
{today}"""


def unknown_placeholders(text: str) -> list[str]:
    return sorted({m for m in _FIELD.findall(text) if m not in PLACEHOLDERS})


def fill(text: str, values: Mapping[str, str]) -> str:
    """Placeholders replaced by plain substitution: a template can name only the fields above,
    never reach into objects (no str.format attribute access)."""
    return _FIELD.sub(lambda m: str(values.get(m.group(1), m.group(0))), text)


@dataclass
class LetterData:
    title: str
    body: str  # filled in
    reference: str  # printed small at the top: case number and date


def letters_pdf(letters: Sequence[LetterData]) -> bytes:
    pdf = new_document(title=letters[0].title if letters else DEFAULT_TITLE)
    pdf.set_margins(25, 25, 25)
    pdf.set_auto_page_break(True, margin=20)
    for letter in letters:
        pdf.add_page()
        pdf.set_font(FONT, size=8)
        pdf.set_text_color(120, 120, 120)
        pdf.cell(0, 5, letter.reference, align="R", new_x="LMARGIN", new_y="NEXT")
        pdf.set_text_color(0, 0, 0)
        pdf.ln(6)
        pdf.set_font(FONT, size=22)  # one face: the font subset is made once
        pdf.cell(0, 12, letter.title, align="C", new_x="LMARGIN", new_y="NEXT")
        pdf.ln(8)
        pdf.set_font(FONT, size=12)
        for para in letter.body.split("\n"):
            if not para.strip():
                pdf.ln(4)
                continue
            pdf.multi_cell(0, 8, para, new_x="LMARGIN", new_y="NEXT")
    return to_bytes(pdf)
