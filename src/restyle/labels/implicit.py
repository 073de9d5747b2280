"""The implicit (metadata) label of GB 45438-2025: an XMP packet whose ``TC260:AIGC`` property holds JSON.

Building and parsing the packet lives here; putting it into and taking it out of PNG, JPEG and WebP
files lives in :mod:`restyle.labels.containers`.
"""

from __future__ import annotations

import json
import re
from typing import Any
from xml.etree import ElementTree
from xml.sax.saxutils import escape

from restyle.labels.spec import Producer

TC260_NS = "http://www.tc260.org.cn/ns/AIGC/1.0/"
RDF_NS = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
FIELDS = (
    "Label",
    "ContentProducer",
    "ProduceID",
    "ReservedCode1",
    "ContentPropagator",
    "PropagateID",
    "ReservedCode2",
)
LABEL_GENERATED = "1"  # 1 generated, 2 possibly generated, 3 suspected of being generated
MAX_XMP_BYTES = 60_000  # a JPEG APP1 segment holds at most 65,502 bytes of XMP


def aigc_fields(task_id: str, producer: Producer) -> dict[str, str]:
    """The label's JSON object for one task: generated (Label 1), ProduceID = the task id."""
    propagate_id = producer.propagate_id or (task_id if producer.content_propagator else "")
    return {
        "Label": LABEL_GENERATED,
        "ContentProducer": producer.content_producer,
        "ProduceID": task_id,
        "ReservedCode1": producer.reserved_code1,
        "ContentPropagator": producer.content_propagator,
        "PropagateID": propagate_id,
        "ReservedCode2": producer.reserved_code2,
    }


def build_xmp(fields: dict[str, str]) -> bytes:
    """A complete XMP packet (UTF-8) carrying ``fields`` as the JSON value of ``TC260:AIGC``."""
    value = json.dumps({k: fields.get(k, "") for k in FIELDS}, ensure_ascii=False, separators=(",", ":"))
    packet = (
        '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>\n'
        '<x:xmpmeta xmlns:x="adobe:ns:meta/">\n'
        f' <rdf:RDF xmlns:rdf="{RDF_NS}">\n'
        f'  <rdf:Description rdf:about="" xmlns:TC260="{TC260_NS}">\n'
        f"   <TC260:AIGC>{escape(value)}</TC260:AIGC>\n"
        "  </rdf:Description>\n"
        " </rdf:RDF>\n"
        "</x:xmpmeta>\n"
        '<?xpacket end="w"?>'
    )
    return packet.encode("utf-8")


def parse_xmp(packet: bytes) -> dict[str, Any] | None:
    """The ``TC260:AIGC`` JSON object of an XMP packet (element or attribute form); None when absent or broken."""
    text = packet.decode("utf-8", errors="replace")
    if re.search(r"<!DOCTYPE|<!ENTITY", text, re.IGNORECASE):
        return None  # entity expansion is never needed in XMP: refuse it outright
    start = text.find("<x:xmpmeta")
    end = text.rfind("</x:xmpmeta>")
    body = text[start : end + len("</x:xmpmeta>")] if start >= 0 and end > start else text
    try:
        root = ElementTree.fromstring(body)
    except ElementTree.ParseError:
        return None
    tag = f"{{{TC260_NS}}}AIGC"
    raw: str | None = None
    for element in root.iter():
        if element.tag == tag:
            raw = element.text or ""
            break
        if tag in element.attrib:
            raw = element.attrib[tag]
            break
    if raw is None:
        return None
    try:
        value = json.loads(raw)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None
