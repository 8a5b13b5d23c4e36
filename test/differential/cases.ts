/** The whole table of differential cases. */
import type { Case } from "./model.ts";
import { LIST_CASES } from "./cases-list.ts";
import { MISC_CASES } from "./cases-misc.ts";
import { WATCH_CASES } from "./cases-watch.ts";
import { WRITE_CASES } from "./cases-write.ts";
import { SLICE_CASES } from "./cases-slices.ts";

export const CASES: Case[] = [...LIST_CASES, ...WATCH_CASES, ...WRITE_CASES, ...MISC_CASES, ...SLICE_CASES];
