// Request and response shapes of ax-engine-server (docs/API-COMPATIBILITY.md).
import type { ResolutionPolicy, SupportTier } from './session';

export type FinishReason = 'stop' | 'length' | 'tool_calls' | 'cancelled' | 'error';

// Sampling and length fields shared by completions, chat and /v1/generate.
export interface SamplingParams {
  model?: string;
  max_tokens?: number;
  temperature?: number;
  top_p?: number;
  top_k?: number;
  min_p?: number;
  repetition_penalty?: number;
  presence_penalty?: number;
  frequency_penalty?: number;
  seed?: number;
  stop?: string | string[];
  ignore_eos?: boolean;
  // Choices (SessionOptions::n). The llama_cpp route sends n requests of one choice,
  // choice i seeded seed + i, as the server's own n seeds them.
  n?: number;
}

export interface Usage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
}

export interface CompletionRequest extends SamplingParams {
  prompt: string | number[] | string[] | number[][];
  logprobs?: number;
  echo?: boolean;
}

export interface CompletionChoice {
  index: number;
  text: string;
  finish_reason: FinishReason | null;
  logprobs?: unknown;
}

export interface Completion {
  id: string;
  object: 'text_completion';
  created: number;
  model: string;
  choices: CompletionChoice[];
  usage?: Usage;
}

export type Role = 'system' | 'developer' | 'user' | 'assistant' | 'tool';

export interface TextPart {
  type: 'text';
  text: string;
}

export interface ToolCall {
  id: string;
  type: 'function';
  function: { name: string; arguments: string };
}

export interface ChatMessage {
  role: Role;
  content: string | TextPart[] | null;
  name?: string;
  tool_call_id?: string;
  tool_calls?: ToolCall[];
  reasoning_content?: string;
}

export interface Tool {
  type: 'function';
  function: { name: string; description?: string; parameters?: Record<string, unknown> };
}

export type ToolChoice = 'auto' | 'none' | 'required' | { type: 'function'; function: { name: string } };

export interface ChatRequest extends SamplingParams {
  messages: ChatMessage[];
  max_completion_tokens?: number;
  tools?: Tool[];
  tool_choice?: ToolChoice;
  response_format?: { type: 'text' | 'json_object' } | { type: 'json_schema'; json_schema: { name?: string; schema: unknown; strict?: boolean } };
  logprobs?: boolean;
  top_logprobs?: number;
  chat_template_kwargs?: Record<string, unknown>;
  // SessionOptions' chat fields (include/ax/session.h), forwarded by delegated routes.
  parallel_tool_calls?: boolean;
  reasoning_effort?: 'none' | 'minimal' | 'low' | 'medium' | 'high';
}

export interface AssistantMessage {
  role: 'assistant';
  content: string | null;
  reasoning_content?: string | null; // the model's thinking, when the server splits it off
  tool_calls?: ToolCall[];
  refusal?: null;
}

export interface ChatChoice {
  index: number;
  message: AssistantMessage;
  finish_reason: FinishReason | null;
  logprobs?: unknown;
}

export interface ChatCompletion {
  id: string;
  object: 'chat.completion';
  created: number;
  model: string;
  choices: ChatChoice[];
  usage?: Usage;
}

// A streamed tool call arrives in pieces: the first names it, later ones add arguments.
export interface ToolCallDelta {
  index: number;
  id?: string;
  type?: 'function';
  function?: { name?: string; arguments?: string };
}

export interface ChatChunk {
  id: string;
  object: 'chat.completion.chunk';
  created: number;
  model: string;
  choices: {
    index: number;
    delta: { role?: 'assistant'; content?: string | null; reasoning_content?: string | null; tool_calls?: ToolCallDelta[] };
    finish_reason: FinishReason | null;
  }[];
  usage?: Usage | null;
}

export interface CompletionChunk {
  id: string;
  object: 'text_completion';
  created: number;
  model: string;
  choices: CompletionChoice[];
  usage?: Usage | null;
}

// The native token route: ids in (`tokens`) or text (`prompt`), ids out.
export interface GenerateRequest extends SamplingParams {
  tokens?: number[];
  prompt?: string;
  logprobs?: boolean;
  top_logprobs?: number;
}

export interface GenerateChoice {
  index: number;
  tokens: number[];
  text: string;
  finish_reason: FinishReason | null;
  logprobs?: number[];
}

export interface GenerateResponse {
  id: string;
  object: 'generation';
  created: number;
  model: string;
  choices: GenerateChoice[];
  prompt_tokens?: number[];
  usage?: Usage;
}

export interface GenerateChunk {
  id: string;
  object: 'generation.chunk';
  created: number;
  model: string;
  choices: { index: number; token?: number; text?: string; logprob?: number; finish_reason?: FinishReason | null }[];
  usage?: Usage | null;
}

// GET /v1/runtime: which route serves the model and why, with include/ax/session.h's
// RuntimeReport fields under their C++ names.
export interface RuntimeReport {
  selected_backend: string; // "cpu" | "cuda" | "openai_delegated" | "llama_cpp"
  support_tier: SupportTier;
  resolution_policy: ResolutionPolicy;
  resolution_reason: string; // "auto: doctor accepts ..." / "auto: ... doctor: ...; delegated to URL"
  backend_detail: string;
  token_ids: boolean; // false: answers carry text only
  throughput_is_ours: boolean; // false: timings measure the upstream
  upstream_url: string | null;
  // The model's identity: the directory's name or the upstream's model id; the rest
  // repo_owned only ("" on delegated routes: the upstream's own, unknown here).
  model_id: string;
  model_dir: string;
  architecture: string; // "Qwen3ForCausalLM"
  family: string; // "qwen3"
  weight_format: string; // "BF16", "affine 4-bit g64"
  model?: { id: string; [key: string]: unknown };
  [key: string]: unknown;
}

export interface Model {
  id: string;
  object: 'model';
  created: number;
  owned_by: string;
  [key: string]: unknown;
}
