"""schemathesis against the service's own OpenAPI spec, on SQLite and PostgreSQL.

Every operation, positive data as a superuser and as an agent, negative data, with
every check schemathesis has (server errors, status codes, content types, response
headers and schemas, positive acceptance, negative rejection, ignored auth,
unsupported methods, use after free, resource availability, ...); then the stateful
test, which follows the spec's OpenAPI links (create a case, then read, change,
transition, hand off, dispute it; likewise users, calendars, policies, departments).

Expectations are set, not checks switched off:

- schema-valid data may also get 422: the schema cannot say which time zone names
  exist, what a calendar's hours grammar is, which departments exist or what the
  priority matrix holds; nor that text may not contain U+0000 (the service refuses it
  everywhere, see docs/reference/service.md);
- any body, valid or not, may get 413 when it is larger than ``max_body_bytes`` (a
  list at its schema's maximum length can be);
- the generator is steered (``map_case``) to the values this seeded service knows, for
  a share of the creates, so that links lead somewhere.

No request may end in a 5xx, and the service may log no error (a logged error is a
request the schemas should have refused, or a crash).
"""

from __future__ import annotations

import logging
import os
import shutil
import time
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import hypothesis
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from sqlalchemy import create_engine, select, text

from contactops.service import Settings, create_app, create_user, issue_token, seed_demo
from contactops.service._app import _LINKS
from contactops.service._models import User
from tests.service.conftest import PASSWORD, PG_ADMIN

pytestmark = pytest.mark.slow  # schemathesis over the whole API: about a minute

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

# per operation, mode and identity: 20-40 s per database on 2 busy cores; a deeper run:
# CONTACTOPS_SCHEMATHESIS_SCALE=10 multiplies examples (and scenarios) by ten
SCALE = int(os.environ.get("CONTACTOPS_SCHEMATHESIS_SCALE", "1"))
EXAMPLES = 5 * SCALE
STATEFUL_EXAMPLES = 20 * SCALE
STATEFUL_STEPS = 8
ACCEPTED_POSITIVE = ["2xx", "401", "403", "404", "409", "413", "422"]
REJECTED_NEGATIVE = ["400", "401", "403", "404", "405", "406", "409", "413", "415", "422"]
# operations after which the token used may be revoked, or its user deactivated
TOKEN_ENDING = {
    "POST /api/v1/logout",
    "DELETE /api/v1/users/{user_id}/tokens",
    "PATCH /api/v1/users/{user_id}",
}


@dataclass
class Service:
    """The app under test and a token per identity, re-issued when an operation ended it."""

    app: object
    ids: dict[str, int]
    tokens: dict[str, str] = field(default_factory=dict)
    statuses: Counter[tuple[str, int]] = field(default_factory=Counter)

    def headers(self, who: str) -> dict[str, str]:
        if who not in self.tokens:
            with self.app.state.context.sessions() as s:
                user = s.get(User, self.ids[who])
                user.is_active = True  # a fuzzed PATCH may have deactivated it
                self.tokens[who] = issue_token(s, user, 1, "schemathesis")[0]
                s.commit()
        return {"Authorization": f"Bearer {self.tokens[who]}"}

    def after(self, who: str, label: str, status: int) -> None:
        self.statuses[(label, status)] += 1
        if label in TOKEN_ENDING or status == 401:
            self.tokens.pop(who, None)


@pytest.fixture
def service(database_url):
    app = create_app(Settings(database_url=database_url, tick_seconds=0))
    with app.state.context.sessions() as s:
        seed_demo(s, PASSWORD)
        root = create_user(s, "root", PASSWORD, superuser=True)
        s.flush()
        agent = s.scalar(select(User).where(User.username == "support-agent"))
        ids = {"root": root.id, "agent": agent.id}
        s.commit()
    yield Service(app, ids)
    app.state.engine.dispose()


@contextmanager
def _copies(url: str) -> Iterator[Callable[[], str]]:
    """A maker of fresh copies of the (idle) database at ``url``: a file copy on SQLite,
    ``CREATE DATABASE ... TEMPLATE`` on PostgreSQL; the copies are dropped afterwards."""
    made: list[str] = []
    if url.startswith("sqlite:///"):
        path = Path(url.removeprefix("sqlite:///"))

        def copy() -> str:
            target = path.with_name(f"copy{len(made)}.db")
            shutil.copyfile(path, target)
            made.append(str(target))
            return f"sqlite:///{target}"

        yield copy
        return
    template = url.rsplit("/", 1)[1]
    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")

    def copy() -> str:
        name = f"{template}_c{len(made)}"
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
        made.append(name)
        return url.rsplit("/", 1)[0] + f"/{name}"

    try:
        yield copy
    finally:
        with admin.connect() as conn:
            for name in made:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _schema(app):
    config = schemathesis.Config.from_dict(
        {
            "checks": {
                "positive_data_acceptance": {"expected-statuses": ACCEPTED_POSITIVE},
                "negative_data_rejection": {"expected-statuses": REJECTED_NEGATIVE},
            }
        }
    )
    schema = schemathesis.openapi.from_asgi("/openapi.json", app, config=config)

    @schema.hook
    def map_case(_context, case):
        """Some creates name what exists, so that the links lead to real records."""
        body = case.body
        if (
            case.meta is None
            or not case.meta.generation.mode.is_positive
            or not isinstance(body, dict)
            or len(str(body)) % 2
        ):
            return case
        pick = len(str(body)) % 3
        if case.operation.label == "POST /api/v1/cases":
            body.update(impact=str(pick + 1), urgency=str(3 - pick))
            body.pop("stage", None)
            body.pop("priority", None)
            body["department"] = ["support", "billing", None][pick]
        elif case.operation.label == "POST /api/v1/departments":
            body.update(
                calendar=["24x7", "sales-hours", "support-hours"][pick],
                policy="standard",
                stages=[],
            )
        elif case.operation.label == "POST /api/v1/users":
            body["memberships"] = [{"department": "sales", "role": "agent"}][:pick]
        return case

    return schema


def _headers_mutated(case) -> bool:
    components = case.meta.components if case.meta is not None else {}
    return any(
        location.value == "header" and info.mode.is_negative
        for location, info in components.items()
    )


def _no_errors_logged(caplog) -> list[str]:
    return [
        r.getMessage()[:300]
        for r in caplog.records
        if r.name.startswith("contactops.service") and r.levelno >= logging.ERROR
    ]


def test_every_operation_with_all_checks(service, caplog):
    caplog.set_level(logging.ERROR, logger="contactops.service")
    schema = _schema(service.app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 35
    failures: list[str] = []
    started = time.monotonic()

    def run(operation, mode, who):
        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            database=None,
            derandomize=True,
            suppress_health_check=list(HealthCheck),
            phases=[hypothesis.Phase.generate],
        )
        @given(case=operation.as_strategy(generation_mode=mode))
        def check(case) -> None:
            # a case whose headers are the negative part lacks or breaks the token on
            # purpose: sent as generated (401 expected); any other gets a working token
            headers = None if _headers_mutated(case) else service.headers(who)
            try:
                response = case.call_and_validate(headers=headers)
            except (AssertionError, BaseExceptionGroup) as exc:  # schemathesis' failures
                failures.append(
                    f"{operation.label} {mode.value} as {who}: {str(exc).strip()[:600]}"
                )
                service.tokens.pop(who, None)
                return
            service.after(who, operation.label, response.status_code)

        try:
            check()
        except hypothesis.errors.Unsatisfiable:
            assert mode is GenerationMode.NEGATIVE  # nothing to make invalid (no inputs)

    for operation in operations:
        run(operation, GenerationMode.POSITIVE, "root")
        run(operation, GenerationMode.POSITIVE, "agent")  # roles: 403 and 404, never 5xx
        run(operation, GenerationMode.NEGATIVE, "root")  # refused before roles matter
    elapsed = time.monotonic() - started
    assert not failures, "\n\n".join(failures)
    assert _no_errors_logged(caplog) == []
    by_class = Counter(status // 100 for (_label, status) in service.statuses.elements())
    assert by_class[5] == 0
    # the generated requests reach the handlers: many succeed, many are refused with 4xx
    assert by_class[2] >= len(operations)
    assert by_class[4] >= 2 * len(operations)
    assert elapsed < 120 * SCALE, f"{elapsed:.0f} s: lower EXAMPLES"


def test_stateful_links(service, caplog):
    caplog.set_level(logging.ERROR, logger="contactops.service")
    schema = _schema(service.app)
    # every link of the spec (case, user, calendar, policy, department) is usable
    assert schema.statistic.transitions.total == sum(len(link[4]) for link in _LINKS) >= 16

    producers = {
        f"{method.upper()} {path}": parameter for method, path, _code, parameter, _targets in _LINKS
    }
    created: set[tuple[str, str]] = set()
    followed: list[str] = []
    template = service.app.state.engine.url.render_as_string(hide_password=False)
    service.app.state.engine.dispose()  # idle, so that it can be copied

    class Machine(schema.as_state_machine()):
        """Each scenario on its own copy of the seeded database: scenarios are independent,
        as Hypothesis needs (a name taken by an earlier scenario would change the path)."""

        def setup(self):
            service.app = create_app(Settings(database_url=copy(), tick_seconds=0, migrate=False))
            service.tokens.clear()

        def teardown(self):
            service.app.state.engine.dispose()

        def get_call_kwargs(self, case):
            return {"app": service.app, "headers": service.headers("root")}

        def after_call(self, response, case):
            service.after("root", case.operation.label, response.status_code)
            params = {(k, str(v)) for k, v in (case.path_parameters or {}).items()}
            if params & created and response.status_code != 404:
                followed.append(case.operation.label)  # reached what a create made
            parameter = producers.get(case.operation.label)
            if parameter is not None and response.status_code == 201:
                field = "id" if parameter.endswith("_id") else "name"
                created.add((parameter, str(response.json()[field])))

    with _copies(template) as copy:
        Machine.run(
            settings=settings(
                max_examples=STATEFUL_EXAMPLES,
                stateful_step_count=STATEFUL_STEPS,
                deadline=None,
                database=None,
                derandomize=True,
                phases=[hypothesis.Phase.generate],
                suppress_health_check=list(HealthCheck),
            )
        )
    assert _no_errors_logged(caplog) == []
    assert not any(status >= 500 for (_label, status) in service.statuses)
    # links were followed: operations reached records that creates of the scenario made
    assert created
    assert followed, "\n".join(map(str, sorted(service.statuses.items())))
