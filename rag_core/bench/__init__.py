"""`python -m rag_core bench`: every figure a ratio to a raw baseline measured in the same run.
One module per benchmark: `micro` (pipeline stages), `retrieval`, `pgvector`, `embedders`,
`answerer`, `questions`, `defaults` (re-choosing the retrieval default with confidence intervals)."""
