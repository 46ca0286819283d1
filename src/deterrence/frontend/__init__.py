"""Reading model files: PySD's translators (guarded so no text from a file is ever
evaluated), the parse cache, and file:line diagnostics."""
