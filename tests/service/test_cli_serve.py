"""`contactops serve` starts on the embedded default and prints the address and a token."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time

import httpx2


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_serve_prints_address_and_a_working_admin_token(tmp_path):
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("CONTACTOPS_")}
    env["COLUMNS"] = "200"
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "contactops",
            "serve",
            "--demo",
            "--port",
            str(port),
            "--tick-seconds",
            "1",
        ],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        lines: list[str] = []
        deadline = time.monotonic() + 60
        assert process.stdout is not None
        while time.monotonic() < deadline:
            line = process.stdout.readline()
            if not line:
                break
            lines.append(line)
            if line.startswith("demo users"):
                break
        text = "".join(lines)
        assert f"http://127.0.0.1:{port}" in text
        assert "contactops-service.db" in text  # the embedded default, in the working dir
        token = re.search(r"admin token \(admin\): (\S+)", text).group(1)
        password = re.search(r"password (\S+)$", lines[-1]).group(1)
        base = f"http://127.0.0.1:{port}"
        for _ in range(100):
            try:
                if httpx2.get(f"{base}/healthz", timeout=2).status_code == 200:
                    break
            except httpx2.TransportError:
                time.sleep(0.1)
        me = httpx2.get(
            f"{base}/api/v1/users/me", headers={"Authorization": f"Bearer {token}"}
        ).json()
        assert me["username"] == "admin"
        assert me["is_superuser"] is True
        assert httpx2.get(f"{base}/api/v1/users/me").status_code == 401
        login = httpx2.post(
            f"{base}/api/v1/login/access-token",
            json={"username": "support-lead", "password": password},
        )
        assert login.status_code == 200
        departments = httpx2.get(
            f"{base}/api/v1/departments", headers={"Authorization": f"Bearer {token}"}
        ).json()
        assert sorted(d["name"] for d in departments) == [
            "billing",
            "exceptions",
            "fulfilment",
            "sales",
            "support",
        ]
        assert (tmp_path / "contactops-service.db").exists()
    finally:
        process.terminate()
        process.wait(timeout=30)
        if process.stdout is not None:
            process.stdout.close()
