"""Tuning, measured: question sets and retrieval metrics (`evaluate`), whether a difference is real
(`significance`), two answers side by side (`compare`), chunking experiments (`experiments`), generated question sets
(`question_gen`), the offline answerer's "I don't know" (`answerer`), and the Explore map
(`explore`, `projection`)."""
