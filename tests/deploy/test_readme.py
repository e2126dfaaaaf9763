"""The README's walkthrough runs as pasted: its marked shell blocks, in order, in one bash session,
against the app as `make run` serves it (uvicorn, SQLite, eager Celery, the seeded demo)."""
from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
MARK = "<!-- walkthrough -->"


def walkthrough() -> list[str]:
    return re.findall(re.escape(MARK) + r"\n```sh\n(.*?)```", (ROOT / "README.md").read_text(), re.S)


def test_the_readme_marks_its_walkthrough():
    blocks = walkthrough()
    assert len(blocks) >= 3
    assert "simulate_inbound" in "".join(blocks) and "DELETE" in "".join(blocks)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def served(tmp_path):
    """`make run`'s server on a fresh SQLite database of its own, demo seeded."""
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "CELERY_BROKER_URL", "PUBLIC_BASE_URL")}
    env.update(DEBUG="true", PORT=str(port), DATABASE_URL=f"sqlite:///{tmp_path}/db.sqlite3",
               SECRET_KEY="readme-walkthrough-secret-key-long-enough")
    env.pop("PYTEST_CURRENT_TEST", None)
    python = [sys.executable, str(ROOT / "manage.py")]
    for command in (["migrate", "--noinput", "-v0"], ["seed_demo", "--port", str(port)]):
        subprocess.run([*python, *command], cwd=ROOT, env=env, check=True, capture_output=True, timeout=120)
    server = subprocess.Popen([str(Path(sys.executable).parent / "uvicorn"), "config.asgi:application",
                               "--host", "127.0.0.1", "--port", str(port), "--no-access-log"],
                              cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    deadline = time.monotonic() + 60
    while True:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2)
            break
        except OSError:
            if time.monotonic() > deadline or server.poll() is not None:
                server.kill()
                raise AssertionError(f"the server did not start: {server.communicate()[0][-2000:]}") from None
            time.sleep(0.3)
    yield port, env, tmp_path
    server.terminate()
    server.wait(10)


def test_the_walkthrough_runs_as_pasted(served):
    port, env, tmp_path = served
    script = "set -euo pipefail\n" + "\n".join(walkthrough()).replace("http://127.0.0.1:8000", f"http://127.0.0.1:{port}")
    # Each command's own output, and the variables the walkthrough made, for the assertions below.
    script += '\necho "WALKTHROUGH NUMBER=$NUMBER ID=$ID JOB=$JOB"\n'
    result = subprocess.run(["bash", "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, timeout=180)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    out = result.stdout
    number, public_id, job = re.search(r"WALKTHROUGH NUMBER=(\S+) ID=(\S+) JOB=(\S+)", out).groups()
    assert number.startswith("+1415")
    assert f'"id": "{job}"' in out.replace('":"', '": "') and "succeeded" in out  # the job, polled
    assert "<Message>" in out or "<Response>" in out  # the TwiML answers simulate_inbound printed
    assert '"status": "released"' in out.replace('":"', '": "') or '"releasing"' in out  # the DELETE's answer
    assert '{"error":' not in out.replace('{"error": ', '{"error":')  # no command answered the error shape


KEEP_ALIVE = """
const http = require("http");
const twilio = require("twilio");
class SandboxHttp extends twilio.RequestClient {
  request(opts) {
    return super.request({ ...opts, uri: opts.uri.replace("https://api.twilio.com", process.env.TWILIO_BASE_URL) });
  }
}
// One kept-alive connection for every request, as twilio-node and twilio-cli keep theirs; each new
// socket the agent has to open is counted.
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
let sockets = 0;
const open = agent.createConnection.bind(agent);
agent.createConnection = (...args) => { sockets += 1; return open(...args); };
const httpClient = new SandboxHttp();
httpClient.axios.defaults.httpAgent = agent;
const client = twilio(process.env.TWILIO_ACCOUNT_SID, process.env.TWILIO_AUTH_TOKEN, { httpClient });
(async () => {
  let requests = 0;
  const [offer] = await client.availablePhoneNumbers("US").local.list({ areaCode: 415, limit: 1 });
  const bought = await client.incomingPhoneNumbers.create({ phoneNumber: offer.phoneNumber });
  requests += 2;
  for (let i = 0; i < 4; i++) {
    await client.messages.create({ to: "+14155550123", from: bought.phoneNumber, body: "Hello " + i });
    await client.incomingPhoneNumbers(bought.sid).fetch();
    await client.incomingPhoneNumbers(bought.sid).update({ friendlyName: "Line " + i });
    requests += 3;
  }
  await client.incomingPhoneNumbers(bought.sid).remove();
  console.log(JSON.stringify({ requests: requests + 1, sockets }));
  agent.destroy();
})().catch((e) => { console.error(e.message || e); process.exit(1); });
"""


def test_twilio_node_keeps_its_connection_alive_against_make_run(served, twilio_node):
    """Node's clients (twilio-node, twilio-cli) keep one connection alive across requests: against
    `make run`'s server, searching, buying, texting, reading, updating and releasing (15 requests) all
    succeed on the one socket the client opened."""
    port, env, _ = served
    printed = subprocess.run([sys.executable, str(ROOT / "manage.py"), "sandbox_account",
                              "--base-url", f"http://127.0.0.1:{port}/sandbox"],
                             cwd=ROOT, env=env, check=True, capture_output=True, text=True, timeout=60).stdout
    credentials = dict(line.split("=", 1) for line in printed.split())
    script = twilio_node / "keep_alive.js"
    script.write_text(KEEP_ALIVE)
    ran = subprocess.run(["node", str(script)], cwd=twilio_node, capture_output=True, text=True, timeout=120,
                         env={**os.environ, **credentials})
    assert ran.returncode == 0, ran.stderr[-2000:]
    assert json.loads(ran.stdout) == {"requests": 15, "sockets": 1}
