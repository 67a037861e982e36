import { hashString } from "./token-identity.ts";

/** The emulator's stand-in tokenizer (docs/emulator.md): deterministic and roughly as long as a BPE
 *  tokenizer's output for English text. The text is cut into words — a run of non-whitespace
 *  characters with the whitespace before it — and each word into pieces of at most 4 characters
 *  (code points; the leading whitespace goes with the first piece); trailing whitespace is one more
 *  piece. Each piece is one token whose id is a hash of the piece modulo the vocabulary size, so
 *  the same text always gives the same ids and texts sharing a prefix share token prefixes. */
export function tokenizeText(text: string, vocabSize: number): number[] {
  const ids: number[] = [];
  const words = text.match(/\s*\S+|\s+/g) ?? [];
  for (const word of words) {
    const lead = word.length - word.trimStart().length;
    const chars = Array.from(word.slice(lead));
    if (chars.length === 0) {
      ids.push(hashString(word) % vocabSize);
      continue;
    }
    for (let i = 0; i < chars.length; i += PIECE_CHARS) {
      const piece = (i === 0 ? word.slice(0, lead) : "") + chars.slice(i, i + PIECE_CHARS).join("");
      ids.push(hashString(piece) % vocabSize);
    }
  }
  return ids;
}

const PIECE_CHARS = 4;

export interface ChatMessage {
  role: string;
  content: string;
}

/** Renders chat messages with a fixed, model-independent template before tokenizing:
 *  `<|ROLE|>\n` + content + `\n` per message, then `<|assistant|>\n` (the generation prompt). */
export function renderChat(messages: readonly ChatMessage[]): string {
  let text = "";
  for (const m of messages) text += `<|${m.role}|>\n${m.content}\n`;
  return text + "<|assistant|>\n";
}
