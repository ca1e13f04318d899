"""create_app(settings): the ASGI application, its routes and its lifespan resources."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from importlib.resources import files

from fastapi import FastAPI, Request, Response
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from swagger_ui_bundle import swagger_ui_path

from netra import __version__
from netra.api import auth, datasets, health, runs, threads, ws
from netra.api import errors as api_errors
from netra.api.body_limit import BodyLimit
from netra.auth.attempts import MemoryAttempts
from netra.config import Environment, Settings
from netra.resources import open_resources

# The page's policy (its <meta> tag) plus what only a header can say (frame-ancestors).
_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)
_NOT_THE_PAGE = ("/api/", "/health/", "/metrics", "/docs", "/redoc", "/openapi")
_SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}
_HSTS = "max-age=63072000; includeSubDomains"  # two years: production is served over HTTPS
_UPLOADS = frozenset({("POST", "/api/datasets")})  # limited by NETRA_UPLOAD_MAX_BYTES instead


def create_app(settings: Settings, *, resume: bool = True) -> FastAPI:
    production = settings.env is Environment.production
    serves_docs = settings.docs_enabled if settings.docs_enabled is not None else not production

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with open_resources(settings, resume=resume) as resources:
            app.state.resources = resources
            app.state.gateway = ws.Gateway()
            app.state.attempts = MemoryAttempts()
            yield
            await app.state.gateway.close_all()

    app = FastAPI(
        title="Netra Apex",
        version=__version__,
        summary="AI-spend optimization agents over your LLM usage logs",
        lifespan=lifespan,
        docs_url=None,  # served below from the installed package, not a CDN
        redoc_url=None,
        openapi_url="/openapi.json" if serves_docs else None,
    )
    api_errors.install(app)
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes, exempt=_UPLOADS)
    for module in (auth, threads, runs, datasets, health, ws):
        app.include_router(module.router)

    @app.middleware("http")
    async def count_requests(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        started = time.perf_counter()
        response = await call_next(request)
        metrics = request.app.state.resources.metrics
        metrics.http_requests.labels(request.method, str(response.status_code)).inc()
        metrics.http_seconds.observe(time.perf_counter() - started)
        return response

    @app.middleware("http")
    async def security_headers(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        response = await call_next(request)
        response.headers.update(_SECURITY_HEADERS)
        if production:
            response.headers["Strict-Transport-Security"] = _HSTS
        if not request.url.path.startswith(_NOT_THE_PAGE):
            response.headers["Content-Security-Policy"] = _CSP
            response.headers["Cache-Control"] = "no-cache"  # revalidate after an upgrade
        return response

    if serves_docs:
        app.mount("/docs/assets", StaticFiles(directory=swagger_ui_path), "docs-assets")

        @app.get("/docs", include_in_schema=False)
        async def api_docs() -> HTMLResponse:
            return get_swagger_ui_html(
                openapi_url="/openapi.json",
                title="Netra Apex API",
                swagger_js_url="/docs/assets/swagger-ui-bundle.js",
                swagger_css_url="/docs/assets/swagger-ui.css",
                swagger_favicon_url="/docs/assets/favicon-32x32.png",
            )

    app.mount("/", StaticFiles(directory=str(files("netra.web") / "static"), html=True), "web")
    return app
