"""``/_kv/ui/``: the emulator seen in a browser, server-rendered, on both ports.

The same admin-token rule as the rest of ``/_kv/`` (on a non-loopback ``--host`` nothing is shown without
``--admin-token``; a browser sends it once through the login form and then carries a cookie derived from
it). Every page is plain HTML with inline SVG pictures; one small script (shipped in the package) polls
``live.json`` and refreshes the page's content while the server works. Forms post to ``do/<action>``,
which runs the management API's own handler for that action; each form carries a per-server token, so
another site cannot post them.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable, Iterable
from html import escape
from importlib import resources
from typing import TYPE_CHECKING, Any

from werkzeug.exceptions import HTTPException, NotFound
from werkzeug.routing import Map, Rule
from werkzeug.utils import redirect
from werkzeug.wrappers import Request, Response

from ...errors import KeyVaultError
from ...report.html import page
from . import activity, controls, views

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment

__all__ = ["PREFIX", "UiApp"]

PREFIX = "/_kv/ui"
COOKIE = "kv_emulator_ui"
_LOOPBACK_HOSTS = ("localhost", "127.0.0.1", "[::1]", "::1")
_NAV = (("", "Overview"), ("calls", "Calls"), ("activity", "Audit & events"), ("controls", "Controls"))

_RULES = Map(
    [
        Rule(f"{PREFIX}/", endpoint="overview"),
        Rule(f"{PREFIX}/vaults/<name>", endpoint="vault"),
        Rule(f"{PREFIX}/vaults/<name>/<kind>/<item>", endpoint="item"),
        Rule(f"{PREFIX}/vaults/<name>/secrets/<item>/value", endpoint="secret_value"),
        Rule(f"{PREFIX}/calls", endpoint="calls"),
        Rule(f"{PREFIX}/activity", endpoint="activity"),
        Rule(f"{PREFIX}/controls", endpoint="controls"),
        Rule(f"{PREFIX}/do/<action>", endpoint="do", methods=["POST"]),
        Rule(f"{PREFIX}/live.json", endpoint="live"),
        Rule(f"{PREFIX}/live.js", endpoint="script"),
        Rule(f"{PREFIX}/login", endpoint="login", methods=["GET", "POST"]),
    ],
    strict_slashes=False,
)


def _host_name(host: str) -> str:
    return host.rsplit(":", 1)[0] if not host.endswith("]") else host


class UiApp:
    """The web view of one server; ``management`` is its :class:`~..management.ControlApi`."""

    def __init__(self, management: Any) -> None:
        self.management = management
        self._csrf = secrets.token_urlsafe(18)

    @property
    def emulator(self) -> Any:
        return self.management.emulator

    @property
    def csrf(self) -> str:
        """The token every form of this server carries (a page of another site cannot know it)."""
        return self._csrf

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        request = Request(environ)
        try:
            response = self._dispatch(request)
        except HTTPException as exc:
            response = self._problem(exc.code or 400, exc.description or exc.name)
        except KeyVaultError as exc:  # an object that is not there: the store's own words
            response = self._problem(exc.status, exc.message)
        except (LookupError, ValueError) as exc:
            response = self._problem(404 if isinstance(exc, LookupError) else 400, str(exc))
        response.headers["Cache-Control"] = "no-store"
        response.headers["X-Frame-Options"] = "DENY"
        response.headers["Content-Security-Policy"] = (
            "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; script-src 'self'; "
            "connect-src 'self'; form-action 'self'; frame-ancestors 'none'"
        )
        return response(environ, start_response)

    def _dispatch(self, request: Request) -> Response:
        if request.path == PREFIX:
            return redirect(f"{PREFIX}/")
        endpoint, arguments = _RULES.bind_to_environ(request.environ).match()
        refusal = self._refusal(request, str(endpoint))
        if refusal is not None:
            return refusal
        if request.method == "POST" and endpoint != "login":
            self._check_form(request)
        handler: Callable[..., Response] = getattr(self, f"page_{endpoint}")
        return handler(request, **arguments)

    # -- who may look ------------------------------------------------------------------------------

    def _session_value(self, token: str) -> str:
        return hmac.new(token.encode(), b"kv-emulator ui session", hashlib.sha256).hexdigest()

    def _refusal(self, request: Request, endpoint: str) -> Response | None:
        """None when the request may go on; else the 403 page (or the login form)."""
        options = self.management.server.options
        token = options.admin_token
        if token is None:
            if not options.loopback:
                return self._forbidden("the web view on a non-loopback --host needs --admin-token")
            if _host_name(request.host.lower()) not in _LOOPBACK_HOSTS and not request.host.lower().split(":")[
                0
            ].endswith(".localhost"):
                return self._forbidden("without --admin-token the web view answers only to localhost addresses")
            return None
        bearer = request.headers.get("Authorization", "")
        cookie = request.cookies.get(COOKIE, "")
        if hmac.compare_digest(bearer.encode(), f"Bearer {token}".encode()) or hmac.compare_digest(
            cookie.encode(), self._session_value(token).encode()
        ):
            return None
        if endpoint == "login" and request.method == "POST":
            return None
        return self.page_login(request, status=403)

    def _problem(self, status: int, message: str) -> Response:
        response = self._html(f"{status}", f"<p class='error'>{escape(message)}</p>")
        response.status_code = status
        return response

    def _forbidden(self, message: str) -> Response:
        response = self._html("Forbidden", f"<p class='error'>{escape(message)}</p>", nav=False)
        response.status_code = 403
        return response

    def _check_form(self, request: Request) -> None:
        given = request.form.get("csrf", "")
        if not hmac.compare_digest(given.encode(), self._csrf.encode()):
            raise _Forbidden("this form is out of date or came from another site: reload the page and try again")

    def page_login(self, request: Request, status: int = 200) -> Response:
        token = self.management.server.options.admin_token
        if request.method == "POST" and token is not None:
            if hmac.compare_digest(request.form.get("token", "").encode(), token.encode()):
                response = redirect(f"{PREFIX}/", code=303)
                response.set_cookie(COOKIE, self._session_value(token), httponly=True, samesite="Strict", path="/_kv/")
                return response
            status = 403
        body = (
            "<h1>Admin token</h1><p>This server was started with <code>--admin-token</code>: give it to see the "
            f"view.</p><form method='post' action='{PREFIX}/login'><input type='password' name='token' "
            "autocomplete='current-password'> <button>Open</button></form>"
        )
        response = self._html("Admin token", body, nav=False)
        response.status_code = status
        return response

    # -- pages -------------------------------------------------------------------------------------

    def _html(self, title: str, body: str, *, here: str = "", nav: bool = True) -> Response:
        links = ""
        if nav:
            links = "".join(
                f"<a href='{PREFIX}/{path}' class='{'here' if path == here else ''}'>{label}</a>"
                for path, label in _NAV
            )
        head = f"<script src='{PREFIX}/live.js' defer></script>" if nav else ""
        return Response(page(f"kv-emulator: {title}", body, nav=links, head=head), mimetype="text/html")

    def page_overview(self, request: Request) -> Response:
        return self._html("overview", views.overview(self.emulator), here="")

    def page_vault(self, request: Request, name: str) -> Response:
        return self._html(name, views.vault(self._vault(name), request.args), here="")

    def page_item(self, request: Request, name: str, kind: str, item: str) -> Response:
        return self._html(item, views.item(self._vault(name), kind, item), here="")

    def page_secret_value(self, request: Request, name: str, item: str) -> Response:
        """One secret value, only when asked (the "show" link); never cached."""
        value = self._vault(name).secrets.get(item, request.args.get("version") or None).payload.value
        return Response(value, mimetype="text/plain")

    def page_calls(self, request: Request) -> Response:
        return self._html("calls", activity.calls(self.emulator, request.args), here="calls")

    def page_activity(self, request: Request) -> Response:
        return self._html("audit and events", activity.audit_and_events(self.emulator, request.args), here="activity")

    def page_controls(self, request: Request, message: str = "", failed: bool = False) -> Response:
        if not message and request.args.get("done") in controls.ACTIONS:
            message = f"done: {request.args['done']}"
        body = controls.page(self.emulator, self.management, self._csrf, message, failed)
        response = self._html("controls", body, here="controls")
        response.status_code = 400 if failed else 200
        return response

    def page_do(self, request: Request, action: str) -> Response:
        try:
            said = controls.run(self.management, action, request.form, request)
        except NotFound:
            raise
        except (HTTPException, ValueError, TypeError, LookupError, OverflowError) as exc:
            text = exc.description if isinstance(exc, HTTPException) else str(exc)
            return self.page_controls(request, text or "refused", failed=True)
        return redirect(f"{PREFIX}/controls?done={said}", code=303)

    def page_live(self, request: Request) -> Response:
        return Response(views.live_json(self.emulator), mimetype="application/json")

    def page_script(self, request: Request) -> Response:
        script = resources.files(__package__).joinpath("live.js").read_text(encoding="utf-8")
        return Response(script, mimetype="text/javascript")

    def _vault(self, name: str) -> Any:
        for vault in self.emulator.vaults:
            if vault.name.lower() == name.lower():
                return vault
        raise NotFound(f"no vault or Managed HSM named {name!r}")


class _Forbidden(HTTPException):
    code = 403
