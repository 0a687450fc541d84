r"""Answer extraction: pull the final answer out of a model's text.

Pure string functions, no torch, no datasets. Numbers (GSM8K)::

    >>> extract_number("<think>5*3=15</think> #### 15")
    '15'
    >>> extract_number("So she pays $1,234.50 in total.")
    '1234.5'
    >>> extract_number(r"The final answer is \boxed{18 \text{ dollars}}")
    '18'

Order of evidence: ``#### N`` (first), ``\boxed{...}`` (last), "The answer is N" (first),
then the last number in the text. A ``<think>...</think>`` block is skipped only when an
answer follows it; a trace cut off before ``</think>`` is searched as a whole.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

THINK_END = "</think>"

# A number: thousands-grouped or plain digits, optional decimals, optional sign and $.
_NUM = r"-?\$?\s?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?|-?\$?\s?\.\d+"
_NUM_RE = re.compile(_NUM)
_HASHES_RE = re.compile(r"####\s*(" + _NUM + r")")
_ANSWER_IS_RE = re.compile(r"[Tt]he (?:final )?answer is:?\s*\**\s*(" + _NUM + r")")
_BOXED_RE = re.compile(r"\\boxed\s*\{")


def normalize_number(text: str) -> str | None:
    """Canonical form of a number string: no ``$``, ``,`` or trailing ``.``/zeros; None if not a number.

    >>> normalize_number("$1,200.00")
    '1200'
    """
    s = text.strip().replace("{,}", "").replace(",", "").replace("$", "").replace(" ", "")
    s = s.rstrip(".").rstrip("%")
    if not s:
        return None
    try:
        value = Decimal(s)
    except InvalidOperation:
        return None
    if not value.is_finite():
        return None
    if value == value.to_integral_value():
        return str(int(value))
    return format(value.normalize(), "f")


def numbers_equal(a: str | None, b: str | None) -> bool:
    """Numeric equality of two number strings (``"18.0" == "$18"``); False if either is not a number."""
    na, nb = (normalize_number(a) if a is not None else None), (normalize_number(b) if b is not None else None)
    return na is not None and nb is not None and Decimal(na) == Decimal(nb)


def after_think(text: str) -> str | None:
    """The text after the last ``</think>``, or None if there is no closed thinking block."""
    i = text.rfind(THINK_END)
    return None if i < 0 else text[i + len(THINK_END):]


def boxed_contents(text: str) -> list[str]:
    r"""The contents of every ``\boxed{...}``, braces balanced, in order."""
    out = []
    for m in _BOXED_RE.finditer(text):
        depth, start = 1, m.end()
        for j in range(start, len(text)):
            if text[j] == "{":
                depth += 1
            elif text[j] == "}":
                depth -= 1
                if depth == 0:
                    out.append(text[start:j])
                    break
    return out


def _clean_latex(s: str) -> str:
    s = re.sub(r"\\text\{[^}]*\}|\\mathrm\{[^}]*\}", " ", s)
    s = s.replace("\\!", "").replace("\\,", "").replace("\\$", "$").replace("{,}", ",")
    s = re.sub(r"\\d?frac\{(-?\d+)\}\{(\d+)\}", r"\1/\2", s)
    return s


def _number_in(s: str) -> str | None:
    """The first number of ``s`` in canonical form (``a/b`` fractions evaluated if exact)."""
    s = _clean_latex(s)
    frac = re.search(r"(-?\d+)\s*/\s*(\d+)", s)
    m = _NUM_RE.search(s)
    if frac and (m is None or frac.start() <= m.start()) and int(frac.group(2)) != 0:
        value = Decimal(int(frac.group(1))) / Decimal(int(frac.group(2)))
        return normalize_number(str(value)) if value * int(frac.group(2)) == int(frac.group(1)) else None
    return normalize_number(m.group(0)) if m else None


def _number_evidence(text: str) -> str | None:
    m = _HASHES_RE.search(text)
    if m:
        return normalize_number(m.group(1))
    for content in reversed(boxed_contents(text)):
        n = _number_in(content)
        if n is not None:
            return n
    m = _ANSWER_IS_RE.search(text)
    if m:
        return normalize_number(m.group(1))
    last = None
    for m in _NUM_RE.finditer(_clean_latex(text)):
        last = m
    return normalize_number(last.group(0)) if last else None


def extract_number(text: str) -> str | None:
    """The final numeric answer of ``text`` in canonical form, or None."""
    tail = after_think(text)
    if tail is not None:
        found = _number_evidence(tail)
        if found is not None:
            return found
    return _number_evidence(text)


# -- multiple choice ---------------------------------------------------------------------------

LETTERS = "abcde"
_CHOICE_PATTERNS = (
    re.compile(r"####\s*\(?([a-eA-E])\b\)?"),
    re.compile(r"[Tt]he (?:final |correct )?answer is:?\s*(?:option\s*)?\**\s*\(?([a-eA-E])\b\)?"),
    re.compile(r"(?:[Aa]nswer|[Oo]ption)\s*:\s*\**\s*\(?([a-eA-E])\b\)?"),
)


def parse_options(options: str | list[str]) -> list[str]:
    """MathQA's options string ``"a ) 38 , b ) 27.6 , ..."`` as a list of option texts.

    >>> parse_options("a ) 38 , b ) 27.6 , c ) 1,200 , d ) none , e ) 5 %")
    ['38', '27.6', '1,200', 'none', '5 %']
    """
    if isinstance(options, list):
        options = " , ".join(options)
    text = options.strip().strip("[]")
    starts = []
    pos = 0
    for letter in LETTERS:
        m = re.compile(r"(?:^|[\s,'\"])" + letter + r"\s?\)\s?").search(text, pos)
        if m is None:
            break
        starts.append((m.start(), m.end()))
        pos = m.end()
    out = []
    for i, (_, end) in enumerate(starts):
        stop = starts[i + 1][0] if i + 1 < len(starts) else len(text)
        out.append(text[end:stop].strip().strip("'\"").rstrip(" ,").strip().strip("'\""))
    return out


def _choice_evidence(text: str, choices: list[str] | None) -> str | None:
    for content in reversed(boxed_contents(text)):
        m = re.fullmatch(r"\s*(?:\\text\{)?\(?([a-eA-E])\)?\}?\s*", content)
        if m:
            return m.group(1).lower()
    for pattern in _CHOICE_PATTERNS:
        m = pattern.search(text)
        if m:
            return m.group(1).lower()
    if choices:  # the final number matches exactly one option's value
        n = _number_evidence(text)
        if n is not None:
            hits = [LETTERS[i] for i, c in enumerate(choices) if numbers_equal(_number_in(c), n)]
            if len(hits) == 1:
                return hits[0]
    return None


def extract_choice(text: str, choices: list[str] | None = None) -> str | None:
    """The option letter (``"a"``..``"e"``) that ``text`` answers, or None.

    Looks for ``\\boxed{c}``, ``#### c``, "The answer is (c)", "Answer: c"; failing those, a
    final number equal to exactly one option's value picks that option.
    """
    tail = after_think(text)
    if tail is not None:
        found = _choice_evidence(tail, choices)
        if found is not None:
            return found
    return _choice_evidence(text, choices)
