"""Two `tinydet tune` workers share one study on a real PostgreSQL server; one is killed (SIGKILL) while it
trains (frozen with SIGSTOP the moment its trial folder appears, so the kill cannot miss a short trial),
restarted, and the study still reaches its trials: the killed trial is failed by the heartbeat check
and run again with its parameters, and nothing is left RUNNING.

The server is started here (initdb into a temporary folder, pg_ctl on a free loopback port, sockets in that
folder), as the 'postgres' user when the tests run as root. The test skips when PostgreSQL is not installed.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest
import yaml

PASSWORD = "tune-s3cret"
TRIALS = 3
EPOCHS = 3  # a trial must outlast the 20 ms between worker A's trial folder appearing and SIGSTOP


def postgres_bin() -> Path | None:
    found = shutil.which("initdb")
    candidates = ([str(Path(found).resolve().parent)] if found else []) + sorted(glob.glob("/usr/lib/postgresql/*/bin"))[::-1]
    for folder in candidates:
        if (Path(folder) / "initdb").is_file() and (Path(folder) / "pg_ctl").is_file():
            return Path(folder)
    return None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def postgres_url():
    """postgresql://tinydet:PASSWORD@127.0.0.1:PORT/postgres on a fresh server, stopped and deleted afterwards."""
    bin_dir = postgres_bin()
    if bin_dir is None:
        pytest.skip("PostgreSQL server binaries (initdb, pg_ctl) not found: apt-get install postgresql")
    run_as = {}
    root = Path(tempfile.mkdtemp(prefix="tinydet-pg-"))
    if os.geteuid() == 0:  # initdb refuses root: run the server as the postgres user
        try:
            account = pwd.getpwnam("postgres")
        except KeyError:
            shutil.rmtree(root)
            pytest.skip("running as root and there is no 'postgres' user to run the PostgreSQL server as")
        os.chown(root, account.pw_uid, account.pw_gid)
        run_as = {"user": account.pw_uid, "group": account.pw_gid}
    (root / "pw").write_text(PASSWORD)
    if run_as:
        os.chown(root / "pw", run_as["user"], run_as["group"])
    data, port = root / "data", free_port()

    def pg(*args):
        return subprocess.run([str(bin_dir / args[0]), *args[1:]], capture_output=True, text=True, cwd=root, **run_as)

    try:
        done = pg("initdb", "-D", str(data), "-U", "tinydet", f"--pwfile={root / 'pw'}", "--auth=scram-sha-256",
                  "-E", "UTF8", "--no-sync")
        assert done.returncode == 0, done.stderr
        options = (f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off "
                   "-c full_page_writes=off")
        done = pg("pg_ctl", "-D", str(data), "-l", str(root / "server.log"), "-w", "-t", "60", "-o", options, "start")
        assert done.returncode == 0, done.stderr + (root / "server.log").read_text()
        yield f"postgresql://tinydet:{PASSWORD}@127.0.0.1:{port}/postgres"
    finally:
        pg("pg_ctl", "-D", str(data), "-m", "immediate", "stop")
        shutil.rmtree(root, ignore_errors=True)


def wait_for(condition, timeout: float, what: str, logs, poll: float = 0.5):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value is not None and value is not False:  # trial number 0 counts
            return value
        time.sleep(poll)
    pytest.fail(f"timed out waiting for {what}\n" + "\n".join(f"--- {p}\n{p.read_text()[-3000:]}" for p in logs
                                                                if p.exists()))


@pytest.mark.slow
def test_two_workers_share_a_postgres_study_and_survive_a_killed_worker(postgres_url, tune_data, tiny_space, tmp_path,
                                                                       tinydet_command):
    import optuna
    from optuna.trial import TrialState

    from tinydet.train.recipe import load_recipe_file
    from tinydet.tune.report import learned
    from tinydet.tune.storage import with_driver

    command, cwd, env = tinydet_command

    def worker(out: Path, log: Path) -> subprocess.Popen:
        return subprocess.Popen([*command, "tune", *args(out)], cwd=cwd, env=env, stdout=log.open("w"),
                                stderr=subprocess.STDOUT)

    def args(out):
        return ["--data", str(tune_data), "--trials", str(TRIALS), "--epochs", str(EPOCHS), "--imgsz", "64", "--batch", "8",
                "--workers", "0", "--metric", "APs", "--space", str(tiny_space), "--pruner", "none",
                "--storage", postgres_url, "--study", "shared", "--out", str(out), "--set", "optimizer=SGD",
                "--set", "plots=false", "--heartbeat-interval", "1", "--grace-period", "8"]

    out_a, out_b = tmp_path / "machine_a", tmp_path / "machine_b"  # as if on two machines: separate folders
    logs = [tmp_path / "a.log", tmp_path / "b.log", tmp_path / "a2.log"]
    a, b = worker(out_a, logs[0]), worker(out_b, logs[1])
    a2 = None
    try:
        def study():
            return optuna.load_study(study_name="shared", storage=with_driver(postgres_url))

        def a_started_a_trial():  # cheap file check, polled fast: a trial of EPOCHS epochs lasts about a second
            return bool(glob.glob(str(out_a / "trials" / "*" / "tinydet_run.yaml")))

        def a_running_trial():
            try:
                trials = study().get_trials(deepcopy=False, states=(TrialState.RUNNING,))
            except Exception:  # the study does not exist yet
                return None
            return next((t.number for t in trials if t.user_attrs.get("worker", "").endswith(f":{a.pid}")), None)

        wait_for(a_started_a_trial, 300, "worker A to start training a trial", logs, poll=0.02)
        assert a.poll() is None, "worker A ended before it could be stopped"
        a.send_signal(signal.SIGSTOP)  # frozen mid-trial at once; the database is read while it cannot finish
        killed = wait_for(a_running_trial, 60, "worker A's trial to show as RUNNING", logs)
        a.send_signal(signal.SIGKILL)
        a.wait(30)
        assert [t.state for t in study().get_trials() if t.number == killed] == [TrialState.RUNNING]

        a2 = worker(out_a, logs[2])  # the restarted worker on machine A
        for process in (b, a2):
            process.wait(timeout=480)
        assert (b.returncode, a2.returncode) == (0, 0), "\n".join(p.read_text()[-3000:] for p in logs if p.exists())
    finally:
        for process in (a, b, a2):
            if process is not None and process.poll() is None:
                process.kill()
                process.wait(30)

    trials = study().get_trials()
    states = [t.state for t in trials]
    assert TrialState.RUNNING not in states and TrialState.WAITING not in states
    complete = [t for t in trials if t.state == TrialState.COMPLETE]
    assert TRIALS <= len(complete) <= TRIALS + 1  # two workers may each start one last trial at once
    dead = trials[killed]
    assert dead.state == TrialState.FAIL and dead.user_attrs["worker"].endswith(f":{a.pid}")
    retries = [t for t in complete if t.system_attrs.get("failed_trial") == killed]
    assert len(retries) == 1 and retries[0].params == dead.params  # run again, with its parameters
    workers = {t.user_attrs["worker"].rsplit(":", 1)[1] for t in complete}
    # B always contributes; whether the restarted A gets a trial before B takes the last ones depends on timing
    assert str(b.pid) in workers and workers <= {str(a.pid), str(b.pid), str(a2.pid)}
    for t in complete:
        assert Path(t.user_attrs["run_dir"], "weights", "best.pt").is_file()

    crowned = learned([t.value for t in complete])  # one epoch at 64 px may learn nothing: then no trial is best
    for out in (out_a, out_b):  # each worker reports the whole study and the same best trial
        assert len((out / "trials.csv").read_text().splitlines()) == len(trials) + 1
        assert (out / "best_recipe.yaml").exists() == crowned
        if crowned:
            assert load_recipe_file(out / "best_recipe.yaml").box_loss == study().best_trial.params["box_loss"]
    text = "".join(p.read_text() for p in logs)
    assert PASSWORD not in text and "tinydet:***@127.0.0.1" in text
    if crowned:
        assert yaml.safe_load((out_a / "best_recipe.yaml").read_text())["ultralytics"]["imgsz"] == 64
