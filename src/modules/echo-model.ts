/**
 * `tether-echo`: the offline model used when no provider is configured. It is not an LLM and says so in every
 * answer: each text field repeats the request's input and the parameters it received, so a demo or a test can
 * see exactly what a real provider would have been sent.
 * @module
 */
import { AxMockAIService } from '@ax-llm/ax';
import type { AxAIFeatures, AxAIServiceOptions, AxChatRequest, AxChatResponse } from '@ax-llm/ax';
import { cutText } from '../printable.js';
import { MAX_SAMPLES } from './setting-limits.js';

type Schema = {
  readonly type?: string | readonly string[];
  readonly format?: string;
  readonly enum?: readonly unknown[];
  readonly properties?: Readonly<Record<string, Schema>>;
  readonly items?: Schema;
  readonly description?: string;
};

/**
 * Ax's mock service, told that structured output is required. That makes Ax send every signature's output
 * fields as a JSON schema (`responseFormat`), which is what lets the echo fill any signature, whatever its
 * field names and types, instead of guessing them from the prompt text.
 *
 * `chat` answers directly instead of going through the mock's: the mock records every call's latency in an
 * array it never trims and sorts a copy of on each call, so a node serving the offline model for a day would
 * grow without bound and slow down with every execution.
 */
class EchoService extends AxMockAIService<string> {
  // Plain fields, not `#private` ones: Refine's advice goes through an object made from the service
  // (advice-service.ts, `Object.create`), on which reading a `#private` field throws ("Cannot read private member").
  private readonly echoName: string;
  private readonly echoFeatures: AxAIFeatures;

  constructor(name: string) {
    super({ name, modelInfo: { name }, features: { functions: true, streaming: false } });
    this.echoName = name;
    // Asked several times per forward; the answer never changes.
    this.echoFeatures = { ...super.getFeatures(), structuredOutputs: true, requiresStructuredOutput: true };
  }

  override getFeatures(): AxAIFeatures {
    return this.echoFeatures;
  }

  override async chat(
    req: Readonly<AxChatRequest<unknown>>,
    options?: Readonly<AxAIServiceOptions>,
  ): Promise<AxChatResponse> {
    return echoResponse(this.echoName, req, options);
  }
}

/** Builds the Ax service behind the offline model, answering as `name` (`tether-echo`). */
export function createEchoService(name: string): EchoService {
  return new EchoService(name);
}

function echoResponse(
  name: string,
  req: Readonly<AxChatRequest<unknown>>,
  options?: Readonly<AxAIServiceOptions>,
): AxChatResponse {
  const line = describeRequest(name, req, options);
  const format = req.responseFormat;
  const schema = format && 'schema' in format ? (format.schema?.schema as Schema | undefined) : undefined;
  const content = JSON.stringify(schema ? fill(schema, line) : { answer: line });
  const samples = sampleCount((req.modelConfig as { n?: unknown } | undefined)?.n);
  return {
    results: Array.from({ length: samples }, (_, index) => ({ index, content, finishReason: 'stop' as const })),
    modelUsage: {
      ai: name,
      model: String(req.model ?? name),
      tokens: { promptTokens: 0, completionTokens: 0, totalTokens: 0 },
    },
  };
}

/**
 * How many identical answers to give. Ax asks for `n` samples when a program sets sampleCount
 * (MultiChainComparison). Specs are range-checked, but this service takes whatever request reaches it, so it
 * never allocates in proportion to a count it was handed: anything that is not a whole number from 1 up is 1,
 * and no answer holds more than {@link MAX_SAMPLES}.
 */
function sampleCount(requested: unknown): number {
  if (typeof requested !== 'number' || !(requested >= 1)) return 1;
  return Math.min(Math.floor(requested), MAX_SAMPLES);
}

/** `[tether-echo] <last user message> | model=… temperature=… maxTokens=…`: deterministic for equal requests. */
export function describeRequest(
  name: string,
  req: Readonly<AxChatRequest<unknown>>,
  options?: Readonly<AxAIServiceOptions>,
): string {
  const user = [...req.chatPrompt].reverse().find((message) => message.role === 'user');
  const content = user && 'content' in user ? user.content : '';
  const raw = typeof content === 'string' ? content : JSON.stringify(content);
  // Cut between characters: the echo of a long question in emoji must not end in half of one.
  const text = cutText(raw.replace(/\s+/g, ' ').trim(), 400);
  const params: string[] = [`model=${String(req.model ?? 'default')}`];
  for (const [key, value] of Object.entries(req.modelConfig ?? {})) {
    if (value !== undefined && key !== 'stream' && key !== 'n') params.push(`${key}=${JSON.stringify(value)}`);
  }
  if (options?.thinkingTokenBudget) params.push(`thinkingTokenBudget=${options.thinkingTokenBudget}`);
  return `[${name}] ${text} | ${params.join(' ')}`;
}

/** A value of the schema's type: text fields carry the echo line, others a fixed neutral value. */
function fill(schema: Schema, line: string): unknown {
  if (schema.enum && schema.enum.length > 0) return schema.enum[0];
  const types = Array.isArray(schema.type) ? schema.type : [schema.type ?? 'string'];
  const type = types.find((t) => t !== 'null') ?? 'null';
  switch (type) {
    case 'object': {
      const out: Record<string, unknown> = {};
      for (const [key, child] of Object.entries(schema.properties ?? {})) out[key] = fill(child, line);
      return out;
    }
    case 'array':
      return schema.items ? [fill(schema.items, line)] : [];
    case 'number':
    case 'integer':
      return 0;
    case 'boolean':
      return false;
    case 'null':
      return null;
    default:
      return fillString(schema, line);
  }
}

function fillString(schema: Schema, line: string): string {
  switch (schema.format) {
    case 'date':
      return '1970-01-01';
    case 'date-time':
      return '1970-01-01T00:00:00Z';
    case 'uri':
      return 'https://tether-echo.invalid/';
    default:
      // Ax's `json` fields travel as a string that must parse.
      return schema.description?.includes('JSON.parse') ? JSON.stringify({ echo: line }) : line;
  }
}
