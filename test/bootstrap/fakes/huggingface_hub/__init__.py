# snapshot_download over a file list shaped like openai/gpt-oss-120b's, filtered as huggingface_hub filters it.
import fnmatch
import json
import os
import signal
import subprocess
import time

GB = 1_000_000_000
REPO_FILES = {
    "config.json": 2_000,
    "generation_config.json": 200,
    "tokenizer.json": 27_000_000,
    "model.safetensors.index.json": 50_000,
    **{f"model-{i:05d}-of-00014.safetensors": 4_600 * 1_000_000 for i in range(15)},
    **{f"original/model--{i:05d}-of-00007.safetensors": 9_300 * 1_000_000 for i in range(1, 8)},
    "original/config.json": 1_000,
    "metal/model.bin": 65 * GB,
}


def _matches(path, patterns):
    return any(fnmatch.fnmatch(path, p + "*" if p.endswith("/") else p) for p in patterns or [])


def snapshot_download(repo_id, allow_patterns=None, ignore_patterns=None, **kwargs):
    files = {
        path: size for path, size in REPO_FILES.items()
        if (allow_patterns is None or _matches(path, allow_patterns)) and not _matches(path, ignore_patterns)
    }
    # STUB_DOWNLOAD_SECONDS long (with STUB_OVERLAP: as the harness's hold says), with its start and end in the run's
    # timeline.
    timeline = os.path.join(os.environ["STUB_DIR"], "timeline.log")
    started = int(time.time() * 1000)
    with open(timeline, "a") as f:
        f.write(f"{started} start model-download\n")
    if os.environ.get("STUB_OVERLAP"):
        subprocess.run([os.path.join(os.environ["STUB_DIR"], "hold"), "model-download", str(started)], check=True)
    else:
        time.sleep(float(os.environ.get("STUB_DOWNLOAD_SECONDS", "0")))
    if os.environ.get("STUB_DOWNLOAD_KILL"):
        # The job dies without a word (the OOM killer, a set -u slip): its subshell is this process's parent. This
        # process goes with it, as it would under the OOM killer (and lets go of the bootstrap's output at once).
        os.kill(os.getppid(), signal.SIGKILL)
        os.kill(os.getpid(), signal.SIGKILL)
    if os.environ.get("STUB_DOWNLOAD_FAIL"):
        raise OSError(f"401 Client Error: Unauthorized for url: https://huggingface.co/api/models/{repo_id}")
    model = os.path.join(os.environ["HF_HOME"], "hub", "models--" + repo_id.replace("/", "--"))
    root = os.path.join(model, "snapshots", os.environ["STUB_MODEL_SHA"])
    # As huggingface_hub lays it out: blobs, the snapshot's symlinks to them, refs/main.
    os.makedirs(os.path.join(model, "blobs"), exist_ok=True)
    for path in files:
        blob = os.path.join(model, "blobs", path.replace("/", "_") + ".blob")
        with open(blob, "w") as f:
            f.write(f"{repo_id}/{path}\n")
        os.makedirs(os.path.dirname(os.path.join(root, path)), exist_ok=True)
        os.symlink(blob, os.path.join(root, path))
    os.makedirs(os.path.join(model, "refs"), exist_ok=True)
    with open(os.path.join(model, "refs", "main"), "w") as f:
        # STUB_REFS_MAIN: refs/main names another commit than the snapshot (a download left inconsistent).
        f.write(os.environ.get("STUB_REFS_MAIN") or os.environ["STUB_MODEL_SHA"])
    with open(timeline, "a") as f:
        f.write(f"{int(time.time() * 1000)} end model-download\n")
    with open(os.path.join(os.environ["STUB_DIR"], "hf-download.json"), "w") as f:
        json.dump({"repo_id": repo_id, "files": sorted(files), "bytes": sum(files.values())}, f)
    return root
