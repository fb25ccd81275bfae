"""Build tiny, randomly initialised models of each task for offline tests.

They exercise the real loading and inference code (transformers, tokenizers, torch) with
meaningless weights, for tasks where no real model can be had offline.
"""

from __future__ import annotations

from pathlib import Path

_VOCABULARY = (
    "the a an and or but of to in on at for with is are was were be been it this that "
    "food meal dinner lunch stocks market shares price fell rose good bad great terrible "
    "i you we they he she love hate like movie film book day night today tomorrow "
    "hello world warm up request second somewhat longer sentence batching test text"
)
WORDS = _VOCABULARY.split()
#: The causal model can also write a line break (for stop strings such as "\n").
NEWLINE = "\n"


def _tokenizer(path: Path, causal: bool) -> None:
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, processors
    from transformers import PreTrainedTokenizerFast

    specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[EOS]"]
    words = [*WORDS, NEWLINE] if causal else WORDS
    vocab = {token: i for i, token in enumerate(specials + words)}
    tok = Tokenizer(models.WordLevel(vocab, unk_token="[UNK]"))
    tok.normalizer = normalizers.Lowercase()
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    if not causal:
        tok.post_processor = processors.TemplateProcessing(
            single="[CLS] $A [SEP]",
            special_tokens=[("[CLS]", vocab["[CLS]"]), ("[SEP]", vocab["[SEP]"])],
        )
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok,
        unk_token="[UNK]",
        pad_token="[PAD]",
        cls_token="[CLS]",
        sep_token="[SEP]",
        eos_token="[EOS]",
        model_max_length=512,
    )
    fast.save_pretrained(path)


def build_tiny_model(task: str, path: Path) -> Path:
    """Write a tiny model for ``task`` (and its tokenizer) to ``path``; return ``path``."""
    import torch
    import transformers

    torch.manual_seed(0)
    vocab_size = 5 + len(WORDS) + (task == "text-generation")
    path.mkdir(parents=True, exist_ok=True)
    model: transformers.PreTrainedModel
    if task == "text-generation":
        _tokenizer(path, causal=True)
        gpt2 = transformers.GPT2Config(
            vocab_size=vocab_size,
            n_embd=32,
            n_layer=2,
            n_head=2,
            n_positions=512,
            bos_token_id=4,
            eos_token_id=4,
            pad_token_id=0,
        )
        model = transformers.GPT2LMHeadModel(gpt2)
        # Random weights make [PAD] the likeliest next token; a real LM never writes padding
        # or [UNK]/[CLS]/[SEP]: suppress them (generation_config.json), so it writes words.
        generation = transformers.GenerationConfig.from_model_config(gpt2)
        generation.suppress_tokens = [0, 1, 2, 3]
        model.generation_config = generation
    else:
        _tokenizer(path, causal=False)
        bert = transformers.BertConfig(
            vocab_size=vocab_size,
            hidden_size=32,
            num_hidden_layers=2,
            num_attention_heads=2,
            intermediate_size=64,
            max_position_embeddings=512,
            num_labels=2,
            id2label={0: "negative", 1: "positive"},
            label2id={"negative": 0, "positive": 1},
        )
        cls = (
            transformers.BertForSequenceClassification
            if task == "text-classification"
            else transformers.BertModel
        )
        model = cls(bert)
    model.save_pretrained(path)
    return path
