/**
 * The `subset` option of the balancing transport: which instances a client
 * connects to. `"kratos"` (the default, and what a number means) is Go
 * Kratos's consistent-hash subset (`subset.ts`); `"rendezvous"` ranks
 * instances by highest random weight for the client key
 * (`subset-rendezvous.ts`); `"aperture"` is Finagle's deterministic aperture
 * (`subset-aperture.ts`), which needs the client's position among its peers:
 * given (`index`, `count`), or found in discovery (`self`: the client's own
 * service, watched by the transport, and its instance id).
 *
 * @module
 */
import { EndpointConfigError } from "./endpoint-source.ts";
import { hash32 } from "./hash32.ts";
import { DEFAULT_SUBSET_SIZE, subset as kratosSubset } from "./subset.ts";
import { apertureSubset, peerPosition, type PeerPosition } from "./subset-aperture.ts";
import { rendezvousSubset } from "./subset-rendezvous.ts";

/** How a client's subset is chosen. */
export type SubsetAlgorithm = "kratos" | "rendezvous" | "aperture";

/** The instance this client runs as, for `"aperture"` subsets positioned from discovery. */
export interface SubsetSelf {
  /** This client's own service name, watched through the transport's discovery (`discovery:///<service>`). */
  readonly service: string;
  /** This client's own instance id in that service (Kratos `ServiceInstance.ID`, e.g. the Pod name). */
  readonly id: string;
}

/**
 * Subsetting with a choice of algorithm. For `"kratos"` and `"rendezvous"`
 * the client key is the transport's `subsetKey`. `"aperture"` needs either
 * `index` and `count` or `self`.
 */
export interface SubsetOptions {
  /** `"kratos"` (default), `"rendezvous"` or `"aperture"`. */
  readonly algorithm?: SubsetAlgorithm;
  /** Instances per client (default 25; 0 = every instance). `"aperture"` may add one or two at its edges. */
  readonly size?: number;
  /** `"aperture"`: this client's index among its `count` peers, in `[0, count)`. */
  readonly index?: number;
  /** `"aperture"`: how many clients share the servers. */
  readonly count?: number;
  /** `"aperture"`: take the position from discovery, as this instance's rank among its own service's instances sorted by id. */
  readonly self?: SubsetSelf;
}

/** The `subset` option: a Kratos subset size, or {@link SubsetOptions}. */
export type SubsetOption = number | SubsetOptions;

/**
 * Chooses a client's subset from each instance list. Advanced: the
 * transport builds one with {@link subsetChooser}.
 */
export interface SubsetChooser {
  readonly algorithm: SubsetAlgorithm;
  readonly size: number;
  /** The service to watch for this client's position (`"aperture"` with `self`). */
  readonly self: SubsetSelf | undefined;
  /** The current position (`"aperture"` only). */
  readonly position: PeerPosition | undefined;
  /** The subset of `items`, each identified by `member(item)`. */
  choose<T>(items: readonly T[], member: (item: T) => string): readonly T[];
  /** The instance ids of the own service (`self`); returns true when the position changed. */
  setPeers(ids: Iterable<string>): boolean;
}

const ALGORITHMS: readonly SubsetAlgorithm[] = ["kratos", "rendezvous", "aperture"];
/** Ring positions of the provisional aperture before the own service's list arrives. */
const PROVISIONAL_COUNT = 4096;

function bad(name: string, v: unknown, want: string): never {
  throw new EndpointConfigError("BAD_OPTION", `${name} must be ${want}, got ${JSON.stringify(v)}`);
}

function count(name: string, v: unknown, min: number): number {
  if (typeof v !== "number" || !Number.isInteger(v) || v < min) bad(name, v, `an integer ≥ ${min}`);
  return v;
}

/**
 * Validates the `subset` option and returns its chooser; throws an
 * `EndpointConfigError` (`BAD_OPTION`) naming a bad field. `key` is the
 * client key of `"kratos"` and `"rendezvous"` subsets.
 */
export function subsetChooser(option: SubsetOption | undefined, key: string): SubsetChooser {
  if (option === undefined || typeof option === "number") {
    const size = option === undefined ? DEFAULT_SUBSET_SIZE : count("subset", option, 0);
    return fixed("kratos", size, (items, member) => kratosSubset(key, items, size, member));
  }
  if (typeof option !== "object" || option === null) bad("subset", option, "a number or { algorithm, size, … }");
  const algorithm = option.algorithm ?? "kratos";
  if (!ALGORITHMS.includes(algorithm)) bad("subset.algorithm", algorithm, `one of ${ALGORITHMS.map((a) => JSON.stringify(a)).join(", ")}`);
  const size = option.size === undefined ? DEFAULT_SUBSET_SIZE : count("subset.size", option.size, 0);
  const aperture = algorithm === "aperture";
  for (const f of ["index", "count", "self"] as const) {
    if (!aperture && option[f] !== undefined) bad(`subset.${f}`, option[f], `unset unless subset.algorithm is "aperture"`);
  }
  if (algorithm === "kratos") return fixed("kratos", size, (items, member) => kratosSubset(key, items, size, member));
  if (algorithm === "rendezvous") return fixed("rendezvous", size, (items, member) => rendezvousSubset(key, items, size, member));
  const { self } = option;
  if (self !== undefined) {
    if (option.index !== undefined || option.count !== undefined) bad("subset.self", self, "unset when subset.index and subset.count are given");
    if (typeof self !== "object" || self === null || typeof self.service !== "string" || self.service === "" || typeof self.id !== "string" || self.id === "") {
      bad("subset.self", self, "{ service, id } with non-empty strings");
    }
    return apertureFromPeers(size, { service: self.service, id: self.id });
  }
  if (option.index === undefined || option.count === undefined) {
    bad("subset", option, 'index and count, or self, for algorithm "aperture"');
  }
  const n = count("subset.count", option.count, 1);
  const i = count("subset.index", option.index, 0);
  if (i >= n) bad("subset.index", i, `below subset.count (${n})`);
  const position: PeerPosition = { index: i, count: n };
  return { ...fixed("aperture", size, (items, member) => apertureSubset(position, items, size, member)), position };
}

function fixed(algorithm: SubsetAlgorithm, size: number, choose: <T>(items: readonly T[], member: (item: T) => string) => readonly T[]): SubsetChooser {
  return { algorithm, size, self: undefined, position: undefined, choose, setPeers: () => false };
}

/** An aperture positioned by the own service's instances; until they arrive, at a position hashed from the id. */
function apertureFromPeers(size: number, self: SubsetSelf): SubsetChooser {
  let position: PeerPosition = { index: hash32(self.id) % PROVISIONAL_COUNT, count: PROVISIONAL_COUNT };
  return {
    algorithm: "aperture",
    size,
    self,
    get position() {
      return position;
    },
    choose: (items, member) => apertureSubset(position, items, size, member),
    setPeers(ids) {
      const next = peerPosition(ids, self.id);
      if (next.index === position.index && next.count === position.count) return false;
      position = next;
      return true;
    },
  };
}
