"""The code that runs inside the LiteLLM proxy process: the only package that imports LiteLLM."""
