#!/usr/bin/env python3
"""Profile a Llama-architecture model's prefill and decode steps on a GPU (or CPU) with plain
PyTorch, and write tandem's profile CSV (docs/calibration.md, "Profiling") for
`tandem calibrate --profile`.

No downloads: the model is built from its config (layers, hidden size, heads, KV heads, MLP size,
vocabulary) with random weights, so any GPU machine with PyTorch can profile any preset, and
`--layers` shrinks a model that does not fit. For each point of the grid (prompt length x batch
size x output length) it runs one static batch: a prefill step over the whole batch (all prompts
at once, the first token sampled greedily), then output - 1 decode steps with a KV cache, timing
every step with CUDA events after a warm-up. Each request of the batch gets one CSV row, as
`tandem profile` writes them: ttft_s = the prefill step, tpot_s = the mean decode step,
e2e_s = their sum.

The model (eager PyTorch, no custom kernels): token embedding; per layer RMSNorm, attention with
rotary position embeddings and grouped-query attention (torch.nn.functional.
scaled_dot_product_attention; K/V heads repeated for the prefill, query heads folded onto their
K/V head for decode, so decode reads the cache once), RMSNorm and a SwiGLU MLP; a final RMSNorm
and the LM head on the last position only (as vLLM computes logits). The KV cache is contiguous,
preallocated per batch for prompt + output tokens. It measures this implementation, not vLLM's
kernels (no CUDA graphs, no fused or paged attention): use it to calibrate on a GPU machine
without a serving stack, or to compare with a `tandem profile` sweep of vLLM.

Examples:
  python3 live/profile/profile-gpu.py --model llama-3-8b --out profile.csv
  python3 live/profile/profile-gpu.py --model llama-2-70b --layers 20 --batch-sizes 1,8 --out p70.csv
  python3 live/profile/profile-gpu.py --model tiny --device cpu --dtype fp32 --prompts 16,32 \\
      --batch-sizes 1,2 --outputs 4 --out smoke.csv          # a smoke test without a GPU
"""

from __future__ import annotations

import argparse
import csv
import datetime as _dt
import math
import sys
import time
from dataclasses import dataclass, replace

# tandem's profile CSV columns, in the order `formatProfileCsv` writes them
# (sim/latency/calibrate/profile-csv.ts PROFILE_COLUMNS).
PROFILE_COLUMNS = [
    "model",
    "gpu",
    "tensor_parallel",
    "batch_id",
    "batch_size",
    "request_index",
    "prompt_tokens",
    "output_tokens",
    "ttft_s",
    "tpot_s",
    "e2e_s",
    "max_num_batched_tokens",
    "max_num_seqs",
    "cached_tokens",
    "preemptions",
    "server_running",
    "server_waiting",
    "server_kv_usage",
    "started_at",
    "engine_version",
]

DEFAULT_PROMPTS = [128, 512, 1024, 2048]
DEFAULT_BATCH_SIZES = [1, 4, 16, 32]
DEFAULT_OUTPUTS = [32, 128]


@dataclass(frozen=True)
class ModelConfig:
    layers: int
    hidden: int
    heads: int
    kv_heads: int
    intermediate: int
    vocab: int
    max_position: int
    rope_theta: float = 10000.0
    rms_eps: float = 1e-5
    qkv_bias: bool = False

    @property
    def head_dim(self) -> int:
        return self.hidden // self.heads


# The shapes of tandem's model presets (sim/latency/models.ts, docs/latency.md), from each model's
# published config.json. `tiny` is for smoke tests on a CPU.
PRESETS: dict[str, ModelConfig] = {
    "llama-2-7b": ModelConfig(32, 4096, 32, 32, 11008, 32000, 4096),
    "llama-2-13b": ModelConfig(40, 5120, 40, 40, 13824, 32000, 4096),
    "llama-2-70b": ModelConfig(80, 8192, 64, 8, 28672, 32000, 4096),
    "llama-3-8b": ModelConfig(32, 4096, 32, 8, 14336, 128256, 8192, rope_theta=500000.0),
    "llama-3-70b": ModelConfig(80, 8192, 64, 8, 28672, 128256, 8192, rope_theta=500000.0),
    "qwen2.5-7b": ModelConfig(28, 3584, 28, 4, 18944, 152064, 32768, rope_theta=1000000.0, rms_eps=1e-6, qkv_bias=True),
    "mistral-7b": ModelConfig(32, 4096, 32, 8, 14336, 32000, 32768),
    "tiny": ModelConfig(2, 64, 4, 2, 128, 1024, 8192),
}


class BadInput(Exception):
    """A one-line error about the command line (exit code 2)."""


def parse_list(text: str, flag: str) -> list[int]:
    """Comma-separated integers >= 1, each once ("128,512,1024")."""
    out: list[int] = []
    parts = [p.strip() for p in text.split(",")]
    if all(p == "" for p in parts):
        raise BadInput(f"{flag}: empty list; expected comma-separated integers >= 1, e.g. 128,512")
    for p in parts:
        if not p.isdigit() or int(p) < 1:
            raise BadInput(f'{flag}: "{p}" is not an integer >= 1; expected comma-separated integers >= 1, e.g. 128,512')
        if int(p) in out:
            raise BadInput(f"{flag}: {p} appears twice; expected each value once")
        out.append(int(p))
    return out


def model_config(args: argparse.Namespace) -> ModelConfig:
    name = args.model.lower()
    if name not in PRESETS:
        raise BadInput(f'--model "{args.model}": unknown; expected one of {", ".join(PRESETS)}')
    cfg = PRESETS[name]
    overrides = {
        "layers": args.layers,
        "hidden": args.hidden,
        "heads": args.heads,
        "kv_heads": args.kv_heads,
        "intermediate": args.intermediate,
        "vocab": args.vocab,
    }
    for key, value in overrides.items():
        if value is not None:
            if value < 1:
                raise BadInput(f"--{key.replace('_', '-')}: expected an integer >= 1, got {value}")
            cfg = replace(cfg, **{key: value})
    if cfg.hidden % cfg.heads != 0:
        raise BadInput(f"--hidden {cfg.hidden} is not a multiple of --heads {cfg.heads}")
    if cfg.heads % cfg.kv_heads != 0:
        raise BadInput(f"--heads {cfg.heads} is not a multiple of --kv-heads {cfg.kv_heads}")
    if cfg.head_dim % 2 != 0:
        raise BadInput(f"head dimension {cfg.head_dim} (hidden / heads) must be even for rotary embeddings")
    return cfg


def recorded_model_name(args: argparse.Namespace, cfg: ModelConfig) -> str:
    """The preset's name when the shapes are the preset's (so calibration resolves it), else a name
    that says it is a smaller model (a fit for it is not a fit for the full model)."""
    if args.model_name:
        return args.model_name
    preset = PRESETS[args.model.lower()]
    if cfg == preset:
        return args.model.lower()
    if replace(preset, layers=cfg.layers) == cfg:
        return f"{args.model.lower()}-{cfg.layers}layers"
    return f"{args.model.lower()}-custom"


def batch_rows(
    *,
    model: str,
    gpu: str,
    batch_id: str,
    batch_size: int,
    prompt: int,
    output: int,
    step_times_s: list[float],
    started_at: str,
    engine_version: str,
) -> list[dict[str, object]]:
    """One profile-CSV row per request of a static batch: every request of the batch is in every
    step, so all share the times. step_times_s = [prefill step, decode step 1, ...]."""
    if len(step_times_s) != output:
        raise ValueError(f"{batch_id}: {len(step_times_s)} step times for {output} output tokens")
    ttft = step_times_s[0]
    e2e = sum(step_times_s)
    tpot = (e2e - ttft) / (output - 1) if output >= 2 else None
    rows = []
    for i in range(batch_size):
        rows.append(
            {
                "model": model,
                "gpu": gpu,
                "tensor_parallel": 1,
                "batch_id": batch_id,
                "batch_size": batch_size,
                "request_index": i,
                "prompt_tokens": prompt,
                "output_tokens": output,
                "ttft_s": ttft,
                "tpot_s": tpot,
                "e2e_s": e2e,
                # The whole batch's prompts ran in one step (empty = unchunked) with every request.
                "max_num_batched_tokens": None,
                "max_num_seqs": None,
                "cached_tokens": 0,
                "preemptions": 0,
                "server_running": None,
                "server_waiting": None,
                "server_kv_usage": None,
                "started_at": started_at,
                "engine_version": engine_version,
            }
        )
    return rows


def cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return repr(float(f"{value:.9g}"))
    return str(value)


def write_csv(path: str, rows: list[dict[str, object]]) -> None:
    with open(path, "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(PROFILE_COLUMNS)
        for row in rows:
            w.writerow([cell(row[c]) for c in PROFILE_COLUMNS])


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="profile-gpu.py",
        description=__doc__.split("\n\n")[0] + "\n\n" + __doc__.split("\n\n", 1)[1].split("Examples:")[0].strip(),
        epilog="presets: "
        + ", ".join(f"{n} ({c.layers} layers, hidden {c.hidden}, {c.heads} heads / {c.kv_heads} KV, MLP {c.intermediate}, vocab {c.vocab})" for n, c in PRESETS.items())
        + "\n\nExamples:" + __doc__.split("Examples:")[1],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--model", required=True, help="model preset (shapes), see below")
    p.add_argument("--out", required=True, help="profile CSV to write")
    p.add_argument("--device", default="cuda", help="torch device: cuda (default), cuda:1, cpu")
    p.add_argument("--dtype", default="bf16", choices=["bf16", "fp16", "fp32"], help="weights and activations (default bf16)")
    p.add_argument("--prompts", default=",".join(map(str, DEFAULT_PROMPTS)), help="prompt lengths in tokens (default %(default)s)")
    p.add_argument("--batch-sizes", default=",".join(map(str, DEFAULT_BATCH_SIZES)), help="requests per static batch (default %(default)s)")
    p.add_argument("--outputs", default=",".join(map(str, DEFAULT_OUTPUTS)), help="output lengths in tokens (default %(default)s)")
    p.add_argument("--repeats", type=int, default=1, help="timed runs per grid point, each its own batch in the CSV (default 1)")
    p.add_argument("--warmup", type=int, default=1, help="untimed runs (prefill + 2 decode steps) before each point (default 1)")
    p.add_argument("--layers", type=int, help="override the preset's layer count (to fit a large model in memory)")
    p.add_argument("--hidden", type=int, help="override the hidden size")
    p.add_argument("--heads", type=int, help="override the attention heads")
    p.add_argument("--kv-heads", type=int, help="override the KV heads")
    p.add_argument("--intermediate", type=int, help="override the MLP size")
    p.add_argument("--vocab", type=int, help="override the vocabulary size")
    p.add_argument("--model-name", help="model column of the CSV (default: the preset, or <preset>-<N>layers with --layers)")
    p.add_argument("--gpu-name", help="gpu column of the CSV (default: torch's device name, e.g. NVIDIA H100 80GB HBM3, or cpu)")
    p.add_argument("--seed", type=int, default=0, help="seed of the random weights and prompts (default 0)")
    p.add_argument("--quiet", action="store_true", help="no per-batch lines")
    return p


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        cfg = model_config(args)
        prompts = parse_list(args.prompts, "--prompts")
        batch_sizes = parse_list(args.batch_sizes, "--batch-sizes")
        outputs = parse_list(args.outputs, "--outputs")
        if args.repeats < 1:
            raise BadInput(f"--repeats: expected an integer >= 1, got {args.repeats}")
        if args.warmup < 0:
            raise BadInput(f"--warmup: expected an integer >= 0, got {args.warmup}")
        longest = max(prompts) + max(outputs)
        if longest > cfg.max_position:
            raise BadInput(f"prompt {max(prompts)} + output {max(outputs)} tokens exceed {args.model}'s {cfg.max_position} positions")
    except BadInput as e:
        print(f"profile-gpu.py: error: {e}", file=sys.stderr)
        return 2
    try:
        import torch  # noqa: F401  (imported here so that --help and bad flags need no torch)
    except ImportError:
        print("profile-gpu.py: error: PyTorch is not installed (pip install torch); it is needed to run the model", file=sys.stderr)
        return 2
    return run(args, cfg, prompts, batch_sizes, outputs)


def run(args: argparse.Namespace, cfg: ModelConfig, prompts: list[int], batch_sizes: list[int], outputs: list[int]) -> int:
    import torch

    try:
        device = torch.device(args.device)
    except RuntimeError as e:
        print(f"profile-gpu.py: error: --device {args.device}: {e}", file=sys.stderr)
        return 2
    if device.type == "cuda" and not torch.cuda.is_available():
        print("profile-gpu.py: error: --device cuda: no CUDA device is available (use --device cpu for a smoke test)", file=sys.stderr)
        return 2
    dtype = {"bf16": torch.bfloat16, "fp16": torch.float16, "fp32": torch.float32}[args.dtype]
    torch.manual_seed(args.seed)
    gpu = args.gpu_name or (torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu")
    model_name = recorded_model_name(args, cfg)
    engine_version = f"pytorch {torch.__version__} eager {args.dtype} (profile-gpu.py)"
    params = cfg.layers * (cfg.hidden * cfg.head_dim * (2 * cfg.heads + 2 * cfg.kv_heads) + 3 * cfg.hidden * cfg.intermediate) + 2 * cfg.vocab * cfg.hidden
    print(
        f"profile-gpu.py: {model_name}: {cfg.layers} layers, hidden {cfg.hidden}, {cfg.heads} heads / {cfg.kv_heads} KV, MLP {cfg.intermediate}, "
        f"vocab {cfg.vocab} ({params / 1e9:.2f} B parameters, random {args.dtype}) on {gpu}",
        file=sys.stderr,
    )
    model = LlamaModel(cfg, device, dtype, max(prompts) + max(outputs))
    timer = StepTimer(device)
    rows: list[dict[str, object]] = []
    skipped = 0
    oom = getattr(torch.cuda, "OutOfMemoryError", RuntimeError)
    generator = torch.Generator(device="cpu").manual_seed(args.seed)
    for prompt in prompts:
        for batch_size in batch_sizes:
            for output in outputs:
                key = f"p{prompt}-b{batch_size}-o{output}"
                try:
                    for _ in range(args.warmup):
                        run_batch(model, timer, batch_size, prompt, min(output, 3), generator)
                    for r in range(1, args.repeats + 1):
                        started_at = _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")
                        steps = run_batch(model, timer, batch_size, prompt, output, generator)
                        rows += batch_rows(
                            model=model_name,
                            gpu=gpu,
                            batch_id=f"{key}-r{r}",
                            batch_size=batch_size,
                            prompt=prompt,
                            output=output,
                            step_times_s=steps,
                            started_at=started_at,
                            engine_version=engine_version,
                        )
                        if not args.quiet:
                            tpot = sum(steps[1:]) / (len(steps) - 1) if len(steps) > 1 else math.nan
                            print(f"{key}-r{r}: ttft {steps[0] * 1000:.2f} ms, tpot {tpot * 1000:.3f} ms, e2e {sum(steps) * 1000:.1f} ms", file=sys.stderr)
                except oom:
                    skipped += 1
                    print(f"profile-gpu.py: warning: {key}: out of memory; skipped (try --layers or smaller batches)", file=sys.stderr)
                    if device.type == "cuda":
                        torch.cuda.empty_cache()
    if not rows:
        print("profile-gpu.py: error: no grid point could run; nothing written", file=sys.stderr)
        return 1
    write_csv(args.out, rows)
    batches = len({r["batch_id"] for r in rows})
    note = f", {skipped} grid points skipped" if skipped else ""
    print(f"profile-gpu.py: wrote {len(rows)} rows ({batches} static batches{note}) to {args.out}", file=sys.stderr)
    return 0


class StepTimer:
    """Times GPU work with CUDA events (recorded on the stream, read after one synchronisation), or
    the host clock on a CPU (where every op is synchronous)."""

    def __init__(self, device):
        import torch

        self.torch = torch
        self.cuda = device.type == "cuda"

    def run(self, steps):
        """Runs each callable of `steps` in order and returns each one's seconds."""
        torch = self.torch
        if self.cuda:
            events = [torch.cuda.Event(enable_timing=True) for _ in range(len(steps) + 1)]
            events[0].record()
            for i, step in enumerate(steps):
                step()
                events[i + 1].record()
            torch.cuda.synchronize()
            return [events[i].elapsed_time(events[i + 1]) / 1000.0 for i in range(len(steps))]
        times = []
        for step in steps:
            t = time.perf_counter()
            step()
            times.append(time.perf_counter() - t)
        return times


def run_batch(model, timer: StepTimer, batch_size: int, prompt: int, output: int, generator) -> list[float]:
    """One static batch: the prefill step over all prompts, then output - 1 decode steps. Returns
    each step's seconds (the prefill first)."""
    import torch

    cfg = model.cfg
    with torch.inference_mode():
        ids = torch.randint(0, cfg.vocab, (batch_size, prompt), generator=generator).to(model.device)
        cache = model.new_cache(batch_size, prompt + output)
        state = {"next": ids}

        def prefill():
            state["next"] = model.forward(ids, cache, 0)

        def decode(position):
            def step():
                state["next"] = model.forward(state["next"], cache, position)

            return step

        steps = [prefill] + [decode(prompt + j) for j in range(output - 1)]
        return timer.run(steps)


def LlamaModel(cfg: ModelConfig, device, dtype, max_len: int):  # noqa: N802 (a factory: torch is imported lazily)
    import torch
    import torch.nn.functional as F
    from torch import nn

    kw = {"device": device, "dtype": dtype}
    hd = cfg.head_dim
    group = cfg.heads // cfg.kv_heads

    class RMSNorm(nn.Module):
        def __init__(self):
            super().__init__()
            self.weight = nn.Parameter(torch.ones(cfg.hidden, **kw))

        def forward(self, x):
            xf = x.float()
            xf = xf * torch.rsqrt(xf.pow(2).mean(-1, keepdim=True) + cfg.rms_eps)
            return xf.to(x.dtype) * self.weight

    def rotate_half(x):
        half = x.shape[-1] // 2
        return torch.cat((-x[..., half:], x[..., :half]), dim=-1)

    class Attention(nn.Module):
        def __init__(self):
            super().__init__()
            self.q = nn.Linear(cfg.hidden, cfg.heads * hd, bias=cfg.qkv_bias, **kw)
            self.k = nn.Linear(cfg.hidden, cfg.kv_heads * hd, bias=cfg.qkv_bias, **kw)
            self.v = nn.Linear(cfg.hidden, cfg.kv_heads * hd, bias=cfg.qkv_bias, **kw)
            self.o = nn.Linear(cfg.heads * hd, cfg.hidden, bias=False, **kw)

        def forward(self, x, cos, sin, cache_k, cache_v, start):
            b, t, _ = x.shape
            q = self.q(x).view(b, t, cfg.heads, hd).transpose(1, 2)
            k = self.k(x).view(b, t, cfg.kv_heads, hd).transpose(1, 2)
            v = self.v(x).view(b, t, cfg.kv_heads, hd).transpose(1, 2)
            q = q * cos + rotate_half(q) * sin
            k = k * cos + rotate_half(k) * sin
            cache_k[:, :, start : start + t] = k
            cache_v[:, :, start : start + t] = v
            if t > 1:
                # Prefill (start 0): causal attention over the prompt; K/V heads repeated per group.
                kk = k.repeat_interleave(group, dim=1) if group > 1 else k
                vv = v.repeat_interleave(group, dim=1) if group > 1 else v
                out = F.scaled_dot_product_attention(q, kk, vv, is_causal=True)
                out = out.transpose(1, 2).reshape(b, t, cfg.heads * hd)
            else:
                # Decode: the `group` query heads of each K/V head attend its whole cache as `group`
                # queries of one head, so the cache is read once, not repeated.
                keys = cache_k[:, :, : start + 1]
                values = cache_v[:, :, : start + 1]
                qg = q.reshape(b, cfg.kv_heads, group, hd)
                out = F.scaled_dot_product_attention(qg, keys, values)
                out = out.reshape(b, 1, cfg.heads * hd)
            return self.o(out)

    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.attn_norm = RMSNorm()
            self.attn = Attention()
            self.mlp_norm = RMSNorm()
            self.gate = nn.Linear(cfg.hidden, cfg.intermediate, bias=False, **kw)
            self.up = nn.Linear(cfg.hidden, cfg.intermediate, bias=False, **kw)
            self.down = nn.Linear(cfg.intermediate, cfg.hidden, bias=False, **kw)

        def forward(self, x, cos, sin, cache_k, cache_v, start):
            x = x + self.attn(self.attn_norm(x), cos, sin, cache_k, cache_v, start)
            h = self.mlp_norm(x)
            return x + self.down(F.silu(self.gate(h)) * self.up(h))

    class Model(nn.Module):
        def __init__(self):
            super().__init__()
            self.cfg = cfg
            self.device = device
            self.embed = nn.Embedding(cfg.vocab, cfg.hidden, **kw)
            self.blocks = nn.ModuleList([Block() for _ in range(cfg.layers)])
            self.norm = RMSNorm()
            self.lm_head = nn.Linear(cfg.hidden, cfg.vocab, bias=False, **kw)
            inv = 1.0 / (cfg.rope_theta ** (torch.arange(0, hd, 2, device=device, dtype=torch.float32) / hd))
            freqs = torch.outer(torch.arange(max_len, device=device, dtype=torch.float32), inv)
            emb = torch.cat((freqs, freqs), dim=-1)
            self.cos = emb.cos().to(dtype)
            self.sin = emb.sin().to(dtype)

        def new_cache(self, batch: int, length: int):
            shape = (batch, cfg.kv_heads, length, hd)
            return [(torch.empty(shape, **kw), torch.empty(shape, **kw)) for _ in range(cfg.layers)]

        def forward(self, ids, cache, start: int):
            """ids [batch, tokens] at positions start..; returns the greedy next token [batch, 1]."""
            t = ids.shape[1]
            x = self.embed(ids)
            cos = self.cos[start : start + t]
            sin = self.sin[start : start + t]
            for block, (ck, cv) in zip(self.blocks, cache):
                x = block(x, cos, sin, ck, cv, start)
            logits = self.lm_head(self.norm(x[:, -1:, :]))
            return logits.argmax(dim=-1)

    with torch.no_grad():
        model = Model()
        # Keep activations bounded through many random layers: small weights, unit norms.
        for name, p in model.named_parameters():
            if p.dim() >= 2:
                p.normal_(0.0, 0.02)
            elif "bias" in name:
                p.zero_()
    model.requires_grad_(False)
    model.eval()
    return model


if __name__ == "__main__":
    sys.exit(main())
