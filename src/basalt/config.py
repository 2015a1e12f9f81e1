"""Settings: a TOML file, then BASALT_* environment variables, then explicit arguments.

Nested keys use a double underscore in the environment, e.g. ``BASALT_API__PORT=9000``.
With no file and no environment, Basalt runs one ``file`` backend with one pool
under the data directory, SQLite in the data directory, and the API on
127.0.0.1:8776.
"""

from __future__ import annotations

import re
import tomllib
from contextvars import ContextVar
from pathlib import Path
from typing import Any, Literal

import httpx
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import (
    BaseSettings,
    InitSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from basalt.errors import ConfigError
from basalt.model.quota import MAX_LIMIT
from basalt.service.scheduler.settings import SchedulerSettings

# The file's values for the Settings being built (a source below the environment).
_FILE_VALUES: ContextVar[dict[str, Any] | None] = ContextVar("_FILE_VALUES", default=None)
DEFAULT_CONFIG_PATHS = (Path("basalt.toml"), Path("/etc/basalt/basalt.toml"))


class ApiSettings(BaseModel):
    host: str = "127.0.0.1"
    port: int = Field(default=8776, ge=1, le=65535)
    sync_wait_seconds: float = Field(
        default=2.0,
        ge=0.0,
        description="How long a mutating request waits for its operation before answering "
        "202 with the resource in its transitional state.",
    )
    max_body_bytes: int = Field(default=1024 * 1024, ge=1024)
    auth_strategy: Literal["noauth", "token"] = Field(
        default="noauth",
        description="noauth: X-Auth-Token 'user:project' names the caller (no token: the "
        "default user and project); token: only tokens listed in token_file are accepted",
    )
    token_file: Path | None = Field(
        default=None,
        description="TOML file of [[tokens]] (token or token_sha256, user_id, project_id, "
        "roles) for auth_strategy 'token'",
    )
    admin_users: list[str] = Field(
        default_factory=lambda: ["admin", "basalt"],
        description="noauth: users that get the admin role (others are members)",
    )
    reader_users: list[str] = Field(
        default_factory=list, description="noauth: users that get only the reader role"
    )
    access_log: bool = False
    message_ttl_seconds: int = Field(
        default=30 * 24 * 3600,
        ge=1,
        description="How long a failed operation shows as a user message (GET /messages): "
        "its guaranteed_until is the failure time plus this; older ones are not listed",
    )

    @model_validator(mode="after")
    def _token_file_for_token_auth(self) -> ApiSettings:
        if self.auth_strategy == "token" and self.token_file is None:
            raise ValueError("auth_strategy 'token' needs token_file (a TOML file of [[tokens]])")
        return self


class SolidFireSettings(BaseModel):
    """How to reach and use one SolidFire cluster: a backend's ``[solidfire]`` table.

    Give ``url`` (``https://<mvip>[:port]``) or ``mvip`` (+ ``api_port``). The
    password is a SecretStr: it is never printed, logged or serialised.
    ``transport`` can only be set from Python (tests, proxies): an httpx transport
    the client uses instead of the network.
    """

    model_config = ConfigDict(extra="forbid", arbitrary_types_allowed=True)

    url: str | None = None
    mvip: str | None = None
    api_port: int = Field(default=443, ge=1, le=65535)
    login: str = Field(min_length=1)
    password: SecretStr
    verify_tls: bool = False
    ca_file: Path | None = None
    account_prefix: str = Field(default="basalt", pattern=r"^[A-Za-z0-9_.-]{0,32}$")
    volume_prefix: str = Field(default="UUID-", pattern=r"^[A-Za-z0-9_.:-]{1,16}$")
    pool_name: str = Field(default="default", pattern=r"^[A-Za-z0-9_.-]{1,64}$")
    emulate_512: bool = True
    enable_vag: bool = Field(
        default=False,
        description="Admit only attached initiators, through volume access groups "
        "(the seed's sf_enable_vag); off: the account's CHAP alone decides",
    )
    timeout_seconds: float = Field(default=30.0, gt=0.0)
    retry_attempts: int = Field(default=6, ge=1, le=100)
    retry_total_seconds: float = Field(default=30.0, ge=0.0)
    retry_initial_delay_seconds: float = Field(default=1.0, ge=0.0)
    poll_interval_seconds: float = Field(default=0.5, gt=0.0)
    create_settle_seconds: float = Field(default=5.0, ge=0.0)
    transport: httpx.BaseTransport | None = Field(default=None, exclude=True, repr=False)

    @field_validator("url")
    @classmethod
    def _https_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("https://", "http://")):
            raise ValueError("must start with https:// (e.g. https://10.0.0.5:443)")
        return value

    @field_validator("ca_file")
    @classmethod
    def _readable_ca(cls, value: Path | None) -> Path | None:
        if value is not None and not value.expanduser().is_file():
            raise ValueError(f"{value} is not a file")
        return None if value is None else value.expanduser()

    @model_validator(mode="after")
    def _one_address(self) -> SolidFireSettings:
        if (self.url is None) == (self.mvip is None):
            raise ValueError("solidfire: give either url or mvip (with api_port), not both")
        return self

    @property
    def endpoint(self) -> str:
        """The cluster's base URL (``/json-rpc/<version>/`` is added per call)."""
        return self.url or f"https://{self.mvip}:{self.api_port}"

    @property
    def verify(self) -> bool | str:
        """httpx's ``verify``: the CA file when given, else ``verify_tls``."""
        return str(self.ca_file) if self.ca_file is not None else self.verify_tls


_PORTAL = re.compile(
    r"^(?:\[[0-9A-Fa-f:.]+\]|[0-9]{1,3}(?:\.[0-9]{1,3}){3}|[A-Za-z0-9.-]+):[0-9]{1,5}$"
)
_IQN_PREFIX = re.compile(r"^iqn\.[0-9]{4}-[0-9]{2}\.[a-z0-9][a-z0-9.-]*$")


class IscsiSettings(BaseModel):
    """How the ``file`` backends export volumes over iSCSI through tgt: the ``[iscsi]`` table.

    Basalt starts and supervises its own tgtd (``manage_tgtd``), listening on
    ``portals`` and driven through its own control port, or adopts a tgtd that
    already runs on ``control_port``. Several portals give hosts several paths
    (multipath).
    """

    model_config = ConfigDict(extra="forbid")

    portals: list[str] = Field(default_factory=lambda: ["127.0.0.1:3260"], min_length=1)
    iqn_prefix: str = "iqn.2026-11.org.basalt"
    manage_tgtd: bool = True
    control_port: int = Field(
        default=7350,
        ge=0,
        le=32767,
        description="tgtd's management channel (a unix socket named after it); tgtd takes 0-32767",
    )
    tgtd_path: str = "tgtd"
    tgtadm_path: str = "tgtadm"
    backing_store: Literal["rdwr", "aio"] = Field(
        default="aio",
        description="tgt backing store for data LUNs: aio (Linux AIO on O_DIRECT, no "
        "second cache in the target; bench/datapath.py: 0.84-0.90 of the raw file "
        "sequential, 0.66-0.84 random 4 KiB) or rdwr (through the page cache, with "
        "UNMAP that punches holes in the sparse file; 0.19-0.56 of a page-cache-speed "
        "raw file on two cores)",
    )
    backing_store_flags: list[Literal["direct", "sync"]] = Field(default_factory=list)
    quiesce_max_seconds: float = Field(
        default=5.0,
        gt=0,
        le=60,
        description="The longest a group snapshot may pause tgtd's I/O (SIGSTOP) while it "
        "copies the members; past it tgtd runs again and the group snapshot fails. Keep "
        "it under the initiators' NOP-Out timeout (open-iscsi: 5 s by default).",
    )
    io_threads: int | None = Field(default=None, ge=1, le=1024)
    max_recv_data_segment_bytes: int | None = Field(
        default=262_144,
        ge=512,
        le=16_777_215,
        description="MaxRecvDataSegmentLength each new target offers: the largest PDU of "
        "write data tgt accepts. tgt's own 8192 splits a 1 MiB write into 128 PDUs; "
        "262144 (what libiscsi and open-iscsi offer) gave 1.4x the sequential write "
        "rate in bench/datapath.py, 2.8x with tgtd_malloc_mmap_threshold_bytes. None "
        "keeps tgt's value.",
    )
    tgtd_malloc_mmap_threshold_bytes: int | None = Field(
        default=32 * 1024 * 1024,
        ge=128 * 1024,
        le=32 * 1024 * 1024,
        description="glibc's M_MMAP_THRESHOLD for the managed tgtd (MALLOC_MMAP_THRESHOLD_, "
        "with MALLOC_TRIM_THRESHOLD_ at twice it, as glibc's own adjustment does). tgt "
        "allocates every command's data buffer and frees it after; with glibc's 128 KiB "
        "start each 1 MiB buffer can be a fresh mmap whose page faults and zeroing cost "
        "tgtd's single event thread more than the data copies (about 2x the sequential "
        "rates in bench/datapath.py). glibc accepts at most 32 MiB. None keeps glibc's.",
    )
    keep_tgtd_running: bool = Field(
        default=False,
        description="Leave the managed tgtd (and so the data path) running when Basalt "
        "stops; the next start adopts it through its pid file.",
    )
    check_interval_seconds: float = Field(default=2.0, gt=0.0)
    command_timeout_seconds: float = Field(default=15.0, gt=0.0)

    @field_validator("portals")
    @classmethod
    def _portals(cls, value: list[str]) -> list[str]:
        for portal in value:
            if not _PORTAL.match(portal) or not 0 < int(portal.rsplit(":", 1)[1]) < 65536:
                raise ValueError(f"portal {portal!r} is not host:port (e.g. 127.0.0.1:3260)")
        if len(set(value)) != len(value):
            raise ValueError("portals are listed twice")
        return value

    @field_validator("iqn_prefix")
    @classmethod
    def _iqn_prefix(cls, value: str) -> str:
        if not _IQN_PREFIX.match(value) or len(value) > 180:
            raise ValueError(
                f"{value!r} is not an IQN prefix (iqn.YYYY-MM.reversed.domain, lower case)"
            )
        return value

    def target_params(self) -> dict[str, str]:
        """The iSCSI keys to set on each new target, as tgtadm takes them.

        Returns:
            tgt's key name to value (``{"MaxRecvDataSegmentLength": "262144"}``); empty
            when every key keeps tgt's default.
        """
        if self.max_recv_data_segment_bytes is None:
            return {}
        return {"MaxRecvDataSegmentLength": str(self.max_recv_data_segment_bytes)}

    def tgtd_environment(self) -> dict[str, str]:
        """Environment variables to add to the managed tgtd's (glibc malloc tuning).

        Returns:
            ``MALLOC_MMAP_THRESHOLD_`` and ``MALLOC_TRIM_THRESHOLD_``, or nothing when
            ``tgtd_malloc_mmap_threshold_bytes`` is None.
        """
        threshold = self.tgtd_malloc_mmap_threshold_bytes
        if threshold is None:
            return {}
        return {
            "MALLOC_MMAP_THRESHOLD_": str(threshold),
            "MALLOC_TRIM_THRESHOLD_": str(2 * threshold),
        }


class QuotaSettings(BaseModel):
    """Every project's default limits: the ``[quotas]`` table. -1 is unlimited.

    The ``default`` quota class (os-quota-class-sets/default) overrides these for
    every project, and a project's own quota set overrides both.
    """

    model_config = ConfigDict(extra="forbid")

    volumes: int = Field(default=10, ge=-1, le=MAX_LIMIT, description="volumes per project")
    snapshots: int = Field(default=10, ge=-1, le=MAX_LIMIT, description="snapshots per project")
    gigabytes: int = Field(
        default=1000,
        ge=-1,
        le=MAX_LIMIT,
        description="GiB per project: the sizes of its volumes plus those of its snapshots",
    )
    per_volume_gigabytes: int = Field(
        default=-1, ge=-1, le=MAX_LIMIT, description="the largest size of one volume (GiB)"
    )
    per_type: int = Field(
        default=-1,
        ge=-1,
        le=MAX_LIMIT,
        description="the default of every volumes_<type>, snapshots_<type> and gigabytes_<type>",
    )


class ReplicationTargetSettings(BaseModel):
    """One replication target of a backend (Cinder's replication_device).

    A ``file`` backend names a secondary directory for every pool, distinct from the
    pool's own (another filesystem keeps the copies when the primary's is lost):
    ``{ backend_id = "dr", pools = { default = "/mnt/dr/basalt" }, interval_seconds = 30 }``.
    A ``solidfire`` backend names another Element cluster, whose volumes are paired
    with the primary's: ``{ backend_id = "dr", solidfire = { url = ..., login = ...,
    password = ... } }``.
    """

    model_config = ConfigDict(extra="forbid")

    backend_id: str = Field(pattern=r"^[A-Za-z0-9_.-]{1,64}$")
    pools: dict[str, str] = Field(default_factory=dict)
    solidfire: SolidFireSettings | None = None
    interval_seconds: float = Field(
        default=30.0,
        gt=0.0,
        description="How often each replicated volume's changes are shipped: the "
        "recovery point objective (data written since the last shipment is lost on failover)",
    )

    @field_validator("backend_id")
    @classmethod
    def _not_default(cls, value: str) -> str:
        if value == "default":
            raise ValueError("'default' names the backend's own pools (failback); choose another")
        return value


class BackendSettings(BaseModel):
    name: str = Field(pattern=r"^[A-Za-z0-9_.-]{1,64}$")
    driver: Literal["file", "solidfire"] = "file"
    pools: dict[str, str] = Field(default_factory=dict)
    max_over_subscription_ratio: float = Field(default=20.0, gt=0.0)
    reserved_percentage: float = Field(
        default=0.0, ge=0.0, le=100.0, description="Share of each pool's total kept free"
    )
    volume_backend_name: str | None = Field(
        default=None,
        min_length=1,
        max_length=255,
        description="The capability volume types match with volume_backend_name "
        "(default: the backend's name; several backends may share one)",
    )
    availability_zone: str = "nova"
    solidfire: SolidFireSettings | None = None
    replication_targets: list[ReplicationTargetSettings] = Field(
        default_factory=list,
        description="Where replicated volumes (types with replication_enabled <is> True) "
        "keep a secondary copy (file backends; one target is enough)",
    )

    @model_validator(mode="after")
    def _replication(self) -> BackendSettings:
        ids = [t.backend_id for t in self.replication_targets]
        if len(set(ids)) != len(ids):
            raise ValueError("replication_targets: a backend_id is listed twice")
        for target in self.replication_targets:
            if self.driver == "file" and (not target.pools or target.solidfire is not None):
                raise ValueError(
                    f"replication target {target.backend_id}: a file backend's target names "
                    "a secondary directory per pool (pools), and no solidfire table"
                )
            if self.driver == "solidfire" and (target.solidfire is None or target.pools):
                raise ValueError(
                    f"replication target {target.backend_id}: a solidfire backend's target "
                    "names another cluster (a solidfire table), and no pools"
                )
        if self.driver == "file" and self.pools:
            check_replication_pools(self)
        return self

    @model_validator(mode="after")
    def _driver_table(self) -> BackendSettings:
        if self.driver == "solidfire" and self.solidfire is None:
            raise ValueError(
                "driver 'solidfire' needs a solidfire table with url (or mvip), login and password"
            )
        if self.driver != "solidfire" and self.solidfire is not None:
            raise ValueError(f"solidfire: only for driver 'solidfire', not {self.driver!r}")
        return self


def check_replication_pools(backend: BackendSettings) -> None:
    """Every pool of the backend has a secondary directory in each target, not its own.

    Raises:
        ValueError: naming the target and the pool.
    """
    for target in backend.replication_targets:
        missing = sorted(set(backend.pools) - set(target.pools))
        extra = sorted(set(target.pools) - set(backend.pools))
        if missing or extra:
            raise ValueError(
                f"replication target {target.backend_id}: pools must be the backend's "
                f"{sorted(backend.pools)} (missing {missing}, unknown {extra})"
            )
        for pool, secondary in target.pools.items():
            if (
                Path(secondary).expanduser().resolve()
                == Path(backend.pools[pool]).expanduser().resolve()
            ):
                raise ValueError(
                    f"replication target {target.backend_id}: pool {pool}'s secondary "
                    "directory is the pool itself"
                )


class ReplicationSettings(BaseModel):
    """How Basalt runs replication: the ``[replication]`` table (targets are per backend)."""

    model_config = ConfigDict(extra="forbid")

    run: bool = Field(
        default=True,
        description="Run the replicator thread (off: volumes are shipped only when asked, "
        "as tests and benchmarks do)",
    )
    tick_seconds: float = Field(
        default=1.0,
        gt=0.0,
        description="How often the replicator looks for volumes whose interval has passed",
    )


class Settings(BaseSettings):
    """Everything Basalt reads at start."""

    model_config = SettingsConfigDict(
        env_prefix="BASALT_", env_nested_delimiter="__", extra="forbid"
    )

    data_dir: Path = Path("data")
    database_url: str | None = None
    workers: int = Field(default=8, ge=1, le=256)
    default_project_id: str = "basalt"
    default_user_id: str = "basalt"
    default_volume_type: str = Field(
        default="__DEFAULT__",
        min_length=1,
        max_length=255,
        description="The volume type a volume gets when it names none",
    )
    backends: list[BackendSettings] = Field(default_factory=list)
    api: ApiSettings = Field(default_factory=ApiSettings)
    iscsi: IscsiSettings = Field(default_factory=IscsiSettings)
    quotas: QuotaSettings = Field(default_factory=QuotaSettings)
    scheduler: SchedulerSettings = Field(default_factory=SchedulerSettings)
    replication: ReplicationSettings = Field(default_factory=ReplicationSettings)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # Explicit arguments (CLI flags, library overrides) win over the environment,
        # which wins over the file.
        file_values = InitSettingsSource(settings_cls, init_kwargs=_FILE_VALUES.get() or {})
        return (init_settings, env_settings, file_values)

    @field_validator("data_dir")
    @classmethod
    def _absolute(cls, value: Path) -> Path:
        return value.expanduser().resolve()

    @property
    def resolved_database_url(self) -> str:
        """The database URL, defaulting to SQLite in the data directory."""
        return self.database_url or f"sqlite:///{self.data_dir / 'basalt.db'}"

    @property
    def resolved_backends(self) -> list[BackendSettings]:
        """Configured backends, or the default ``file`` backend with one pool."""
        if self.backends:
            return [self._with_default_pool(b) for b in self.backends]
        return [self._with_default_pool(BackendSettings(name="file"))]

    def _with_default_pool(self, backend: BackendSettings) -> BackendSettings:
        if backend.pools or backend.driver != "file":  # pools are directories: file only
            return backend
        pool_dir = self.data_dir / "pools" / backend.name / "default"
        resolved = backend.model_copy(update={"pools": {"default": str(pool_dir)}})
        try:
            check_replication_pools(resolved)
        except ValueError as exc:
            raise ConfigError(f"backend {backend.name}: {exc}") from exc
        return resolved


def load_settings(path: str | Path | None = None, **overrides: Any) -> Settings:
    """Read settings from ``path`` (or basalt.toml / /etc/basalt/basalt.toml if present).

    Args:
        path: a TOML file; None looks in the default places and uses defaults if absent.
        overrides: values that win over the environment and the file.

    Returns:
        The settings.

    Raises:
        ConfigError: the file is missing, is not TOML, or holds invalid values.
    """
    values: dict[str, Any] = {}
    file = Path(path) if path is not None else _first_existing(DEFAULT_CONFIG_PATHS)
    if file is not None:
        try:
            values = tomllib.loads(file.read_text(encoding="utf-8"))
        except FileNotFoundError as exc:
            raise ConfigError(f"config file {file} does not exist") from exc
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            raise ConfigError(f"config file {file} cannot be read: {exc}") from exc
    token = _FILE_VALUES.set(values)
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        where = f"config file {file}" if file else "configuration"
        raise ConfigError(f"{where} is invalid: {_short(exc)}") from exc
    finally:
        _FILE_VALUES.reset(token)


def _first_existing(paths: tuple[Path, ...]) -> Path | None:
    return next((p for p in paths if p.is_file()), None)


def _short(exc: ValidationError) -> str:
    return "; ".join(
        f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors()
    )
