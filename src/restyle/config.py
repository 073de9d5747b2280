"""Settings: environment variables ``RESTYLE_*`` (nested with ``__``) and an optional config file.

Each plug-in kind has its own nested section, e.g. ``RESTYLE_ENGINE__NAME=classic`` or
``RESTYLE_STORAGE__KIND=local``. ``RESTYLE_DATA_DIR`` sets the root of all local state.
A YAML or JSON file named by ``RESTYLE_CONFIG`` supplies defaults that the environment overrides.
"""

from __future__ import annotations

import ipaddress
import json
import os
import re
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict, SettingsError

from restyle.errors import ConfigurationError


def split_list(value: Any) -> Any:
    """A list setting from the environment: comma-separated, or a JSON list; other values as they are."""
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            return json.loads(text)
        return [part.strip() for part in text.split(",") if part.strip()]
    return value


class Section(BaseModel):
    """A settings section: an unknown key is an error, so a typo never passes silently."""

    model_config = ConfigDict(extra="forbid")


class EngineSettings(Section):
    """Which engine renders and its options."""

    name: str = "classic"
    options: dict[str, Any] = Field(default_factory=dict)


class ImageLimits(Section):
    """Limits on input images (bytes and pixels) and output size."""

    max_bytes: int = 20 * 1024 * 1024
    max_pixels: int = 36_000_000  # decoded pixels; above this the image is refused (decompression bombs)
    max_side: int = 8192
    min_side: int = 32
    max_output_side: int = 2048
    min_output_side: int = 64
    process_deadline_seconds: float = 10.0  # processing actions on a stored image (x-process, /v1/process)
    # URL inputs and callback URLs (issue 7): hosts and networks the address guard admits although
    # they are internal ("127.0.0.1,10.0.0.0/8" in the environment, a list in a file), and fetch timeouts
    fetch_allow: Annotated[list[str], NoDecode] = Field(default_factory=list)
    fetch_connect_timeout_seconds: Annotated[float, Field(gt=0)] = 5.0
    fetch_timeout_seconds: Annotated[float, Field(gt=0)] = 20.0
    # named processing templates (issue 7): a YAML/JSON file of name -> action string; unset = the
    # packaged defaults (restyle/data/templates.yaml)
    templates_file: Path | None = None

    _split_fetch_allow = field_validator("fetch_allow", mode="before")(split_list)

    @field_validator("fetch_allow")
    @classmethod
    def _check_fetch_allow(cls, value: list[str]) -> list[str]:
        return [_allow_entry(entry) for entry in value]


def _allow_entry(entry: str) -> str:
    """An ``images.fetch_allow`` entry, lower-cased: a host name, an IP address or a CIDR network."""
    text = entry.strip().lower().removeprefix("[").removesuffix("]")
    try:
        return str(ipaddress.ip_network(text, strict=False))
    except ValueError:
        pass
    if not re.fullmatch(r"[a-z0-9_]([a-z0-9_.-]*[a-z0-9_])?\.?", text) or ".." in text or "/" in text:
        raise ValueError(f"'{entry}' is neither a host name, an IP address nor a network such as 10.0.0.0/8")
    return text.rstrip(".")


class FaceSettings(Section):
    """Face detection and identity defaults."""

    detector: Literal["auto", "hog", "cnn"] = "auto"  # auto: the detection cascade (restyle.faces.cascade)
    identity_threshold: Annotated[float, Field(ge=0.05, le=2.0)] = 0.5  # default min_identity of requests


class ServerSettings(Section):
    """The HTTP server: bind address, public URL for links, and how long a submit may wait."""

    host: str = "127.0.0.1"
    port: int = 8000
    public_url: str | None = None  # base of links in task JSON and webhooks; default http://host:port
    default_wait_seconds: float = 30.0  # POST /v1/tasks waits this long for the result unless told
    max_wait_seconds: float = 60.0
    max_request_bytes: int = 50 * 1024 * 1024
    log_level: str = "info"


class TaskSettings(Section):
    """The task store (SQLite by default, any PostgreSQL URL) and task lifetimes."""

    database_url: str | None = None  # default sqlite:///<data_dir>/restyle.db
    retention_hours: float = 24.0  # tasks and their files are deleted this long after submit
    sweep_interval_seconds: float = 60.0
    lease_seconds: float = 20.0  # a RUNNING task whose lease is not renewed for this long is recovered
    heartbeat_seconds: float = 5.0
    max_attempts: int = 3
    deadline_seconds: float = 300.0  # a task running longer than this fails with task.deadline
    # PostgreSQL connection pool of each process (SQLite ignores both): connections kept open, and
    # how many more a burst may open; a request waits pool_timeout_seconds for one, then gets 503
    pool_size: Annotated[int, Field(ge=1)] = 5
    max_overflow: Annotated[int, Field(ge=0)] = 10
    pool_timeout_seconds: Annotated[float, Field(gt=0)] = 10.0


class StorageSettings(Section):
    """Where inputs and results are kept; signed URL lifetime."""

    kind: str = "local"
    root: Path | None = None  # local storage root; default <data_dir>/files
    url_ttl_seconds: int = 24 * 3600
    options: dict[str, Any] = Field(default_factory=dict)  # options of non-local storages (bucket, ...)


class WorkerSettings(Section):
    """The in-process worker pool of ``restyle serve`` (or ``queue=celery`` for external workers)."""

    queue: str = "local"
    count: int = 0  # worker processes; 0 = one per CPU core
    threads_per_worker: int = 1  # OpenCV / OpenMP threads inside each worker process
    poll_seconds: float = 1.0  # idle workers look for work at least this often
    # queue=celery (issue 11): the broker (redis://host:6379/N), and the prefix of the queue names
    # (<prefix>.classic, <prefix>.diffusion, ...: one queue per engine kind)
    broker_url: str | None = None
    queue_prefix: str = "restyle"


class LimitSettings(Section):
    """Default per-account limits and the global queue bound."""

    default_qps: float = 2.0
    default_concurrency: int = 1
    max_pending: int = 1000  # PENDING tasks across all accounts; more answers 503
    storage_uri: str = "memory://"  # the `limits` library storage (redis://... for several servers)


class AuthSettings(Section):
    """Accounts and keys: the demo account and the server key file."""

    demo_account: bool = True  # create a "demo" account on first start and print its key
    server_key: str | None = None  # base64 32 bytes; default: generated into <data_dir>/server.key


class WebhookSettings(Section):
    """Delivery of task completions to ``callback_url``."""

    timeout_seconds: float = 10.0
    max_attempts: int = 6
    backoff_seconds: float = 2.0  # first retry delay; doubles each attempt
    backoff_max_seconds: float = 300.0
    poll_seconds: float = 1.0


class LabelSettings(Section):
    """AI-content labels (issue 8): producer values of the TC260 metadata label, defaults, font and C2PA signer."""

    metadata: bool = True  # write the TC260 XMP label into every output
    invisible: bool = True  # embed the invisible watermark into every output
    c2pa: bool = False  # sign a C2PA manifest (needs c2pa_cert_path and c2pa_key_path)
    content_producer: str = ""  # ContentProducer: the producing service's code (GB 45438-2025)
    content_propagator: str = ""  # ContentPropagator: the distributing service's code, if the same operator
    propagate_id: str = ""  # PropagateID; empty = the task id when content_propagator is set
    reserved_code1: str = ""  # ReservedCode1: e.g. a signature or hash the operator adds
    reserved_code2: str = ""
    font_path: Path | None = None  # a font with CJK glyphs, when fontconfig and the known paths find none
    c2pa_cert_path: Path | None = None  # PEM chain: signing certificate first, then intermediates
    c2pa_key_path: Path | None = None  # PEM private key of the signing certificate
    c2pa_alg: Literal["es256", "es384", "es512", "ps256", "ps384", "ps512", "ed25519"] = "es256"
    c2pa_tsa_url: str | None = None  # RFC 3161 time-stamp authority; none by default (offline)


# NudeNet classes refused by default and their score thresholds (issue 8). The FACE_* labels are not
# usable (their gender guess is unreliable); the *_COVERED, FEET, BELLY and ARMPITS ones are allowed.
DEFAULT_SAFETY_IMAGE_CLASSES: dict[str, float] = {
    "FEMALE_GENITALIA_EXPOSED": 0.4,
    "MALE_GENITALIA_EXPOSED": 0.4,
    "ANUS_EXPOSED": 0.4,
    "FEMALE_BREAST_EXPOSED": 0.5,
    "BUTTOCKS_EXPOSED": 0.5,
}


class SafetySettings(Section):
    """Content safety (issue 8): the image checker, its classes and thresholds, prompt blocklists.

    A blocklist entry is a file path or ``default`` (the shipped ``restyle/data/blocklists/<kind>.txt``).
    Accounts override any of these in their options (``restyle.safety.policy_for``).
    """

    enabled: bool = True  # False: no check at all (input image, output image, prompt)
    image_checker: str = "nudenet"  # none | nudenet | a registered name | "package.module:Class"
    input_image: bool = True  # check every input image before generation
    output_image: bool = True  # check every output after generation
    text: bool = True  # check the prompt against the blocklists
    image_classes: dict[str, Annotated[float, Field(gt=0.0, le=1.0)]] = Field(
        default_factory=lambda: dict(DEFAULT_SAFETY_IMAGE_CLASSES)
    )  # detector class -> score at or above which the image is refused
    general_blocklists: Annotated[list[str], NoDecode] = Field(default_factory=lambda: ["default"])
    ip_blocklists: Annotated[list[str], NoDecode] = Field(default_factory=lambda: ["default"])
    leetspeak: bool = True  # also match with 0->o, 1->i, 3->e, 4->a, 5->s, 7->t, @->a, $->s

    _split_blocklists = field_validator("general_blocklists", "ip_blocklists", mode="before")(split_list)


# --- TOS front (issue 9) -------------------------------------------------------------------------
class TosSettings(Section):
    """The TOS object-storage front: regions, endpoint hosts, custom domains and the object size limit."""

    region: str = "cn-beijing"  # the region new buckets report (HeadBucket, ListBuckets)
    # a Host "<bucket>.<endpoint>" names its bucket by the first label when the endpoint starts with
    # "tos-" (tos-cn-beijing.volces.com) or is one of these extra endpoint hosts
    endpoint_hosts: Annotated[list[str], NoDecode] = Field(default_factory=list)
    custom_domains: dict[str, str] = Field(default_factory=dict)  # host (no port) -> bucket name
    max_object_bytes: Annotated[int, Field(gt=0)] = 64 * 1024 * 1024  # PutObject body limit

    _split_hosts = field_validator("endpoint_hosts", mode="before")(split_list)


class Settings(BaseSettings):
    """All of restyle's configuration."""

    model_config = SettingsConfigDict(env_prefix="RESTYLE_", env_nested_delimiter="__", extra="ignore")

    data_dir: Path = Path("./data")
    engine: EngineSettings = Field(default_factory=EngineSettings)
    images: ImageLimits = Field(default_factory=ImageLimits)
    faces: FaceSettings = Field(default_factory=FaceSettings)
    server: ServerSettings = Field(default_factory=ServerSettings)
    tasks: TaskSettings = Field(default_factory=TaskSettings)
    storage: StorageSettings = Field(default_factory=StorageSettings)
    workers: WorkerSettings = Field(default_factory=WorkerSettings)
    limits: LimitSettings = Field(default_factory=LimitSettings)
    auth: AuthSettings = Field(default_factory=AuthSettings)
    webhooks: WebhookSettings = Field(default_factory=WebhookSettings)
    labels: LabelSettings = Field(default_factory=LabelSettings)  # issue 8
    safety: SafetySettings = Field(default_factory=SafetySettings)  # issue 8
    tos: TosSettings = Field(default_factory=TosSettings)  # issue 9, TOS front

    @property
    def database_url(self) -> str:
        return self.tasks.database_url or f"sqlite:///{self.data_dir / 'restyle.db'}"

    @property
    def storage_root(self) -> Path:
        return self.storage.root or self.data_dir / "files"

    @property
    def worker_count(self) -> int:
        return self.workers.count if self.workers.count > 0 else max(1, os.cpu_count() or 1)

    @property
    def public_url(self) -> str:
        if self.server.public_url:
            return self.server.public_url.rstrip("/")
        host = "127.0.0.1" if self.server.host in ("", "0.0.0.0", "::") else self.server.host
        return f"http://{host}:{self.server.port}"

    @classmethod
    def load(cls, config_file: str | os.PathLike[str] | None = None, **overrides: Any) -> Settings:
        """Settings from an optional file (``RESTYLE_CONFIG``), then the environment, then overrides."""
        path = config_file or os.environ.get("RESTYLE_CONFIG")
        file_values = _read_file(Path(path)) if path else {}
        unknown = sorted(set(file_values) - set(cls.model_fields))
        if unknown:
            raise ConfigurationError(
                f"The settings file {path} has unknown section(s) {', '.join(unknown)}; "
                f"the sections are {', '.join(cls.model_fields)}."
            )
        _check_environment(set(cls.model_fields))
        try:
            env_values = cls().model_dump(exclude_unset=True)
            merged = _deep_merge(_deep_merge(file_values, env_values), overrides)
            return cls.model_validate(merged)
        except ValidationError as exc:
            raise ConfigurationError(f"The settings are invalid: {_describe(exc)}.") from None
        except SettingsError as exc:  # e.g. a section variable that is not valid JSON
            cause = f" ({exc.__cause__})" if exc.__cause__ else ""
            raise ConfigurationError(f"The settings are invalid: {exc}{cause}.") from None


def _check_environment(sections: set[str]) -> None:
    """A ``RESTYLE_<SECTION>__<KEY>`` variable must name a real section (a typo is an error).

    Other ``RESTYLE_*`` variables without ``__`` (``RESTYLE_CONFIG``, a test's own) are left alone.
    """
    for name in sorted(os.environ):
        if not name.upper().startswith("RESTYLE_") or "__" not in name:
            continue
        section = name[len("RESTYLE_") :].split("__", 1)[0].lower()
        if section not in sections:
            raise ConfigurationError(
                f"The settings are invalid: {name} names no settings section; the sections are "
                f"{', '.join(sorted(sections))}."
            )


def _read_file(path: Path) -> dict[str, Any]:
    """The values of a YAML or JSON settings file."""
    try:
        text = path.read_text(encoding="utf-8")
        if path.suffix in (".yaml", ".yml"):
            import yaml

            values = yaml.safe_load(text) or {}
        else:
            values = json.loads(text)
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise ConfigurationError(f"The settings file {path} cannot be read: {exc}.") from None
    except Exception as exc:  # yaml.YAMLError, imported lazily
        raise ConfigurationError(f"The settings file {path} is not valid YAML: {exc}.") from None
    if not isinstance(values, dict):
        raise ConfigurationError(f"The settings file {path} must hold a mapping of sections, not {type(values).__name__}.")
    return values


def _describe(exc: ValidationError) -> str:
    """Each problem as ``RESTYLE_SECTION__KEY (section.key): what is wrong``."""
    parts = []
    for error in exc.errors():
        dotted = ".".join(str(p) for p in error["loc"])
        env = "RESTYLE_" + "__".join(str(p).upper() for p in error["loc"])
        parts.append(f"{env} ({dotted}): {error['msg']}")
    return "; ".join(parts)


def _deep_merge(base: dict[str, Any], top: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in top.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _deep_merge(out[key], value)
        else:
            out[key] = value
    return out
