#!/usr/bin/env python3
# The opt-in deploy cache (setting deployCache): what a node built or downloaded on its first successful boot, kept
# in S3 so the next deploy restores it instead: the venv (a compressed archive, keyed by every pinned version, the
# Python and the GPU architecture), the LMCache wheel (keyed by LMCache, torch and its CUDA, the architecture, the
# Python), and the model weights (keyed by model and commit). Every entry is a folder with its files and a
# manifest.json written last, holding each file's size and SHA-256: a restore checks both, and anything missing,
# different or unreadable is a miss, after which the node takes the normal path. Restored artifacts then go through
# the node's same checks (verify_stack.py), so the cache can never turn a degraded install into a passing node.
#
# Transfers use the AWS CLI through the S3 gateway endpoint: restores with its CRT transfer client, uploads with the
# classic one, the only one that caps its bandwidth (AWS_CONFIGS below).
#
# Usage: deploy_cache.py --bucket B --prefix P restore|upload venv|wheel|weights [options]
# A restore prints its verdict last ("hit: …" or "miss: …") and exits 0 on a hit, 3 on any miss.
import argparse
import atexit
import concurrent.futures
import hashlib
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time

from download_model import IGNORE_PATTERNS, snapshot_problem

MISS = 3
# Bump when what goes into an entry changes while every pinned version stays the same.
RECIPE = "1"
CHUNK = 8 << 20
TRANSFERS = 4
HF_API = os.environ.get("HF_ENDPOINT", "https://huggingface.co")


class Miss(Exception):
    pass


# The AWS CLI's `s3` settings of each purpose (AWS CLI v2 topic "s3-config", awscli/topics/s3-config.rst):
# - restore, on the critical path of a deploy: the CRT transfer client (parallel ranged GETs), uncapped. CRT fails on
#   a bucket of another region than the request's; preflight and synth check the bucket's region.
# - upload, after the node is ready, beside Ray and possibly a benchmark: the classic transfer client, because the CRT
#   one ignores max_bandwidth and treats target_bandwidth as a goal it may exceed ("max_bandwidth is purely for rate
#   limiting"; target_bandwidth "may make adjustments mid-transfer ... to reach the requested bandwidth"). As the topic
#   recommends, fewer concurrent requests first, then the cap: at most 250 MiB/s (~2.1 Gb/s; rate suffixes are powers
#   of 2) per AWS CLI process, TRANSFERS of them at a time, ~1 GiB/s in all.
AWS_CONFIGS = {
    "restore": {"preferred_transfer_client": "crt"},
    "upload": {"preferred_transfer_client": "classic", "max_concurrent_requests": "8", "max_bandwidth": "250MB/s"},
}


def aws_config_text(purpose):
    return "[default]\ns3 =\n" + "".join(f"    {key} = {value}\n" for key, value in AWS_CONFIGS[purpose].items())


def aws_env(purpose):
    fd, path = tempfile.mkstemp(prefix=f"p5-aws-{purpose}-", suffix=".conf")
    with os.fdopen(fd, "w") as f:
        f.write(aws_config_text(purpose))
    atexit.register(lambda: os.path.exists(path) and os.remove(path))
    return dict(os.environ, AWS_CONFIG_FILE=path)


ENV = aws_env("restore")


def aws_s3(*args):
    r = subprocess.run(["aws", "s3", *args], env=ENV, capture_output=True, text=True, stdin=subprocess.DEVNULL,
                       check=False)
    if r.returncode != 0:
        last = (r.stderr.strip() or r.stdout.strip() or f"exit {r.returncode}").splitlines()[-1]
        raise Miss(f"aws s3 {args[0]} {' '.join(a for a in args[1:] if a.startswith('s3://'))}: {last}")
    return r.stdout


def read_manifest(url):
    try:
        return json.loads(aws_s3("cp", "--only-show-errors", url, "-"))
    except Miss as e:
        text = str(e)
        if "404" in text or "Not Found" in text or "NoSuchKey" in text or "does not exist" in text:
            raise Miss(f"no entry at {url}") from None
        raise
    except ValueError as e:
        raise Miss(f"{url} is not a manifest: {e}") from None


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(CHUNK):
            h.update(chunk)
    return h.hexdigest()


def describe(files):
    return f"{len(files)} files, {sum(f['size'] for f in files.values()) / 1e9:.1f} GB"


def parallel(fn, items):
    with concurrent.futures.ThreadPoolExecutor(TRANSFERS) as pool:
        return list(pool.map(fn, items))


def fetch_verified(base, files, dest):
    # Downloads every file of an entry under dest and checks its size and SHA-256 against the manifest.
    def one(name):
        path = os.path.join(dest, name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        aws_s3("cp", "--only-show-errors", base + name, path)
        want = files[name]
        size = os.path.getsize(path)
        if size != want["size"]:
            raise Miss(f"{name} is {size} bytes, the manifest says {want['size']}")
        got = sha256(path)
        if got != want["sha256"]:
            raise Miss(f"sha256 of {name} is {got[:16]}…, the manifest says {want['sha256'][:16]}…")

    parallel(one, sorted(files))


def put_entry(base, src_dir, names, inputs, extra):
    # extra: more manifest fields; "filesUnder" puts the files in a subfolder of the entry.
    files_under = extra.pop("filesUnder", "")
    files = dict(zip(names, parallel(lambda n: {"size": os.path.getsize(os.path.join(src_dir, n)),
                                                 "sha256": sha256(os.path.join(src_dir, n))}, names), strict=True))
    parallel(lambda n: aws_s3("cp", "--only-show-errors", os.path.join(src_dir, n), base + files_under + n), names)
    manifest = {"inputs": inputs, "files": files, "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                **extra}
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump(manifest, f, indent=1, sort_keys=True)
    # Last: an entry without its manifest is never restored.
    aws_s3("cp", "--only-show-errors", f.name, base + "manifest.json")
    os.unlink(f.name)
    return f"uploaded {base} ({describe(files)})"


def inputs_of(args):
    fields = dict(f.split("=", 1) for f in args.fields)
    fields.update(python=platform.python_version(), recipe=RECIPE)
    return fields


def key_of(inputs):
    return hashlib.sha256(json.dumps(inputs, sort_keys=True).encode()).hexdigest()[:24]


def entry_base(args, inputs):
    kind = f"venv/{args.kind}" if args.what == "venv" else "lmcache"
    return f"s3://{args.bucket}/{args.prefix}{kind}/{key_of(inputs)}/"


def checked_manifest(base, inputs):
    manifest = read_manifest(base + "manifest.json")
    if manifest.get("inputs") != inputs:
        raise Miss(f"{base}manifest.json was built from other inputs ({manifest.get('inputs')})")
    return manifest


def compressor():
    # zstd when the AMI has it (several times faster to unpack than gzip), else gzip.
    return ("zstd", ["zstd", "-T0", "-3"]) if shutil.which("zstd") else ("gzip", ["gzip", "-1"])


def restore_venv(args):
    inputs = inputs_of(args)
    base = entry_base(args, inputs)
    manifest = checked_manifest(base, inputs)
    if os.path.exists(args.dest):
        raise Miss(f"{args.dest} already exists")
    parent = os.path.dirname(args.dest.rstrip("/"))
    os.makedirs(args.scratch, exist_ok=True)
    work = tempfile.mkdtemp(prefix="venv-restore-", dir=args.scratch)
    unpacked = None
    try:
        fetch_verified(base, manifest["files"], work)
        # Unpacked beside the venv, then renamed: a failed unpack never leaves a partial venv at its path, and
        # whatever ends it, the partial tree (up to 12 GB on the root volume) goes.
        unpacked = tempfile.mkdtemp(prefix=".restore-", dir=parent)
        program = "zstd -d -T0" if manifest.get("compression") == "zstd" else "gzip -d"
        subprocess.run(["tar", "-I", program, "-xf", os.path.join(work, "venv.tar"), "-C", unpacked], check=True)
        os.rename(os.path.join(unpacked, "venv"), args.dest)
    finally:
        shutil.rmtree(work, ignore_errors=True)
        if unpacked:
            shutil.rmtree(unpacked, ignore_errors=True)
    return f"hit: {base} ({describe(manifest['files'])}, sha256 verified) unpacked to {args.dest}"


def upload_venv(args):
    inputs = inputs_of(args)
    base = entry_base(args, inputs)
    kind, program = compressor()
    os.makedirs(args.scratch, exist_ok=True)
    work = tempfile.mkdtemp(prefix="venv-upload-", dir=args.scratch)
    try:
        parent, name = os.path.split(args.src.rstrip("/"))
        # Archived as "venv/": restored under the same absolute path, where its scripts' #! lines point. Without
        # __pycache__: Ray runs from this venv and Python writes bytecode there while tar reads it, which GNU tar
        # reports with exit 1 ("file changed as we read it"); Python rebuilds the bytecode on first import.
        subprocess.run(["tar", "-I", " ".join(program), "-cf", os.path.join(work, "venv.tar"), "--exclude=__pycache__",
                        "-C", parent, "--transform", f"s,^{name},venv,", name], check=True)
        return put_entry(base, work, ["venv.tar"], inputs, {"compression": kind})
    finally:
        shutil.rmtree(work, ignore_errors=True)


def restore_wheel(args):
    inputs = inputs_of(args)
    base = entry_base(args, inputs)
    manifest = checked_manifest(base, inputs)
    os.makedirs(args.dest, exist_ok=True)
    fetch_verified(base, manifest["files"], args.dest)
    return f"hit: {base} ({', '.join(manifest['files'])}, sha256 verified)"


def upload_wheel(args):
    inputs = inputs_of(args)
    names = sorted(n for n in os.listdir(args.src) if n.endswith(".whl"))
    if len(names) != 1:
        raise Miss(f"expected one wheel in {args.src}, found {names}")
    return put_entry(entry_base(args, inputs), args.src, names, inputs, {})


def repo_dir(repo):
    return "models--" + repo.replace("/", "--")


def resolve_revision(repo, token_file):
    # huggingface_hub's model_info(): GET /api/models/{repo}/revision/{revision} answers with the commit "sha".
    cmd = ["curl", "-fsS", "--max-time", "30", f"{HF_API}/api/models/{repo}/revision/main"]
    if token_file:
        headers = tempfile.NamedTemporaryFile("w", delete=False)
        with open(token_file) as t:
            headers.write(f"Authorization: Bearer {t.read().strip()}\n")
        headers.close()
        cmd[1:1] = ["-H", f"@{headers.name}"]
    r = subprocess.run(cmd, capture_output=True, text=True, stdin=subprocess.DEVNULL, check=False)
    if token_file:
        os.unlink(headers.name)
    if r.returncode != 0:
        raise Miss(f"cannot resolve {repo}@main on the Hub: {r.stderr.strip()[:200]}")
    try:
        return json.loads(r.stdout)["sha"]
    except (ValueError, KeyError):
        raise Miss(f"the Hub's answer for {repo}@main has no commit sha: {r.stdout[:200]}") from None


def weights_base(args, sha):
    return f"s3://{args.bucket}/{args.prefix}models/{args.repo.replace('/', '--')}/{sha}/"


def restore_weights(args):
    sha = resolve_revision(args.repo, args.token_file)
    base = weights_base(args, sha)
    manifest = read_manifest(base + "manifest.json")
    if manifest.get("ignorePatterns") != IGNORE_PATTERNS:
        raise Miss(f"{base} holds another file set (ignored: {manifest.get('ignorePatterns')})")
    model = os.path.join(args.hf_home, "hub", repo_dir(args.repo))
    snapshot = os.path.join(model, "snapshots", sha)
    # Fetched beside the snapshot and renamed once verified: huggingface_hub serves any file already at the
    # snapshot's path without checking it, so nothing unverified may ever be there, whatever ends the restore.
    partial = os.path.join(model, "snapshots", f".{sha}.partial")
    shutil.rmtree(partial, ignore_errors=True)
    try:
        fetch_verified(base + "files/", manifest["files"], partial)
        problem = snapshot_problem(partial)
        if problem:
            raise Miss(problem)
        os.rename(partial, snapshot)
    finally:
        shutil.rmtree(partial, ignore_errors=True)
    # What snapshot_download leaves: refs/main names the commit, so vLLM resolves the model to this snapshot.
    os.makedirs(os.path.join(model, "refs"), exist_ok=True)
    with open(os.path.join(model, "refs", "main"), "w") as f:
        f.write(sha)
    record(args.provenance, modelRevision=sha)
    return f"hit: {base} ({describe(manifest['files'])}, sha256 verified) into {snapshot}"


def upload_weights(args):
    snapshot = os.path.join(args.hf_home, "hub", repo_dir(args.repo), "snapshots", args.revision)
    names = sorted(os.path.relpath(os.path.join(d, n), snapshot) for d, _, ns in os.walk(snapshot) for n in ns)
    base = weights_base(args, args.revision)
    return put_entry(base, snapshot, names, {"repo": args.repo, "revision": args.revision},
                     {"ignorePatterns": IGNORE_PATTERNS, "filesUnder": "files/"})


def record(path, **values):
    if path:
        with open(path, "a") as f:
            for k, v in values.items():
                f.write(f"{k}={v}\n")


ACTIONS = {
    ("restore", "venv"): restore_venv, ("upload", "venv"): upload_venv,
    ("restore", "wheel"): restore_wheel, ("upload", "wheel"): upload_wheel,
    ("restore", "weights"): restore_weights, ("upload", "weights"): upload_weights,
}


def main(argv):
    parser = argparse.ArgumentParser()
    parser.add_argument("--bucket", required=True)
    parser.add_argument("--prefix", required=True)
    parser.add_argument("action", choices=["restore", "upload"])
    parser.add_argument("what", choices=["venv", "wheel", "weights"])
    parser.add_argument("--kind", default="gpu", help="venv: gpu or cpu")
    parser.add_argument("--dest", help="restore: the venv path, or the wheel folder")
    parser.add_argument("--src", help="upload: the venv path, or the wheel folder")
    parser.add_argument("--scratch", default=tempfile.gettempdir(), help="where archives are staged")
    parser.add_argument("--repo", help="weights: the Hugging Face model id")
    parser.add_argument("--hf-home", help="weights: HF_HOME")
    parser.add_argument("--revision", help="upload weights: the snapshot's commit")
    parser.add_argument("--token-file", help="weights: a Hugging Face token, for gated models")
    parser.add_argument("--provenance", help="restore weights: appends modelRevision=<sha>")
    parser.add_argument("fields", nargs="*", help="venv, wheel: the key's inputs, name=value")
    # Options may come between the positionals and the key's name=value inputs.
    args = parser.parse_intermixed_args(argv)
    if args.action == "upload":
        ENV.update(aws_env("upload"))
    start = time.time()
    try:
        outcome = ACTIONS[(args.action, args.what)](args)
    except (Miss, OSError, subprocess.CalledProcessError, KeyError, TypeError) as e:
        verb = "miss" if args.action == "restore" else "upload failed"
        why = f"a manifest of another shape ({type(e).__name__}: {e})" if isinstance(e, (KeyError, TypeError)) else e
        print(f"{verb}: {why}", flush=True)
        return MISS if args.action == "restore" else 1
    print(f"{outcome} in {time.time() - start:.0f}s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
