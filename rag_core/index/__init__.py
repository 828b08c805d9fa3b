"""An index on disk: manifest, generations and vector store behind one `Index` (`index`), its
word index (`bm25`, `headers`), chunks in reading order (`neighbours`), and where saved indexes
live, on disk (`saved`) and in PostgreSQL (`saved_pg`)."""
