"""schemathesis against the service's own OpenAPI spec: generated requests (a few per
operation, bounded) as a superuser and as an agent never get a server error."""

from __future__ import annotations

from collections import Counter

import schemathesis
from hypothesis import HealthCheck, given, settings

from contactops.service import Settings, create_app, create_user, issue_token, seed_demo
from tests.service.conftest import PASSWORD

EXAMPLES = 4


def _tokens(app) -> dict[str, str]:
    with app.state.context.sessions() as s:
        seed_demo(s, PASSWORD)
        root = create_user(s, "root", PASSWORD, superuser=True)
        s.flush()
        from sqlalchemy import select

        from contactops.service._models import User
        agent = s.scalar(select(User).where(User.username == "support-agent"))
        tokens = {"root": issue_token(s, root, 1)[0], "agent": issue_token(s, agent, 1)[0]}
        s.commit()
    return tokens


def test_no_server_errors(tmp_path):
    app = create_app(Settings(database_url=f"sqlite:///{tmp_path / 'st.db'}", tick_seconds=0))
    tokens = _tokens(app)
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 30
    failures: list[str] = []
    calls = [0]
    statuses: Counter[int] = Counter()

    def checker(operation):
        label = f"{operation.method.upper()} {operation.path}"

        @settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
                  suppress_health_check=list(HealthCheck))
        @given(case=operation.as_strategy())
        def check(case) -> None:
            for who in ("root", "agent"):
                response = case.call(headers={"Authorization": f"Bearer {tokens[who]}"})
                calls[0] += 1
                statuses[response.status_code // 100] += 1
                if response.status_code >= 500:
                    failures.append(f"{label} as {who}: "
                                    f"{response.status_code} {response.text[:200]}")
        return check

    for operation in operations:
        checker(operation)()
    app.state.engine.dispose()
    assert failures == []
    assert calls[0] >= 2 * len(operations)
    # the generated requests reach the handlers: many succeed, many are refused with 4xx
    assert statuses[2] >= len(operations)
    assert statuses[4] >= len(operations)
