"""Content in: files (`loaders/`) and web pages (`crawl/`) become Documents, shown and filtered as
a table (`table`), and cut into Chunks that point back into their source (`chunking`); `demo` is
the bundled corpus."""
