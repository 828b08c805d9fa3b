"""The app's shared layer: pages call into ui/, ui/ calls into rag_core (never back).

- (where indexes live, listing/renaming/deleting them: rag_core/index/saved.py, shared with the CLI)
- cache.py    the only st.cache_resource wrappers (embedders, opened indexes, PCA maps)
- indexes.py  which Index a session opens (shared, or its own for hosted embedders), its 2-D map
- layout.py   the app's navigation (one page list) and page_setup
- state.py    typed helpers over st.session_state (what this person chose, their chat)
- widgets.py  hits, prompt, cost line, chunk-boundary preview (escaped HTML)
- guard.py    turns any exception into an st.error that says what to do
- chat.py     one chat turn: settings -> pipeline -> streamed answer -> ChatEntry (+ costs per stage);
              a failed turn kept with its error; the sidebar's settings (a fragment)
- hitcards.py hit cards that say why: every labelled score and rank, the question's words marked, ids for [n]
- compare.py  Compare in Chat: two configurations side by side, the diff, blind votes and their tally
- providers.py this session's credentials and its own hosted embedders/answerers/rerankers
- keys.py     Settings rows: key (session only), base URL, where the key comes from, Test connection
- prices.py   the dated price table, editable for this session
- evaluate.py the Evaluate page's work; eval_charts.py its charts (ranked bars, heatmap, metric vs size)
- experiment.py the chunking experiment on Index; handoff.py opens Chat on a measured configuration
"""
