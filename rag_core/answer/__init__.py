"""From retrieved chunks to an answer: the prompt (`prompts`), the streamed turn (`pipeline`),
a session as a file (`session_export`) and a whole setup as TOML or JSON (`config`)."""
