/**
 * The ReAct module the step-sync tests run, embedded and over NATS alike: one tool (`lookup`), its temperature
 * bound to the `json` variable `knob`, so a value refused between steps can be set while it runs.
 * @module
 */

/** The spec of the `agent` module in the ReAct step-sync tests. */
export const REACT_AGENT_SPEC = {
  type: 'ReAct',
  signature: 'question:string -> answer:string',
  tools: ['lookup'],
  maxRetries: 0,
  bindings: { temperature: 'knob' },
} as const;
