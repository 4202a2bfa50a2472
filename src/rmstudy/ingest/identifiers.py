"""Direct identifiers: column names that look like one, the pseudonym of an employee id, and employee ids left in
written text.

* :func:`looks_like_identifier`: a column whose name looks like a direct identifier (name, e-mail, phone, IP address,
  Qualtrics ``Recipient*``, ``ExternalReference``, location) can never be mapped to an item or a participant column;
* :func:`pseudonym`: with ``pseudonymise: true`` the participant id is ``"P"`` + the first 16 hex characters of
  HMAC-SHA256(key, employee id) (the key: :mod:`rmstudy.ingest.key`);
* :func:`employee_id_problems`: with ``pseudonymise: true`` a written HR text value (``pair_id``, ``department``, ...)
  that holds an employee id is refused.
"""

from __future__ import annotations

__all__ = ["looks_like_identifier", "pseudonym", "employee_id_problems"]

import hashlib
import hmac
import re

from rmstudy.errors import Problem
from rmstudy.ingest.fields import HR_CHOICES, HR_EMPLOYMENT, HR_NUMERIC
from rmstudy.ingest.values import shown_value

# Normalised column names (lower case, letters and digits only) that are direct identifiers.
_IDENTIFIER_NAMES = frozenset({
    "name", "firstname", "lastname", "fullname", "surname", "givenname", "familyname", "middlename",
    "employeename", "respondentname", "participantname", "recipientname", "recipientfirstname",
    "recipientlastname", "recipientemail", "email", "emailaddress", "phone", "phonenumber", "mobile",
    "mobilenumber", "telephone", "ip", "ipaddress", "externalreference", "externaldatareference",
    "locationlatitude", "locationlongitude", "latitude", "longitude",
    "username", "loginname", "dob", "dateofbirth", "birthdate", "birthday",
})
_IDENTIFIER_PARTS = ("email", "phone", "dateofbirth", "birthdate")
_IDENTIFIER_ENDINGS = ("firstname", "lastname", "fullname", "surname", "ipaddress", "dob")
# "<person> name" is a person's name (Manager name, Mentor's name, User name); "<thing> name" is not (Department
# name, Team name, Programme name), so only these words before "name" make a name column an identifier.
_PERSON_WORDS = ("manager", "mentor", "mentee", "supervisor", "employee", "respondent", "participant", "recipient",
                 "user", "coach", "buddy", "colleague", "contact", "person", "reviewer", "boss", "member", "staff",
                 "worker", "lead", "leader", "owner", "approver", "sponsor")


def looks_like_identifier(column: str) -> bool:
    """Whether a column name looks like a direct identifier.

    Parameters
    ----------
    column : str
        A column name as written in an export.

    Returns
    -------
    bool
        True for names such as ``Name``, ``First name``, ``Email``, ``E-mail``,
        ``Work email``, ``Phone``, ``IPAddress``, ``RecipientEmail``,
        ``RecipientFirstName``, ``ExternalReference``, ``LocationLatitude``,
        ``Manager name``, ``Mentor's name``, ``Username``/``User name``,
        ``Date of birth``, ``DOB`` or ``Birth date``; False for the name of a
        thing (``Department name``, ``Team name``). Case, spaces and
        punctuation are ignored.

    Examples
    --------
    >>> [looks_like_identifier(c) for c in ["Work e-mail", "Manager name", "Department name", "Q3"]]
    [True, True, False, False]
    """
    key = re.sub(r"[^0-9a-z]", "", str(column).casefold())
    if key.endswith("name"):
        who = key[:-4].removesuffix("s")          # Mentor's name -> mentors -> mentor
        if who.endswith(_PERSON_WORDS):
            return True
    return (key in _IDENTIFIER_NAMES or any(p in key for p in _IDENTIFIER_PARTS)
            or key.endswith(_IDENTIFIER_ENDINGS))


def pseudonym(key: str, employee_id: str) -> str:
    """The pseudonymous participant id of an employee id.

    Parameters
    ----------
    key : str
        The secret key (its UTF-8 bytes are the HMAC key).
    employee_id : str
        The employee id as text, surrounding spaces removed.

    Returns
    -------
    str
        ``"P"`` followed by the first 16 hexadecimal characters of
        HMAC-SHA256(key, employee_id).

    Examples
    --------
    >>> key = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
    >>> pseudonym(key, "E101"), pseudonym(key, "E101") == "P" + hmac.new(key.encode(), b"E101", hashlib.sha256).hexdigest()[:16]
    ('P76d5e4a5e132b7c6', True)
    """
    digest = hmac.new(key.encode("utf-8"), str(employee_id).encode("utf-8"), hashlib.sha256).hexdigest()
    return "P" + digest[:16]


_TOKEN = re.compile(r"[^\W_]+")      # runs of letters and digits


def employee_id_problems(raw: dict, employees: list[dict], probs: list[Problem]) -> None:
    """With pseudonymise: true, no written text value may carry an employee id.

    pair_id, department and every other mapped HR text column are written as they are, so a pair id such as
    ``E101-E102`` would put the employee ids, which pseudonymisation replaces, back into the cohort folder. A value
    is split into runs of letters and digits (case ignored), and an employee id of the HR extract found among them
    (as consecutive runs, for an id like ``E-101``) is a problem naming the row and the column. Ids with fewer
    than 4 letters and digits are not looked for.

    Parameters
    ----------
    raw : dict
        The mapping (its ``hr.columns``).
    employees : list of dict
        The HR records as read (``employee_id``, the mapped keys, ``where``: (file, row)).
    probs : list of Problem
        Appended to.

    Examples
    --------
    >>> raw = {"hr": {"columns": {"employee_id": "Staff no", "pair_id": "Pair"}}}
    >>> employees = [{"employee_id": "E101", "pair_id": "E101-E102", "where": ("hr.csv", 2)},
    ...              {"employee_id": "E102", "pair_id": "PR1", "where": ("hr.csv", 3)}]
    >>> probs = []
    >>> employee_id_problems(raw, employees, probs)
    >>> [(p.row, p.column, p.message.split(":")[0]) for p in probs]
    [(2, 'Pair', "'E101-E102' contains the employee id(s) E101, E102")]
    """
    cols = raw["hr"]["columns"]
    keys = [k for k in cols if k not in ("employee_id", *HR_NUMERIC, *HR_EMPLOYMENT[:2], *HR_CHOICES)]
    ids: dict[tuple, str] = {}
    for rec in employees:
        tokens = tuple(t.casefold() for t in _TOKEN.findall(rec["employee_id"]))
        # ids shorter than 4 letters and digits ("7") would match ordinary labels ("Team 7") and identify nobody
        if tokens and sum(map(len, tokens)) >= 4:
            ids.setdefault(tokens, rec["employee_id"])
    by_first: dict[str, list[tuple]] = {}
    for tokens in ids:
        by_first.setdefault(tokens[0], []).append(tokens)
    for rec in employees:
        file, n = rec["where"]
        for key in keys:
            value = rec.get(key)
            if not isinstance(value, str) or not value.strip():
                continue
            vt = [t.casefold() for t in _TOKEN.findall(value)]
            found = [ids[tokens] for a, t in enumerate(vt) for tokens in by_first.get(t, ())
                     if tuple(vt[a:a + len(tokens)]) == tokens]
            if found:
                shown = shown_value(value)
                probs.append(Problem(file, f"'{shown}' contains the employee id(s) {', '.join(dict.fromkeys(found))}: "
                                     "with pseudonymise: true it would carry employee ids into the cohort folder",
                                     f"map a label that carries no employee id (e.g. pairs numbered PR1, PR2, ... for "
                                     f"pair_id), or give each label a value without one under hr.values.{key}",
                                     row=n, column=str(cols[key]).strip()))
