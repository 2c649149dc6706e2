"""Regex + checksum detectors of personal data, and the false-positive traps they step around.

Each detector is a type name, a candidate regex and a validator: a candidate counts only when
its validator accepts it (Luhn for cards, ISO 7064 mod 97 for IBANs, check letters and digits
for national ids, `ipaddress` for IPs), so most digit strings in prose never qualify.
`find_pii(text)` runs them in priority order and resolves overlaps (an IBAN's digits are not
also a phone number).

Traps that stay untouched, each covered by `pipelines/benches/pii.py`:
- version numbers and IP-like version strings: `v1.2.3.4`, `version 2.4.1.0`, `Chrome/120.0.6099.109`,
  `Firefox/3.6.28.1`, OIDs and section numbers `1.3.6.1.4.1`: a letter or `/` before, a fifth part
  after, or a word such as "version", "build", "section" just before;
- dates and times `2024-03-15`, `15.03.2024`, `12:30:45`, MAC addresses: no phone or IPv6 shape fits;
- ISBNs and DOIs `ISBN 978-0-306-40615-7`: the word before, and no card issuer starts with 97;
- code: `std::vector`, `0x7fff5fbff8c8`, `logo@2x.png`, `npm i pkg@1.2.3`, millisecond timestamps;
- addresses of the documentation ranges and reserved domains: `user@example.com`, `192.0.2.1`,
  `2001:db8::1`, private and loopback IPs are kept (the keep-list, configurable).
Not covered: obfuscated forms (`john [at] acme [dot] org`), numbers written in words, and phone
numbers in national formats other than North American and leading-zero (European) ones.
"""
import ipaddress
import re
from bisect import bisect_left
from collections.abc import Callable
from dataclasses import dataclass

# a word just before a number that makes it a version, an identifier or a reference, not personal data
TRAP_CONTEXT = re.compile(r"(?:\b(?:isbn(?:-1[03])?|issn|doi|arxiv|version|ver\.?|build|release|rev\.?|"
                          r"section|sec\.|chapter|figure|fig\.|table|step|item|rule|clause|patent|oid)|§|"
                          r"[A-Za-z]/)[\s:#]*$", re.IGNORECASE)
CONTEXT_CHARS = 16

# Each pattern starts with the character class its match starts with and only then looks behind
# (`\d(?<![\w.]\d)`, "a digit not after a word character or a dot"): `re` then skips ahead to such
# characters instead of trying the look-behind at every position (2-3x faster on prose).
EMAIL_RE = re.compile(r"[A-Za-z0-9](?<![\w.+%-][A-Za-z0-9])(?:[A-Za-z0-9._%+-]{0,62}[A-Za-z0-9_%+-])?@"
                      r"((?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,24})"
                      r"(?![\w-]|\.[A-Za-z0-9])")
FILE_SUFFIXES = {"png", "jpg", "jpeg", "gif", "svg", "webp", "bmp", "ico", "tif", "tiff", "avif"}

PHONE_RES = [
    # international: +CC then groups, 8-15 digits in all (E.164)
    re.compile(r"\+(?<![\w+]\+)[1-9]\d{0,2}(?:[ .-]?\(0?\d{1,4}\)|[ .-]?\d{1,5}){1,6}(?!\w|[.,/-]\d)"),
    # North American: (212) 555-0147, 212-555-0147, 1-800-555-0199
    re.compile(r"[\d(](?<![\w+.,/-][\d(])(?:(?<=1)[ .-](?:\([2-9]\d\d\) ?|[2-9]\d\d[ .-])|(?<=\()[2-9]\d\d\) ?|"
               r"(?<=[2-9])\d\d[ .-])[2-9]\d\d[ .-]\d{4}(?!\w|[.,/-]\d)"),
    # leading-zero national numbers: 020 7946 0958, 06 12 34 56 78, (030) 1234 5678
    re.compile(r"[0(](?<![\w+.,/-][0(])(?:(?<=\()0\d{1,4}\) ?|(?<=0)\d{1,4}[ -])\d{2,8}(?:[ -]\d{2,8}){0,3}"
               r"(?!\w|[.,/-]\d)"),
]
CARD_RE = re.compile(r"\d(?<![\w.,-]\d)(?:\d{3}([ -]?)\d{4}\1\d{4}\1\d{1,7}|\d{3}([ -]?)\d{6}\2\d{4,5})"
                     r"(?![\w-]|[.,]\d)")
IBAN_RE = re.compile(r"[A-Z](?<![\w-][A-Z])[A-Z]\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,3})?(?!\w)")
IPV4_RE = re.compile(r"\d(?<![\w.]\d)\d{0,2}\.\d{1,3}\.\d{1,3}\.\d{1,3}(?!\w|\.\d)")  # octets: the validator
IPV6_RE = re.compile(r"[0-9A-Fa-f:](?<![\w:.][0-9A-Fa-f:])[0-9A-Fa-f]{0,3}:[0-9A-Fa-f:.]{1,40}(?![\w:])")
SSN_RE = re.compile(r"\d(?<![\w-]\d)\d\d-\d\d-\d{4}(?![\w-])")
DNI_RE = re.compile(r"[\dXYZ](?<![\w-][\dXYZ])(?:(?<=\d)\d{7}|(?<=[XYZ])-?\d{7})-?[A-HJ-NP-TV-Z](?![\w-])")
CPF_RE = re.compile(r"\d(?<![\w.-]\d)\d\d\.\d{3}\.\d{3}-\d{2}(?![\w-])")

# ISO 13616 lengths of the IBAN registry's countries
IBAN_LENGTHS = {
    "AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22, "BH": 22, "BR": 29, "CH": 21,
    "CR": 22, "CY": 28, "CZ": 24, "DE": 22, "DK": 18, "DO": 28, "EE": 20, "EG": 29, "ES": 24, "FI": 18, "FO": 18,
    "FR": 27, "GB": 22, "GE": 22, "GI": 23, "GL": 18, "GR": 27, "GT": 28, "HR": 21, "HU": 28, "IE": 22, "IL": 23,
    "IQ": 23, "IS": 26, "IT": 27, "JO": 30, "KW": 30, "KZ": 20, "LB": 28, "LC": 32, "LI": 21, "LT": 20, "LU": 20,
    "LV": 21, "MC": 27, "MD": 24, "ME": 22, "MK": 19, "MR": 27, "MT": 31, "MU": 30, "NL": 18, "NO": 15, "PK": 24,
    "PL": 28, "PS": 29, "PT": 25, "QA": 29, "RO": 24, "RS": 22, "SA": 24, "SC": 31, "SE": 24, "SI": 19, "SK": 24,
    "SM": 27, "ST": 25, "SV": 28, "TL": 23, "TN": 24, "TR": 26, "UA": 29, "VA": 22, "VG": 24, "XK": 20,
}
DNI_LETTERS = "TRWAGMYFPDXBNJZSQVHLCKE"
# SSNs published as examples (the Woolworth wallet card, an advertisement), never a person's
SAMPLE_SSNS = {"078-05-1120", "219-09-9999", "123-45-6789"}

# reserved for documentation and tests (RFC 2606, RFC 6761): never anyone's address
KEEP_DOMAINS = ["example.com", "example.org", "example.net", "example", "test", "invalid", "localhost"]


def luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def card_issuer(digits: str) -> str | None:
    """The card network whose number ranges and lengths fit, or None (most digit runs)."""
    n, two, four = len(digits), int(digits[:2]), int(digits[:4])
    if digits[0] == "4" and n in (13, 16, 19):
        return "visa"
    if (51 <= two <= 55 or 2221 <= four <= 2720) and n == 16:
        return "mastercard"
    if two in (34, 37) and n == 15:
        return "amex"
    if (four == 6011 or two == 65 or 644 <= int(digits[:3]) <= 649 or 622126 <= int(digits[:6]) <= 622925) \
            and 16 <= n <= 19:
        return "discover"
    if 3528 <= four <= 3589 and 16 <= n <= 19:
        return "jcb"
    if (300 <= int(digits[:3]) <= 305 or two in (36, 38, 39)) and 14 <= n <= 19:
        return "diners"
    if two == 62 and 16 <= n <= 19:
        return "unionpay"
    return None


def iban_ok(compact: str) -> bool:
    """ISO 7064 mod 97-10 on the rearranged IBAN (letters as 10..35)."""
    if IBAN_LENGTHS.get(compact[:2]) != len(compact):
        return False
    rearranged = compact[4:] + compact[:4]
    return int("".join(str(int(c, 36)) for c in rearranged)) % 97 == 1


def dni_ok(value: str) -> bool:
    compact = value.replace("-", "")
    number = compact[:-1].replace("X", "0").replace("Y", "1").replace("Z", "2")
    return DNI_LETTERS[int(number) % 23] == compact[-1]


def cpf_ok(value: str) -> bool:
    digits = [int(c) for c in value if c.isdigit()]
    if len(set(digits)) == 1:
        return False
    for k in (9, 10):
        check = sum(d * w for d, w in zip(digits[:k], range(k + 1, 1, -1))) * 10 % 11 % 10
        if check != digits[k]:
            return False
    return True


@dataclass(frozen=True)
class Span:
    start: int
    end: int
    type: str
    kept: bool = False  # on the keep-list: found (so nothing else claims it) but left as it is


def email_matches(text: str):
    """EMAIL_RE matches, tried only around each "@" (a whole-text scan tries every letter)."""
    last, at = 0, text.find("@")
    while at != -1:
        m = EMAIL_RE.search(text, max(last, at - 65), at + 260)
        if m and m.start() < at < m.end():
            yield m
            last = m.end()
        at = text.find("@", max(at + 1, last))


class Detector:
    """One PII type: candidate regexes, a validator, and a character the text must hold for a match at all.

    `validate(match)` returns False (not PII), True (the match is), or a narrower (start, end)."""

    def __init__(self, type_: str, patterns: list[re.Pattern], validate: Callable, needs: str,
                 check_context: bool = True, finder: Callable | None = None):
        self.type, self.patterns, self.validate = type_, patterns, validate
        self.needs, self.check_context = needs, check_context
        self.finder = finder or (lambda text: (m for pattern in self.patterns for m in pattern.finditer(text)))

    def spans(self, text: str, has_digits: bool):
        if not (has_digits if self.needs == "digit" else self.needs in text):
            return
        for m in self.finder(text):
            if self.check_context and TRAP_CONTEXT.search(text, max(0, m.start() - CONTEXT_CHARS), m.start()):
                continue
            verdict = self.validate(m)
            if verdict is True:
                yield m.start(), m.end()
            elif verdict:
                yield verdict


def _digits(s: str) -> str:
    return "".join(c for c in s if c.isdigit())


def _email(m):
    return m.group(1).rsplit(".", 1)[1].lower() not in FILE_SUFFIXES


DIGIT = re.compile(r"\d")
GROUP_END = re.compile(r"\d(?![\d)])|\)")


def _digit_count(lo: int, hi: int):
    """A phone validator: lo..hi digits; trailing groups are dropped until it fits ("0958 24 hours")."""
    def validate(m):
        value = m.group()
        ends = [g.end() for g in GROUP_END.finditer(value)]
        for end in reversed(ends):
            n = sum(c.isdigit() for c in value[:end])
            if n <= hi:
                return n >= lo and (end == len(value) or (m.start(), m.start() + end))
        return False
    return validate


def _card(m):
    digits = _digits(m.group())
    return card_issuer(digits) is not None and luhn_ok(digits)


def _iban(m):
    """The registry length decides where an IBAN ends (a following code word is not part of it)."""
    raw = m.group()
    want = IBAN_LENGTHS.get(raw[:2])
    taken, end = 0, 0
    while end < len(raw) and taken != want:
        taken += raw[end] != " "
        end += 1
    if taken != want or (end < len(raw) and raw[end] != " ") or not iban_ok(raw[:end].replace(" ", "")):
        return False
    return True if end == len(raw) else (m.start(), m.start() + end)


def _ipv4(m):
    try:
        ipaddress.IPv4Address(m.group())  # octets over 255 and leading zeros are refused
    except ValueError:
        return False
    return True


def _ipv6(m):
    value = m.group().rstrip(".")  # a sentence's full stop
    if value.count(":") < 2 or not any(c.isdigit() for c in value):
        return False
    try:
        ipaddress.IPv6Address(value)
    except ValueError:
        return False
    return True if len(value) == len(m.group()) else (m.start(), m.start() + len(value))


def _ssn(m):
    """Issued ranges only: no area 000, 666 or 900-999, no group 00, no serial 0000, no published sample."""
    value = m.group()
    area = int(value[:3])
    return 0 < area < 900 and area != 666 and value[4:6] != "00" and value[7:] != "0000" \
        and value not in SAMPLE_SSNS


# priority order: a span found by an earlier detector is not claimed by a later one
DETECTORS = [
    Detector("email", [EMAIL_RE], _email, needs="@", check_context=False, finder=email_matches),
    Detector("iban", [IBAN_RE], _iban, needs="digit"),
    Detector("credit_card", [CARD_RE], _card, needs="digit"),
    Detector("br_cpf", [CPF_RE], lambda m: cpf_ok(m.group()), needs="digit"),
    Detector("es_dni", [DNI_RE], lambda m: dni_ok(m.group()), needs="digit"),
    Detector("us_ssn", [SSN_RE], _ssn, needs="digit"),
    Detector("ipv6", [IPV6_RE], _ipv6, needs=":"),
    Detector("ipv4", [IPV4_RE], _ipv4, needs="."),
    Detector("phone", PHONE_RES[:1], _digit_count(8, 15), needs="+"),
    Detector("phone", PHONE_RES[1:], _digit_count(10, 11), needs="digit"),
]
TYPES = list(dict.fromkeys(d.type for d in DETECTORS))
PLACEHOLDERS = {"email": "EMAIL", "phone": "PHONE", "ipv4": "IP_ADDRESS", "ipv6": "IP_ADDRESS",
                "credit_card": "CREDIT_CARD", "iban": "IBAN", "us_ssn": "US_SSN", "es_dni": "ES_DNI",
                "br_cpf": "BR_CPF"}


class KeepList:
    """What is found but never replaced: reserved domains, non-public IPs, and exact strings."""

    def __init__(self, domains=KEEP_DOMAINS, values=(), private_ips: bool = True):
        self.domains = tuple(d.lower().lstrip(".") for d in domains)
        self.values, self.private_ips = set(values), private_ips

    def keeps(self, type_: str, value: str) -> bool:
        if value in self.values:
            return True
        if type_ == "email":
            domain = value.rsplit("@", 1)[1].lower()
            return any(domain == d or domain.endswith("." + d) for d in self.domains)
        if type_ in ("ipv4", "ipv6") and self.private_ips:
            return not ipaddress.ip_address(value).is_global
        return False


def find_pii(text: str, types=None, keep: KeepList | None = None) -> list[Span]:
    """Non-overlapping PII spans of `text`, in order; keep-listed ones are marked `kept`."""
    keep = keep or KeepList()
    wanted = set(TYPES if types is None else types)
    has_digits = DIGIT.search(text) is not None
    starts: list[int] = []
    spans: list[Span] = []
    for detector in DETECTORS:
        if detector.type not in wanted:
            continue
        for start, end in detector.spans(text, has_digits):
            i = bisect_left(starts, start)
            if (i and spans[i - 1].end > start) or (i < len(spans) and spans[i].start < end):
                continue  # overlaps a span of an earlier detector
            starts.insert(i, start)
            spans.insert(i, Span(start, end, detector.type, keep.keeps(detector.type, text[start:end])))
    return spans


def redact(text: str, spans: list[Span], placeholder: str = "<{type}>") -> str:
    """`text` with every span that is not kept replaced by its type's placeholder."""
    out, last = [], 0
    for span in spans:
        if span.kept:
            continue
        out += [text[last:span.start], placeholder.format(type=PLACEHOLDERS.get(span.type, span.type.upper()))]
        last = span.end
    out.append(text[last:])
    return "".join(out)
