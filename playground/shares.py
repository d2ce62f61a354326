"""Shared snippets: share a visitor's files under a short key, open them again by a link
(the store: share_store.py)."""

from flask import Blueprint, abort, current_app, redirect, url_for
from werkzeug.wrappers import Response as WerkzeugResponse

from .errors import PlaygroundError
from .files import app_spec, checked, data_of
from .ratelimit import EVERYONE
from .security import body
from .services import services
from .share_store import SharesFull, ShareStore
from .visitors import current

bp = Blueprint("shares", __name__)


def store() -> ShareStore:
    return services().shares


def described(key: str) -> dict:
    return {"key": key, "url": url_for("shares.open_share", key=key, _external=True)}


@bp.post("/api/shares")
def create_share() -> tuple[dict, int]:
    # Each new share is kept on disk: neither a visitor nor a script dropping its cookie may
    # fill it (a global rate, and the store's budget).
    services().limits["shares"].take(current())
    data = body()
    shared, app = checked(data), app_spec(data)
    size = sum(len(data_of(value)) for value in shared.values())
    limit = current_app.config["MAX_SHARE_BYTES"]
    if size > limit:
        raise PlaygroundError(
            413,
            "share_too_large",
            f"the files add up to {size} bytes; a share "
            f"holds at most {limit}. Download them instead.",
        )
    slug = data.get("slug")
    if not isinstance(slug, str) or services().catalog.get(slug) is None:
        slug = None  # only a snippet of the catalog is worth remembering as the origin
    services().limits["all_shares"].take(EVERYONE)
    try:
        return described(store().put(shared, slug, app)), 201
    except SharesFull:
        days = current_app.config["SHARE_KEEP_DAYS"]
        raise PlaygroundError(
            507,
            "shares_full",
            "the playground's room for shared snippets is "
            f"full, and every share in it was opened in the last {days:g} days "
            "(SHARES_MAX_BYTES). Download your files instead.",
        ) from None


@bp.get("/api/shares/<key>")
def get_share(key: str) -> dict:
    share = store().get(key)
    if share is None:
        raise PlaygroundError(
            404, "no_such_share", "there is no such shared snippet: check the link."
        )
    return {
        **described(key),
        "files": share["files"],
        "slug": share["slug"],
        "app": share["app"],
        "created": share["created"],
    }


@bp.get("/s/<key>")
def open_share(key: str) -> WerkzeugResponse:
    """The link people pass around: the editor, opening the shared files."""
    if store().get(key) is None:
        abort(404, description="There is no such shared snippet: check the link.")
    return redirect(url_for("views.index", share=key))
