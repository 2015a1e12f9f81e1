"""Element JSON-RPC over HTTPS: one POST per call, HTTP Basic auth, no session.

A call is ``POST <url>/json-rpc/<version>/`` with ``{"method", "params", "id"}``;
the reply is ``{"result": {...}}`` or ``{"error": {"name": "x...", "message"}}``.
The API version of each method is in :data:`API_VERSIONS` (1.0 for the rest).

Retries (tenacity, exponential backoff, bounded by attempts *and* total time):

- Element errors in :data:`~basalt.drivers.solidfire.errors.RETRYABLE_NAMES`, for
  every method: the array refused the call, so repeating it is safe.
- Connection failures before the request was sent, for every method.
- Failures after it was sent (read timeout, dropped connection, HTTP 5xx) only for
  methods that are safe to repeat. For the creating methods in
  :data:`NOT_REPEATABLE` the client raises SolidFireUncertainError at once: the
  caller looks for the object by name before trying again (see ``array.py``).

The password is only ever in the Authorization header: never in a message or a log.
"""

from __future__ import annotations

import itertools
import json
import logging
import ssl
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import httpx
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception,
    stop_after_attempt,
    wait_exponential,
)
from tenacity.stop import stop_base

from basalt.drivers.solidfire.errors import (
    LOGIN_HINT,
    RETRYABLE_NAMES,
    SolidFireAuthError,
    SolidFireError,
    SolidFireReplyError,
    SolidFireUncertainError,
    SolidFireUnreachableError,
    element_error,
)

log = logging.getLogger(__name__)

JsonObject = dict[str, Any]

API_VERSIONS: Mapping[str, str] = {
    "CloneVolume": "6.0",
    "CreateSnapshot": "6.0",
    "CreateVolumeAccessGroup": "7.0",
    "ListVolumeAccessGroups": "7.0",
    "AddInitiatorsToVolumeAccessGroup": "7.0",
    "AddVolumesToVolumeAccessGroup": "7.0",
    "RemoveVolumesFromVolumeAccessGroup": "7.0",
    "DeleteVolumeAccessGroup": "7.0",
    "CreateGroupSnapshot": "7.0",
    "ListGroupSnapshots": "7.0",
    "DeleteGroupSnapshot": "7.0",
    "ListVolumes": "8.0",
    "GetClusterCapacity": "8.0",
    "StartClusterPairing": "8.0",
    "CompleteClusterPairing": "8.0",
    "ListClusterPairs": "8.0",
    "StartVolumePairing": "8.0",
    "CompleteVolumePairing": "8.0",
    "RemoveVolumePair": "8.0",
}
"""The API version each method is called with; every other method uses DEFAULT_VERSION."""

DEFAULT_VERSION = "1.0"
HIGHEST_VERSION = "8.0"
"""The highest version in API_VERSIONS: the cluster must speak at least this."""

NOT_REPEATABLE = frozenset(
    {
        "AddAccount",
        "CreateVolume",
        "CloneVolume",
        "CreateSnapshot",
        "CreateGroupSnapshot",
        "CreateVolumeAccessGroup",
        "StartClusterPairing",
        "StartVolumePairing",
    }
)
"""Methods that make a new object each time they run: never repeated blindly."""

_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
_MAYBE_APPLIED = (
    httpx.ReadTimeout,
    httpx.WriteTimeout,
    httpx.ReadError,
    httpx.WriteError,
    httpx.RemoteProtocolError,
)


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How long the client keeps trying: at most ``attempts`` tries within ``total_seconds``.

    The waits double from ``initial_delay_seconds`` up to ``max_delay_seconds``; a
    wait that would end past ``total_seconds`` (counting from the first try) is not
    started.
    """

    attempts: int = 6
    total_seconds: float = 30.0
    initial_delay_seconds: float = 1.0
    max_delay_seconds: float = 8.0


class _Retry(Exception):
    """One failed try that may be repeated; carries the error to raise if none is left."""

    def __init__(self, error: SolidFireError) -> None:
        super().__init__(str(error))
        self.error = error


class SolidFireClient:
    """A JSON-RPC client for one Element cluster (thread-safe: one httpx.Client).

    Args:
        backend_name: the backend's name, for every error message.
        url: the cluster's base URL, ``https://<mvip>[:port]``.
        login: the cluster admin user (HTTP Basic).
        password: its password (kept only in the auth header).
        verify: False (the default, as the seed's driver), True (system CAs) or
            the path of a CA file.
        transport: an httpx transport to use instead of the network (tests,
            proxies); None for the network.
        timeout_seconds: per-request timeout (connect at most 10 s).
        retry: the retry budget; default :class:`RetryPolicy`.
        sleep: how to wait between tries (tests record instead).
    """

    def __init__(
        self,
        *,
        backend_name: str,
        url: str,
        login: str,
        password: str,
        verify: bool | str = False,
        transport: httpx.BaseTransport | None = None,
        timeout_seconds: float = 30.0,
        retry: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.backend_name = backend_name
        self.url = url.rstrip("/")
        self.login = login
        self.retry = retry or RetryPolicy()
        self._sleep = sleep
        self._ids = itertools.count(1)
        self._http = httpx.Client(
            auth=httpx.BasicAuth(login, password),
            verify=ssl.create_default_context(cafile=verify) if isinstance(verify, str) else verify,
            transport=transport,
            timeout=httpx.Timeout(timeout_seconds, connect=min(timeout_seconds, 10.0)),
            headers={"Content-Type": "application/json"},
        )

    def close(self) -> None:
        """Release the connection pool."""
        self._http.close()

    def endpoint(self, version: str) -> str:
        """The URL a call of API ``version`` is posted to."""
        return f"{self.url}/json-rpc/{version}/"

    def call(
        self, method: str, params: Mapping[str, Any] | None = None, *, version: str | None = None
    ) -> JsonObject:
        """Call one Element method and return its ``result`` object, retrying as the module says.

        Args:
            method: the Element method, e.g. ``"CreateVolume"``.
            params: its parameters (never logged: AddAccount carries CHAP secrets).
            version: the API version; default: :data:`API_VERSIONS` or 1.0.

        Returns:
            The reply's ``result`` object.

        Raises:
            SolidFireAuthError: the login was refused (HTTP 401).
            SolidFireUnreachableError: the cluster could not be reached within the budget.
            SolidFireReplyError: the reply was not Element JSON-RPC.
            SolidFireBusyError: a retryable Element error lasted past the budget.
            SolidFireUncertainError: a creating call was sent but got no answer.
            SolidFireError: any other Element error (a subclass where ERRORS lists it).
        """
        version = version or API_VERSIONS.get(method, DEFAULT_VERSION)
        body = {"method": method, "params": dict(params or {}), "id": next(self._ids)}
        retrying = Retrying(
            stop=stop_after_attempt(self.retry.attempts) | _BudgetSpent(self.retry.total_seconds),
            wait=wait_exponential(
                multiplier=self.retry.initial_delay_seconds, max=self.retry.max_delay_seconds
            ),
            retry=retry_if_exception(lambda exc: isinstance(exc, _Retry)),
            sleep=self._sleep,
            before_sleep=self._log_retry,
            reraise=True,
        )
        try:
            return retrying(self._post_once, method, version, body)
        except _Retry as final:
            attempts = retrying.statistics.get("attempt_number", 1)
            error = final.error
            error.args = (f"{error.message} (after {attempts} tries)",)
            error.message = error.args[0]
            raise error from final.__cause__

    def _post_once(self, method: str, version: str, body: JsonObject) -> JsonObject:
        url = self.endpoint(version)
        try:
            response = self._http.post(url, content=json.dumps(body))
        except _NOT_SENT as exc:
            raise self._unreachable(url, method, exc) from exc
        except _MAYBE_APPLIED as exc:
            raise self._maybe_applied(url, method, exc) from exc
        except httpx.HTTPError as exc:
            raise SolidFireUnreachableError(
                self.backend_name, f"cannot call {method} at {url}: {exc!r}", method=method
            ) from exc
        return self._result(url, method, response)

    def _unreachable(self, url: str, method: str, exc: Exception) -> Exception:
        text = str(exc) or type(exc).__name__
        if "CERTIFICATE_VERIFY_FAILED" in text or "certificate verify failed" in text:
            return SolidFireUnreachableError(
                self.backend_name,
                f"the TLS certificate of {url} was not accepted: {text}",
                method=method,
                hint="set ca_file to the cluster's CA certificate, or verify_tls = false",
            )
        return _Retry(
            SolidFireUnreachableError(
                self.backend_name,
                f"cannot reach the SolidFire cluster at {url}: {text}",
                method=method,
                hint="check url (or mvip and api_port) and that the cluster's MVIP answers",
            )
        )

    def _maybe_applied(self, url: str, method: str, exc: Exception) -> Exception:
        text = str(exc) or type(exc).__name__
        if method in NOT_REPEATABLE:
            return SolidFireUncertainError(
                self.backend_name,
                f"{method} got no answer from {url} ({text}); it may have been applied",
                method=method,
            )
        return _Retry(
            SolidFireUnreachableError(
                self.backend_name, f"{method} got no answer from {url}: {text}", method=method
            )
        )

    def _result(self, url: str, method: str, response: httpx.Response) -> JsonObject:
        if response.status_code == 401:
            raise SolidFireAuthError(
                self.backend_name,
                f"the cluster at {self.url} refused the login {self.login!r} (HTTP 401)",
                method=method,
                hint=LOGIN_HINT,
            )
        if response.status_code >= 500 and method not in NOT_REPEATABLE:
            raise _Retry(self._bad_status(url, method, response))
        if response.status_code != 200:
            raise self._bad_status(url, method, response)
        reply = self._json(url, method, response)
        error = reply.get("error")
        if error is not None:
            raise self._element_error(url, method, error)
        result = reply.get("result")
        if not isinstance(result, dict):
            raise self._malformed(url, method, "it has neither a result object nor an error")
        return result

    def _bad_status(self, url: str, method: str, response: httpx.Response) -> SolidFireError:
        hint = None
        if response.status_code == 404:
            hint = "the URL is wrong, or the cluster does not serve this API version"
        return SolidFireReplyError(
            self.backend_name,
            f"{method} at {url} answered HTTP {response.status_code}: {_excerpt(response.text)}",
            method=method,
            hint=hint,
        )

    def _json(self, url: str, method: str, response: httpx.Response) -> JsonObject:
        try:
            reply = json.loads(response.content)
        except ValueError as exc:
            raise self._malformed(
                url, method, f"it is not JSON: {_excerpt(response.text)}"
            ) from exc
        if not isinstance(reply, dict):
            raise self._malformed(
                url, method, f"it is not a JSON object: {_excerpt(response.text)}"
            )
        return reply

    def _element_error(self, url: str, method: str, error: object) -> Exception:
        if not isinstance(error, dict) or not isinstance(error.get("name"), str):
            return self._malformed(url, method, f"its error has no name: {error!r}"[:300])
        name = error["name"]
        converted = element_error(
            self.backend_name, method=method, name=name, message=str(error.get("message", ""))
        )
        return _Retry(converted) if name in RETRYABLE_NAMES else converted

    def _malformed(self, url: str, method: str, why: str) -> SolidFireReplyError:
        return SolidFireReplyError(
            self.backend_name,
            f"the reply to {method} from {url} is not Element JSON-RPC: {why}",
            method=method,
            hint="is the URL a SolidFire MVIP? a proxy may be answering instead",
        )

    def _log_retry(self, state: RetryCallState) -> None:
        failure = state.outcome.exception() if state.outcome is not None else None
        text = failure.error.message if isinstance(failure, _Retry) else str(failure)
        wait = state.next_action.sleep if state.next_action is not None else 0.0
        log.warning("%s; try %d, again in %.2fs", text, state.attempt_number, wait)


class _BudgetSpent(stop_base):
    """Stop when the next wait would end past ``total_seconds`` (elapsed or slept)."""

    def __init__(self, total_seconds: float) -> None:
        self.total_seconds = total_seconds

    def __call__(self, retry_state: RetryCallState) -> bool:
        spent = max(retry_state.seconds_since_start or 0.0, retry_state.idle_for)
        return spent + retry_state.upcoming_sleep > self.total_seconds


def _excerpt(text: str, limit: int = 200) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit] + "..."
