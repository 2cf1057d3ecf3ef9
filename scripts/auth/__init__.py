"""Credentials: the ChatGPT and Copilot device logins (LiteLLM's own flows, tokens under
the state directory) and the overview `make auth-status` and `make status` print."""
