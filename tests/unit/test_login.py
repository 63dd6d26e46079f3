"""What a login refusal means: the password is wrong (stop), or try again later."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from nio import LoginError

from bot.app import unreachable_reason
from bot.client import LoginFailed, LoginRateLimited, MatrixClient, NotMatrix
from bot.config import parse_config
from storage.db import Database


@pytest.mark.parametrize(
    ("answer", "raised", "reason"),
    [
        (LoginError("Invalid password", "M_FORBIDDEN"), LoginFailed, None),
        (LoginError("Too Many Requests", "M_LIMIT_EXCEEDED"), LoginRateLimited, "rate_limited"),
        (LoginError("unknown error"), NotMatrix, "not_matrix"),  # a proxy's error page
    ],
)
async def test_a_login_refusal_is_fatal_only_when_the_server_says_no(
    tmp_path: Path, answer: Any, raised: type[Exception], reason: str | None
) -> None:
    config = parse_config(
        {
            "matrix": {"homeserver": "http://127.0.0.1:9", "user_id": "@oasis:localhost", "password": "pw"},
            "database": {"url": f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}"},
            "bot": {"rooms": ["!net:localhost"]},
        }
    )
    db = Database(config.database.url)
    await db.migrate()
    client = MatrixClient(config)

    async def login(*args: Any, **kwargs: Any) -> Any:
        return answer

    client.nio.login = login  # type: ignore[method-assign]
    try:
        with pytest.raises(raised) as err:
            await client.login(db)
        if reason is not None:
            assert unreachable_reason(err.value)[0] == f"operations.unreachable.{reason}"
    finally:
        await client.close()
        await db.dispose()
