# snapshot_download over a file list shaped like openai/gpt-oss-120b's, filtered as huggingface_hub filters it.
import fnmatch
import json
import os

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
    root = os.path.join(os.environ["HF_HOME"], "hub", "models--" + repo_id.replace("/", "--"), "snapshots", "abc")
    for path in files:
        os.makedirs(os.path.dirname(os.path.join(root, path)), exist_ok=True)
        open(os.path.join(root, path), "w").close()
    with open(os.path.join(os.environ["STUB_DIR"], "hf-download.json"), "w") as f:
        json.dump({"repo_id": repo_id, "files": sorted(files), "bytes": sum(files.values())}, f)
    return root
