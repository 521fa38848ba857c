/** spec-orch.toml lines that make one scripted Anthropic model (key and base URL from the named variables) every role's model chain. */
export const modelChainToml = (keyEnv: string, baseEnv: string): string => `
[llm]
default_model_chain = "main"

[models.local]
model = "model-server-model"
api_type = "anthropic"
api_key_env = "${keyEnv}"
api_base_env = "${baseEnv}"
timeout_seconds = 10

[model_chains.main]
primary = "local"
`
