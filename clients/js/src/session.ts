// The route of an ax-engine-server, in the C++ SDK's names (include/ax/session.h):
// SessionConfig's resolution policy, the EngineConfig fields the server has flags for,
// and UpstreamConfig's fields as upstream_*. A client cannot pick the route of a
// running server; serverArgs() writes the command line that starts one on it, and
// AxClient.runtime() reads back which route serves and why (RuntimeReport).
//
//   spawn('ax-engine-server', [...serverArgs({ policy: 'llama_cpp', upstream_url: 'http://127.0.0.1:8081' }),
//                              '--port', '8080']);
//   (await new AxClient({ baseUrl: 'http://127.0.0.1:8080' }).runtime()).support_tier;  // 'llama_cpp'

// repo_owned: our engine on model_dir. openai_delegated: the OpenAI-compatible server at
// upstream_url. llama_cpp: llama.cpp's llama-server at upstream_url. auto: our engine
// when doctor accepts model_dir, else upstream_url's server (an error without one).
export type ResolutionPolicy = 'repo_owned' | 'openai_delegated' | 'llama_cpp' | 'auto';
export type SupportTier = 'repo_owned' | 'openai_delegated' | 'llama_cpp';

export interface SessionConfig {
  policy?: ResolutionPolicy; // SessionConfig::policy
  // EngineConfig (repo_owned, and auto when doctor accepts the model):
  model_dir?: string;
  backend?: 'auto' | 'cpu' | 'cuda';
  threads?: number;
  precision?: 'auto' | 'bf16' | 'f32';
  ctx_size?: number;
  max_batch_tokens?: number;
  max_seqs?: number;
  kv_cache_mb?: number;
  prefix_caching?: boolean;
  decode_policy?: 'ngram' | 'direct'; // EngineConfig::policy
  max_draft_tokens?: number;
  generation_config?: 'auto' | 'none';
  chat_template_file?: string;
  // UpstreamConfig (openai_delegated, llama_cpp, and auto's fallback):
  upstream_url?: string; // "http://host:port" (a trailing "/v1" is accepted)
  upstream_model?: string; // "": the upstream's first /v1/models id
  upstream_api_key?: string;
  upstream_connect_timeout_s?: number;
  upstream_timeout_s?: number;
}

// The C++ defaults (SessionConfig{}, EngineConfig{}, UpstreamConfig{}). The server's
// --support-tier defaults to repo_owned; serverArgs() always writes the policy, so a
// config means on the server what it means in C++.
export const SESSION_DEFAULTS: Readonly<Required<SessionConfig>> = Object.freeze({
  policy: 'auto',
  model_dir: '',
  backend: 'auto',
  threads: 0,
  precision: 'auto',
  ctx_size: 0,
  max_batch_tokens: 512,
  max_seqs: 16,
  kv_cache_mb: 0,
  prefix_caching: true,
  decode_policy: 'ngram',
  max_draft_tokens: 4,
  generation_config: 'auto',
  chat_template_file: '',
  upstream_url: '',
  upstream_model: '',
  upstream_api_key: '',
  upstream_connect_timeout_s: 10,
  upstream_timeout_s: 300,
});

const FLAGS: Record<Exclude<keyof SessionConfig, 'policy' | 'prefix_caching'>, string> = {
  model_dir: '--model',
  backend: '--backend',
  threads: '--threads',
  precision: '--precision',
  ctx_size: '--ctx-size',
  max_batch_tokens: '--max-batch-tokens',
  max_seqs: '--max-seqs',
  kv_cache_mb: '--kv-cache-mb',
  decode_policy: '--policy',
  max_draft_tokens: '--max-draft-tokens',
  generation_config: '--generation-config',
  chat_template_file: '--chat-template',
  upstream_url: '--upstream-url',
  upstream_model: '--upstream-model',
  upstream_api_key: '--upstream-api-key',
  upstream_connect_timeout_s: '--upstream-connect-timeout',
  upstream_timeout_s: '--upstream-timeout',
};

// ax-engine-server's flags for a config: --support-tier (the policy, default auto as in
// C++), then each field that is set, in the server's flag names. Throws on a field it
// does not know (a misspelt key would otherwise be dropped).
export function serverArgs(config: SessionConfig): string[] {
  const args = ['--support-tier', config.policy ?? SESSION_DEFAULTS.policy];
  for (const [key, value] of Object.entries(config)) {
    if (key === 'policy' || value === undefined) continue;
    if (key === 'prefix_caching') {
      if (value === false) args.push('--no-prefix-caching');
      continue;
    }
    const flag = FLAGS[key as keyof typeof FLAGS];
    if (!flag) throw new Error(`serverArgs: unknown SessionConfig field '${key}'`);
    args.push(flag, String(value));
  }
  return args;
}
