"""The upstreams' names as the toolkit's messages say them, by LiteLLM provider prefix
(the part before "/" of a model string: anthropic/..., bedrock/..., zai/...)."""

NAMES = {"anthropic": "Anthropic", "bedrock": "Bedrock", "zai": "Z.AI", "chatgpt": "ChatGPT",
         "github_copilot": "Copilot", "openai": "OpenAI-compatible"}
