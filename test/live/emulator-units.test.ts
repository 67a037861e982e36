import { describe, expect, it } from "vitest";
import { TokenIdIdentity } from "../../live/emulator/token-identity.ts";
import { renderChat, tokenizeText } from "../../live/emulator/tokenize.ts";
import { Exposition, Histogram, formatValue } from "../../live/emulator/prometheus.ts";
import { parseChatRequest, parseCompletionRequest } from "../../live/emulator/requests.ts";
import { ApiError } from "../../live/emulator/errors.ts";
import { parsePrometheus } from "./emulator-helpers.ts";

const range = (from: number, count: number) => Array.from({ length: count }, (_, i) => from + i);

describe("TokenIdIdentity", () => {
  it("gives equal keys to equal prefixes and different keys after the first differing block", () => {
    const a = new TokenIdIdentity(range(0, 64), 1);
    const b = new TokenIdIdentity([...range(0, 32), ...range(500, 32)], 2);
    expect(a.sharable_tokens).toBe(64);
    expect(b.blockKey(0, 16)).toBe(a.blockKey(0, 16));
    expect(b.blockKey(1, 16)).toBe(a.blockKey(1, 16));
    expect(b.blockKey(2, 16)).not.toBe(a.blockKey(2, 16));
    expect(b.blockKey(3, 16)).not.toBe(a.blockKey(3, 16));
  });

  it("chains: a block's key depends on every block before it", () => {
    const a = new TokenIdIdentity(range(0, 32), 1);
    const b = new TokenIdIdentity([999, ...range(1, 31)], 1);
    expect(b.blockKey(1, 16)).not.toBe(a.blockKey(1, 16));
  });

  it("keys blocks past the prompt by request, so output blocks are never shared", () => {
    const a = new TokenIdIdentity(range(0, 20), 1);
    const b = new TokenIdIdentity(range(0, 20), 2);
    expect(a.blockKey(0, 16)).toBe(b.blockKey(0, 16));
    expect(a.blockKey(1, 16)).not.toBe(b.blockKey(1, 16)); // holds 4 prompt + 12 output tokens
    expect(a.blockKey(1, 16)).toBe(a.blockKey(1, 16));
  });

  it("keys are non-negative safe integers below 2^52 and do not collide over many blocks", () => {
    const seen = new Set<number>();
    for (let r = 0; r < 200; r++) {
      const identity = new TokenIdIdentity(range(r * 7, 16 * 50), r);
      for (let b = 0; b < 50; b++) {
        const key = identity.blockKey(b, 16);
        expect(Number.isSafeInteger(key) && key >= 0 && key < 2 ** 52).toBe(true);
        seen.add(key);
      }
    }
    // r*7 offsets make some prefixes repeat only when the ids are equal; count distinct contents.
    const contents = new Set<string>();
    for (let r = 0; r < 200; r++) for (let b = 0; b < 50; b++) contents.add(`${r * 7}:${b}`);
    expect(seen.size).toBe(contents.size);
  });

  it("follows the block size it is asked with", () => {
    const a = new TokenIdIdentity(range(0, 64), 1);
    const b = new TokenIdIdentity([...range(0, 40), ...range(900, 24)], 1);
    expect(a.blockKey(0, 32)).toBe(b.blockKey(0, 32));
    expect(a.blockKey(1, 32)).not.toBe(b.blockKey(1, 32));
    expect(a.blockKey(1, 16)).toBe(b.blockKey(1, 16)); // switching back recomputes 16-token keys
    expect(a.blockKey(2, 16)).not.toBe(b.blockKey(2, 16));
  });
});

describe("stand-in tokenizer", () => {
  it("is deterministic, about one token per 4 characters of a word, and keeps shared text prefixes", () => {
    const a = tokenizeText("hello world, this is a test", 32000);
    expect(tokenizeText("hello world, this is a test", 32000)).toEqual(a);
    expect(a).toHaveLength(8); // hell|o| worl|d,| this| is| a| test
    const b = tokenizeText("hello world, this is another", 32000);
    expect(b.slice(0, 6)).toEqual(a.slice(0, 6));
    expect(a.every((id) => Number.isInteger(id) && id >= 0 && id < 32000)).toBe(true);
    expect(tokenizeText("", 100)).toEqual([]);
    expect(tokenizeText("x  ", 100)).toHaveLength(2);
  });

  it("renders chat messages with a fixed template", () => {
    expect(renderChat([{ role: "user", content: "hi" }])).toBe("<|user|>\nhi\n<|assistant|>\n");
  });
});

describe("request validation", () => {
  const context = { vocabSize: 1000, maxModelLen: 100, defaultMaxTokens: 16 };
  const reject = (fn: () => unknown) => {
    try {
      fn();
    } catch (error) {
      expect(error).toBeInstanceOf(ApiError);
      return error as ApiError;
    }
    throw new Error("expected an ApiError");
  };

  it("accepts a string, token ids, and one-element batches; defaults and clamps max_tokens", () => {
    expect(parseCompletionRequest({ prompt: [1, 2, 3], max_tokens: 5 }, context)).toMatchObject({ promptIds: [1, 2, 3], maxTokens: 5, stream: false, priority: 0 });
    expect(parseCompletionRequest({ prompt: [[4, 5]] }, context).promptIds).toEqual([4, 5]);
    expect(parseCompletionRequest({ prompt: ["abc"] }, context).promptIds).toHaveLength(1);
    expect(parseCompletionRequest({ prompt: range(0, 90) }, context).maxTokens).toBe(10); // the default, clamped to max_model_len
    expect(parseCompletionRequest({ prompt: "x", stream: true, stream_options: { include_usage: true }, priority: -3 }, context)).toMatchObject({
      stream: true,
      includeUsage: true,
      priority: -3,
    });
    expect(parseChatRequest({ messages: [{ role: "user", content: "hi" }], max_tokens: 2 }, context).maxTokens).toBe(2);
  });

  it("refuses what vLLM refuses, with a 400 naming the field", () => {
    expect(reject(() => parseCompletionRequest({}, context)).param).toBe("prompt");
    expect(reject(() => parseCompletionRequest({ prompt: [1.5] }, context)).status).toBe(400);
    expect(reject(() => parseCompletionRequest({ prompt: [1000] }, context)).message).toMatch(/out of vocabulary/);
    expect(reject(() => parseCompletionRequest({ prompt: ["a", "b"] }, context)).message).toMatch(/one prompt/);
    expect(reject(() => parseCompletionRequest({ prompt: "" }, context)).message).toMatch(/empty/);
    expect(reject(() => parseCompletionRequest({ prompt: [] }, context)).message).toMatch(/empty/);
    expect(reject(() => parseCompletionRequest({ prompt: "x", max_tokens: 0 }, context)).param).toBe("max_tokens");
    expect(reject(() => parseCompletionRequest({ prompt: range(0, 60), max_tokens: 50 }, context)).message).toMatch(/maximum context length is 100/);
    expect(reject(() => parseCompletionRequest({ prompt: "x", n: 2 }, context)).param).toBe("n");
    expect(reject(() => parseChatRequest({ messages: [{ content: "no role" }] }, context)).param).toBe("messages[0].role");
  });
});

describe("Prometheus exposition", () => {
  it("writes counters with _total, histograms with cumulative buckets, floats as Python does", () => {
    const h = new Histogram([0.1, 1]);
    h.observe(0.05);
    h.observe(0.5);
    h.observe(3);
    const text = new Exposition()
      .counter("vllm:x", "X.", [["model_name", 'a"b']], 3)
      .histogram("vllm:h", "H.", [["model_name", "m"]], h)
      .text();
    // prometheus_client names a counter's family with its _total suffix in # HELP and # TYPE.
    expect(text).toContain('# HELP vllm:x_total X.\n# TYPE vllm:x_total counter\nvllm:x_total{model_name="a\\"b"} 3.0\n');
    expect(text).toContain('vllm:h_bucket{model_name="m",le="0.1"} 1.0');
    expect(text).toContain('vllm:h_bucket{model_name="m",le="1.0"} 2.0');
    expect(text).toContain('vllm:h_bucket{model_name="m",le="+Inf"} 3.0');
    expect(text).toContain('vllm:h_count{model_name="m"} 3.0');
    expect(text).toContain('vllm:h_sum{model_name="m"} 3.55');
    expect(parsePrometheus(text).size).toBe(6);
    expect(formatValue(0.25)).toBe("0.25");
    expect(formatValue(Infinity)).toBe("+Inf");
  });

  it("formats values as prometheus_client's floatToGoString", () => {
    expect(formatValue(3)).toBe("3.0");
    expect(formatValue(123456)).toBe("123456.0");
    expect(formatValue(1234567)).toBe("1.234567e+06");
    expect(formatValue(1712345678.5)).toBe("1.7123456785e+09");
    expect(formatValue(1e-5)).toBe("1e-05");
    expect(formatValue(0.0001)).toBe("0.0001");
    expect(formatValue(1e16)).toBe("1e+16");
    expect(formatValue(-2)).toBe("-2.0");
    expect(formatValue(Number.NaN)).toBe("NaN");
  });

  it("writes _created gauges after counters and histograms when given a creation time", () => {
    const text = new Exposition(1700000000.25).counter("vllm:x", "X.", [["engine", "0"]], 1).text();
    expect(text).toBe(
      '# HELP vllm:x_total X.\n# TYPE vllm:x_total counter\nvllm:x_total{engine="0"} 1.0\n# HELP vllm:x_created X.\n# TYPE vllm:x_created gauge\nvllm:x_created{engine="0"} 1.70000000025e+09\n',
    );
  });
});
