"""A local PostgreSQL cluster from Debian's packages: `make pg`, `make pg-stop` and the tests.

Why a module and not a Makefile recipe: the tests start their throwaway cluster exactly the
way `make pg` does, so both call `init_cluster` / `start` / `stop` here. PostgreSQL refuses
to run as root, so when we are root every server binary runs as the `postgres` system user
(`runuser -u postgres -- ...`) and the data directory is handed to that user. The cluster
listens on 127.0.0.1 and a unix socket only, with scram-sha-256 passwords and TLS on
(a self-signed certificate; replace `server.crt`/`server.key` with a real one to go beyond
localhost). The superuser is reachable only through the unix socket with peer auth, and is
the only role the socket admits; its folder is the server user's alone (0700). Nobody
else may connect to the maintenance databases (`postgres`, `template1`), where PostgreSQL lets
every role create temporary tables and functions: readers reach their serving database only.

The cluster's folder (`<data-dir>/pg`) is 0700 and its `server.log` 0600: PostgreSQL writes
the text of failed statements and errors quoting their input to that log (a reader's
`alter role ... password '...'` refused in its read-only session would put the clear-text
password there). The cluster also logs no statement text with errors
(`log_min_error_statement = panic`, a superuser-only setting) and no statements at all
(`log_statement = none`). `start` brings an older cluster's folder, log and settings up to this.
"""

from __future__ import annotations

import getpass
import os
import shutil
import socket
import subprocess
from dataclasses import dataclass
from pathlib import Path

#: Debian packages the serving target and its client tests need.
DEBIAN_PACKAGES = ("postgresql", "libpostgresql-jdbc-java", "odbc-postgresql", "unixodbc", "acl")
JDBC_JAR = Path("/usr/share/java/postgresql.jar")
ODBC_DRIVER = "PostgreSQL Unicode"


def bin_dir() -> Path | None:
    """The newest installed PostgreSQL's bin folder (Debian layout), None when absent."""
    found = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: int(p.parent.parent.name)
    )
    return found[-1].parent if found else None


def missing_packages() -> list[str]:
    """Which of `DEBIAN_PACKAGES` are not installed (checked by the files we use)."""
    have = {
        "postgresql": bin_dir() is not None,
        "libpostgresql-jdbc-java": JDBC_JAR.exists(),
        "odbc-postgresql": Path("/usr/lib/x86_64-linux-gnu/odbc/psqlodbcw.so").exists()
        or any(Path("/usr/lib").glob("*/odbc/psqlodbcw.so")),
        "unixodbc": shutil.which("odbcinst") is not None,
        "acl": shutil.which("setfacl") is not None,
    }
    return [p for p in DEBIAN_PACKAGES if not have[p]]


def install_packages() -> list[str]:
    """apt-get install what is missing (sudo when not root); returns what was installed."""
    missing = missing_packages()
    if missing:
        sudo = [] if os.geteuid() == 0 else ["sudo"]
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        subprocess.run([*sudo, "apt-get", "update", "-qq"], check=True, env=env)
        subprocess.run([*sudo, "apt-get", "install", "-y", "-qq", *missing], check=True, env=env)
    return missing


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now (throwaway clusters of tests and benchmarks)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def superuser() -> str:
    """The cluster's superuser: `postgres` when we are root, else the current user."""
    return "postgres" if os.geteuid() == 0 else getpass.getuser()


def _as_server_user(cmd: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *cmd] if os.geteuid() == 0 else cmd


@dataclass(frozen=True)
class Cluster:
    """One cluster: its folder (data, socket, log, certificate) and TCP port."""

    root: Path
    port: int

    @property
    def pgdata(self) -> Path:
        return self.root / "pgdata"

    @property
    def socket_dir(self) -> Path:
        return self.root / "run"

    @property
    def log_file(self) -> Path:
        return self.root / "server.log"

    def run(self, *cmd: str, sql: str | None = None) -> str:
        """A PostgreSQL binary as the server user; `sql` goes to stdin (never argv or ps)."""
        binary = bin_dir()
        if binary is None:
            raise FileNotFoundError("PostgreSQL is not installed (make pg installs it)")
        full = _as_server_user([str(binary / cmd[0]), *cmd[1:]])
        proc = subprocess.run(full, input=sql, capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            raise RuntimeError(f"{cmd[0]} failed ({proc.returncode}): {proc.stderr.strip()}")
        return proc.stdout

    def psql_superuser(self, sql: str, database: str = "postgres") -> str:
        """SQL as the superuser over the unix socket (peer auth), stopping at the first error."""
        return self.run(
            "psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", str(self.socket_dir),
            "-p", str(self.port), "-U", superuser(), "-d", database, "-f", "-", sql=sql,
        )  # fmt: skip

    def is_running(self) -> bool:
        if not (self.pgdata / "postmaster.pid").exists():
            return False
        try:
            self.run("pg_ctl", "status", "-D", str(self.pgdata))
        except RuntimeError:
            return False
        return True


def _grant_traverse(path: Path) -> list[Path]:
    """Let the server user reach `path` through ancestors that others may not search.

    Users' and temp folders are often 0700, and `postgres` must still walk down to its data
    directory. Each such folder gets an ACL entry giving the `postgres` user alone search
    (x), so a private home or data dir stays closed to every other account (a search bit for
    all would let any local user open a file inside whose name they know). Where the file
    system refuses ACLs, the folder gets search for others instead, and is returned so the
    caller can say so.
    """
    if os.geteuid() != 0:
        return []
    opened: list[Path] = []
    for parent in reversed(path.parents):
        mode = parent.stat().st_mode
        if mode & 0o001:
            continue
        try:
            command = ["setfacl", "-m", "u:postgres:--x", str(parent)]
            granted = subprocess.run(command, capture_output=True, check=False).returncode == 0
        except FileNotFoundError:  # acl not installed (`make pg-packages` installs it)
            granted = False
        if not granted:
            parent.chmod(mode | 0o001)
            opened.append(parent)
    return opened


def _chown_server_user(path: Path) -> None:
    if os.geteuid() == 0:
        shutil.chown(path, "postgres", "postgres")


def _self_signed_cert(pgdata: Path) -> None:
    """server.crt/server.key for CN=localhost (10 years); Power BI's connector wants TLS."""
    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "3650",
            "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
            "-keyout", str(pgdata / "server.key"), "-out", str(pgdata / "server.crt"),
        ],
        check=True, capture_output=True,
    )  # fmt: skip
    for name in ("server.key", "server.crt"):
        (pgdata / name).chmod(0o600)
        _chown_server_user(pgdata / name)


CONF = """
# medspa-warehouse serving cluster (written by serving/pg_cluster.py)
listen_addresses = '127.0.0.1'
port = {port}
unix_socket_directories = '{socket_dir}'
password_encryption = 'scram-sha-256'
ssl = on
ssl_cert_file = 'server.crt'
ssl_key_file = 'server.key'
max_connections = 50
shared_buffers = 128MB
logging_collector = off
{logging}"""

#: No statement text in the log: a failed `alter role ... password '...'` (a reader's, refused
#: in its read-only session) would leave the clear-text password there. Errors themselves are
#: still logged. Both settings are superuser-only, so no reader can turn them back on.
LOGGING_CONF = """\
# no statement text in server.log (passwords in failed statements; serving/pg_cluster.py)
log_min_error_statement = panic
log_statement = 'none'
"""
#: `<data-dir>/pg` (data, socket folder, log, serving_url): the server user's alone.
ROOT_DIR_MODE = 0o700
#: server.log: the server user's alone (errors may quote a statement's input).
LOG_FILE_MODE = 0o600

#: Superuser by unix socket and peer auth only; everyone else scram over TLS on loopback. No
#: password line for the socket: it would let any local account log in as any serving role
#: without TLS, and nothing of ours but the superuser connects through it.
HBA = """
local   all   {superuser}   peer
hostssl all   all   127.0.0.1/32   scram-sha-256
hostnossl all all   0.0.0.0/0      reject
"""
#: The socket's password line of clusters made before it went (`close_socket`).
_OLD_SOCKET_LINE = "local   all   all           scram-sha-256"
#: The socket's folder: the server user's alone, so no other local account reaches the socket.
SOCKET_DIR_MODE = 0o700


#: Run at every start (idempotent), so a cluster made before this rule gets it too. A new
#: database does not copy template1's grants; the superuser bypasses them.
CLOSE_MAINTENANCE_DATABASES = (
    "revoke connect, temporary on database postgres from public;\n"
    "revoke connect, temporary on database template1 from public;\n"
)


def init_cluster(root: Path, port: int) -> Cluster:
    """initdb into `root/pgdata` (once), with our config, TLS certificate and pg_hba."""
    cluster = Cluster(root.resolve(), port)
    if (cluster.pgdata / "PG_VERSION").exists():
        # An existing cluster keeps the port it was made with (clients already use it).
        conf = (cluster.pgdata / "postgresql.conf").read_text().splitlines()
        ports = [int(line.split("=")[1]) for line in conf if line.startswith("port = ")]
        return Cluster(cluster.root, ports[-1] if ports else port)
    for folder in (cluster.root, cluster.socket_dir):
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        _chown_server_user(folder)
    cluster.root.chmod(ROOT_DIR_MODE)
    cluster.socket_dir.chmod(SOCKET_DIR_MODE)
    for folder in _grant_traverse(cluster.root):
        print(
            f"note: {folder} does not take ACLs: made searchable by every account so that "
            "PostgreSQL can reach its data directory"
        )
    cluster.run(
        "initdb", "-D", str(cluster.pgdata), "-U", superuser(), "-E", "UTF8",
        "--locale=C.UTF-8", "--auth-local=peer", "--auth-host=scram-sha-256",
    )  # fmt: skip
    with (cluster.pgdata / "postgresql.conf").open("a") as conf:
        conf.write(CONF.format(port=port, socket_dir=cluster.socket_dir, logging=LOGGING_CONF))
    (cluster.pgdata / "pg_hba.conf").write_text(HBA.format(superuser=superuser()))
    _self_signed_cert(cluster.pgdata)
    return cluster


def close_socket(cluster: Cluster) -> bool:
    """Bring a cluster made before the socket was the superuser's alone up to the rule: its
    password line for the socket goes and the socket's folder becomes 0700. True if changed.

    Run at every start (idempotent), as `CLOSE_MAINTENANCE_DATABASES` is: `init_cluster`
    leaves an existing cluster's files as they are.
    """
    changed = False
    hba = cluster.pgdata / "pg_hba.conf"
    lines = hba.read_text().splitlines(keepends=True) if hba.is_file() else []
    kept = [line for line in lines if line.strip() != _OLD_SOCKET_LINE]
    if kept != lines:
        hba.write_text("".join(kept))  # an existing file keeps its owner and mode
        changed = True
    folder = cluster.socket_dir
    if folder.is_dir() and folder.stat().st_mode & 0o777 != SOCKET_DIR_MODE:
        folder.chmod(SOCKET_DIR_MODE)
        changed = True
    return changed


def quiet_statement_log(cluster: Cluster) -> bool:
    """Bring a cluster made before `LOGGING_CONF` up to it (appended to postgresql.conf, whose
    later lines win). True if changed; idempotent, run at every start."""
    conf = cluster.pgdata / "postgresql.conf"
    if not conf.is_file():
        return False
    wanted = [line for line in LOGGING_CONF.splitlines() if not line.startswith("#")]
    if _last_settings(conf.read_text(), wanted) == wanted:
        return False
    with conf.open("a") as out:  # an existing file keeps its owner and mode
        out.write("\n" + LOGGING_CONF)
    return True


def _last_settings(text: str, wanted: list[str]) -> list[str]:
    """For each `name = value` line of `wanted`, the last line of `text` setting that name
    (as PostgreSQL reads it: the last one wins), normalised to `name = value`."""
    found: dict[str, str] = {}
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].strip()
        if "=" in line:
            name, value = (part.strip() for part in line.split("=", 1))
            found[name] = f"{name} = {value}"
    return [found.get(line.split("=", 1)[0].strip(), "") for line in wanted]


def private_files(cluster: Cluster) -> None:
    """The cluster's folder 0700 and its log 0600 (created so, or corrected): the log holds
    errors that may quote statements' input, passwords included."""
    if cluster.root.is_dir() and cluster.root.stat().st_mode & 0o777 != ROOT_DIR_MODE:
        cluster.root.chmod(ROOT_DIR_MODE)
    log = cluster.log_file
    os.close(os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, LOG_FILE_MODE))
    if log.stat().st_mode & 0o777 != LOG_FILE_MODE:
        log.chmod(LOG_FILE_MODE)
    _chown_server_user(log)


def start(cluster: Cluster, timeout_s: int = 60) -> None:
    """Start the server (unless running), wait until it accepts connections, and close the
    maintenance databases to every login but the superuser (`CLOSE_MAINTENANCE_DATABASES`)
    and the unix socket to every role but the superuser (`close_socket`). The cluster's
    folder and log are made private and statement text kept out of the log first
    (`private_files`, `quiet_statement_log`)."""
    private_files(cluster)
    changed = close_socket(cluster)
    changed = quiet_statement_log(cluster) or changed
    if changed and cluster.is_running():
        cluster.run("pg_ctl", "reload", "-D", str(cluster.pgdata))
    if not cluster.is_running():
        log = cluster.log_file
        cluster.run(
            "pg_ctl", "start", "-D", str(cluster.pgdata), "-l", str(log), "-w", "-t",
            str(timeout_s),
        )  # fmt: skip
    cluster.psql_superuser(CLOSE_MAINTENANCE_DATABASES)


def stop(cluster: Cluster) -> bool:
    """Fast shutdown (open sessions are ended); False when it was not running."""
    if not cluster.is_running():
        return False
    cluster.run("pg_ctl", "stop", "-D", str(cluster.pgdata), "-m", "fast", "-w")
    return True
