"""Every collection in basalt.api.unserved answers 501 in Cinder's error shape, whatever the
method or path under it, with and without the project segment."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import httpx

from basalt.api import unserved
from basalt.api.app import ROUTERS
from basalt.api.paths import collections_of
from basalt.api.unserved import UNSERVED
from tests.support.server import ServerProcess

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
SUFFIXES = ("", "/detail", "/0a1b2c3d-0000-4000-8000-000000000000/action")


def test_the_table_names_each_collection_once_and_none_that_is_served() -> None:
    names = [entry.collection for entry in UNSERVED]
    assert len(names) == len(set(names))
    served = [r for r in ROUTERS if all(r is not u for u in unserved.ROUTERS)]
    assert not collections_of(route.path for r in served for route in r.routes) & set(names)
    every = collections_of(route.path for r in ROUTERS for route in r.routes)
    assert set(names) <= every  # so the project-less URLs reach them too


def test_every_method_on_every_path_answers_501_with_the_reason(server: ServerProcess) -> None:
    with httpx.Client(base_url=server.url, timeout=30.0) as http:
        for entry in UNSERVED:
            for root in (f"/v3/basalt/{entry.collection}", f"/v3/{entry.collection}"):
                for suffix in SUFFIXES:
                    for method in METHODS:
                        response = http.request(method, root + suffix, json={"x": 1})
                        where = f"{method} {root}{suffix}"
                        assert response.status_code == 501, (where, response.text)
                        assert response.json() == {
                            "notImplemented": {
                                "code": 501,
                                "message": entry.message,
                                "basalt_code": "not_served",
                            }
                        }, where
                head = http.head(root)
                assert head.status_code == 501 and head.content == b""
            assert entry.message.startswith(f"Basalt does not serve {entry.what} (/")
            assert entry.reason in entry.message


def test_cinderclient_reports_the_reason(server: ServerProcess) -> None:
    cinder = Path(sys.executable).with_name("cinder")
    argv = [str(cinder), "--os-auth-type", "noauth", "--os-endpoint", f"{server.url}/v3"]
    argv += ["--os-user-id", "admin", "--os-project-id", "basalt", "backup-list"]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode != 0
    assert "Basalt does not serve volume backups (/backups)" in done.stderr, done.stderr
    assert "501" in done.stderr
