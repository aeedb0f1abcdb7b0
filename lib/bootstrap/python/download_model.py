#!/usr/bin/env python3
# Downloads the model's weights into HF_HOME on the node (the instance store), as vLLM will read them.
# Usage: download_model.py REPO_ID. Prints the snapshot path.
import os
import sys

from huggingface_hub import snapshot_download

# original/ and metal/ hold other formats of the same weights (openai/gpt-oss-120b ships both): vLLM reads
# neither, and together they triple the download on every $55/h node.
IGNORE_PATTERNS = ["original/*", "metal/*"]


def main(argv):
    path = snapshot_download(repo_id=argv[0], ignore_patterns=IGNORE_PATTERNS)
    names = os.listdir(path)
    if "config.json" not in names or not any(n.endswith(".safetensors") for n in names):
        print(f"{argv[0]}: the snapshot at {path} has no config.json and *.safetensors weights ({len(names)} files)")
        return 1
    print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
