/**
 * How this runtime's engine builds strings from concatenation, for decoders
 * that read short ASCII text out of byte buffers.
 *
 * V8 (Node, Deno) copies a concatenation shorter than 13 characters into a
 * flat string, so `s += String.fromCharCode(c)` is the cheapest way to read
 * a short ASCII string; longer ones become ropes (`ConsString`) of 32-byte
 * nodes, one per character, that a long-lived record would keep (≈ 340 B for
 * a 36-character uid instead of ≈ 50 B). JavaScriptCore (Bun) builds ropes
 * at every length. `TextDecoder` always gives a flat string.
 *
 * @module
 */
import { detectRuntime } from "./detect.ts";

/**
 * The longest ASCII text a decoder should build by char-code concatenation
 * (a flat string on this engine); 0 on Bun: always use `TextDecoder`.
 */
export const FLAT_CONCAT_MAX_LENGTH: number = detectRuntime() === "bun" ? 0 : 12;

/**
 * Whether decoders should share short repeating texts through a table keyed
 * by their bytes (`kube/protobuf/shared-text.ts`): on Bun, where each text
 * is a `TextDecoder` call, yes; on V8, where a short one is built by char
 * codes more cheaply than looked up, no.
 */
export const SHARE_SHORT_TEXTS: boolean = detectRuntime() === "bun";
