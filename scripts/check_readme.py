#!/usr/bin/env python3
"""Runs the README's shell examples as written, against the browser-test server.

    python3 scripts/check_readme.py BINARY DATA_DIR BASE_URL

Every fenced `sh` block of README.md runs as one bash script (`set -euo pipefail`) from
the repository's root, in the README's order, and must exit 0. What differs from a
reader's machine is substituted, and only that:

- `target/release/scorewatch` is BINARY (the tests build in debug);
- `.scorewatch/` is DATA_DIR (the browser-test server's data directory, whose embedded
  PostgreSQL the commands use), and `localhost:3000` / `127.0.0.1:3000` is BASE_URL;
- a placeholder the README marks as one (`sw_1a2b3c4d`, a prediction id written `…`,
  `outcomes.csv.gz`) is filled with a real key prefix, prediction id and file;
- `curl -s` is `curl -sf`, so that an HTTP error fails the block;
- `demo-data --out artifacts` writes into a scratch directory instead, and what it writes
  must equal the committed artifacts byte for byte (same seed, same bytes).

Blocks that cannot run here are listed in SKIPPED with the reason; a new block that is
neither run nor listed fails this check. Beyond the blocks, `drift --json` must print JSON
alone on stdout (logs go to stderr), and `report --id N` without `--out` must name the file
it wrote in the current directory by its full path.
"""
import gzip
import json
import os
import re
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# First line of a block -> why it does not run here.
SKIPPED = {
    "scripts/run.sh": "command one: a release build and a server on port 3000; the browser "
    "tests run the same server (debug) started by scripts/test.sh",
    "scripts/test.sh": "command two: this check runs inside it",
    "DATABASE_URL='postgres://user:password@host/db?sslmode=require' target/release/scorewatch serve":
    "needs the reader's own PostgreSQL server",
    "target/release/scorewatch init --model model.txt --reference train.csv.gz --threshold 0.5 --name my-model":
    "needs the reader's own model file and training data",
}


def blocks(readme):
    for m in re.finditer(r"```sh\n(.*?)```", readme, re.S):
        yield readme[: m.start()].count("\n") + 1, m.group(1)


def api(base, path, key, body=None):
    req = urllib.request.Request(
        base + path,
        data=None if body is None else json.dumps(body).encode(),
        headers={"authorization": f"Bearer {key}", "content-type": "application/json"},
    )
    with urllib.request.urlopen(req, timeout=60) as res:
        return json.load(res)


def main():
    binary, data_dir, base = (os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2]), sys.argv[3].rstrip("/"))
    host = re.sub(r"^https?://", "", base)
    admin = open(os.path.join(data_dir, "admin-key")).read().strip()
    env = dict(os.environ, SCOREWATCH_URL=base, SCOREWATCH_DATA_DIR=data_dir)
    env.pop("DATABASE_URL", None)
    env.pop("SCOREWATCH_API_KEY", None)
    scratch = tempfile.mkdtemp(prefix="readme-")

    # Placeholders: a key to revoke, a stored prediction, an outcomes file.
    created = subprocess.run(
        [binary, "keys", "create", "--role", "viewer", "--name", "readme check"],
        env=env, check=True, capture_output=True, text=True,
    ).stdout.strip().splitlines()[-1]
    prefix = created[:11]
    scored = api(base, "/api/v1/predict", admin, {"sk_id_curr": 100002, "features": {"EXT_SOURCE_2": 0.3}})
    prediction_id = scored["prediction_id"]
    with gzip.open(os.path.join(scratch, "outcomes.csv.gz"), "wt") as f:
        f.write(f"prediction_id,TARGET\n{prediction_id},1\n")

    readme = open(os.path.join(ROOT, "README.md")).read()
    ran = 0
    for line, text in blocks(readme):
        first = text.strip().splitlines()[0]
        if first in SKIPPED:
            print(f"README line {line}: skipped ({SKIPPED[first]})")
            continue
        script = (
            text.replace("target/release/scorewatch", f"'{binary}'")
            .replace(".scorewatch/", data_dir + "/")
            .replace("localhost:3000", host)
            .replace("127.0.0.1:3000", host)
            .replace("sw_1a2b3c4d", prefix)
            # An HTTP error fails the block, not only a failure to connect.
            .replace("curl -s ", "curl -sf ")
            .replace('"prediction_id": "…"', f'"prediction_id": "{prediction_id}"')
            .replace("outcomes import outcomes.csv.gz", f"outcomes import '{scratch}/outcomes.csv.gz'")
            .replace("--out artifacts", f"--out '{scratch}/artifacts'")
        )
        # `KEY` is set by the README's first block; later blocks use it too.
        script = f"set -euo pipefail\nKEY=$(cat '{data_dir}/admin-key')\n" + script
        started = time.monotonic()
        done = subprocess.run(["bash", "-c", script], cwd=ROOT, env=env, capture_output=True, text=True)
        took = time.monotonic() - started
        if done.returncode != 0:
            sys.exit(
                f"README line {line}: the block failed (exit {done.returncode}):\n{text}\n"
                f"--- stdout\n{done.stdout[-4000:]}\n--- stderr\n{done.stderr[-4000:]}"
            )
        print(f"README line {line}: ran in {took:.1f} s")
        ran += 1
    if ran < 8:
        sys.exit(f"only {ran} README blocks ran: did the README's examples move?")

    # `demo-data` made the committed artifacts again, byte for byte.
    made = os.path.join(scratch, "artifacts")
    for name in sorted(os.listdir(made)):
        with open(os.path.join(made, name), "rb") as a, open(os.path.join(ROOT, "artifacts", name), "rb") as b:
            if a.read() != b.read():
                sys.exit(f"demo-data --seed 42 wrote a different artifacts/{name} than the committed one")
    print(f"README: demo-data wrote {len(os.listdir(made))} files equal to the committed artifacts")

    # A command's stdout carries its data alone: JSON that parses.
    out = subprocess.run(
        [binary, "drift", "--last", "50", "--json"], env=env, check=True, capture_output=True, text=True
    ).stdout
    json.loads(out)
    # `report` without --out writes into the current directory and says where, in full.
    newest = api(base, "/api/v1/drift/reports?limit=1", admin)["items"][0]["id"]
    said = subprocess.run(
        [binary, "report", "--id", str(newest)], cwd=scratch, env=env, check=True, capture_output=True, text=True
    ).stdout
    written = os.path.join(os.path.realpath(scratch), f"drift-report-{newest}.html")
    if written not in said or not os.path.exists(written):
        sys.exit(f"`report --id {newest}` should name {written}; it said: {said}")
    print(f"README: {ran} blocks ran; `drift --json` prints JSON alone; `report` names its file in full")


if __name__ == "__main__":
    main()
