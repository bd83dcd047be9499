"""Exception hierarchy of zoning.

Every error a user can cause is a :class:`ZoningError`; each also subclasses the
matching built-in error so that a generic ``except ValueError`` keeps working.
The CLI turns them into one-line messages (exit code 1 for data, 2 for usage).
"""

from __future__ import annotations


class ZoningError(Exception):
    """Root of every error zoning raises on purpose."""


class ManifestError(ZoningError, ValueError):
    """A pack manifest is missing, unreadable or does not follow the schema."""


class LayerNotFoundError(ZoningError, KeyError):
    """A layer name or kind is not in the pack."""

    def __str__(self) -> str:  # KeyError quotes its message; we want it plain
        return str(self.args[0]) if self.args else ""


class NoCountyLayerError(LayerNotFoundError):
    """A step needs the county layer, and neither its input nor the pack provides one."""


class LayerReadError(ZoningError, OSError):
    """A layer file or table cannot be read."""


class CRSMismatchError(ZoningError, ValueError):
    """Coordinates or a layer are in a CRS that does not fit what was declared."""


class CoordinateError(ZoningError, ValueError):
    """A coordinate cannot be parsed or is implausible for 晋城市 (swapped, metres as degrees...)."""


class UnknownCRSError(CoordinateError):
    """A CRS string that pyproj and the zoning aliases do not understand."""


class OutsideCityError(CoordinateError):
    """A coordinate that lies outside 晋城市."""


class InputFileError(ZoningError, ValueError):
    """A user input file is unreadable, empty, or lacks a required field."""


class ValidationError(ZoningError, ValueError):
    """A layer or pack fails validation; ``problems`` lists every finding."""

    def __init__(self, msg: str, problems: list[str] | None = None) -> None:
        super().__init__(msg)
        self.problems = list(problems or [])


class RuleError(ZoningError, ValueError):
    """A rule in the catalogue is malformed, or a project attribute has an unknown value."""


class PostgisError(ZoningError, OSError):
    """The database cannot be reached, or does not hold what was asked for."""


class EngineError(ZoningError, ValueError):
    """A batch engine cannot run as asked (no table, no key, no cluster)."""


class UsageError(ZoningError, ValueError):
    """A bad value on the command line; the CLI prints its one-line message and exits with 2."""


# ------------------------------------------------------------------------ secrets in messages

#: ``scheme://user:PASSWORD@`` in a URL, and ``password=...`` / ``sslpassword=...`` as a URL query
#: parameter or a libpq keyword (``password=x host=...``, quoted or not).
_URL_USERINFO = r"(?P<pre>\b[a-z][a-z0-9+.-]*://[^:/?#@\s]*:)(?P<secret>[^@/\s]*)(?P<post>@)"
_PASSWORD_PARAM = r"(?P<pre>\b(?:ssl)?password\s*=\s*)(?P<secret>'(?:[^'\\]|\\.)*'|[^&\s'\"]+)(?P<post>)"


def scrub_secrets(text: str) -> str:
    """``text`` with every password replaced by ``***``: a URL's userinfo password, a
    ``password=`` / ``sslpassword=`` parameter, and the value of ``$PGPASSWORD`` wherever
    it appears. Every message, log line and cache entry that may hold a DSN goes through it."""
    import os
    import re

    if not text:
        return text
    for pattern in (_URL_USERINFO, _PASSWORD_PARAM):
        text = re.sub(pattern, lambda m: f"{m['pre']}***{m['post']}", text, flags=re.IGNORECASE)
    env = os.environ.get("PGPASSWORD")
    if env and len(env) >= 3:
        text = text.replace(env, "***")
    return text
