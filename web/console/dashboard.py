"""The dashboard: the numbers staff look at first."""

from __future__ import annotations

from starlette.responses import Response
from starlette.routing import Route

from core.queries import stats
from web.console.framework import Console, View


def dashboard(view: View) -> Response:
    with view.uow(read_only=True) as uow:
        numbers = stats(uow)
    return view.render("dashboard.html", stats=numbers)


def dashboard_routes(console: Console) -> list[Route]:
    return [Route("/", console.page(dashboard), methods=["GET"])]
