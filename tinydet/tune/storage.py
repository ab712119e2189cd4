"""Where a study lives: a SQLite file (one machine) or a database server such as PostgreSQL (many machines).

Both go through optuna's RDBStorage with heartbeats: a running trial records a heartbeat every
`heartbeat_interval` seconds; a trial whose heartbeat is older than `grace_period` (its worker was killed or
its machine died) is marked FAIL by the next worker that looks, and put back in the queue, with the same
parameters, up to `max_retries` times (optuna's RetryHeartbeatStaleTrialCallback, formerly
RetryFailedTrialCallback).
"""

from __future__ import annotations

import importlib.util
import re
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy.exc
from sqlalchemy.engine import make_url

from tinydet.errors import TinydetError

STUDY_FILE = "study.db"


@dataclass(frozen=True)
class StorageOptions:
    """url: database URL (sqlalchemy form, e.g. postgresql://user:password@host:5432/db), a SQLite file path,
    or None for OUT/study.db. study: the study's name; workers sharing url and study share one search."""

    url: str | None = None
    study: str = "tinydet"
    heartbeat_interval: int = 30
    grace_period: int = 120
    max_retries: int = 3

    def __post_init__(self) -> None:
        if self.heartbeat_interval < 1 or self.grace_period <= self.heartbeat_interval:
            raise TinydetError(
                f"--heartbeat-interval must be >= 1 s and --grace-period longer than it, got "
                f"{self.heartbeat_interval} and {self.grace_period}"
            )
        if self.max_retries < 0:
            raise TinydetError(f"--max-retries must be >= 0, got {self.max_retries}")
        if not str(self.study).strip():
            raise TinydetError("--study must not be empty")


def storage_url(url: str | None, out: Path) -> str:
    """None -> sqlite:///OUT/study.db; a path without '://' -> that SQLite file; a URL as given."""
    if url is None:
        return f"sqlite:///{(Path(out) / STUDY_FILE).resolve()}"
    if "://" not in url:
        return f"sqlite:///{Path(url).expanduser().resolve()}"
    return url


def with_driver(url: str) -> str:
    """postgresql://... names no driver, and SQLAlchemy 2.1 then wants psycopg (3); when only psycopg2 is
    installed (tinydet's `tune` extra installs psycopg2-binary), say postgresql+psycopg2:// instead."""
    scheme, sep, rest = url.partition("://")
    if sep and scheme in ("postgresql", "postgres") and importlib.util.find_spec("psycopg") is None \
            and importlib.util.find_spec("psycopg2") is not None:
        return f"postgresql+psycopg2://{rest}"
    return url


def redact(url: str) -> str:
    """The URL with its password replaced by ***, for messages and logs."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # not parseable: blank whatever sits between ':' and '@' after the scheme
        return re.sub(r"(://[^:/@]*:)[^@]*@", r"\1***@", url)


def _password(url: str) -> str | None:
    try:
        return make_url(url).password
    except Exception:
        return None


def describe_error(error: BaseException, url: str) -> str:
    """One line from a database driver's error, never containing the URL's password."""
    text = " ".join(str(getattr(error, "orig", None) or error).split())
    text = text.split(" (Background on this error")[0]
    secret = _password(url)
    if secret:
        text = text.replace(str(secret), "***")
    return text or type(error).__name__


def open_storage(options: StorageOptions, out: Path):
    """An optuna RDBStorage with heartbeats and retries; a TinydetError naming the URL (no password) if the
    database cannot be reached or the URL is wrong."""
    import optuna  # optional: tinydet[tune]

    url = with_driver(storage_url(options.url, out))
    if url.startswith("sqlite:///"):
        Path(url[len("sqlite:///"):]).parent.mkdir(parents=True, exist_ok=True)
    engine_kwargs = {"pool_pre_ping": True}
    if url.startswith(("postgresql", "postgres")):
        engine_kwargs["connect_args"] = {"connect_timeout": 15}  # an unreachable host fails in seconds, not minutes
    for attempt in range(3):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
                retry = optuna.storages.RetryHeartbeatStaleTrialCallback(max_retry=options.max_retries)
                return optuna.storages.RDBStorage(
                    url, engine_kwargs=engine_kwargs, heartbeat_interval=options.heartbeat_interval,
                    grace_period=options.grace_period, heartbeat_stale_trial_callback=retry,
                )
        except (sqlalchemy.exc.IntegrityError, sqlalchemy.exc.ProgrammingError) as e:
            # Workers starting together race to create optuna's tables; the loser sees them once they exist.
            if attempt == 2:
                raise TinydetError(f"cannot set up the study storage {redact(url)}: {describe_error(e, url)}") from None
            time.sleep(1.0 + attempt)
        except (sqlalchemy.exc.SQLAlchemyError, ImportError, ValueError) as e:
            raise TinydetError(f"cannot open the study storage {redact(url)}: {describe_error(e, url)}") from None
