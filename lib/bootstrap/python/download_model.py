#!/usr/bin/env python3
# Downloads the model's weights into HF_HOME on the node (the instance store), as vLLM will read them, from the
# download job's own small environment (huggingface_hub + hf_xet), before the stack is installed.
# Usage: download_model.py REPO_ID. Prints the snapshot path (its last part is the commit).
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
    return None


def main(argv):
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
