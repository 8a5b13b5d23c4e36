/**
 * One try of a call on one endpoint, as the attempt loop and the call
 * driver share it: what the driver learnt on the wire decides whether the
 * loop may try another endpoint.
 *
 * @module
 */

/** What happened to one attempt on the wire. */
export interface Attempt {
  /**
   * The request provably never reached the server's application: the
   * connection could not be made, the stream was refused (REFUSED_STREAM, a
   * reset with NO_ERROR before any response) or lay above a GOAWAY's last
   * stream id. Safe to retry elsewhere, even for a non-idempotent method.
   */
  notSent: boolean;
  /** Response headers arrived: the server saw the request. */
  responded: boolean;
}

/** A fresh attempt record. */
export function newAttempt(): Attempt {
  return { notSent: false, responded: false };
}
