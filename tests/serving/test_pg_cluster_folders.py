"""`make pg` must reach its data directory without opening private folders to everyone."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from serving import pg_cluster


def _can_reach(user: str, path: Path) -> bool:
    return (
        subprocess.run(
            ["runuser", "-u", user, "--", "stat", str(path)], capture_output=True
        ).returncode
        == 0
    )


@pytest.mark.skipif(os.geteuid() != 0, reason="only root hands the cluster to `postgres`")
def test_private_ancestors_admit_postgres_alone_and_keep_their_mode(tmp_path):
    if shutil.which("setfacl") is None:
        if os.environ.get("CI") == "true":
            pytest.fail("acl is missing: make pg-packages installs it")
        pytest.skip("acl is not installed (make pg-packages installs it)")
    home = tmp_path / "home"
    data = home / "data"
    (data / "pg").mkdir(parents=True)
    for folder in (tmp_path, home, data):
        folder.chmod(0o700)
    secret = data / "serving.duckdb"
    secret.write_text("marts")
    secret.chmod(0o644)  # the umask's mode: safe only while the folders stay private

    opened = pg_cluster._grant_traverse(data / "pg")

    assert opened == []
    # Nothing for others (the group bits now show the ACL mask, --x, which grants the named
    # postgres entry only: the group's own entry stays ---).
    assert [f.stat().st_mode & 0o007 for f in (tmp_path, home, data)] == [0, 0, 0]
    assert _can_reach("postgres", data / "pg")
    assert not _can_reach("nobody", secret)
