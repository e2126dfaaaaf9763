"""The product documents' own APIs, each a thin layer over the same services (one module per document)."""
