"""The pseudonymisation key: where it comes from (an environment variable or a key file), and which keys are refused.

A participant id is ``"P"`` + 16 hex characters of HMAC-SHA256(key, employee id). Employee ids are few and often
guessable (E101, E102, ...), so anyone holding participants.csv can test a guessed key offline: compute the
pseudonyms of the likely ids and look for them. The only defence is a key that cannot be guessed, so:

* the key must be at least 64 hexadecimal characters (256 bits), as ``python -c "import secrets;
  print(secrets.token_hex(32))"`` makes, and must not follow a pattern a person would type: one character over and
  over, a repeated block (``deadbeef`` eight times), a run of 10 or more equal or consecutive characters
  (``0123456789``), digits only or letters only, fewer than 8 different characters, or groups of three characters
  repeated (a quarter of them or more). A random key is refused by these checks with a chance below one in a
  billion;
* ``key_env:`` must name a variable whose name starts with ``RMSTUDY_`` (:data:`KEY_ENV_PREFIX`): an ordinary
  variable (``PATH``, ``HOME``, ``USER``) holds a value that others know, not a secret;
* a key file must be outside the output folder and every git working tree, and at most 4 KB.

ingest_report.json carries no value computed from the key (an earlier 32-bit "key check" let a guessed key be
confirmed offline); two runs used the same key when they give the same participant id to the same employee.
"""

from __future__ import annotations

__all__ = ["pseudonym_key", "key_problem", "key_env_problem", "DEFAULT_KEY_ENV", "KEY_ENV_PREFIX", "MIN_KEY_CHARS"]

import os
import re
from pathlib import Path

from rmstudy.errors import CohortError, Problem

DEFAULT_KEY_ENV = "RMSTUDY_PSEUDONYM_KEY"
#: ``key_env:`` names a variable with this prefix (upper-case letters, digits and ``_`` after it)
KEY_ENV_PREFIX = "RMSTUDY_"
#: hexadecimal characters of key material at least (256 bits)
MIN_KEY_CHARS = 64
_MAX_KEY_FILE_BYTES = 4096
_MAKE_KEY = "make a random key: python -c \"import secrets; print(secrets.token_hex(32))\""
_HEX = re.compile(r"[0-9a-fA-F]+")
_RUN = 10            # this many equal or consecutive characters in a row make a key a pattern


def _inside(path: Path, folder: Path) -> bool:
    try:
        path.resolve().relative_to(folder.resolve())
        return True
    except ValueError:
        return False


def _git_root(path: Path) -> Path | None:
    """The nearest folder at or above ``path`` holding a ``.git`` entry (a git working tree), if any."""
    for d in (path.resolve(), *path.resolve().parents):
        if (d / ".git").exists():
            return d
    return None


def _pattern(key: str) -> str | None:
    """Why a hexadecimal key follows a pattern a person would type (None for a key that looks random)."""
    k = key.lower()
    n = len(k)
    period = next((p for p in range(1, n // 2 + 1) if n % p == 0 and k == k[:p] * (n // p)), None)
    if period == 1:
        return f"it is one character, '{k[0]}', repeated"
    if period is not None:
        return f"it repeats a block of {period} characters"
    if k.isdigit() or k.isalpha():
        return "it holds only digits" if k.isdigit() else "it holds only letters"
    values = [int(c, 16) for c in k]
    for step, what in ((0, "equal"), (1, "consecutive"), (-1, "consecutive")):
        run = 1
        for a, b in zip(values, values[1:]):
            run = run + 1 if b - a == step else 1
            if run >= _RUN:
                return f"it holds a run of {_RUN} or more {what} characters"
    if len(set(k)) < 8:
        return f"it uses only {len(set(k))} different characters"
    triples = {k[i:i + 3] for i in range(n - 2)}
    if len(triples) < 0.75 * (n - 2):       # a random key repeats about one group of three characters in 64
        return "it repeats short sequences of characters"
    return None


def key_problem(key: str) -> str | None:
    """Why a pseudonymisation key is refused (None for a usable key).

    Parameters
    ----------
    key : str

    Returns
    -------
    str or None

    Examples
    --------
    >>> print(key_problem("secret"))
    it is not hexadecimal (use the digits 0-9 and the letters a-f only)
    >>> print(key_problem("ab" * 16))
    it has 32 hexadecimal characters (128 bits), fewer than 64 (256 bits)
    >>> print(key_problem("deadbeef" * 8))
    it repeats a block of 8 characters
    >>> key_problem("9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08") is None
    True
    """
    if not _HEX.fullmatch(key):
        return "it is not hexadecimal (use the digits 0-9 and the letters a-f only)"
    if len(key) < MIN_KEY_CHARS:
        return (f"it has {len(key)} hexadecimal characters ({4 * len(key)} bits), fewer than {MIN_KEY_CHARS} "
                f"({4 * MIN_KEY_CHARS} bits)")
    return _pattern(key)


def key_env_problem(name: str) -> str | None:
    """Why ``key_env:`` cannot name this variable (None when it can): its name must start with ``RMSTUDY_``.

    Parameters
    ----------
    name : str
        The environment variable named by ``key_env:``.

    Returns
    -------
    str or None

    Examples
    --------
    >>> print(key_env_problem("PATH"))
    'PATH' is not a variable of rmstudy: the key must come from a variable whose name starts with RMSTUDY_
    >>> key_env_problem("RMSTUDY_KEY_TEAM_A") is None
    True
    """
    if re.fullmatch(re.escape(KEY_ENV_PREFIX) + r"[A-Z0-9_]+", name):
        return None
    return (f"'{name}' is not a variable of rmstudy: the key must come from a variable whose name starts with "
            f"{KEY_ENV_PREFIX}")


def _key_from_file(raw: dict, m: str, base: Path, out_dir: Path, warnings: list[str]) -> str:
    path = Path(raw["key_file"]).expanduser()
    path = path if path.is_absolute() else base / path
    where = "key_file"
    if _inside(path, out_dir):
        raise CohortError(Problem(m, "the key file is inside the output folder",
                                  "keep the key outside the cohort and the project (a password manager, or a file "
                                  "with 600 permissions in your home folder)", column=where))
    if _git_root(path.parent) is not None:
        raise CohortError(Problem(m, "the key file is inside a git repository (a folder holding .git)",
                                  "move the key outside every repository, e.g. to ~/.config/rmstudy/, or pass it "
                                  f"through the environment variable {DEFAULT_KEY_ENV}", column=where))
    if not path.is_file():
        raise CohortError(Problem(m, "the key file does not exist", "check the key_file: path", column=where))
    try:
        with open(path, "rb") as fh:
            data = fh.read(_MAX_KEY_FILE_BYTES + 1)
        if len(data) > _MAX_KEY_FILE_BYTES:
            raise CohortError(Problem(m, f"the key file is larger than {_MAX_KEY_FILE_BYTES:,} bytes, so it is not a "
                                      "key file", "give the file that holds the key (one line of 64 hexadecimal "
                                      "characters)", column=where))
        # utf-8-sig: a key file saved with a byte-order mark (Windows Notepad) gives the same key without it
        key = data.decode("utf-8-sig").lstrip("\ufeff").strip()
    except (OSError, UnicodeDecodeError) as e:
        raise CohortError(Problem(m, f"the key file cannot be read ({type(e).__name__})",
                                  "store the key as one line of text", column=where)) from e
    if os.name == "posix" and path.stat().st_mode & 0o077:
        warnings.append(f"the key file can be read by other users (mode {path.stat().st_mode & 0o777:o}); "
                        "run chmod 600 on it")
    return key


def pseudonym_key(raw: dict, m: str, base: Path, out_dir: Path, warnings: list[str]) -> tuple[str, str]:
    """The pseudonymisation key and where it came from.

    Refuses a missing, short, non-hexadecimal or patterned key (:func:`key_problem`), a ``key_env:`` that is not an
    ``RMSTUDY_`` variable (:func:`key_env_problem`), and a key file inside the output folder or a git working tree.
    Every refusal is a :class:`~rmstudy.errors.CohortError` whose problem names the mapping key (``key_env`` or
    ``key_file``); the key itself is never echoed.

    Parameters
    ----------
    raw : dict
        The mapping.
    m : str
        The mapping's file name, for problems.
    base : Path
        The mapping's folder (a relative ``key_file`` is read from there).
    out_dir : Path
        The cohort folder to be written.
    warnings : list of str
        Appended to (a key file other users can read).

    Returns
    -------
    (str, str)
        The key, and where it came from (``key file`` or ``environment variable <name>``).

    Examples
    --------
    >>> try:
    ...     pseudonym_key({"key_env": "RMSTUDY_DOCTEST_UNSET"}, "mapping.yaml", Path("."), Path("out"), [])
    ... except CohortError as e:
    ...     print(e.problems[0].column, "|", e.problems[0].message)
    key_env | pseudonymise is true but the environment variable RMSTUDY_DOCTEST_UNSET is not set
    """
    if "key_file" in raw:
        key, source, where = _key_from_file(raw, m, base, out_dir, warnings), "key file", "key_file"
    else:
        name = raw.get("key_env", DEFAULT_KEY_ENV)
        where = "key_env"
        if (why := key_env_problem(name)) is not None:
            raise CohortError(Problem(m, why, f"name a variable such as {DEFAULT_KEY_ENV} (the default) and set the "
                                      "key in it, or give key_file:", column=where))
        key = os.environ.get(name, "").strip()
        source = f"environment variable {name}"
        if not key:
            raise CohortError(Problem(m, f"pseudonymise is true but the environment variable {name} is not set",
                                      f"set {name} to your key ({_MAKE_KEY}), or give key_file:", column=where))
    if (why := key_problem(key)) is not None:
        raise CohortError(Problem(m, f"the pseudonymisation key from the {source} is refused: {why}",
                                  f"{_MAKE_KEY}; a key a person can type or remember can be guessed, and a guessed key "
                                  "turns every pseudonym back into an employee id", column=where))
    return key, source
