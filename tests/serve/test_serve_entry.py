"""`python -m remodiffuse.serve`: serves the run on the port it prints, bad options in one line."""

import json
import os
import signal
import subprocess
import sys
import urllib.request


def serve_command(*options: str) -> list[str]:
    return [sys.executable, "-m", "remodiffuse.serve", *options]


def test_entry_point_serves_until_terminated(tiny_trained_run):
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    command = serve_command(f"ckpt={tiny_trained_run[0]}", "port=0")
    server = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, env=env)
    try:
        line = server.stdout.readline()
        assert line.startswith("serving http://127.0.0.1:"), line
        url = line.split()[1]
        with urllib.request.urlopen(url + "info", timeout=30) as answer:
            assert json.loads(answer.read())["max_length"] == 196
    finally:
        server.send_signal(signal.SIGTERM)  # as Ctrl-C (SIGINT) does
        server.wait(timeout=30)
    assert server.returncode == 0


def test_bad_port_ends_in_one_line_before_loading(tmp_path):
    command = serve_command("ckpt=/no/such/run", "port=70000")
    result = subprocess.run(command, capture_output=True, text=True, cwd=tmp_path)
    assert result.returncode == 2 and result.stderr.startswith("error: port=70000 is out of range")
    assert "Traceback" not in result.stderr
