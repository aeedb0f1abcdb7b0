#!/usr/bin/env python3
"""Makes the model a GPU rehearsal serves when none is named (written by `npm run rehearse`).

A Llama-architecture causal LM with random weights, saved by transformers as safetensors, and a byte-level BPE
tokenizer trained here by `tokenizers` on a generated corpus, with a chat template: everything vLLM needs to load it
and answer, nothing downloaded. Its answers are noise; it exists so that a rehearsal needs no Hub access and no
large download. The same spec and seed make the same files.

Usage: make_tiny_model.py --out DIR --spec JSON
"""

import argparse
import hashlib
import json
import os
import random
import sys

# Marks a finished model (and the spec it was made from): a second run with the same spec does nothing.
READY = "p5-ray-tiny-model.json"
SPECIAL_TOKENS = ["<s>", "</s>", "<pad>"]
CHAT_TEMPLATE = (
    "{% for message in messages %}{{ '<|' + message['role'] + '|>\\n' + message['content'] + '</s>\\n' }}{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|assistant|>\\n' }}{% endif %}"
)


def corpus(seed, lines=20000):
    """Deterministic pseudo-text: words of common English syllables, digits and punctuation."""
    rng = random.Random(seed)
    syllables = ["th", "e", "an", "in", "er", "on", "re", "ed", "nd", "ha", "at", "en", "es", "of", "or", "nt", "ea",
                 "ti", "to", "it", "st", "io", "le", "is", "ou", "ar", "as", "de", "rt", "ve", "ca", "pa", "ri", "mo"]
    for _ in range(lines):
        words = []
        for _ in range(rng.randint(4, 16)):
            word = "".join(rng.choice(syllables) for _ in range(rng.randint(1, 4)))
            words.append(word.capitalize() if rng.random() < 0.1 else word)
            if rng.random() < 0.05:
                words.append(str(rng.randint(0, 9999)))
        yield " ".join(words) + rng.choice([".", ",", "?", "!", ":"])


def make(out, spec):
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=spec["vocabSize"], special_tokens=SPECIAL_TOKENS, show_progress=False,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tok.train_from_iterator(corpus(spec["seed"]), trainer)
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, bos_token="<s>", eos_token="</s>", pad_token="<pad>")
    fast.chat_template = CHAT_TEMPLATE
    fast.model_max_length = spec["maxPositionEmbeddings"]
    fast.save_pretrained(out)

    torch.manual_seed(spec["seed"])
    config = LlamaConfig(
        vocab_size=len(fast), hidden_size=spec["hiddenSize"], intermediate_size=spec["intermediateSize"],
        num_hidden_layers=spec["layers"], num_attention_heads=spec["attentionHeads"],
        num_key_value_heads=spec["kvHeads"], head_dim=spec["headDim"],
        max_position_embeddings=spec["maxPositionEmbeddings"], tie_word_embeddings=False,
        bos_token_id=fast.bos_token_id, eos_token_id=fast.eos_token_id, pad_token_id=fast.pad_token_id,
    )
    model = LlamaForCausalLM(config).to(torch.bfloat16)
    model.save_pretrained(out, safe_serialization=True)


def digest(out):
    h = hashlib.sha256()
    for name in sorted(os.listdir(out)):
        if name == READY:
            continue
        with open(os.path.join(out, name), "rb") as f:
            h.update(name.encode() + b"\0" + hashlib.sha256(f.read()).digest())
    return h.hexdigest()


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", required=True)
    parser.add_argument("--spec", required=True, help="the model's sizes and seed, as JSON (lib/rehearsal TINY_MODEL)")
    args = parser.parse_args(argv)
    spec = json.loads(args.spec)
    ready = os.path.join(args.out, READY)
    if os.path.exists(ready):
        with open(ready) as f:
            made = json.load(f)
        if made.get("spec") == spec:
            print(f"tiny model already in {args.out} (files sha256 {made['sha256'][:16]})")
            return 0
    os.makedirs(args.out, exist_ok=True)
    make(args.out, spec)
    record = {"spec": spec, "sha256": digest(args.out), "files": sorted(os.listdir(args.out))}
    with open(ready, "w") as f:
        json.dump(record, f, indent=1)
    print(f"tiny model made in {args.out}: {spec['layers']} layers, hidden {spec['hiddenSize']}, vocab "
          f"{spec['vocabSize']}, random weights (seed {spec['seed']}); files sha256 {record['sha256'][:16]}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
