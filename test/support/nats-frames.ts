/**
 * Splits one direction of a NATS connection's byte stream into protocol frames, for test proxies that pick some
 * messages by subject: just enough of the protocol to find where each frame ends and, for a message, its subject.
 * @module
 */

const CRLF = Buffer.from('\r\n');

/**
 * A splitter that calls `onFrame` with each whole frame, and with its subject when its verb is one of `verbs`
 * (`MSG`/`HMSG` from the server, `PUB`/`HPUB` from the client); a frame split over chunks waits for its rest.
 */
export function frameSplitter(
  verbs: readonly string[],
  onFrame: (frame: Buffer, subject: string | undefined) => void,
): (chunk: Buffer) => void {
  let pending = Buffer.alloc(0);
  return (chunk) => {
    pending = Buffer.concat([pending, chunk]);
    for (;;) {
      const eol = pending.indexOf(CRLF);
      if (eol < 0) return;
      const words = pending.subarray(0, eol).toString().split(' ');
      let size = eol + 2;
      let subject: string | undefined;
      if (verbs.includes(words[0]!)) {
        // The last word is the payload size (headers included for HMSG and HPUB), followed by CRLF.
        size += Number(words[words.length - 1]) + 2;
        if (pending.length < size) return;
        subject = words[1];
      }
      const frame = Buffer.from(pending.subarray(0, size));
      pending = pending.subarray(size);
      onFrame(frame, subject);
    }
  };
}
