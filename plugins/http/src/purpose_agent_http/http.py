"""The HTTP plumbing every remote backend shares: clients, timeouts, retries, typed errors.

:class:`HTTPBackend` owns one lazily created ``httpx.Client`` and one ``httpx.AsyncClient``
(per event loop), sends requests through the retry loop, and turns HTTP failures into the
model-call errors of :mod:`purpose_agent.errors`. Protocol classes
(:class:`OpenAICompatibleBackend`, the Ollama and Anthropic plugins) build bodies and parse
replies on top of it. It also knows what the kernel asks a provider through the
``backend_profiles`` hook (:meth:`HTTPBackend.profile`): the key variable that makes it usable,
its priority in the default chain, and its list prices.

httpx is imported inside methods so that importing a provider plugin costs almost nothing.
"""

from __future__ import annotations

import asyncio
import json
import os
import time
from collections.abc import AsyncGenerator, Generator, Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

from purpose_agent.errors import (
    AuthenticationError,
    BadRequestError,
    LLMError,
    MissingAPIKeyError,
    ModelNotFoundError,
    ProviderUnavailableError,
    RateLimitError,
    RequestTimeoutError,
    StreamError,
)

from .retry import RETRYABLE_STATUSES, RetryPolicy, parse_duration, parse_retry_after
from .streaming import SSEEvent, aiter_sse, iter_sse, parse_json

if TYPE_CHECKING:
    import httpx

    from purpose_agent.interfaces import BackendProfile
    from purpose_agent.models import ChatRequest, StreamChunk


class SSEStreamState(Protocol):
    """What :meth:`HTTPBackend.stream_sse` drives: a protocol's parser of one streamed reply."""

    #: Set once the reply is complete (``[DONE]``, ``message_stop``); the stream is closed then.
    done: bool

    def feed(self, event: SSEEvent) -> Iterator[StreamChunk]:
        """The chunks one event carries (raise a model-call error for an error event)."""
        ...

    def finish(self) -> Iterator[StreamChunk]:
        """The closing chunks (tool calls, usage, finish reason), or an error if the stream was cut."""
        ...


#: A request extension: ``True`` asks :class:`~purpose_agent_http.transport.PooledAsyncTransport`
#: for the response with its body already read (other transports ignore it).
READ_WHOLE_BODY = "purpose_agent_http.read_whole_body"
#: A response extension set by that transport: the headers as aiohttp parsed them (a C mapping,
#: case-insensitive like httpx's, where each lookup in ``httpx.Headers`` scans every header).
PARSED_HEADERS = "purpose_agent_http.parsed_headers"


class WholeResponse:
    """A reply read whole by :meth:`PooledAsyncTransport.request_whole
    <purpose_agent_http.transport.PooledAsyncTransport.request_whole>`: what the retry loop and
    :meth:`HTTPBackend.apost_json` read of a response, without httpx's response object."""

    __slots__ = ("content", "extensions", "headers", "status_code")

    def __init__(self, status_code: int, headers: Mapping[str, str], content: bytes) -> None:
        self.status_code = status_code
        #: aiohttp's parsed headers (case-insensitive)
        self.headers = headers
        self.content = content
        self.extensions = {PARSED_HEADERS: headers}

    @property
    def text(self) -> str:
        """The body decoded by the charset its type names (UTF-8 when none or an unknown one)."""
        content_type = self.headers.get("content-type", "")
        charset = content_type.lower().partition("charset=")[2].split(";")[0].strip().strip("'\"")
        try:
            return self.content.decode(charset or "utf-8", "replace")
        except LookupError:
            return self.content.decode("utf-8", "replace")

    async def aread(self) -> bytes:
        return self.content

    async def aclose(self) -> None:
        """Nothing to close: the connection went back to the pool when the body was read."""


def _headers_of(response: httpx.Response | WholeResponse) -> Mapping[str, str]:
    """The response's headers for lookups: the transport's parsed mapping when there is one."""
    parsed = response.extensions.get(PARSED_HEADERS)
    return parsed if parsed is not None else response.headers


def _text_of(response: httpx.Response | WholeResponse) -> str:
    """``response.text`` without httpx's charset parsing when the type names no charset
    (httpx then decodes as UTF-8 as well)."""
    content_type = _headers_of(response).get("content-type", "")
    if "charset" in content_type.lower():
        return response.text
    return response.content.decode("utf-8", "replace")


def _json_body(body: Any) -> bytes:
    """``body`` encoded as httpx's ``json=`` encodes it (compact, UTF-8, no NaN)."""
    return json.dumps(body, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode("utf-8")

_SSL_CONTEXT: Any = None


def shared_ssl_context() -> Any:
    """One TLS context per process: building one loads the CA bundle (tens of milliseconds)."""
    global _SSL_CONTEXT
    if _SSL_CONTEXT is None:
        import ssl

        import certifi

        _SSL_CONTEXT = ssl.create_default_context(cafile=certifi.where())
    return _SSL_CONTEXT


def _proxy_configured() -> bool:
    """Whether the environment routes HTTP through a proxy (then httpx's transport is used)."""
    return any(os.environ.get(name) for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY",
                                                  "http_proxy", "https_proxy", "all_proxy"))


@dataclass
class RateLimitInfo:
    """What a provider's rate-limit headers said on the last response (``None`` = not sent)."""

    requests_remaining: int | None = None
    tokens_remaining: int | None = None
    reset_s: float | None = None


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


class HTTPBackend:
    """Base of the HTTP backends. Subclasses set the class attributes and the protocol methods.

    Args:
        model: the model id (``""`` means the provider's default).
        settings: the plugin's :class:`~purpose_agent_http.settings.ProviderSettings` or ``None``.
        base_url, api_key_env: override the settings and class defaults.
        api_key: a key given in code (wins over the environment; never read from config files).
        transport, async_transport: httpx transports to use instead of the network (tests).
        environ: the environment to read keys from (default ``os.environ``).
    """

    #: HTTP chat APIs take tool specs and return tool calls; the actor then uses native calls.
    supports_tools = True

    provider: ClassVar[str] = "http"
    default_base_url: ClassVar[str] = ""
    default_api_key_env: ClassVar[str | None] = None
    default_model_id: ClassVar[str] = ""
    #: Whether a request without a key is pointless (local servers need none).
    requires_key: ClassVar[bool] = True
    #: Place in the default chain when its key is set (``BackendProfile.priority``; 0: never the default).
    default_priority: ClassVar[int] = 0
    #: List prices for budgeting and ``routing = "cheapest"``: model -> (USD per 1M prompt tokens,
    #: USD per 1M completion tokens). ``[plugins.<id>] prices`` adds to and overrides it.
    list_prices: ClassVar[Mapping[str, tuple[float, float]]] = {}
    #: Runs on the user's machine: no per-token cost, first under ``routing = "local-first"``.
    local: ClassVar[bool] = False

    def __init__(
        self,
        model: str = "",
        *,
        settings: Any = None,
        base_url: str | None = None,
        api_key: str | None = None,
        api_key_env: str | None = None,
        transport: httpx.BaseTransport | None = None,
        async_transport: httpx.AsyncBaseTransport | None = None,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        def setting(key: str, default: Any) -> Any:
            value = getattr(settings, key, None) if settings is not None else None
            return default if value is None else value

        self.model = model or setting("default_model", None) or self.default_model_id
        self.name = f"{self.provider}:{self.model}"
        self.base_url = (base_url or setting("base_url", None) or self.default_base_url).rstrip("/")
        self.api_key_env = api_key_env or setting("api_key_env", None) or self.default_api_key_env
        self._api_key = api_key
        self._environ = os.environ if environ is None else environ
        self.timeout = float(setting("timeout", 60.0))
        self.connect_timeout = float(setting("connect_timeout", 10.0))
        self.max_connections = int(setting("max_connections", 100))
        self.pool_timeout = float(setting("pool_timeout", 30.0))
        self.retry = RetryPolicy(
            max_attempts=int(setting("max_retries", 2)) + 1,
            base_delay=float(setting("retry_base_delay", 0.5)),
            max_delay=float(setting("retry_max_delay", 8.0)),
            max_wait=float(setting("retry_max_wait", 60.0)),
        )
        self.extra_headers: dict[str, str] = dict(setting("headers", {}) or {})
        self.prices: dict[str, Any] = {**self.list_prices, **dict(setting("prices", {}) or {})}
        self.rate_limit = RateLimitInfo()
        self._transport = transport
        self._async_transport = async_transport
        self._client: httpx.Client | None = None
        self._aclients: dict[int, httpx.AsyncClient] = {}
        self._direct: dict[int, Any] = {}
        self._urls: dict[str, Any] = {}
        self._url_texts: dict[str, str] = {}
        self._header_sets: dict[tuple[Any, ...], httpx.Headers] = {}
        self._json_header_sets: dict[tuple[Any, ...], Any] = {}

    # ------------------------------------------------------------------ hooks for subclasses

    def auth_headers(self, key: str | None) -> dict[str, str]:
        """Headers that carry the key; OpenAI-style Bearer by default."""
        return {"Authorization": f"Bearer {key}"} if key else {}

    def parse_rate_limit(self, headers: Mapping[str, str]) -> RateLimitInfo:
        """Read rate-limit headers; OpenAI-style ``x-ratelimit-*`` by default.

        Providers that name them differently override this; the reset time is used as the wait
        on a 429 that carries no ``Retry-After``.
        """
        resets = [parse_duration(headers.get(h)) for h in ("x-ratelimit-reset-requests", "x-ratelimit-reset-tokens")]
        known = [r for r in resets if r is not None]
        return RateLimitInfo(
            requests_remaining=_int(headers.get("x-ratelimit-remaining-requests")),
            tokens_remaining=_int(headers.get("x-ratelimit-remaining-tokens")),
            reset_s=max(known) if known else None,
        )

    @staticmethod
    def sampling_fields(request: ChatRequest, *, max_tokens: str | None = "max_tokens",
                        stop: str = "stop") -> dict[str, Any]:
        """The request's sampling settings that are set (temperature, token limit, stop
        sequences), under the protocol's field names; ``max_tokens=None`` leaves the token limit
        to the caller (a protocol that requires one)."""
        fields: dict[str, Any] = {}
        if request.temperature is not None:
            fields["temperature"] = request.temperature
        if max_tokens is not None and request.max_tokens is not None:
            fields[max_tokens] = request.max_tokens
        if request.stop:
            fields[stop] = list(request.stop)
        return fields

    @classmethod
    def profile(cls, name: str, settings: Any = None) -> BackendProfile:
        """What the ``backend_profiles`` hook says about this provider: usable when its key
        variable (``[plugins.<id>] api_key_env`` or the class default) is set, ranked by
        :attr:`default_priority`, priced by :attr:`list_prices` and the configured ``prices``.
        A provider detected another way (a local server) overrides this."""
        from purpose_agent.interfaces import BackendProfile

        key_env = getattr(settings, "api_key_env", None) or cls.default_api_key_env

        def key_is_set(environ: Mapping[str, str]) -> str | None:
            return f"environment: {key_env} is set" if key_env and environ.get(key_env) else None

        prices = {**cls.list_prices, **(getattr(settings, "prices", None) or {})}
        return BackendProfile(name=name, priority=cls.default_priority, detect=key_is_set if key_env else None,
                              local=cls.local, prices=prices)

    # ------------------------------------------------------------------ keys and clients

    def api_key(self) -> str | None:
        """The key to send: given in code, else from the environment variable; ``None`` if none."""
        if self._api_key:
            return self._api_key
        if self.api_key_env:
            return self._environ.get(self.api_key_env) or None
        return None

    def _headers(self) -> dict[str, str]:
        key = self.api_key()
        if key is None and self.requires_key:
            raise MissingAPIKeyError(self.provider, self.api_key_env or "(no variable configured)")
        return {**self.auth_headers(key), **self.extra_headers}

    def _timeout(self, read: float | None = None) -> httpx.Timeout:
        import httpx

        return httpx.Timeout(read or self.timeout, connect=min(self.connect_timeout, read or self.connect_timeout),
                             pool=self.pool_timeout)

    def _limits(self) -> httpx.Limits:
        import httpx

        return httpx.Limits(max_connections=self.max_connections, max_keepalive_connections=min(20, self.max_connections))

    def client(self) -> httpx.Client:
        """The sync httpx client, created on first use."""
        if self._client is None:
            import httpx

            self._client = httpx.Client(base_url=self.base_url, timeout=self._timeout(), transport=self._transport,
                                       verify=shared_ssl_context(), limits=self._limits())
        return self._client

    def aclient(self) -> httpx.AsyncClient:
        """The async httpx client of the running event loop, created on first use.

        One per loop: an async connection pool must not be shared between event loops. Its
        transport is :class:`~purpose_agent_http.transport.PooledAsyncTransport` (aiohttp's pool:
        a swarm's hundreds of concurrent requests cost a fraction of the CPU httpcore needs),
        unless a test injects one or a proxy is configured in the environment, which only httpx's
        own transport handles.
        """
        import httpx

        loop = asyncio.get_running_loop()
        loop_id = id(loop)
        client = self._aclients.get(loop_id)
        direct = self._direct.get(id(client)) if client is not None else None
        # a closed transport: its loop ended (a new loop may reuse the old one's id)
        if client is None or client.is_closed or getattr(direct, "is_closed", False):
            if client is not None:
                self._direct.pop(id(client), None)
            transport = self._async_transport
            if transport is None and not _proxy_configured():
                from .transport import PooledAsyncTransport

                transport = PooledAsyncTransport(ssl_context=shared_ssl_context(), max_connections=self.max_connections,
                                                 pool_timeout=self.pool_timeout)
            client = httpx.AsyncClient(base_url=self.base_url, timeout=self._timeout(), transport=transport,
                                       verify=shared_ssl_context(), limits=self._limits())
            self._aclients[loop_id] = client
            if transport is not None and transport is not self._async_transport:
                self._direct[id(client)] = transport
        return client

    def _url(self, path: str) -> Any:
        """The absolute URL for ``path``, parsed once: httpx's URL parser is slow enough (~0.3 ms)
        to show up in a swarm of short requests."""
        url = self._urls.get(path)
        if url is None:
            import httpx

            url = self._urls[path] = httpx.URL(self.base_url.rstrip("/") + "/" + path.lstrip("/"))
        return url

    def _url_text(self, path: str) -> str:
        """:meth:`_url` as text, kept like it."""
        text = self._url_texts.get(path)
        if text is None:
            text = self._url_texts[path] = str(self._url(path))
        return text

    def _merged_headers(self, client: httpx.AsyncClient, headers: dict[str, str]) -> httpx.Headers:
        """The client's default headers with ``headers`` over them, as ``client.build_request``
        merges them; kept per client and header set (they rarely change between requests)."""
        key = (id(client), tuple(headers.items()))
        merged = self._header_sets.get(key)
        if merged is None:
            import httpx

            if len(self._header_sets) >= 64:  # a key that changes per request
                self._header_sets.clear()
            merged = self._header_sets[key] = httpx.Headers(client.headers)
            merged.update(headers)
        return merged

    def _json_headers(self, client: httpx.AsyncClient, direct: Any, headers: dict[str, str]) -> Any:
        """:meth:`_merged_headers` for a JSON body, in the form ``direct.request_whole`` takes;
        kept like them."""
        key = (id(client), tuple(headers.items()))
        prepared = self._json_header_sets.get(key)
        if prepared is None:
            if len(self._json_header_sets) >= 64:
                self._json_header_sets.clear()
            prepared = self._json_header_sets[key] = direct.json_headers(self._merged_headers(client, headers))
        return prepared

    def close(self) -> None:
        """Close the sync client (async clients close with :meth:`aclose`)."""
        if self._client is not None:
            self._client.close()
            self._client = None

    async def aclose(self) -> None:
        """Close the async client of the running loop and the sync client."""
        client = self._aclients.pop(id(asyncio.get_running_loop()), None)
        if client is not None:
            self._direct.pop(id(client), None)
            await client.aclose()
        self.close()

    # ------------------------------------------------------------------ errors

    def error_detail(self, body: str) -> tuple[str, str]:
        """``(message, code)`` out of an error body in any of the common shapes."""
        try:
            data = parse_json(body, provider=self.provider)
        except LLMError:
            return (body.strip()[:200] or "no details given"), ""
        error = data.get("error", data) if isinstance(data, dict) else data
        if isinstance(error, dict):
            message = error.get("message") or error.get("detail") or error.get("error") or str(error)
            code = error.get("code") or error.get("type") or ""
            return str(message), str(code)
        return str(error), ""

    def error_for_status(self, status: int, body: str, *, attempts: int, wait_s: float | None) -> LLMError:
        """The typed error for an HTTP failure status."""
        detail, code = self.error_detail(body)
        lowered = f"{detail} {code}".lower()
        modelish = "model" in lowered and any(
            w in lowered for w in ("not found", "does not exist", "not_found", "unknown", "invalid model", "decommissioned", "no such")
        )
        if status in (401, 403):
            return AuthenticationError(self.provider, self.api_key_env or "", status, detail)
        if status == 429:
            return RateLimitError(self.provider, attempts, wait_s, detail)
        if modelish or code == "model_not_found" or (status == 404 and "model" in lowered):
            return ModelNotFoundError(self.provider, self.model, status, detail)
        if status == 404:
            return BadRequestError(
                f"{self.provider}: {self.base_url} answered 404 Not Found: {detail}. Check the base URL "
                f"([plugins.{self.provider}] base_url).",
                provider=self.provider,
                status=status,
            )
        if status >= 500:
            return ProviderUnavailableError(
                f"{self.provider}: server error (HTTP {status}) after {attempts} attempt(s): {detail}. The "
                "provider may be down or overloaded; retry later or configure [model] fallback.",
                provider=self.provider,
                status=status,
            )
        return BadRequestError(
            f"{self.provider}: the request was rejected (HTTP {status}): {detail}.", provider=self.provider, status=status
        )

    def _transport_error(self, exc: Exception, attempts: int) -> LLMError:
        import httpx

        if isinstance(exc, httpx.PoolTimeout):
            return RequestTimeoutError(
                f"{self.provider}: no free connection to {self.base_url} ({exc}) after {attempts} attempt(s). "
                f"Lower the concurrency, or raise [plugins.{self.provider}] max_connections or pool_timeout.",
                provider=self.provider,
            )
        if isinstance(exc, httpx.RemoteProtocolError):
            return ProviderUnavailableError(
                f"{self.provider}: {self.base_url} sent a response that is not valid HTTP ({exc}) after {attempts} "
                "attempt(s). Check that the base URL points at the provider's API, not a proxy or another service.",
                provider=self.provider,
            )
        if isinstance(exc, httpx.TimeoutException):
            return RequestTimeoutError(
                f"{self.provider}: no answer from {self.base_url} within {self.timeout:g} s "
                f"({type(exc).__name__}) after {attempts} attempt(s). Raise [plugins.{self.provider}] timeout "
                "or try a smaller model.",
                provider=self.provider,
            )
        return ProviderUnavailableError(
            f"{self.provider}: could not reach {self.base_url} ({type(exc).__name__}: {exc}) after {attempts} "
            "attempt(s). Is the server running and the base URL right?",
            provider=self.provider,
        )

    def _server_wait(self, response: httpx.Response | WholeResponse) -> float | None:
        headers = _headers_of(response)
        wait = parse_retry_after(headers.get("retry-after"))
        if wait is None:
            ms = headers.get("retry-after-ms")
            wait = float(ms) / 1000 if ms and ms.replace(".", "", 1).isdigit() else None
        if wait is None and response.status_code == 429:
            wait = self.parse_rate_limit(headers).reset_s
        return wait

    def _status_error(self, response: httpx.Response | WholeResponse, text: str,
                      attempt: int) -> tuple[LLMError, float | None]:
        """The error for a failed status and the wait the server asked for; raised at once when
        the status is one a retry cannot fix."""
        wait = self._server_wait(response)
        error = self.error_for_status(response.status_code, text, attempts=attempt, wait_s=wait)
        if response.status_code not in RETRYABLE_STATUSES:
            raise error
        return error, wait

    def _retry_delay(self, error: LLMError, attempt: int, attempts: int | None, wait: float | None) -> float:
        """Seconds to wait before the next attempt; raises ``error`` when the attempts are spent."""
        if attempt >= (attempts or self.retry.max_attempts):
            raise error
        return self.retry.delay(attempt, wait)

    # ------------------------------------------------------------------ the retry loop

    def send(self, method: str, path: str, body: Any = None, *, stream: bool = False, read_timeout: float | None = None, attempts: int | None = None) -> httpx.Response:
        """Send with retries (``attempts`` overrides the policy's count); return a successful response (open, when ``stream``; caller closes it)."""
        import httpx

        headers = self._headers()
        client = self.client()
        attempt = 0
        while True:
            attempt += 1
            wait: float | None = None
            try:
                request = client.build_request(method, self._url(path), json=body, headers=headers, timeout=self._timeout(read_timeout) if read_timeout else httpx.USE_CLIENT_DEFAULT)
                response = client.send(request, stream=stream)
            except httpx.TransportError as exc:
                error = self._transport_error(exc, attempt)
            else:
                self.rate_limit = self.parse_rate_limit(response.headers)
                if response.status_code < 400:
                    return response
                try:
                    text = response.read().decode("utf-8", "replace")
                except httpx.TransportError:
                    text = ""
                response.close()
                error, wait = self._status_error(response, text, attempt)
            time.sleep(self._retry_delay(error, attempt, attempts, wait))

    async def asend(self, method: str, path: str, body: Any = None, *, stream: bool = False, read_timeout: float | None = None, attempts: int | None = None) -> httpx.Response:
        """Async twin of :meth:`send`."""
        response = await self._asend(method, path, body, stream=stream, read_timeout=read_timeout, attempts=attempts)
        assert not isinstance(response, WholeResponse)
        return response

    async def _asend(self, method: str, path: str, body: Any = None, *, stream: bool = False,
                     read_timeout: float | None = None, attempts: int | None = None,
                     whole: bool = False) -> httpx.Response | WholeResponse:
        """:meth:`asend`; with ``whole`` (a JSON body, a reply read whole) the pooled transport's
        reply is returned as it is, without an httpx request or response."""
        import httpx

        headers = self._headers()
        client = self.aclient()
        attempt = 0
        while True:
            attempt += 1
            wait: float | None = None
            response: httpx.Response | WholeResponse
            try:
                timeout = self._timeout(read_timeout) if read_timeout else None
                direct = self._direct.get(id(client))
                if direct is not None and whole and not stream:
                    limits = timeout or client.timeout
                    response = await direct.request_whole(
                        method, self._url_text(path), self._json_headers(client, direct, headers), _json_body(body),
                        connect=limits.connect, read=limits.read, pool=limits.pool)
                elif direct is not None:
                    # Straight to the transport: the client's URL joining, header merging, auth,
                    # redirect and cookie machinery is unused here and costs a measurable share
                    # of a swarm's CPU.
                    extensions = {"timeout": (timeout or client.timeout).as_dict(), READ_WHOLE_BODY: not stream}
                    request = httpx.Request(method, self._url(path), json=body, headers=self._merged_headers(client, headers),
                                            extensions=extensions)
                    streamed: httpx.Response = await direct.handle_async_request(request)
                    streamed.request = request
                    if not stream:
                        await streamed.aread()
                    response = streamed
                else:
                    request = client.build_request(method, self._url(path), json=body, headers=headers,
                                                   timeout=timeout or httpx.USE_CLIENT_DEFAULT)
                    response = await client.send(request, stream=stream)
            except httpx.TransportError as exc:
                error = self._transport_error(exc, attempt)
            else:
                self.rate_limit = self.parse_rate_limit(_headers_of(response))
                if response.status_code < 400:
                    return response
                try:
                    text = (await response.aread()).decode("utf-8", "replace")
                except httpx.TransportError:
                    text = ""
                await response.aclose()
                error, wait = self._status_error(response, text, attempt)
            await asyncio.sleep(self._retry_delay(error, attempt, attempts, wait))

    def post_json(self, path: str, body: Any) -> Any:
        """POST ``body`` and return the parsed JSON reply."""
        response = self.send("POST", path, body)
        return parse_json(response.text, provider=self.provider)

    async def apost_json(self, path: str, body: Any) -> Any:
        """Async twin of :meth:`post_json`."""
        response = await self._asend("POST", path, body, whole=True)
        return parse_json(_text_of(response), provider=self.provider)

    def stream_lines(self, path: str, body: Any) -> Generator[str, None, None]:
        """POST ``body`` and yield the reply's lines; the connection closes when the caller stops.

        Retries cover getting the stream started; once lines flow, a broken connection or a
        stalled server is an error (the caller may already have shown part of the reply).
        """
        import httpx

        response = self.send("POST", path, body, stream=True)
        try:
            yield from response.iter_lines()
        except (httpx.TimeoutException, httpx.TransportError) as exc:
            raise self._broken_stream(exc) from exc
        finally:
            response.close()

    def _broken_stream(self, exc: Exception) -> Exception:
        """The error for a stream that stopped after it started: a stall (timeout) or a cut connection."""
        import httpx

        if isinstance(exc, httpx.TimeoutException):
            return RequestTimeoutError(
                f"{self.provider}: the stream stalled for more than {self.timeout:g} s ({type(exc).__name__}). "
                f"Raise [plugins.{self.provider}] timeout if the model is slow.",
                provider=self.provider,
            )
        return StreamError(
            f"{self.provider}: the connection broke mid-stream ({type(exc).__name__}: {exc}); the reply is incomplete.",
            provider=self.provider,
        )

    async def astream_lines(self, path: str, body: Any) -> AsyncGenerator[str, None]:
        """Async twin of :meth:`stream_lines`; cancelling the task closes the connection."""
        import httpx

        response = await self.asend("POST", path, body, stream=True)
        try:
            async for line in response.aiter_lines():
                yield line
        except (httpx.TimeoutException, httpx.TransportError) as exc:
            raise self._broken_stream(exc) from exc
        finally:
            await response.aclose()

    def stream_sse(self, path: str, body: Any, state: SSEStreamState) -> Generator[StreamChunk, None, None]:
        """POST ``body``, feed each server-sent event to ``state`` and yield its chunks, then the
        closing ones. The one SSE path every protocol shares (chat completions, Anthropic's
        Messages API): the connection closes when ``state.done`` or when the caller stops."""
        lines = self.stream_lines(path, body)
        try:
            for event in iter_sse(lines):
                yield from state.feed(event)
                if state.done:
                    break
        finally:
            lines.close()  # closes the HTTP response now, also when the caller stops early
        yield from state.finish()

    async def astream_sse(self, path: str, body: Any, state: SSEStreamState) -> AsyncGenerator[StreamChunk, None]:
        """Async twin of :meth:`stream_sse`; cancelling the consuming task closes the connection."""
        lines = self.astream_lines(path, body)
        try:
            async for event in aiter_sse(lines):
                for chunk in state.feed(event):
                    yield chunk
                if state.done:
                    break
        finally:
            await lines.aclose()
        for chunk in state.finish():
            yield chunk

    # ------------------------------------------------------------------ accounting

    def cost(self, prompt_tokens: int, completion_tokens: int) -> float | None:
        """USD cost of a call with this backend's model, or ``None`` if the price is unknown
        (never a guessed number); a local backend costs nothing."""
        price = (0.0, 0.0) if self.local else self.prices.get(self.model)
        if price is None:
            return None
        return (prompt_tokens * float(price[0]) + completion_tokens * float(price[1])) / 1_000_000

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name} at {self.base_url}>"
