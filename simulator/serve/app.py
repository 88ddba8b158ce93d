"""The decision service as an ASGI application (FastAPI): ``create_app(config)``.

Endpoints: ``POST /decide`` (one task, or a list), ``POST /decide/batch`` (columns: a field given as a list has one
value per task), ``POST /observe``, ``GET /state``, ``GET /monitor``, ``GET /metrics``, ``GET /healthz``, and the
OpenAPI description at ``/docs``. Bodies are read and parsed here (size-limited, orjson) and checked by
:mod:`simulator.decide_api` with the rules of ``mecsim decide``; a broken rule is a 422 naming the field, an
oversize body or batch a 413, never a 500.
"""

from __future__ import annotations

import hmac
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
from fastapi import FastAPI, Request
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse, Response
from fastapi.routing import APIRoute
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

import simulator.serve.schemas as schemas
from offload.errors import ParameterError
from simulator.decide_api import answer, parse_request
from simulator.serve.config import ServiceConfig, load_config
from simulator.serve.estimates import Estimates
from simulator.serve.monitor import API_ENDPOINTS, Monitor, MonitorMiddleware
from simulator.serve.shared import SHARED_VARIABLE, ObservationLog
from simulator.serve.state import ServiceState

TOKEN_VARIABLE = "MECSIM_TOKEN"
CONFIG_VARIABLE = "MECSIM_SERVE_CONFIG"
OPEN_PATHS = ("/healthz",)
ENDPOINTS = (*API_ENDPOINTS, "/monitor", "/metrics", "/healthz", "/docs", "/openapi.json")
_JSON = "application/json"
_ERRORS: dict[int | str, dict[str, Any]] = {
    413: {"model": schemas.MessageAnswer, "description": "Body or batch too large"},
    422: {"model": schemas.ValidationErrorAnswer, "description": "A field breaks a rule"},
}


class ApiError(Exception):
    """A refused request: status and body."""

    def __init__(self, status: int, detail: Any) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail


def invalid(loc: tuple[str | int, ...], msg: str, given: Any = None, kind: str = "value_error") -> ApiError:
    """A 422 in FastAPI's validation-error shape."""
    return ApiError(422, [{"loc": ["body", *loc], "msg": msg, "type": kind, "input": given}])


def from_parameter_error(error: ParameterError, prefix: tuple[str | int, ...] = ()) -> ApiError:
    """A 422 naming the field of a :class:`ParameterError` and its rule."""
    return invalid((*prefix, error.name), error.rule, error.value)


def json_response(content: Any, status: int = 200) -> Response:
    """``content`` as JSON (numpy arrays allowed)."""
    return Response(orjson.dumps(content, option=orjson.OPT_SERIALIZE_NUMPY), status, media_type=_JSON)


async def read_json(request: Request, limit_bytes: int) -> Any:
    """The request body as JSON, refusing (413) more than ``limit_bytes`` before reading it where the size is
    announced, and as soon as it is exceeded otherwise."""
    announced = next((value.decode("latin-1") for key, value in request.scope["headers"]
                      if key == b"content-length"), None)
    if announced is not None and announced.isdigit() and int(announced) > limit_bytes:
        raise ApiError(413, f"body of {announced} bytes exceeds the limit of {limit_bytes} bytes")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit_bytes:
            raise ApiError(413, f"body exceeds the limit of {limit_bytes} bytes")
        chunks.append(chunk)
    try:
        return orjson.loads(b"".join(chunks))
    except orjson.JSONDecodeError as error:
        raise invalid((), f"is not valid JSON ({error})", kind="json_invalid") from None


def _body_schema(model: type[Any], *, batch_of: bool) -> dict[str, Any]:
    schema = model.model_json_schema(by_alias=True)
    if batch_of:
        schema = {"anyOf": [schema, {"type": "array", "items": schema, "minItems": 1}]}
    return {"requestBody": {"required": True, "content": {_JSON: {"schema": schema}}}}


def create_app(config: ServiceConfig | None = None, *, token: str | None = None,
               clock: Callable[[], float] = time.monotonic, shared_folder: Path | None = None) -> ASGIApp:
    """The service: a FastAPI application wrapped in its monitor (and, with ``token``, a bearer-token check).

    ``shared_folder`` (prepared by :func:`simulator.serve.shared.create`) makes this process one of several workers
    of one service: counters and estimates are then shared with the others (:mod:`simulator.serve.shared`)."""
    config = config or ServiceConfig()
    log = None if shared_folder is None else ObservationLog(shared_folder)
    state = ServiceState(config, Estimates(config.half_life, clock, log=log))
    monitor = Monitor(ENDPOINTS, clock, shared_folder)
    api = FastAPI(title="mecsim decision service", version="1",
                  description="Run a task on the device or offload it? The answers of `mecsim decide`, over HTTP, "
                              "with live link and edge estimates.")

    @api.exception_handler(ApiError)
    async def refused(request: Request, error: ApiError) -> Response:
        return JSONResponse({"detail": error.detail}, error.status)

    def decide_one(item: Any, loc: tuple[str | int, ...]) -> dict[str, Any]:
        if not isinstance(item, dict):
            raise invalid(loc, "must be a JSON object of task fields", item, "dict_type")
        try:
            fields, _, target = state.merge(item)
            return answer(state.with_queue(parse_request(fields), target))
        except ParameterError as error:
            raise from_parameter_error(error, loc) from None

    @api.post("/decide", response_model=schemas.DecideAnswer | list[schemas.DecideAnswer], responses=_ERRORS,
              openapi_extra=_body_schema(schemas.TaskRequest, batch_of=True))
    async def decide(request: Request) -> Response:
        """Decide one task (an object) or several (a list of objects): `mecsim decide --json` for each."""
        body = await read_json(request, config.max_body_bytes)
        if isinstance(body, list):
            if not body:
                raise invalid((), "a batch needs at least one task", body, "too_short")
            if len(body) > config.max_batch:
                raise ApiError(413, f"batch of {len(body)} tasks exceeds the limit of {config.max_batch}")
            return json_response([decide_one(item, (i,)) for i, item in enumerate(body)])
        return json_response(decide_one(body, ()))

    @api.post("/decide/batch", response_model=schemas.BatchAnswer, responses=_ERRORS,
              openapi_extra=_body_schema(schemas.BatchRequest, batch_of=False))
    async def decide_batch(request: Request) -> Response:
        """Decide many tasks given as columns: a field given as a list has one value per task, a single value
        applies to every task. The answer has the columns of `mecsim decide --batch`."""
        body = await read_json(request, config.max_body_bytes)
        if not isinstance(body, dict):
            raise invalid((), "must be a JSON object of fields (lists for per-task values)", None, "dict_type")
        count = max((len(value) for value in body.values() if isinstance(value, list)), default=1)
        if count > config.max_batch:
            raise ApiError(413, f"batch of {count} tasks exceeds the limit of {config.max_batch}")
        try:
            count, columns = state.decide_columns(body)
        except ParameterError as error:
            raise from_parameter_error(error) from None
        return json_response({"count": count, "columns": columns})

    @api.post("/observe", response_model=schemas.ObserveAnswer, responses=_ERRORS,
              openapi_extra=_body_schema(schemas.ObserveRequest, batch_of=False))
    async def observe(request: Request) -> Response:
        """Report measurements (uplink, downlink, rtt; the edge's edge-time or queue-length): they update smoothed
        estimates that later decisions naming the target use."""
        body = await read_json(request, config.max_body_bytes)
        if not isinstance(body, dict):
            raise invalid((), "must be a JSON object", None, "dict_type")
        try:
            return json_response({"estimates": state.observe(body)})
        except ParameterError as error:
            raise from_parameter_error(error) from None

    @api.get("/state", response_model=schemas.StateAnswer)
    async def current_state(_: Request) -> Response:
        """The configured devices and targets and every live estimate."""
        return json_response(state.report())

    @api.get("/monitor", response_model=schemas.MonitorAnswer)
    async def monitor_report(_: Request) -> Response:
        """Calls per minute, mean request time and call count, for the service and per endpoint."""
        return json_response(monitor.report())

    @api.get("/metrics", response_class=Response, responses={200: {"content": {CONTENT_TYPE_LATEST: {}}}})
    async def metrics(_: Request) -> Response:
        """Prometheus text format."""
        return Response(generate_latest(monitor.registry), media_type=CONTENT_TYPE_LATEST)

    @api.get("/healthz", response_model=schemas.Health)
    async def healthz(_: Request) -> Response:
        """Liveness (never needs the token)."""
        return json_response({"status": "ok"})

    serve_plainly(api)
    inner: ASGIApp = api if token is None else TokenMiddleware(api, token)
    return MonitorMiddleware(inner, monitor)


def serve_plainly(api: FastAPI) -> None:
    """Serve every route as a plain Starlette route, keeping FastAPI's declarations for the OpenAPI description only.

    Each handler reads, checks and answers its request itself (it takes the :class:`Request` and returns a
    :class:`Response`), so FastAPI's per-request dependency and response-model machinery has nothing to do; it still
    costs about 40 µs a request, more than a decision. The description (``/openapi.json``, ``/docs``) is generated
    from the same declarations as before.
    """
    declared = [route for route in api.router.routes if isinstance(route, APIRoute)]
    others = [route for route in api.router.routes if not isinstance(route, APIRoute)]
    # the service's routes first: the router tries routes in order, and the documentation's are rarely asked for
    api.router.routes[:] = [*(Route(route.path, route.endpoint, methods=sorted(route.methods or ()), name=route.name)
                              for route in declared), *others]

    def description() -> dict[str, Any]:
        if api.openapi_schema is None:
            api.openapi_schema = get_openapi(title=api.title, version=api.version, description=api.description,
                                             routes=declared)
        return api.openapi_schema

    api.openapi = description  # type: ignore[method-assign]


class TokenMiddleware:
    """Refuse (401) every request but the open paths that lacks ``Authorization: Bearer <token>``."""

    def __init__(self, app: ASGIApp, token: str) -> None:
        self.app = app
        self.expected = f"Bearer {token}".encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] not in OPEN_PATHS:
            given = next((value for key, value in scope["headers"] if key == b"authorization"), b"")
            if not hmac.compare_digest(given, self.expected):
                body = orjson.dumps({"detail": "missing or wrong bearer token"})
                await send({"type": "http.response.start", "status": 401, "headers": [
                    (b"content-type", _JSON.encode()), (b"www-authenticate", b"Bearer"),
                    (b"content-length", str(len(body)).encode())]})
                await send({"type": "http.response.body", "body": body})
                return
        await self.app(scope, receive, send)


def app_from_environment() -> ASGIApp:
    """The application uvicorn's workers build: configuration file and token from the environment."""
    path = os.environ.get(CONFIG_VARIABLE)
    config = load_config(Path(path)) if path else ServiceConfig()
    folder = os.environ.get(SHARED_VARIABLE)
    return create_app(config, token=os.environ.get(TOKEN_VARIABLE) or None,
                      shared_folder=Path(folder) if folder else None)
