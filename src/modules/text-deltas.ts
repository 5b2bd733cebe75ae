/**
 * The deltas of a program's text output fields, for a `module.delta` listener: a streaming processor on each text
 * field passes on the characters that are new, and the final value passes on what the stream's last chunk added, so
 * each field's deltas add up to its value in `output`.
 * @module
 */
import type { AxGen, AxGenIn, AxGenOut, AxSignature } from '@ax-llm/ax';
import type { DeltaListener } from './module-types.js';

/** Where one execution's deltas go. */
export interface DeltaRelay {
  /** The listener of the execution, if it wants deltas. */
  onDelta: DeltaListener | undefined;
  /** The text of each field already passed on, so only the new characters go out. */
  readonly streamed: Map<string, string>;
}

/**
 * Registers on `gen` a streaming processor on each text output field of `signature` that passes new characters to
 * `relay`'s listener. Ax hands the processor the field's whole text so far; returning nothing keeps it out of the
 * chat log. A list of strings is no text field: Ax would hand its processor the list as the model wrote it (JSON, a
 * markdown list), which no deltas of the list in `output` add up to.
 */
export function streamTextFields(gen: AxGen<AxGenIn, AxGenOut>, signature: AxSignature, relay: DeltaRelay): void {
  const textFields = signature
    .getOutputFields()
    .filter((field) => field.type === undefined || (field.type.name === 'string' && !field.type.isArray))
    .map((field) => field.name);
  textFields.forEach((name, index) => {
    const before = textFields.slice(0, index);
    gen.addStreamingFieldProcessor(name, (raw: string, context?: Readonly<{ values?: AxGenOut }>) => {
      const listener = relay.onDelta;
      if (!listener) return undefined;
      // The fields before this one are whole in `values` by now, and their last characters may have come in the
      // chunk that opened this one, after which their processors are not called again: passed on first, so a
      // listener hears each field whole before the next one starts (else only with the final output, at the end).
      for (const earlier of before) {
        const value = context?.values?.[earlier];
        if (typeof value === 'string') pass(relay, listener, earlier, value);
      }
      // Ax trims the final value at both ends, so white space at either end of the text so far is held back: at the
      // start for good, at the end until text follows it (a line break ending the field would be passed on, then
      // missing from the final value, which would then look like the field started over).
      pass(relay, listener, name, raw.trim());
      return undefined;
    });
  });
}

/**
 * Passes on what the final value of each text field adds to the deltas sent: Ax hands a processor the text it has
 * parsed so far, and a field's last characters can come in the chunk that also opens the next field, after which
 * the processor is not called for it again.
 */
export function finishTextDeltas(relay: DeltaRelay, signature: AxSignature, output: Readonly<Record<string, unknown>>) {
  const listener = relay.onDelta;
  if (!listener) return;
  for (const field of signature.getOutputFields()) {
    const value = output[field.name];
    if (typeof value === 'string') pass(relay, listener, field.name, value);
  }
}

/**
 * Passes on what `text`, a field's whole text so far, adds to what the execution sent of it. A text that does not go
 * on from what was sent means Ax started the field again (a retry, another sample): it goes from its start, marked
 * as a restart.
 */
function pass(relay: DeltaRelay, listener: DeltaListener, field: string, text: string): void {
  const sent = relay.streamed.get(field) ?? '';
  const restart = !text.startsWith(sent);
  // Started over with no text yet (a retry's stream that sends the field's label alone first): nothing to pass on, and
  // what was sent is kept, so that the restart goes with the first text that follows. Forgotten here, that text would
  // read as going on from nothing, and the listener would add it to the text of the try before.
  if (restart && text === '') return;
  const from = restart ? 0 : sent.length;
  if (text.length > from) listener(field, text.slice(from), restart || undefined);
  relay.streamed.set(field, text);
}
