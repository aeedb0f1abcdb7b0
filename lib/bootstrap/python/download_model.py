#!/usr/bin/env python3
# Downloads the model's weights into HF_HOME on the node (the instance store), as vLLM will read them, from the
# download job's own small environment (huggingface_hub + hf_xet), before the stack is installed.
# Usage: download_model.py REPO_ID. Prints the snapshot path (its last part is the commit).
#        download_model.py --check REPO_ID: whether HF_HOME holds a usable snapshot of refs/main (any Python; exit 1
#        with the problem when not), the node's last check before it reports ready.
import os
import sys

# original/ and metal/ hold other formats of the same weights (openai/gpt-oss-120b ships both): vLLM reads
# neither, and together they triple the download on every GPU node, billed by the hour while it waits. The deploy
# cache keeps the same set.
IGNORE_PATTERNS = ["original/*", "metal/*"]


def snapshot_problem(path):
    # What a usable snapshot has: vLLM reads config.json and the safetensors weights.
    names = os.listdir(path)
    if "config.json" not in names or not any(n.endswith(".safetensors") for n in names):
        return f"the snapshot at {path} has no config.json and *.safetensors weights ({len(names)} files)"
    broken = sorted(n for n in names if not os.path.exists(os.path.join(path, n)))
    if broken:
        return f"the snapshot at {path} links to missing files: {', '.join(broken[:3])}"
    return None


def cached_problem(hf_home, repo):
    # The snapshot vLLM will resolve: the one refs/main names, as huggingface_hub lays it out.
    model = os.path.join(hf_home, "hub", "models--" + repo.replace("/", "--"))
    try:
        with open(os.path.join(model, "refs", "main")) as f:
            sha = f.read().strip()
    except OSError as e:
        return f"no refs/main for {repo} in {hf_home} ({e.strerror})"
    snapshot = os.path.join(model, "snapshots", sha)
    if not os.path.isdir(snapshot):
        return f"refs/main of {repo} names {sha}, which has no snapshot in {hf_home}"
    return snapshot_problem(snapshot)


def main(argv):
    if argv[:1] == ["--check"]:
        problem = cached_problem(os.environ["HF_HOME"], argv[1])
        print(problem or f"{argv[1]}: a usable snapshot in {os.environ['HF_HOME']}")
        return 1 if problem else 0
    # Imported here: deploy_cache.py reads IGNORE_PATTERNS with the system Python, which has no huggingface_hub.
    from huggingface_hub import snapshot_download

    path = snapshot_download(repo_id=argv[0], ignore_patterns=IGNORE_PATTERNS)
    problem = snapshot_problem(path)
    if problem:
        print(f"{argv[0]}: {problem}")
        return 1
    print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
