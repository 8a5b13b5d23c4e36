/**
 * The README's runnable blocks: every fenced code block right after a line
 * `<!-- readme-test: NAME -->`, taken from the README text itself so
 * that a test runs what a reader copies.
 */
import { readFileSync } from "node:fs";

/** One marked block. */
export interface ReadmeBlock {
  name: string;
  /** The fence's info string (`ts`, `sh`, `yaml`). */
  lang: string;
  code: string;
  /** 1-based line of the marker, for messages. */
  line: number;
}

const MARKED = /^<!-- readme-test: (\S+) -->\n```(\w*)\n([\s\S]*?)\n```/gm;

/** All marked blocks of `text`, by name; a name used twice is an error. */
export function readmeBlocks(text: string): Map<string, ReadmeBlock> {
  const out = new Map<string, ReadmeBlock>();
  for (const m of text.matchAll(MARKED)) {
    const name = m[1]!;
    if (out.has(name)) throw new Error(`README: two blocks are marked readme-test: ${name}`);
    const line = text.slice(0, m.index).split("\n").length;
    out.set(name, { name, lang: m[2]!, code: m[3]!, line });
  }
  const markers = text.match(/^<!-- readme-test: /gm)?.length ?? 0;
  if (markers !== out.size) throw new Error(`README: ${markers - out.size} readme-test marker(s) not directly followed by a fenced block`);
  return out;
}

/** The README of the repository, read now. */
export function repositoryReadme(): string {
  return readFileSync(new URL("../../../README.md", import.meta.url), "utf8");
}

/**
 * The commands of a `sh` block: comments dropped, `\`-continued lines joined,
 * each command split into words with single and double quotes as the shell
 * reads them (no variables, globs or pipes: README commands have none, and a
 * block that has them is refused).
 */
export function shellCommands(code: string): string[][] {
  const lines = code.replace(/\\\n/g, " ").split("\n");
  const out: string[][] = [];
  for (const raw of lines) {
    const words = shellWords(raw);
    if (words.length > 0) out.push(words);
  }
  return out;
}

function shellWords(line: string): string[] {
  const words: string[] = [];
  let word: string | undefined;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (c === "'" || c === '"') {
      const end = line.indexOf(c, i + 1);
      if (end < 0) throw new Error(`README command: unclosed ${c} in ${JSON.stringify(line)}`);
      const quoted = line.slice(i + 1, end);
      if (c === '"' && /[$`\\]/.test(quoted)) throw new Error(`README command: expansion in "${quoted}" is not supported`);
      word = (word ?? "") + quoted;
      i = end;
    } else if (c === " " || c === "\t") {
      if (word !== undefined) words.push(word);
      word = undefined;
    } else if (c === "#" && word === undefined) {
      break;
    } else if (/[$`|&;<>*?(){}]/.test(c)) {
      throw new Error(`README command: shell syntax ${JSON.stringify(c)} in ${JSON.stringify(line)} is not supported`);
    } else {
      word = (word ?? "") + c;
    }
  }
  if (word !== undefined) words.push(word);
  return words;
}
